package redis_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	"github.com/mentorship/mentorship/projections/redis"
	"github.com/mentorship/mentorship/seed"
)

// instance is one server's view of the shared read models, with a Redis
// connection of its own so that it can die alone.
type instance struct {
	rm     *redis.ReadModels
	client *goredis.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func startInstance(t *testing.T, store eventstore.Store, ns, owner string) *instance {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: redisAddr(t)})
	rm := redis.New(c, redis.Options{Prefix: ns, Owner: owner, LeaseTTL: 600 * time.Millisecond, Logger: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{rm: rm, client: c, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(in.done); _ = rm.Run(ctx, store, redis.RunOptions{Project: true}) }()
	t.Cleanup(func() { in.cancel(); <-in.done; _ = c.Close() })
	return in
}

func redisAddr(t *testing.T) string {
	opts, err := goredis.ParseURL(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	return opts.Addr
}

// kill ends an instance without a goodbye: its connection goes first, so
// it can neither renew nor release its leases.
func (in *instance) kill() {
	_ = in.client.Close()
	in.cancel()
	<-in.done
}

func waitFor(t *testing.T, rm *redis.ReadModels, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := rm.WaitFor(ctx, pos); err != nil {
		t.Fatal(err)
	}
}

func models(rm *redis.ReadModels) readmodeltest.Models {
	return readmodeltest.Models{Members: rm.Members, Matches: rm.Matches,
		Position: lowest(rm)}
}

// Two instances share the read models: one projects, the other follows.
// When the projector dies without releasing its leases, the other takes
// over within about the lease's time to live, and the read models stay
// exactly those of the log: nothing applied twice, nothing skipped.
func TestHolderDiesAndAnotherTakesOver(t *testing.T) {
	_, ns := redistest.Client(t)
	store, svc, clk := readmodeltest.NewProgram(t)
	if _, err := seed.Generate(context.Background(), store, svc.Program(), seed.Options{Mentors: 30, Mentees: 60, Events: 2000, Seed: 3, Days: 120, End: clk.Now(), Workers: 2}); err != nil {
		t.Fatal(err)
	}
	a, b := startInstance(t, store, ns, "a"), startInstance(t, store, ns, "b")
	head, _ := store.Head(context.Background())
	waitFor(t, a.rm, head)
	waitFor(t, b.rm, head)

	holder, err := a.rm.Holder(context.Background(), "matches")
	if err != nil || holder == "" {
		t.Fatalf("holder %q, %v", holder, err)
	}
	dead, alive := a, b
	if strings.HasPrefix(holder, "b#") {
		dead, alive = b, a
	}
	dead.kill()
	// Writes go on while nobody projects.
	ctx := context.Background()
	for i := range 20 {
		id := uuid.New()
		if _, err := svc.RegisterMember(ctx, command.Request{Actor: domain.Actor{ID: id, Role: domain.RoleMentor}}, id, domain.RoleMentor, "Late Mentor", id.String()[:8]+"@example.org"); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			clk.Advance(time.Hour)
		}
	}
	head, _ = store.Head(ctx)
	started := time.Now()
	waitFor(t, alive.rm, head)
	if took := time.Since(started); took > 5*time.Second {
		t.Fatalf("takeover took %v", took)
	}
	for _, p := range []string{"members", "matches"} {
		h, err := alive.rm.Holder(ctx, p)
		if err != nil || h == holder || h == "" {
			t.Fatalf("%s held by %q after %q died (%v)", p, h, holder, err)
		}
	}
	events := readmodeltest.Events(t, store)
	readmodeltest.Compare(t, svc.Program(), clk.Now(), events, readmodeltest.Reference(t, events), models(alive.rm))
}

// recorder is a fed projection that keeps what it was given.
type recorder struct {
	mu     sync.Mutex
	pos    eventstore.Position
	events []eventstore.Position
	got    chan struct{}
}

func (r *recorder) Name() string { return "recorder" }

func (r *recorder) Position() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pos
}

func (r *recorder) Apply(events []projections.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range events {
		if ev.Position <= r.pos {
			continue
		}
		r.events = append(r.events, ev.Position)
		r.pos = ev.Position
	}
	select {
	case r.got <- struct{}{}:
	default:
	}
	return nil
}

// An instance that hears no notification (here the read models are filled
// by Apply, which publishes nothing) still learns of the new checkpoints
// and hands every event to its subscribers, in order and without a gap,
// read from the store.
func TestFollowerWithoutNotificationsMissesNothing(t *testing.T) {
	c, ns := redistest.Client(t)
	store, svc, _ := readmodeltest.NewProgram(t)
	follower := redis.New(c, redis.Options{Prefix: ns, Owner: "follower", LeaseTTL: 600 * time.Millisecond, Logger: zerolog.Nop()})
	rec := &recorder{got: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = follower.Run(ctx, store, redis.RunOptions{Feed: []projections.Projection{rec}})
	}()
	defer func() { cancel(); <-done }()
	// The follower starts from what the read models show: nothing yet.
	waitFor(t, follower, 0)

	writer := redis.New(c, redis.Options{Prefix: ns, Owner: "writer", Logger: zerolog.Nop()})
	for round := range 3 {
		for range 5 {
			id := uuid.New()
			if _, err := svc.RegisterMember(ctx, command.Request{Actor: domain.Actor{ID: id, Role: domain.RoleMentee}}, id, domain.RoleMentee, "Mentee", id.String()[:8]+"@example.org"); err != nil {
				t.Fatal(err)
			}
		}
		if err := writer.Apply(ctx, readmodeltest.Events(t, store)); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	head, _ := store.Head(ctx)
	waitFor(t, follower, head)
	deadline := time.After(10 * time.Second)
	for rec.Position() < head {
		select {
		case <-rec.got:
		case <-deadline:
			t.Fatalf("subscribers reached %d of %d", rec.Position(), head)
		}
	}
	var want []eventstore.Position
	for _, ev := range readmodeltest.Events(t, store) {
		want = append(want, ev.Position)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Equal(rec.events, want) {
		t.Fatalf("subscribers got %v, the log holds %v", rec.events, want)
	}
}

// When Redis loses the read models (a restart without persistence), the
// instances notice at their next look: read-your-writes waits again until
// the projector has rebuilt them, rather than answer from empty models.
func TestLostReadModelsAreWaitedFor(t *testing.T) {
	c, ns := redistest.Client(t)
	store, svc, _ := readmodeltest.NewProgram(t)
	ctx := context.Background()
	for range 5 {
		id := uuid.New()
		if _, err := svc.RegisterMember(ctx, command.Request{Actor: domain.Actor{ID: id, Role: domain.RoleMentee}}, id, domain.RoleMentee, "Mentee", id.String()[:8]+"@example.org"); err != nil {
			t.Fatal(err)
		}
	}
	writer := redis.New(c, redis.Options{Prefix: ns, Owner: "writer", Logger: zerolog.Nop()})
	events := readmodeltest.Events(t, store)
	if err := writer.Apply(ctx, events); err != nil {
		t.Fatal(err)
	}
	head, _ := store.Head(ctx)
	follower := redis.New(c, redis.Options{Prefix: ns, Owner: "follower", LeaseTTL: 300 * time.Millisecond, Logger: zerolog.Nop()})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = follower.Run(runCtx, store, redis.RunOptions{}) }()
	defer func() { cancel(); <-done }()
	waitFor(t, follower, head)

	keys, err := c.Keys(ctx, "*"+ns+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for follower.Reached() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the follower still counts position %d after the read models were lost", follower.Reached())
		}
		time.Sleep(10 * time.Millisecond)
	}
	short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	defer stop()
	if err := follower.WaitFor(short, head); err == nil {
		t.Fatal("read-your-writes did not wait for the lost read models")
	}
	if err := writer.Apply(ctx, events); err != nil {
		t.Fatal(err)
	}
	waitFor(t, follower, head)
	if _, ok, _ := follower.Members.Member(events[0].Data.(domain.MemberRegistered).MemberID); !ok {
		t.Fatal("the rebuilt read models lack the first member")
	}
}

// The read models report their positions, whether this instance holds each
// lease, and the lag behind the log, under the in-memory runner's names.
func TestMetrics(t *testing.T) {
	_, ns := redistest.Client(t)
	store, svc, _ := readmodeltest.NewProgram(t)
	ctx := context.Background()
	id := uuid.New()
	if _, err := svc.RegisterMember(ctx, command.Request{Actor: domain.Actor{ID: id, Role: domain.RoleMentee}}, id, domain.RoleMentee, "Mentee", "m@example.org"); err != nil {
		t.Fatal(err)
	}
	in := startInstance(t, store, ns, "metrics")
	reg := prometheus.NewRegistry()
	in.rm.Register(reg)
	head, _ := store.Head(ctx)
	waitFor(t, in.rm, head)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]float64{}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				key := f.GetName()
				for _, l := range m.GetLabel() {
					key += "/" + l.GetValue()
				}
				got[key] = m.GetGauge().GetValue()
			}
		}
		want := map[string]float64{
			"mentorship_projection_lease_held/members": 1, "mentorship_projection_lease_held/matches": 1,
		}
		if maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
