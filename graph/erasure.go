package graph

import (
	"cmp"
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// accountPayload answers requestAccountClosure and eraseMember with the
// member as the read models hold it once they reached the change.
func (r *Resolver) accountPayload(ctx context.Context, a domain.Actor, id uuid.UUID, res command.Result, err error, cmid *string) (*model.AccountPayload, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	r.settle(ctx, res)
	p := &model.AccountPayload{UserErrors: ue, ClientMutationID: cmid}
	r.readBack(ctx, res.Position, func() error {
		v, ok, err := r.Members.Member(id)
		if err != nil || !ok {
			return err
		}
		p.Member, err = r.showMember(a, v)
		return err
	})
	return p, nil
}

// closureRequest shows a member's waiting request to close the account to
// the member and staff, with the open matches as the read models count
// them: a mentor's stream holds no requests waiting for an answer.
func (r *Resolver) closureRequest(a domain.Actor, m *model.Member) (*model.ClosureRequest, error) {
	if m.Closure == nil || (a.Role != domain.RoleStaff && a.ID != m.MemberID) {
		return nil, nil
	}
	c := *m.Closure
	open, err := projections.OpenMatches(r.Matches, m.MemberID)
	if err != nil {
		return nil, err
	}
	c.OpenMatches = open
	return &c, nil
}

// closureRequests lists the members waiting for staff to close their
// account, oldest request first.
func (r *Resolver) closureRequests() ([]*model.ClosureRequest, error) {
	found, err := r.Members.Scan(func(v *projections.MemberView) bool { return !v.ClosureRequested.IsZero() && !v.Erased() })
	if err != nil {
		return nil, err
	}
	slices.SortFunc(found, func(a, b *projections.MemberView) int {
		return cmp.Or(a.ClosureRequested.Compare(b.ClosureRequested), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	out := make([]*model.ClosureRequest, 0, len(found))
	for _, v := range found {
		c := memberModel(v).Closure
		if c.OpenMatches, err = projections.OpenMatches(r.Matches, v.ID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
