package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/projections"
	redisrm "github.com/mentorship/mentorship/projections/redis"
)

// follower is how the server follows its read models, wherever they live.
type follower interface {
	graph.Waiter
	Healthy() error
	Reached() eventstore.Position
}

// readModels are the read models the server queries, the hub that tells
// subscribers of changes once the read models show them, and what keeps
// both up to date.
type readModels struct {
	members projections.MemberReader
	matches projections.MatchReader
	// reports are kept in this process in either mode: see openReadModels.
	reports  projections.ReportReader
	follower follower
	hub      *graph.Hub
	run      func(context.Context) error
	// redis is the shared Redis client, nil when everything is in process.
	redis goredis.UniversalClient
	// health, when set, reports a read model that follower does not
	// follow (the reports beside Redis) stopped on an event or still
	// catching up with the log.
	health func() error
}

// openReadModels builds the read models the settings choose: in this
// process, restored from the data directory's snapshots, or in Redis,
// shared with the other instances.
func openReadModels(cfg config.Config, log zerolog.Logger, store eventstore.Store, reg prometheus.Registerer, head eventstore.Position) (*readModels, error) {
	if cfg.RedisURL == "" {
		members, matches, reports := projections.NewMembers(), projections.NewMatches(), projections.NewReports(cfg.Program.Location)
		hub := graph.NewHub(head, matches)
		runner := follow.NewRunner(store, follow.Options{Name: "read_models", Logger: log},
			projections.WithSnapshots(store, filepath.Join(cfg.DataDir, "snapshots"), members, matches, reports, hub.Notifier())...)
		runner.Load(context.Background())
		return &readModels{members: members, matches: matches, reports: reports, follower: runner, hub: hub, run: runner.Run}, nil
	}
	client, err := newRedisClient(cfg)
	if err != nil {
		return nil, err
	}
	rm := redisrm.New(client, redisrm.Options{Prefix: cfg.RedisPrefix, Logger: log})
	rm.Register(reg)
	// The hub hears of changes from the shared read models, whichever
	// instance applied them; it starts at what they show now.
	hub := graph.NewHub(0, rm.Matches)
	// The reports are a few counters per month, discipline and province,
	// cheap to keep in every instance: each keeps its own, fed from the
	// log by a runner of its own with snapshots in its data directory, so
	// that they need no Redis structures, leases or scripts of their own.
	// They may trail the shared read models by the time the log takes to
	// reach this instance; reports are never read back by a mutation.
	reports := projections.NewReports(cfg.Program.Location)
	reportsRunner := follow.NewRunner(store, follow.Options{Name: "reports", Logger: log},
		projections.WithSnapshots(store, filepath.Join(cfg.DataDir, "snapshots"), reports)...)
	reportsRunner.Load(context.Background())
	run := func(ctx context.Context) error {
		errc := make(chan error, 1)
		go func() { errc <- reportsRunner.Run(ctx) }()
		err := rm.Run(ctx, store, redisrm.RunOptions{Project: !cfg.ReadOnly, Feed: []projections.Projection{hub.Notifier()}})
		return errors.Join(err, <-errc)
	}
	// The server is ready once the reports too have caught up with the
	// log as it was at start.
	health := func() error {
		if err := reportsRunner.Healthy(); err != nil {
			return err
		}
		if reached := reportsRunner.Reached(); reached < head {
			return fmt.Errorf("reports at position %d of %d", reached, head)
		}
		return nil
	}
	return &readModels{members: rm.Members, matches: rm.Matches, reports: reports, follower: rm, hub: hub, run: run, redis: client,
		health: health}, nil
}

// Close releases the Redis client, if any.
func (r *readModels) Close() error {
	if r.redis != nil {
		return r.redis.Close()
	}
	return nil
}

// newRedisClient connects to the configured Redis and checks that it
// answers, so that a wrong URL stops the server at start rather than at
// the first request. A URL with addr parameters (go-redis's cluster URL,
// redis://host1:6379?addr=host2:6379) connects to a Redis Cluster.
func newRedisClient(cfg config.Config) (goredis.UniversalClient, error) {
	var client goredis.UniversalClient
	if u, err := url.Parse(cfg.RedisURL); err == nil && u.Query().Has("addr") {
		opts, err := goredis.ParseClusterURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("redis cluster url: %w", err)
		}
		client = goredis.NewClusterClient(opts)
	} else {
		opts, err := goredis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		client = goredis.NewClient(opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return client, nil
}
