package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/refusal"
)

// matchInput authorizes a match mutation and parses its match ID.
func (r *Resolver) matchInput(ctx context.Context, id string, roles ...domain.Role) (domain.Actor, uuid.UUID, error) {
	a, err := requireRole(ctx, roles...)
	if err != nil {
		return a, uuid.Nil, err
	}
	uid, err := model.ParseID(id, model.KindMatch)
	return a, uid, err
}

// matchPayload finishes a match mutation: refusals become userErrors, and
// the match is read back once the read models hold the change.
func (r *Resolver) matchPayload(ctx context.Context, id uuid.UUID, res command.Result, err error, cmid *string) (*model.MatchPayload, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	r.settle(ctx, res)
	p := &model.MatchPayload{UserErrors: ue, ClientMutationID: cmid}
	if a, ok := ActorFrom(ctx); ok && id != uuid.Nil {
		r.readBack(ctx, res.Position, func() (err error) {
			p.Match, err = r.visibleMatch(a, id)
			return err
		})
	}
	return p, nil
}

// checkSessionValue refuses a perceived value of 0 that the client sent:
// the domain reads 0 as "not rated", which a client says by leaving the
// value out, so an explicit 0 is a mistake rather than a choice.
// checkSessionMinutes refuses an explicit length of 0: the length is
// optional, and when given it is 1 to 600 minutes.
func checkSessionMinutes(v *int) error {
	if v != nil && *v == 0 {
		return &refusal.Error{Code: refusal.CodeInvalidInput, Field: "minutes", Message: "must be at least 1 minute; leave it out when the length is not known yet"}
	}
	return nil
}

func checkSessionValue(v *int) error {
	if v != nil && *v == 0 {
		return &refusal.Error{Code: refusal.CodeInvalidInput, Field: "value", Message: "must be from 1 to 5; leave it out when the meeting was not rated"}
	}
	return nil
}

func (r *Resolver) sessionPayload(ctx context.Context, id uuid.UUID, pos eventstore.Position, err error, cmid *string) (*model.SessionPayload, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	r.settle(ctx, command.Result{Position: pos})
	p := &model.SessionPayload{UserErrors: ue, ClientMutationID: cmid}
	r.readBack(ctx, pos, func() error {
		s, ok, err := r.Matches.Session(id)
		if ok {
			a, _ := ActorFrom(ctx)
			p.Session = showSession(a, s)
		}
		return err
	})
	return p, nil
}

func (r *Resolver) resourcePayload(ctx context.Context, id uuid.UUID, pos eventstore.Position, err error, cmid *string) (*model.ResourcePayload, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	r.settle(ctx, command.Result{Position: pos})
	p := &model.ResourcePayload{UserErrors: ue, ClientMutationID: cmid}
	r.readBack(ctx, pos, func() error {
		res, ok, err := r.Matches.Resource(id)
		if ok {
			a, _ := ActorFrom(ctx)
			p.Resource = showResource(a, res)
		}
		return err
	})
	return p, nil
}

// matchUpdatesBuffer is how many changes a match subscriber may fall
// behind before the hub drops it. A match changes a few times a day, so a
// small buffer is plenty, and it is allocated for every idle subscriber.
const matchUpdatesBuffer = 16

// matchUpdates streams the hub's changes that keep selects until the
// subscription ends or the hub drops it for being slow. The hub hands each
// change straight to the subscription's channel, so an idle subscriber
// costs no goroutine here.
func (r *Resolver) matchUpdates(ctx context.Context, keep func(Change) bool) <-chan *model.MatchUpdate {
	out := make(chan *model.MatchUpdate, matchUpdatesBuffer)
	sub := r.Hub.Forward(keep, func(c Change) bool {
		select {
		case out <- &model.MatchUpdate{Position: c.Position, Type: c.Type, MatchID: c.MatchID}:
			return true
		default:
			return false
		}
	}, func() { close(out) })
	context.AfterFunc(ctx, sub.Close)
	return out
}
