package follow

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/eventstore"
)

// waitResult is what one WaitFor call returned.
type waitResult struct {
	pos eventstore.Position
	err error
}

// startWaiters starts a WaitFor for each position and returns where their
// answers arrive, once every one of them is waiting.
func startWaiters(t *testing.T, ctx context.Context, r *Runner, positions ...eventstore.Position) <-chan waitResult {
	t.Helper()
	out := make(chan waitResult, len(positions))
	// Waiters already waiting count too: the new ones are there once the
	// count has grown by as many.
	want := waiting(r) + len(positions)
	for _, p := range positions {
		go func() { out <- waitResult{p, r.WaitFor(ctx, p)} }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for waiting(r) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d waiters waiting", waiting(r), want)
		}
		time.Sleep(time.Millisecond)
	}
	return out
}

func waiting(r *Runner) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waiters)
}

// Every waiter returns once Reached passes its position and not before,
// whatever order they came in and however far one move goes; the waiters
// still short of their position keep waiting.
func TestWaitForReleasesExactlyTheWaitersReached(t *testing.T) {
	f := &tally{name: "models"}
	r := NewRunner(nil, Options{Logger: zerolog.Nop()}, f)
	ctx := context.Background()
	positions := []eventstore.Position{7, 3, 50, 3, 12, 1, 40, 41, 8, 99, 2, 60}
	answers := startWaiters(t, ctx, r, positions...)
	released := 0
	for _, to := range []eventstore.Position{1, 2, 3, 10, 11, 45, 45, 98, 120} {
		f.pos = to
		r.advance()
		want := 0
		for _, p := range positions {
			if p <= to {
				want++
			}
		}
		for released < want {
			select {
			case a := <-answers:
				if a.err != nil || a.pos > to {
					t.Fatalf("at %d: the waiter for %d returned %v", to, a.pos, a.err)
				}
				released++
			case <-time.After(10 * time.Second):
				t.Fatalf("at %d: %d of %d waiters returned", to, released, want)
			}
		}
		if n := waiting(r); n != len(positions)-want {
			t.Fatalf("at %d: %d waiters waiting, want %d", to, n, len(positions)-want)
		}
		select {
		case a := <-answers:
			t.Fatalf("at %d: the waiter for %d returned early (%v)", to, a.pos, a.err)
		default:
		}
	}
	// Reached already past: no waiting at all.
	if err := r.WaitFor(ctx, 100); err != nil || waiting(r) != 0 {
		t.Fatalf("a position reached: %v, %d waiting", err, waiting(r))
	}
}

// A waiter whose context ends returns its error and leaves nothing behind;
// the others go on waiting.
func TestWaitForLeavesWithItsContext(t *testing.T) {
	f := &tally{name: "models"}
	r := NewRunner(nil, Options{Logger: zerolog.Nop()}, f)
	ctx, cancel := context.WithCancel(context.Background())
	short := startWaiters(t, ctx, r, 5, 6, 7)
	long := startWaiters(t, context.Background(), r, 6)
	cancel()
	for range 3 {
		if a := <-short; !errors.Is(a.err, context.Canceled) {
			t.Fatalf("the waiter for %d: %v, want the context's error", a.pos, a.err)
		}
	}
	if n := waiting(r); n != 1 {
		t.Fatalf("%d waiters left, want the one still waiting", n)
	}
	f.pos = 6
	r.advance()
	if a := <-long; a.err != nil {
		t.Fatal(a.err)
	}
	if n := waiting(r); n != 0 {
		t.Fatalf("%d waiters left", n)
	}
}

// A follower that stops wakes every waiter with its error, and a later
// WaitFor fails at once.
func TestWaitForFailsWhenAFollowerStops(t *testing.T) {
	f := &tally{name: "models"}
	r := NewRunner(nil, Options{Logger: zerolog.Nop()}, f)
	ctx := context.Background()
	answers := startWaiters(t, ctx, r, 4, 9, 2)
	r.poison(ctx, r.followers[0], 1, errors.New("broken event"))
	for range 3 {
		a := <-answers
		if pe := (*PoisonError)(nil); !errors.As(a.err, &pe) || pe.Position != 1 {
			t.Fatalf("the waiter for %d: %v, want the follower's stop", a.pos, a.err)
		}
	}
	if n := waiting(r); n != 0 {
		t.Fatalf("%d waiters left", n)
	}
	if err := r.WaitFor(ctx, 3); !errors.As(err, new(*PoisonError)) {
		t.Fatalf("waiting after the stop: %v", err)
	}
}
