package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/notify"
	notifyredis "github.com/mentorship/mentorship/notify/redis"
)

// An erasure made on any instance removes the member from the shared
// outbox once the notifier, wherever it runs, has read the erasure: until
// then it waits and, past its bound, fails without touching the outbox (the
// erasure is finished later); with no notifier ever run there is nothing
// to erase.
func TestSharedOutboxEraserWaitsForTheNotifier(t *testing.T) {
	c, ns := redistest.Client(t)
	l, err := lease.New(c, notifyredis.LeaseName(ns), lease.Options{TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	member, partner, match := uuid.New(), uuid.New(), uuid.New()

	if err := (sharedOutboxEraser{outbox: notifyredis.New(c, l), wait: time.Minute}).EraseMember(ctx, member, []uuid.UUID{match}, 0); err != nil {
		t.Fatalf("erasing with no notifier ever run: %v", err)
	}

	holder := notifyredis.New(c, l)
	tok, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holder.Hold(tok, nil)
	// The mentor's request email quotes the mentee, who got no email of
	// that match.
	request := notify.Entry{ID: "request", Kind: notify.KindRequestReceived, MatchID: match, RecipientID: partner,
		To: "grace@example.org", Subject: "Zephyrine asks you", Text: "Zephyrine asks you", CreatedAt: time.Now()}
	if _, err := holder.Add(5, []notify.Entry{request}); err != nil {
		t.Fatal(err)
	}

	other := notifyredis.New(c, l)
	err = (sharedOutboxEraser{outbox: other, wait: 100 * time.Millisecond}).EraseMember(ctx, member, []uuid.UUID{match}, 0)
	if err == nil || !strings.Contains(err.Error(), "notifier has not read the erasure") {
		t.Fatalf("erasing before the notifier read it: %v", err)
	}
	if es, _ := other.ForMatch(match); len(es) != 1 || es[0].Subject == "" {
		t.Fatalf("the outbox changed before the notifier read the erasure: %+v", es)
	}

	// The notifier reads the erasure; the erasure made elsewhere goes on.
	done := make(chan error, 1)
	go func() {
		done <- (sharedOutboxEraser{outbox: other, wait: time.Minute}).EraseMember(ctx, member, []uuid.UUID{match}, 0)
	}()
	if err := holder.EraseMembers([]uuid.UUID{member}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the erasure did not go on once the notifier read it")
	}
	es, err := other.ForMatch(match)
	if err != nil || len(es) != 1 || es[0].Subject != "" {
		t.Fatalf("the partner's email about the erased member's match: %+v, %v", es, err)
	}
}
