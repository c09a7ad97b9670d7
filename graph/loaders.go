package graph

import (
	"context"
	"sync"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/projections"
)

// loaders batch the read-model calls of one response: every member a page
// of matches names is fetched in one call.
type loaders struct {
	members *dataloadgen.Loader[uuid.UUID, *projections.MemberView]

	partnersOnce sync.Once
	partners     map[uuid.UUID]bool // the viewer's partners in active matches
	partnersErr  error              // why partners could not be read
}

type loadersKey struct{}

func (r *Resolver) newLoaders() *loaders {
	return &loaders{
		members: dataloadgen.NewLoader(func(_ context.Context, ids []uuid.UUID) ([]*projections.MemberView, []error) {
			views, err := r.Members.MembersByID(ids)
			if err != nil {
				return nil, []error{err}
			}
			return views, nil
		}),
	}
}

func withLoaders(ctx context.Context, l *loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

func (r *Resolver) loadersFrom(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return r.newLoaders()
}

// member loads one member through the batch loader.
func (r *Resolver) member(ctx context.Context, id uuid.UUID) (*projections.MemberView, error) {
	v, err := r.loadersFrom(ctx).members.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// activePartners is the set of members the viewer is matched with now,
// computed once per response.
func (r *Resolver) activePartners(ctx context.Context, viewer domain.Actor) (map[uuid.UUID]bool, error) {
	l := r.loadersFrom(ctx)
	l.partnersOnce.Do(func() {
		active, err := r.Matches.MatchesOf(viewer.ID, projections.ActiveMatches)
		if err != nil {
			l.partnersErr = err
			return
		}
		l.partners = map[uuid.UUID]bool{}
		for _, m := range active {
			l.partners[m.MenteeID], l.partners[m.MentorID] = true, true
		}
		delete(l.partners, viewer.ID)
	})
	return l.partners, l.partnersErr
}
