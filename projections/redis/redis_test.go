package redis_test

import (
	"context"
	"testing"

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

func TestConformance(t *testing.T) {
	readmodeltest.Run(t, readmodeltest.Harness{Open: func(t *testing.T) readmodeltest.Models {
		rm := open(t)
		return readmodeltest.Models{
			Members: rm.Members, Matches: rm.Matches,
			Apply: func(events []projections.Event) error { return rm.Apply(context.Background(), events) },
			Position: func() eventstore.Position {
				return min(rm.Members.Position(), rm.Matches.Position())
			},
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
			Apply: func(events []projections.Event) error { return rm.Apply(context.Background(), events) },
			Position: func() eventstore.Position {
				return min(rm.Members.Position(), rm.Matches.Position())
			},
		}
	}})
}
