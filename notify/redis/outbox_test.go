package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/notify/outboxtest"
	notifyredis "github.com/mentorship/mentorship/notify/redis"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// held returns an outbox under prefix ns whose lease the test holds.
func held(t *testing.T, c goredis.UniversalClient, ns, owner string) (*notifyredis.Outbox, *lease.Lease, string) {
	t.Helper()
	l, err := lease.New(c, notifyredis.LeaseName(ns), lease.Options{Owner: owner, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	o := notifyredis.New(c, l)
	tok, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	o.Hold(tok, nil)
	return o, l, tok
}

// The Redis outbox passes the outbox conformance suite.
func TestOutboxConformance(t *testing.T) {
	c, _ := redistest.Client(t)
	outboxtest.Run(t, func(t *testing.T) notify.OutboxStore {
		o, _, _ := held(t, c, "test-"+uuid.NewString()[:8], "a:1")
		return o
	})
}

// It passes on a Redis Cluster too, where its scripts may touch only the
// keys of one slot.
func TestOutboxConformanceOnRedisCluster(t *testing.T) {
	c, ns := redistest.Cluster(t)
	n := 0
	outboxtest.Run(t, func(t *testing.T) notify.OutboxStore {
		n++
		o, _, _ := held(t, c, ns+string(rune('a'+n)), "a:1")
		return o
	})
}

func entry(id string, match, to uuid.UUID) notify.Entry {
	return notify.Entry{ID: id, Kind: notify.KindRequestReceived, MatchID: match, RecipientID: to, To: "grace@example.org",
		Subject: "Zephyrine asks", Text: "Zephyrine asks you", CreatedAt: t0}
}

// A notifier that lost its lease writes nothing: every write by its token
// is refused, and its lost callback runs, once another instance holds the
// lease; one that never held it cannot write either.
func TestOutboxRefusesAStaleHolder(t *testing.T) {
	c, ns := redistest.Client(t)
	ctx := context.Background()
	old, l, tok := held(t, c, ns, "a:1")
	match := uuid.New()
	if _, err := old.Add(1, []notify.Entry{entry("x", match, uuid.New())}); err != nil {
		t.Fatal(err)
	}
	lost := 0
	old.Hold(tok, func() { lost++ })
	// The lease lapses and another instance takes it.
	if err := c.Del(ctx, l.Key("lease")).Err(); err != nil {
		t.Fatal(err)
	}
	current, _, _ := held(t, c, ns, "b:2")

	checks := map[string]func() error{
		"Add":       func() error { _, err := old.Add(9, []notify.Entry{entry("y", match, uuid.New())}); return err },
		"SaveState": func() error { return old.SaveState([]byte("stale"), 9) },
		"Claim": func() error {
			_, ok, err := old.Claim("x")
			if ok {
				return errors.New("claimed")
			}
			return err
		},
		"MarkSent":     func() error { _, err := old.MarkSent("x", t0); return err },
		"MarkFailed":   func() error { _, err := old.MarkFailed("x", t0, errors.New("e"), t0, true); return err },
		"EraseMembers": func() error { return old.EraseMembers([]uuid.UUID{uuid.New()}) },
	}
	for name, write := range checks {
		if err := write(); !errors.Is(err, lease.ErrLost) {
			t.Errorf("%s by the stale holder: %v, want ErrLost", name, err)
		}
	}
	if lost != len(checks) {
		t.Errorf("lost called %d times for %d refused writes", lost, len(checks))
	}
	es, err := current.ForMatch(match)
	if err != nil || len(es) != 1 || es[0].Status != notify.StatusPending || es[0].Attempts != 0 {
		t.Fatalf("after the stale writes: %+v, %v", es, err)
	}
	if pos, _, _ := current.Position(); pos != 1 {
		t.Errorf("position %d after the stale writes, want 1", pos)
	}
	if found, _ := current.LoadState(func([]byte) error { return nil }); found {
		t.Error("the stale holder saved a state")
	}
	// An outbox that never held the lease refuses too.
	if _, err := notifyredis.New(c, l).Add(5, nil); !errors.Is(err, lease.ErrLost) {
		t.Errorf("write without a lease: %v", err)
	}
	// The current holder writes.
	if _, err := current.MarkSent("x", t0); err != nil {
		t.Fatal(err)
	}
}

// An email claimed by a holder that died before settling it is in doubt
// for the next holder, which sends it again with the same ID; a holder's
// own earlier claim is not.
func TestClaimAfterTakeoverIsInDoubt(t *testing.T) {
	c, ns := redistest.Client(t)
	ctx := context.Background()
	first, l, tok := held(t, c, ns, "a:1")
	if _, err := first.Add(1, []notify.Entry{entry("x", uuid.New(), uuid.New())}); err != nil {
		t.Fatal(err)
	}
	if e, ok, err := first.Claim("x"); err != nil || !ok || e.InDoubt {
		t.Fatalf("first claim: %+v %v %v", e, ok, err)
	}
	if e, ok, err := first.Claim("x"); err != nil || !ok || e.InDoubt {
		t.Fatalf("the same holder's claim again: %+v %v %v", e, ok, err)
	}
	// The holder dies between its claim and settling.
	if err := l.Release(ctx, tok); err != nil {
		t.Fatal(err)
	}
	second, _, _ := held(t, c, ns, "b:2")
	e, ok, err := second.Claim("x")
	if err != nil || !ok || !e.InDoubt || e.ID != "x" {
		t.Fatalf("claim after the takeover: %+v %v %v", e, ok, err)
	}
	if _, err := second.MarkSent("x", t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := second.Claim("x"); ok {
		t.Fatal("a sent email claimed")
	}
}

// An erasure made by any instance, without the lease, is never undone by
// the holder settling an entry it read before: the settle reads again.
func TestEraseBetweenReadAndSettle(t *testing.T) {
	c, ns := redistest.Client(t)
	o, l, _ := held(t, c, ns, "a:1")
	member, match := uuid.New(), uuid.New()
	if _, err := o.Add(1, []notify.Entry{entry("request", match, uuid.New())}); err != nil {
		t.Fatal(err)
	}
	claimed, ok, err := o.Claim("request")
	if err != nil || !ok || claimed.Subject == "" {
		t.Fatalf("claim %+v %v %v", claimed, ok, err)
	}
	other := notifyredis.New(c, l)
	if err := other.EraseMember(member, []uuid.UUID{match}); err != nil {
		t.Fatal(err)
	}
	sent, err := o.MarkSent("request", t0)
	if err != nil || sent.Status != notify.StatusSent || sent.Subject != "" {
		t.Fatalf("settled %+v, %v; want sent and still blank", sent, err)
	}
	es, _ := o.ForMatch(match)
	if len(es) != 1 || es[0].Subject != "" {
		t.Fatalf("stored %+v", es)
	}
	// The holder records the erasures it read, for the instance that
	// waits for them.
	if ok, err := other.Erased(member); err != nil || ok {
		t.Fatalf("erased before the notifier read it: %v %v", ok, err)
	}
	if err := o.EraseMembers([]uuid.UUID{member}); err != nil {
		t.Fatal(err)
	}
	if ok, err := other.Erased(member); err != nil || !ok {
		t.Fatalf("not erased after the notifier read it: %v %v", ok, err)
	}
}
