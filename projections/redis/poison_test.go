package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	"github.com/mentorship/mentorship/projections/redis"
)

func registerMentee(t *testing.T, svc *command.Service) (uuid.UUID, eventstore.Position) {
	t.Helper()
	id := uuid.New()
	res, err := svc.RegisterMember(context.Background(), command.Request{Actor: domain.Actor{ID: id, Role: domain.RoleMentee}}, id, domain.RoleMentee, "Mentee", id.String()[:8]+"@example.org")
	if err != nil {
		t.Fatal(err)
	}
	return id, res.Position
}

func appendUndecodable(t *testing.T, store eventstore.Store) eventstore.Position {
	t.Helper()
	bad := eventstore.EventData{ID: uuid.New(), Type: "MatchRequested", SchemaVersion: 1, Data: []byte(`{"matchId": 42}`)}
	res, err := store.Append(context.Background(), "match-"+uuid.NewString(), eventstore.Any(), bad)
	if err != nil {
		t.Fatal(err)
	}
	return res.LastPosition
}

func mode(live bool) string {
	if live {
		return "live"
	}
	return "catching up"
}

// stopsAt waits past the head and checks that the read models refuse,
// naming the position a projection stopped at, and that Healthy says so
// too.
func stopsAt(t *testing.T, rm *redis.ReadModels, head eventstore.Position, pos eventstore.Position) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := rm.WaitFor(ctx, head)
	want := fmt.Sprintf(" stopped at position %d: ", pos)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("waiting past a poison event: %v, want %q", err, want)
	}
	if h := rm.Healthy(); h == nil || !strings.Contains(h.Error(), want) {
		t.Fatalf("Healthy reports %v, want %q", h, want)
	}
	return err
}

// failure reads why a projection stopped, as Redis records it for every
// instance, once it is recorded.
func failure(t *testing.T, c goredis.UniversalClient, ns, projection string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		msg, err := c.HGet(context.Background(), redis.Key(ns, projection, "meta"), "failed").Result()
		if err == nil {
			return msg
		}
		if !errors.Is(err, goredis.Nil) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("projection %s recorded no failure", projection)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An event that does not decode stops both Redis projections at its
// position, whether the projector meets it catching up or live; the
// failure is recorded in Redis and nothing after the event is applied.
func TestUndecodableEventStopsTheRedisProjections(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(mode(live), func(t *testing.T) {
			c, ns := redistest.Client(t)
			store, svc, _ := readmodeltest.NewProgram(t)
			registerMentee(t, svc)
			var in *instance
			if live {
				in = startInstance(t, store, ns, "projector")
				h, _ := store.Head(context.Background())
				waitFor(t, in.rm, h)
			}
			pos := appendUndecodable(t, store)
			later, h := registerMentee(t, svc)
			if !live {
				in = startInstance(t, store, ns, "projector")
			}

			stopsAt(t, in.rm, h, pos)
			for _, p := range []string{"members", "matches"} {
				if msg := failure(t, c, ns, p); !strings.HasPrefix(msg, fmt.Sprintf("follower %s stopped at position %d: ", p, pos)) {
					t.Errorf("%s recorded %q", p, msg)
				}
			}
			if got := min(checkpoint(t, in.rm.Members), checkpoint(t, in.rm.Matches)); got != pos-1 {
				t.Errorf("a projection is at %d, want %d, just before the poison event", got, pos-1)
			}
			if _, ok, _ := in.rm.Members.Member(later); ok {
				t.Error("a member registered after the poison event was applied")
			}
		})
	}
}

// A commit that meets a stored view that no longer reads stops its
// projection at the exact event that needs the view, without retrying
// what cannot succeed, whether the projector meets it catching up or live: the process
// survives, the events before it in the batch are committed, nothing after
// it is, and the other projection goes on.
func TestUnreadableViewInACommitStopsOnlyItsProjection(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(mode(live), func(t *testing.T) {
			c, ns := redistest.Client(t)
			store, svc, _ := readmodeltest.NewProgram(t)
			ctx := context.Background()
			damaged, _ := registerMentee(t, svc)
			var in *instance
			writer := redis.New(c, redis.Options{Prefix: ns, Owner: "writer", Logger: zerolog.Nop()})
			if live {
				in = startInstance(t, store, ns, "projector")
				h, _ := store.Head(ctx)
				waitFor(t, in.rm, h)
			} else if err := writer.Apply(ctx, readmodeltest.Events(t, store)); err != nil {
				t.Fatal(err)
			}
			if err := c.HSet(ctx, redis.Key(ns, "members", "m"), damaged.String(), "{not json").Err(); err != nil {
				t.Fatal(err)
			}
			before, _ := registerMentee(t, svc)
			res, err := svc.UpdateProfile(ctx, command.Request{Actor: domain.Actor{ID: damaged, Role: domain.RoleMentee}}, damaged, domain.Profile{Name: "Damaged"})
			if err != nil {
				t.Fatal(err)
			}
			pos := res.Position
			later, h := registerMentee(t, svc)
			if !live {
				// An offline rebuild refuses at the same event.
				var stopped *follow.PoisonError
				if err := writer.Apply(ctx, readmodeltest.Events(t, store)); !errors.As(err, &stopped) || stopped.Position != pos {
					t.Fatalf("applying past the event: %v, want a stop at %d", err, pos)
				}
				in = startInstance(t, store, ns, "projector")
			}

			err = stopsAt(t, in.rm, h, pos)
			if !strings.HasPrefix(err.Error(), "follower members ") || !strings.Contains(err.Error(), "stored view: ") {
				t.Errorf("the failure does not name the projection and the view it cannot read: %v", err)
			}
			if got := checkpoint(t, in.rm.Members); got != pos-1 {
				t.Errorf("members at %d, want %d, just before the poison event", got, pos-1)
			}
			if _, ok, _ := in.rm.Members.Member(before); !ok {
				t.Error("a member registered before the poison event is missing")
			}
			if _, ok, _ := in.rm.Members.Member(later); ok {
				t.Error("a member registered after the poison event was applied")
			}
			deadline := time.Now().Add(15 * time.Second)
			for checkpoint(t, in.rm.Matches) < h {
				if time.Now().After(deadline) {
					t.Fatalf("matches at %d of %d: the projection the event did not break stopped too", checkpoint(t, in.rm.Matches), h)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// signal is a log that tells when a line holds a phrase.
type signal struct {
	phrase []byte
	heard  chan struct{}
}

func (s *signal) Write(p []byte) (int, error) {
	if bytes.Contains(p, s.phrase) {
		select {
		case s.heard <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// outage makes a client's commits fail while down, as Redis out of reach
// would; leases and reads go through.
type outage struct {
	down    atomic.Bool
	refused atomic.Int32
}

func (o *outage) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (o *outage) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (o *outage) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if o.down.Load() && isCommit(cmd) {
			o.refused.Add(1)
			err := errors.New("dial tcp: connection refused")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// isCommit tells a commit (the only script that writes a checkpoint) by
// the meta hash among its keys.
func isCommit(cmd goredis.Cmder) bool {
	if name := cmd.Name(); name != "evalsha" && name != "eval" {
		return false
	}
	for _, a := range cmd.Args() {
		if s, ok := a.(string); ok && strings.HasSuffix(s, ":meta") {
			return true
		}
	}
	return false
}

// Redis out of reach is a transient failure, not a poison event: the
// commit is retried a bounded number of times, then the holder gives up and
// tries again after a pause, and the projection catches up once Redis is
// back, without ever stopping.
func TestRedisOutageIsRetriedNotStopped(t *testing.T) {
	_, ns := redistest.Client(t)
	c := goredis.NewClient(&goredis.Options{Addr: redisAddr(t)})
	defer c.Close()
	out := &outage{}
	c.AddHook(out)
	store, svc, _ := readmodeltest.NewProgram(t)
	ctx := context.Background()
	gaveUp := &signal{phrase: []byte("projecting failed; trying again"), heard: make(chan struct{}, 1)}
	stopped := &signal{phrase: []byte("projection stopped"), heard: make(chan struct{}, 1)}
	rm := redis.New(c, redis.Options{Prefix: ns, Owner: "projector", LeaseTTL: 600 * time.Millisecond, Logger: zerolog.New(io.MultiWriter(gaveUp, stopped))})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = rm.Run(runCtx, store, redis.RunOptions{Project: true}) }()
	defer func() { cancel(); <-done }()
	_, h := registerMentee(t, svc)
	waitFor(t, rm, h)

	out.down.Store(true)
	later, h := registerMentee(t, svc)
	select {
	case <-gaveUp.heard:
	case <-stopped.heard:
		t.Fatal("a transient failure stopped a projection")
	case <-time.After(15 * time.Second):
		t.Fatal("the projector never gave up a commit while Redis was out of reach")
	}
	if n := out.refused.Load(); n < 3 {
		t.Errorf("the commit was tried %d times before the holder gave up, want 3", n)
	}
	if err := rm.Healthy(); err != nil {
		t.Fatalf("a transient failure stopped a projection: %v", err)
	}
	out.down.Store(false)
	waitFor(t, rm, h)
	if err := rm.Healthy(); err != nil {
		t.Fatalf("unhealthy after catching up: %v", err)
	}
	if _, ok, _ := rm.Members.Member(later); !ok {
		t.Fatal("the member registered while Redis was out of reach is missing")
	}
}
