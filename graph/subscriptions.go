package graph

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
)

// defaultMaxSubscriptions is how many subscriptions one account may hold
// open at once when the resolver sets none: a dashboard holds a few, a
// frontend a few per open screen.
const defaultMaxSubscriptions = 50

// CodeRateLimited is the code of a request refused for holding too much
// at once.
const CodeRateLimited = "RATE_LIMITED"

// openSubscriptions counts each account's open subscriptions. Every
// change is matched against every open subscription, so one account that
// opened thousands would slow every other member's writes.
type openSubscriptions struct {
	mu   sync.Mutex
	open map[uuid.UUID]int
}

// hold takes one of the account's subscriptions until ctx ends, or
// refuses when the account holds max already.
func (s *openSubscriptions) hold(ctx context.Context, account uuid.UUID, max int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		s.open = map[uuid.UUID]int{}
	}
	if s.open[account] >= max {
		return &apiError{CodeRateLimited, fmt.Sprintf("an account may hold at most %d subscriptions open at once; close one first", max)}
	}
	s.open[account]++
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.open[account]--; s.open[account] <= 0 {
			delete(s.open, account)
		}
	})
	return nil
}

// holdSubscription takes one of the signed-in account's subscriptions for
// as long as the subscription lasts.
func (r *Resolver) holdSubscription(ctx context.Context) error {
	a, err := signedIn(ctx)
	if err != nil {
		return err
	}
	max := r.MaxSubscriptions
	if max <= 0 {
		max = defaultMaxSubscriptions
	}
	return r.subscriptions.hold(ctx, a.ID, max)
}
