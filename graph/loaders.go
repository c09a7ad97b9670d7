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
}

type loadersKey struct{}

func (r *Resolver) newLoaders() *loaders {
	return &loaders{
		// The batch runs on the loader's own goroutine: a shared store's
		// failure is taken as an error here, not as a panic.
		members: dataloadgen.NewLoader(func(_ context.Context, ids []uuid.UUID) ([]*projections.MemberView, []error) {
			views, err := readSafely(func() []*projections.MemberView { return r.Members.MembersByID(ids) })
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
func (r *Resolver) activePartners(ctx context.Context, viewer domain.Actor) map[uuid.UUID]bool {
	l := r.loadersFrom(ctx)
	l.partnersOnce.Do(func() {
		l.partners = map[uuid.UUID]bool{}
		for _, m := range r.Matches.MatchesOf(viewer.ID, projections.ActiveMatches) {
			l.partners[m.MenteeID], l.partners[m.MentorID] = true, true
		}
		delete(l.partners, viewer.ID)
	})
	return l.partners
}
