package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/projections"
)

func acquire(t *testing.T, rm *ReadModels, p committer) (string, bool) {
	t.Helper()
	tok, err := p.leaseOf().Acquire(context.Background())
	if errors.Is(err, lease.ErrHeld) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok, true
}

// Many instances reach for a free lease at once: exactly one gets it.
func TestLeaseHasOneWinner(t *testing.T) {
	c, ns := redistest.Client(t)
	const n = 50
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
	)
	for i := range n {
		rm := New(c, Options{Prefix: ns, Owner: fmt.Sprintf("instance-%d", i), Logger: zerolog.Nop()})
		wg.Go(func() {
			if tok, ok := acquire(t, rm, rm.Members); ok {
				mu.Lock()
				winners = append(winners, tok)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d instances took the lease: %v", len(winners), winners)
	}
}

func registered(pos eventstore.Position) projections.Event {
	id := uuid.New()
	return projections.Event{Position: pos, ID: uuid.New(), Data: domain.MemberRegistered{MemberID: id, Role: domain.RoleMentor, Name: "M " + id.String()[:4], Email: "m@example.org", Capacity: 1, Accepting: true}}
}

// A holder whose lease lapsed and was taken over cannot commit: its write
// is refused whole, and the new holder's checkpoint stands.
func TestFencedCommitWritesNothing(t *testing.T) {
	c, ns := redistest.Client(t)
	ctx := context.Background()
	a := New(c, Options{Prefix: ns, Owner: "a", LeaseTTL: time.Minute, Logger: zerolog.Nop()})
	b := New(c, Options{Prefix: ns, Owner: "b", LeaseTTL: time.Minute, Logger: zerolog.Nop()})
	tokA, ok := acquire(t, a, a.Members)
	if !ok {
		t.Fatal("a did not get the free lease")
	}
	if err := a.Members.commit(ctx, tokA, 0, []projections.Event{registered(1)}); err != nil {
		t.Fatal(err)
	}
	// The lease lapses (a paused too long) and b takes it.
	c.Del(ctx, a.Members.lease.Key("lease"))
	tokB, ok := acquire(t, b, b.Members)
	if !ok || tokB == tokA {
		t.Fatalf("b's token %q after a's %q", tokB, tokA)
	}
	late := registered(2)
	if err := a.Members.commit(ctx, tokA, 1, []projections.Event{late}); !errors.Is(err, ErrFenced) {
		t.Fatalf("a's late commit: %v", err)
	}
	if _, ok, _ := b.Members.Member(late.Data.(domain.MemberRegistered).MemberID); ok {
		t.Fatal("the fenced commit wrote a member")
	}
	if pos := checkpoint(t, &b.Members.base); pos != 1 {
		t.Fatalf("checkpoint %d after the fenced commit", pos)
	}
	// The new holder continues from the checkpoint, and only from there:
	// a batch that does not start at it is refused too.
	if err := b.Members.commit(ctx, tokB, 0, []projections.Event{registered(2)}); !errors.Is(err, errMoved) {
		t.Fatalf("a commit from a stale checkpoint: %v", err)
	}
	if err := b.Members.commit(ctx, tokB, 1, []projections.Event{late}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Members.Member(late.Data.(domain.MemberRegistered).MemberID); !ok || checkpoint(t, &b.Members.base) != 2 {
		t.Fatal("the holder's commit did not land")
	}
}

// checkpoint is a projection's stored position; it fails the test when
// Redis does not answer.
func checkpoint(t testing.TB, b *base) eventstore.Position {
	t.Helper()
	pos, err := b.Position()
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	return pos
}
