package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	"github.com/mentorship/mentorship/projections/redis"
)

func open(t *testing.T) *redis.ReadModels {
	t.Helper()
	c, ns := redistest.Client(t)
	return redis.New(c, redis.Options{Prefix: ns, Logger: zerolog.Nop()})
}

// lowest is the read models' position: the lower of their checkpoints.
func lowest(rm *redis.ReadModels) func() (eventstore.Position, error) {
	return func() (eventstore.Position, error) {
		members, err := rm.Members.Position()
		if err != nil {
			return 0, err
		}
		matches, err := rm.Matches.Position()
		return min(members, matches), err
	}
}

// checkpoint is a projection's stored position; it fails the test when
// Redis does not answer.
func checkpoint(t testing.TB, p interface {
	Position() (eventstore.Position, error)
}) eventstore.Position {
	t.Helper()
	pos, err := p.Position()
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	return pos
}

func TestConformance(t *testing.T) {
	readmodeltest.Run(t, readmodeltest.Harness{Open: func(t *testing.T) readmodeltest.Models {
		rm := open(t)
		return readmodeltest.Models{
			Members: rm.Members, Matches: rm.Matches,
			Apply:    func(events []projections.Event) error { return rm.Apply(context.Background(), events) },
			Position: lowest(rm),
		}
	}})
}

// The same suite on a Redis Cluster node, which refuses any command or
// script whose keys span hash slots: every key of a projection shares one.
func TestConformanceOnCluster(t *testing.T) {
	c, _ := redistest.Cluster(t)
	readmodeltest.Run(t, readmodeltest.Harness{Open: func(t *testing.T) readmodeltest.Models {
		rm := redis.New(c, redis.Options{Prefix: "test-" + uuid.NewString()[:8], Logger: zerolog.Nop()})
		return readmodeltest.Models{
			Members: rm.Members, Matches: rm.Matches,
			Apply:    func(events []projections.Event) error { return rm.Apply(context.Background(), events) },
			Position: lowest(rm),
		}
	}})
}

// The same suite on a cluster of three primaries with a replica each: the
// two projections' keys sit on whichever primaries hold their slots.
func TestConformanceOnAClusterOfThreePrimaries(t *testing.T) {
	nodes := redistest.StartCluster(t, 3, 1)
	readmodeltest.Run(t, readmodeltest.Harness{Open: func(t *testing.T) readmodeltest.Models {
		rm := redis.New(nodes.Client, redis.Options{Prefix: "test-" + uuid.NewString()[:8], Logger: zerolog.Nop()})
		return readmodeltest.Models{
			Members: rm.Members, Matches: rm.Matches,
			Apply:    func(events []projections.Event) error { return rm.Apply(context.Background(), events) },
			Position: lowest(rm),
		}
	}})
}

// A primary killed in the middle of the commits: its replica takes over,
// the commits that failed are applied again from the checkpoint that the
// new primary holds (a batch and its checkpoint are one transaction in one
// slot, so they were replicated together or not at all), and the read
// models equal those of the log.
func TestReadModelsSurviveAPrimaryFailover(t *testing.T) {
	nodes := redistest.StartCluster(t, 3, 1)
	ctx := context.Background()
	hist := readmodeltest.RandomHistory(t, 7, 300)
	prefix := "test-" + uuid.NewString()[:8]
	rm := redis.New(nodes.Client, redis.Options{Prefix: prefix, Logger: zerolog.Nop()})
	events := hist.Events
	const batch = 25
	half := len(events) / 2
	for i := 0; i < half; i += batch {
		if err := rm.Apply(ctx, events[i:min(i+batch, half)]); err != nil {
			t.Fatal(err)
		}
	}
	dead := nodes.PrimaryOf(ctx, redis.Key(prefix, "members", "meta"))
	nodes.Kill(dead)
	// Go on committing while the cluster fails over: commits fail until
	// the replica is promoted, and are tried again, as the projector does.
	failures := 0
	deadline := time.Now().Add(30 * time.Second)
	for i := half; i < len(events); {
		err := rm.Apply(ctx, events[:min(i+batch, len(events))])
		if err == nil {
			i += batch
			continue
		}
		failures++
		if time.Now().After(deadline) {
			t.Fatalf("no commit succeeded 30 s after the primary died: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
		nodes.Client.ReloadState(ctx)
	}
	if failures == 0 {
		t.Fatal("no commit failed: the primary that held the members was not killed in the middle")
	}
	if now := nodes.PrimaryOf(ctx, redis.Key(prefix, "members", "meta")); now == dead {
		t.Fatalf("the slot is still on the killed primary %s", dead)
	}
	readmodeltest.Compare(t, hist.Program, hist.Now, events, readmodeltest.Reference(t, events), readmodeltest.Models{
		Members: rm.Members, Matches: rm.Matches,
		Position: lowest(rm),
	})
	t.Logf("%d commits failed during the failover", failures)
}
