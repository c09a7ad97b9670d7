package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// The API's one visibility rule. Every member, match, session, document
// and resource it shows goes through these functions, whether it is
// reached through a query, node(id:), a mutation payload (a refused one
// too) or a subscription, so that no path shows what another hides.
// Contact information has its own rule on top (the contact resolver: the
// member, staff and the partner of an active match), and so do a match's
// sessions (their author) and documents (documentsVisible).

// showMember returns what a may see of member v: the whole profile for
// the member, staff, those who may look up mentors (mentees and mentors)
// and the member's partners; the audit view for auditors; nil for anyone
// else, as if the member did not exist. It fails only when the read
// models cannot tell whether a is v's partner.
func (r *Resolver) showMember(a domain.Actor, v *projections.MemberView) (*model.Member, error) {
	if v == nil {
		return nil, nil
	}
	member := a.Role == domain.RoleMentee || a.Role == domain.RoleMentor
	switch {
	case a.Role == domain.RoleStaff, a.ID == v.ID, member && v.Role == domain.RoleMentor:
		return memberModel(v), nil
	case a.Role == domain.RoleAuditor:
		return auditedMember(v), nil
	case member:
		partner, err := r.isPartner(a.ID, v.ID)
		if err != nil || !partner {
			return nil, err
		}
		return memberModel(v), nil
	}
	return nil, nil
}

// auditedMember is what an auditor sees of a member: who they are and
// their professional profile, without the free text they wrote about
// themselves or their contact information.
func auditedMember(v *projections.MemberView) *model.Member {
	m := memberModel(v)
	m.Biography = nil
	m.Preferences.Partner.Notes = nil
	m.Private = domain.Contact{}
	return m
}

// visibleMember loads a member and shows it as showMember does.
func (r *Resolver) visibleMember(ctx context.Context, a domain.Actor, id uuid.UUID) (*model.Member, error) {
	v, err := r.member(ctx, id)
	if err != nil || v == nil {
		return nil, err
	}
	return r.showMember(a, v)
}

// partyOf shows a partner of a match the viewer may see, through the
// batch loader.
func (r *Resolver) partyOf(ctx context.Context, id uuid.UUID) (*model.Member, error) {
	a, _ := ActorFrom(ctx)
	m, err := r.visibleMember(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errNotFound
	}
	return m, nil
}

// isPartner reports whether two members share a match, in any state.
func (r *Resolver) isPartner(a, b uuid.UUID) (bool, error) {
	matches, err := r.Matches.MatchesOf(a, projections.AllMatches)
	if err != nil {
		return false, err
	}
	for _, m := range matches {
		if m.MenteeID == b || m.MentorID == b {
			return true, nil
		}
	}
	return false, nil
}

// canSeeMatch: its partners, staff and auditors.
func canSeeMatch(a domain.Actor, menteeID, mentorID uuid.UUID) bool {
	switch a.Role {
	case domain.RoleStaff, domain.RoleAuditor:
		return true
	case domain.RoleMentee, domain.RoleMentor:
		return a.ID == menteeID || a.ID == mentorID
	}
	return false
}

// visibleMatch returns a match its partners, staff and auditors may see;
// nil for anyone else, as if it did not exist.
func (r *Resolver) visibleMatch(a domain.Actor, id uuid.UUID) (*model.Match, error) {
	v, ok, err := r.Matches.Match(id)
	if err != nil || !ok || !canSeeMatch(a, v.MenteeID, v.MentorID) {
		return nil, err
	}
	return asSeenBy(a, matchModel(v)), nil
}

// asSeenBy leaves out of a match what its viewer may not read: an auditor
// sees its course, not the mentee's request message.
func asSeenBy(a domain.Actor, m *model.Match) *model.Match {
	if a.Role == domain.RoleAuditor {
		m.Message = nil
		if m.EndAsk != nil {
			ask := *m.EndAsk
			ask.Note = nil
			m.EndAsk = &ask
		}
	}
	return m
}

// showSession returns a meeting log to its author only: sessions are
// private, even from the partner and staff.
func showSession(a domain.Actor, s projections.SessionView) *model.Session {
	if s.AuthorID != a.ID {
		return nil
	}
	return sessionModel(s)
}

// showResource returns a resource to staff, and to the members of its
// audience while it is published.
func showResource(a domain.Actor, res projections.ResourceView) *model.Resource {
	if a.Role != domain.RoleStaff && (res.Retired || !res.Audience.Includes(a.Role)) {
		return nil
	}
	return resourceModel(res)
}

// showDocument returns a document to those who may see its match's
// documents.
func (r *Resolver) showDocument(a domain.Actor, d projections.DocumentView, m *projections.MatchView) *model.Document {
	if m == nil || !r.documentsVisible(a, m) {
		return nil
	}
	return documentModel(d)
}
