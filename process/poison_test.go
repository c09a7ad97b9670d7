package process_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/process"
)

// fastRetries reads an undecodable event again twice, without a long
// pause.
var fastRetries = process.Options{DecodeRetries: 2, DecodeRetryWait: time.Millisecond}

// openManager opens a second manager over the fixture's log, with a file
// of its own.
func (f *fixture) openManager(store eventstore.Store) *process.Manager {
	f.t.Helper()
	m, err := process.Open(f.t.TempDir(), store, f.cmds, f.clock, fastRetries)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = m.Close() })
	return m
}

// appendUndecodable appends a match request whose data the domain cannot
// decode.
func (f *fixture) appendUndecodable() eventstore.Position {
	f.t.Helper()
	bad := eventstore.EventData{ID: uuid.New(), Type: "MatchRequested", SchemaVersion: 1, Data: []byte(`{"matchId": 42}`)}
	res, err := f.store.Append(context.Background(), domain.MatchStream(uuid.New()), eventstore.Any(), bad)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.LastPosition
}

func stoppedAt(t *testing.T, err error, pos eventstore.Position) {
	t.Helper()
	var stopped *follow.PoisonError
	if !errors.As(err, &stopped) || stopped.Position != pos {
		t.Fatalf("%v, want the manager stopped at position %d", err, pos)
	}
}

// An event the manager cannot decode, even read again, stops it at that
// event's position: it is not skipped, so no rule after it runs on a view
// that lacks it, and the manager runs nothing more until it is fixed.
func TestUndecodableEventStopsTheManager(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	before := f.request(ada, grace)
	pos := f.appendUndecodable()
	bob, linus := f.register(domain.RoleMentee, "Bob Builder"), f.register(domain.RoleMentor, "Linus Pauling")
	after := f.request(bob, linus)
	mgr := f.openManager(f.store)
	f.clock.Advance(15 * day)

	for range 2 {
		err := mgr.Tick(context.Background())
		stoppedAt(t, err, pos)
		if h := mgr.Healthy(); h == nil || h.Error() != err.Error() {
			t.Fatalf("Healthy reports %v, want %v", h, err)
		}
	}
	if n, err := mgr.RunDue(context.Background(), f.clock.Now()); n != 0 {
		t.Fatalf("a stopped manager ran %d steps (%v)", n, err)
	}
	for _, id := range []uuid.UUID{before, after} {
		if got := f.matchTypes(id); !slices.Equal(got, []string{"MatchRequested"}) {
			t.Errorf("match %s: %v, want no rule run by a stopped manager", id, got)
		}
	}
	if got := f.cmds.Calls("MarkResponseWindowElapsed"); got != 0 {
		t.Errorf("a stopped manager asked %d times to mark a window elapsed", got)
	}
}

// Following the log live, the manager stops on such an event too, and Run
// waits for the end rather than start over on it.
func TestUndecodableEventStopsRun(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	id := f.request(ada, grace)
	f.clock.Advance(15 * day)
	sub, err := f.store.SubscribeAll(context.Background(), f.head())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	mgr := f.openManager(f.store)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Run(ctx) }()
	// Once Run marked the window elapsed, it has caught up and follows
	// the log live.
	timeout := time.After(10 * time.Second)
	for marked := false; !marked; {
		select {
		case rec := <-sub.Events():
			marked = rec.Type == "ResponseWindowElapsed"
		case <-timeout:
			t.Fatal("Run did not mark the window elapsed")
		}
	}
	pos := f.appendUndecodable()
	deadline := time.Now().Add(10 * time.Second)
	for mgr.Healthy() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the manager did not stop on the event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stoppedAt(t, mgr.Healthy(), pos)
	select {
	case err := <-done:
		t.Fatalf("Run ended on the event: %v", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.matchTypes(id); !slices.Equal(got, []string{"MatchRequested", "ResponseWindowElapsed"}) {
		t.Errorf("match events %v", got)
	}
}

// garbling is a store whose reads return the event at one position garbled
// the first time, as a bad read would; the stored event is sound.
type garbling struct {
	eventstore.Store
	at   eventstore.Position
	done atomic.Bool
}

func (s *garbling) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadAll(ctx, from, limit)
	for i := range recs {
		s.garble(&recs[i])
	}
	return recs, err
}

// SubscribeAll garbles the live events too, since the runner reads the
// log through either.
func (s *garbling) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	sub, err := s.Store.SubscribeAll(ctx, from)
	if err != nil {
		return nil, err
	}
	return process.Tap(ctx, sub, s.garble), nil
}

func (s *garbling) garble(r *eventstore.RecordedEvent) {
	if r.Position == s.at && s.done.CompareAndSwap(false, true) {
		r.Data = []byte(`{"matchId": 42}`)
	}
}

// An event that did not decode is read again before the manager stops:
// when the second read decodes, the manager learns it and its rule runs.
func TestBadReadIsReadAgain(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	id := f.request(ada, grace)
	recs, err := f.store.ReadStream(context.Background(), domain.MatchStream(id), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store := &garbling{Store: f.store, at: recs[0].Position}
	mgr := f.openManager(store)
	f.clock.Advance(15 * day)
	if err := mgr.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !store.done.Load() {
		t.Fatal("the read was never garbled")
	}
	if err := mgr.Healthy(); err != nil {
		t.Fatal(err)
	}
	if got := f.matchTypes(id); !slices.Equal(got, []string{"MatchRequested", "ResponseWindowElapsed"}) {
		t.Errorf("match events %v, want the window marked", got)
	}
}
