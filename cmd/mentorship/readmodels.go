package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
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
	// The mentor search and the reports are answered in every instance
	// from read models of its own, fed from the log by a runner of its own
	// with snapshots in its data directory. A search over the shared sets
	// costs several Redis round trips and decodes every candidate's rank
	// card, where the in-memory index intersects bitmaps; the reports are
	// a few counters per month, discipline and province that need no Redis
	// structures, leases or scripts of their own. Both may trail the
	// shared read models by the time the log takes to reach this instance,
	// so a mutation's read-your-writes wait waits for them too (see
	// scaleOut), and a search never misses what its client was promised.
	search := projections.NewMembers()
	reports := projections.NewReports(cfg.Program.Location)
	erased := make(chan struct{}, 1)
	watch := &erasures{saw: erased}
	local := follow.NewRunner(store, follow.Options{Name: "local_read_models", Logger: log},
		append(projections.WithSnapshots(store, filepath.Join(cfg.DataDir, "snapshots"), search, reports), watch)...)
	local.Load(context.Background())
	// The loaded index shows the erasures up to its position, so the
	// watch starts there rather than hold the runner back to read the
	// whole log again.
	watch.pos.Store(uint64(search.Position()))
	run := func(ctx context.Context) error {
		errc := make(chan error, 1)
		go func() { errc <- local.Run(ctx) }()
		go saveOnErasure(ctx, local, head, erased, log)
		err := rm.Run(ctx, store, redisrm.RunOptions{Project: !cfg.ReadOnly, Feed: []projections.Projection{hub.Notifier()}})
		return errors.Join(err, <-errc)
	}
	members := searchHere{MemberReader: rm.Members, local: search}
	return &readModels{members: members, matches: rm.Matches, reports: reports, follower: scaleOut{ReadModels: rm, local: local}, hub: hub, run: run, redis: client}, nil
}

// scaleOut follows the shared Redis read models and this instance's own
// (the search index and the reports) as one: a mutation waits for both to
// show its change, and the server is ready and healthy when both are.
type scaleOut struct {
	*redisrm.ReadModels
	local *follow.Runner
}

func (s scaleOut) WaitFor(ctx context.Context, pos eventstore.Position) error {
	if err := s.ReadModels.WaitFor(ctx, pos); err != nil {
		return err
	}
	return s.local.WaitFor(ctx, pos)
}

func (s scaleOut) Healthy() error {
	if err := s.ReadModels.Healthy(); err != nil {
		return err
	}
	return s.local.Healthy()
}

func (s scaleOut) Reached() eventstore.Position {
	return min(s.ReadModels.Reached(), s.local.Reached())
}

// Save rewrites this instance's snapshots, as an erasure asks: the search
// index's snapshot holds the members' texts.
func (s scaleOut) Save() error { return s.local.Save() }

// searchHere answers the mentor search from this instance's members read
// model, and every other member read from the shared one.
type searchHere struct {
	projections.MemberReader
	local *projections.Members
}

func (s searchHere) SearchMentors(q projections.SearchQuery) (projections.SearchResult, error) {
	return s.local.SearchMentors(q)
}

// erasures is a follower of the log that tells saw when it passes a
// member's erasure. It comes after the search index in its runner, so
// that the index has blanked the member's texts by then, and the snapshot
// saved next holds none of them, whichever instance ran the erasure.
type erasures struct {
	saw chan<- struct{}
	pos atomic.Uint64
}

func (e *erasures) Name() string                  { return "erasures" }
func (e *erasures) Position() eventstore.Position { return eventstore.Position(e.pos.Load()) }

func (e *erasures) Apply(events []projections.Event) error {
	for i := range events {
		if eventstore.Position(e.pos.Load()) >= events[i].Position {
			continue
		}
		if _, ok := events[i].Data.(domain.MemberErased); ok {
			select {
			case e.saw <- struct{}{}:
			default: // a save is already asked for
			}
		}
		e.pos.Store(uint64(events[i].Position))
	}
	return nil
}

// saveOnErasure saves the runner's snapshots whenever an erasure passed,
// until ctx ends. While the runner catches up with the log as it was at
// start (head), it waits: a rebuild passes many erasures, every save it
// makes meanwhile is taken after the erasures before it, and one save once
// it caught up covers those that came after the last.
func saveOnErasure(ctx context.Context, r *follow.Runner, head eventstore.Position, saw <-chan struct{}, log zerolog.Logger) {
	// A follower that stopped ends the wait too; Save skips it.
	if err := r.WaitFor(ctx, head); err != nil && ctx.Err() != nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-saw:
			if err := r.Save(); err != nil {
				log.Error().Err(err).Msg("rewriting the snapshots after an erasure")
			}
		}
	}
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
