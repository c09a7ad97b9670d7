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
	"github.com/mentorship/mentorship/process"
	processredis "github.com/mentorship/mentorship/process/redis"
	"github.com/mentorship/mentorship/process/statetest"
)

func held(t *testing.T, c goredis.UniversalClient, ns, owner string) (*processredis.Store, *lease.Lease) {
	t.Helper()
	l, err := lease.New(c, processredis.LeaseName(ns), lease.Options{Owner: owner, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := processredis.New(c, l)
	s.Hold(tok, nil)
	return s, l
}

// The Redis store passes the state store conformance suite, on one Redis
// and on a Redis Cluster.
func TestStateStoreConformance(t *testing.T) {
	c, _ := redistest.Client(t)
	statetest.Run(t, func(t *testing.T) process.StateStore {
		s, _ := held(t, c, "test-"+uuid.NewString()[:8], "a:1")
		return s
	})
	cc, ns := redistest.Cluster(t)
	n := 0
	t.Run("Cluster", func(t *testing.T) {
		statetest.Run(t, func(t *testing.T) process.StateStore {
			n++
			s, _ := held(t, cc, ns+string(rune('a'+n)), "a:1")
			return s
		})
	})
}

// A manager that lost its lease saves nothing.
func TestStateStoreRefusesAStaleHolder(t *testing.T) {
	c, ns := redistest.Client(t)
	old, l := held(t, c, ns, "a:1")
	if err := old.Save([]byte("first"), 3); err != nil {
		t.Fatal(err)
	}
	lost := 0
	tok, _ := l.Holder(context.Background())
	old.Hold(tok, func() { lost++ })
	if err := c.Del(context.Background(), l.Key("lease")).Err(); err != nil {
		t.Fatal(err)
	}
	current, _ := held(t, c, ns, "b:2")
	if err := old.Save([]byte("stale"), 9); !errors.Is(err, lease.ErrLost) {
		t.Errorf("stale save: %v", err)
	}
	if err := old.SaveSettled(9); !errors.Is(err, lease.ErrLost) {
		t.Errorf("stale settle: %v", err)
	}
	if lost != 2 {
		t.Errorf("lost called %d times", lost)
	}
	var got string
	if _, err := current.Load(func(b []byte) error { got = string(b); return nil }); err != nil || got != "first" {
		t.Errorf("state %q, %v", got, err)
	}
	if pos, _ := current.Settled(); pos != 3 {
		t.Errorf("settled %d", pos)
	}
	if err := processredis.New(c, l).SaveSettled(1); !errors.Is(err, lease.ErrLost) {
		t.Errorf("write without the lease: %v", err)
	}
}
