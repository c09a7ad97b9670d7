package graph

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// countingStore counts the subscriptions and the reads of the log made
// through it; with block set, the first read waits for block to close,
// after closing started.
type countingStore struct {
	eventstore.Store
	subscribes, reads atomic.Int32
	block, started    chan struct{}
	once              sync.Once
}

func (s *countingStore) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	s.subscribes.Add(1)
	return s.Store.SubscribeAll(ctx, from)
}

func (s *countingStore) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	s.reads.Add(1)
	if s.block != nil {
		s.once.Do(func() {
			close(s.started)
			<-s.block
		})
	}
	return s.Store.ReadAll(ctx, from, limit)
}

// statusWorld is a store followed by the matches read model and the hub,
// and a resolver reading the store through a countingStore.
type statusWorld struct {
	t      *testing.T
	store  *bolt.Store
	runner *follow.Runner
	hub    *Hub
	counts *countingStore
	r      *Resolver
}

func newStatusWorld(t *testing.T) *statusWorld {
	t.Helper()
	store, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	matches := projections.NewMatches()
	hub := NewHub(0, matches)
	runner := follow.NewRunner(store, follow.Options{Logger: zerolog.Nop()}, matches, hub.Notifier())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = runner.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; _ = store.Close() })
	counts := &countingStore{Store: store}
	return &statusWorld{t: t, store: store, runner: runner, hub: hub, counts: counts,
		r: &Resolver{Store: counts, Hub: hub, Log: zerolog.Nop()}}
}

// request appends n match requests and waits until the hub has told of
// them; it returns the log's head.
func (w *statusWorld) request(n int) eventstore.Position {
	w.t.Helper()
	ctx := context.Background()
	events := make([]eventstore.EventData, n)
	for i := range events {
		enc, err := domain.Encode(domain.MatchRequested{MatchID: uuid.New(), MenteeID: uuid.New(), MentorID: uuid.New(), At: time.Now()})
		if err != nil {
			w.t.Fatal(err)
		}
		events[i] = eventstore.EventData{ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data,
			Metadata: eventstore.Metadata{OccurredAt: time.Now()}}
	}
	if _, err := w.store.Append(ctx, "match-requests", eventstore.Any(), events...); err != nil {
		w.t.Fatal(err)
	}
	head, err := w.store.Head(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.runner.WaitFor(ctx, head); err != nil {
		w.t.Fatal(err)
	}
	return head
}

// expect reads the positions from, from+1, ... to from out, in that order.
func expect(t *testing.T, out <-chan *model.MatchStatusEvent, from, to eventstore.Position) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for want := from; want <= to; want++ {
		select {
		case ev, ok := <-out:
			if !ok {
				t.Fatalf("the subscription ended before position %d", want)
			}
			if ev.Position != want || ev.Status != model.MatchStatusPending || ev.Type != "MatchRequested" {
				t.Fatalf("got %d %s %s, want position %d", ev.Position, ev.Type, ev.Status, want)
			}
		case <-timeout:
			t.Fatalf("no event at position %d", want)
		}
	}
}

// A subscriber with since reads the log up to the hub's position and then
// takes the hub's changes: the events appended while it reads arrive once
// each, in order, after those it read, and nothing opens a subscription on
// the store.
func TestMatchEventsCatchUpAndJoinTheHubAtTheSeam(t *testing.T) {
	w := newStatusWorld(t)
	w.request(30)
	w.counts.block, w.counts.started = make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	since := eventstore.Position(5)
	out, err := w.r.matchEvents(ctx, &since)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.counts.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber did not read the log")
	}
	// While it reads, 40 more changes reach the hub.
	head := w.request(40)
	close(w.counts.block)
	expect(t, out, since+1, head)
	expect(t, out, head+1, w.request(1))
	if n := w.counts.subscribes.Load(); n != 0 {
		t.Fatalf("%d subscriptions opened on the store", n)
	}
}

// A subscriber that falls behind is dropped by the hub without slowing it,
// then reads what it missed from the log and joins again: it misses
// nothing and gets nothing twice.
func TestASlowMatchEventsSubscriberCatchesUpFromTheLog(t *testing.T) {
	w := newStatusWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, err := w.r.matchEvents(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w.hub.Subscribers() != 1 {
		t.Fatalf("%d hub subscribers, want the one", w.hub.Subscribers())
	}
	// Nobody reads out: more changes than its buffers hold.
	head := w.request(matchEventsBuffer + 2*cap(out))
	if n := w.hub.Subscribers(); n != 0 {
		t.Fatalf("%d hub subscribers while it is behind, want it dropped", n)
	}
	if n := w.counts.reads.Load(); n != 0 {
		t.Fatalf("%d reads of the log before it fell behind", n)
	}
	expect(t, out, 1, head)
	if w.counts.reads.Load() == 0 {
		t.Fatal("it caught up without reading the log")
	}
	expect(t, out, head+1, w.request(3))
	if n := w.counts.subscribes.Load(); n != 0 {
		t.Fatalf("%d subscriptions opened on the store", n)
	}
}

// Without since, a subscriber starts at the hub's position: it hears of
// the changes after it joined and reads nothing from the log.
func TestMatchEventsWithoutSinceStartsAtTheHub(t *testing.T) {
	w := newStatusWorld(t)
	before := w.request(10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, err := w.r.matchEvents(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, out, before+1, w.request(2))
	if n := w.counts.reads.Load() + w.counts.subscribes.Load(); n != 0 {
		t.Fatalf("%d reads or subscriptions of the store", n)
	}
	cancel()
	for range out {
	}
	if n := w.hub.Subscribers(); n != 0 {
		t.Fatalf("%d hub subscribers after the subscription ended", n)
	}
}
