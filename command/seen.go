package command

import (
	"context"
	"sync/atomic"

	"github.com/mentorship/mentorship/eventstore"
)

// Seen records the latest global position of the events that commands
// read while deciding. A refused command appends nothing, yet its refusal
// rests on what it read: an accept refused because the request was
// cancelled read the cancellation. An answer that shows the match after
// such a refusal waits until the read models reach Seen, so that it shows
// the state that refused the call, never an older one.
type Seen struct{ pos atomic.Uint64 }

type seenKey struct{}

// WithSeen returns a context in which the commands record what they read
// in the returned Seen.
func WithSeen(ctx context.Context) (context.Context, *Seen) {
	s := &Seen{}
	return context.WithValue(ctx, seenKey{}, s), s
}

// SeenIn returns the latest position the commands run with ctx read, or
// Start when none recorded any.
func SeenIn(ctx context.Context) eventstore.Position {
	if s, ok := ctx.Value(seenKey{}).(*Seen); ok {
		return s.Position()
	}
	return eventstore.Start
}

// Position returns the latest position recorded.
func (s *Seen) Position() eventstore.Position { return eventstore.Position(s.pos.Load()) }

func noteSeen(ctx context.Context, p eventstore.Position) {
	s, ok := ctx.Value(seenKey{}).(*Seen)
	if !ok || p == eventstore.Start {
		return
	}
	for {
		old := s.pos.Load()
		if uint64(p) <= old || s.pos.CompareAndSwap(old, uint64(p)) {
			return
		}
	}
}
