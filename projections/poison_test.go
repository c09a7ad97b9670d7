package projections_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/projections/readmodeltest"
)

// Enough events before the poison one that the runner meets it catching up
// in chunks rather than on its subscription.
const catchUpEvents = 5000

// registration is an encoded MemberRegistered event for a new member.
func registration(t *testing.T) (uuid.UUID, eventstore.EventData) {
	t.Helper()
	id := uuid.New()
	enc, err := domain.Encode(domain.MemberRegistered{MemberID: id, Role: domain.RoleMentee, Name: "Member", Email: id.String()[:8] + "@example.org", At: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return id, eventstore.EventData{ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data}
}

// appendRegistrations appends n registrations, many to an append.
func appendRegistrations(t *testing.T, store eventstore.Store, n int) {
	t.Helper()
	for n > 0 {
		batch := make([]eventstore.EventData, min(n, 500))
		for i := range batch {
			_, batch[i] = registration(t)
		}
		if _, err := store.Append(context.Background(), "member-"+uuid.NewString(), eventstore.Any(), batch...); err != nil {
			t.Fatal(err)
		}
		n -= len(batch)
	}
}

// appendTo appends an event to a member's stream and returns its position.
func appendTo(t *testing.T, store eventstore.Store, member uuid.UUID, ev eventstore.EventData) eventstore.Position {
	t.Helper()
	res, err := store.Append(context.Background(), domain.MemberStream(member), eventstore.Any(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return res.LastPosition
}

// register appends one registration and returns the member and the
// event's position.
func register(t *testing.T, store eventstore.Store) (uuid.UUID, eventstore.Position) {
	t.Helper()
	member, ev := registration(t)
	return member, appendTo(t, store, member, ev)
}

// appendUndecodable appends a known event type whose data the domain
// cannot decode.
func appendUndecodable(t *testing.T, store eventstore.Store) eventstore.Position {
	t.Helper()
	bad := eventstore.EventData{ID: uuid.New(), Type: "MatchRequested", SchemaVersion: 1, Data: []byte(`{"matchId": 42}`)}
	res, err := store.Append(context.Background(), "match-"+uuid.NewString(), eventstore.Any(), bad)
	if err != nil {
		t.Fatal(err)
	}
	return res.LastPosition
}

func head(t *testing.T, store eventstore.Store) eventstore.Position {
	t.Helper()
	h, err := store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// panicking is a projection whose evolution panics on one event, as a bug
// would make it; it hands every other event to the projection it wraps.
type panicking struct {
	projections.Projection
	at uuid.UUID
}

func (p panicking) Apply(events []projections.Event) error {
	for i := range events {
		if events[i].ID == p.at && events[i].Position > p.Position() {
			if err := p.Projection.Apply(events[:i]); err != nil {
				return err
			}
			var views map[uuid.UUID]int
			//lint:ignore SA5000 evolve code failing with a runtime panic is what this test needs
			views[p.at]++
		}
	}
	return p.Projection.Apply(events)
}

var errUnavailable = errors.New("storage unavailable")

// flaky is a projection whose storage fails on one event for its first
// failures tries, as storage briefly out of reach would: it applies the
// events before that one and changes nothing else.
type flaky struct {
	projections.Projection
	at       uuid.UUID
	failures int32
	tries    atomic.Int32 // Apply calls that reached the event
}

func (p *flaky) Apply(events []projections.Event) error {
	for i := range events {
		if events[i].ID == p.at && events[i].Position > p.Position() {
			if p.tries.Add(1) <= p.failures {
				if err := p.Projection.Apply(events[:i]); err != nil {
					return err
				}
				return errUnavailable
			}
		}
	}
	return p.Projection.Apply(events)
}

// tail is the last projection the runner feeds: once it has a batch,
// every projection before it was offered the batch.
type tail struct {
	mu  sync.Mutex
	pos eventstore.Position
	got chan struct{}
}

func newTail() *tail { return &tail{got: make(chan struct{}, 1)} }

func (p *tail) Name() string { return "tail" }

func (p *tail) Position() eventstore.Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pos
}

func (p *tail) Apply(events []projections.Event) error {
	p.mu.Lock()
	p.pos = max(p.pos, events[len(events)-1].Position)
	p.mu.Unlock()
	select {
	case p.got <- struct{}{}:
	default:
	}
	return nil
}

// reach waits until the tail has the event at pos.
func (p *tail) reach(t *testing.T, pos eventstore.Position) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for p.Position() < pos {
		select {
		case <-p.got:
		case <-timeout:
			t.Fatalf("the projections after the stopped one reached %d of %d", p.Position(), pos)
		}
	}
}

// running is a runner started in the background.
type running struct {
	*follow.Runner
	done chan error
}

func start(t *testing.T, store eventstore.Store, projs ...projections.Projection) *running {
	t.Helper()
	r := &running{
		Runner: follow.NewRunner(store, follow.Options{Logger: zerolog.Nop(), MaxRetries: 3, RetryWait: time.Millisecond}, projs...),
		done:   make(chan error, 1),
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

// stopsAt waits past pos and checks that the runner refuses, naming the
// projection and the position it stopped at, and that Run goes on.
func (r *running) stopsAt(t *testing.T, wait eventstore.Position, projection string, pos eventstore.Position) *follow.PoisonError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := r.WaitFor(ctx, wait)
	var stopped *follow.PoisonError
	if !errors.As(err, &stopped) {
		t.Fatalf("waiting past a poison event: %v", err)
	}
	if stopped.Follower != projection || stopped.Position != pos {
		t.Fatalf("stopped %s at %d, want %s at %d: %v", stopped.Follower, stopped.Position, projection, pos, err)
	}
	if h := r.Healthy(); h == nil || h.Error() != err.Error() {
		t.Fatalf("Healthy reports %v, want %v", h, err)
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run ended on a poison event: %v", err)
	default:
	}
	return stopped
}

// An event whose evolution panics stops the projection it broke at the
// event's own position, whether the runner meets it catching up or live:
// the process survives, nothing after the event reaches that projection,
// and the other projections go on.
func TestPanicStopsOnlyItsProjection(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(mode(live), func(t *testing.T) {
			store, _, _ := readmodeltest.NewProgram(t)
			appendRegistrations(t, store, 10)
			if !live {
				appendRegistrations(t, store, catchUpEvents)
			}
			bad, poison := registration(t)
			members, matches, end := projections.NewMembers(), projections.NewMatches(), newTail()
			projs := []projections.Projection{panicking{Projection: members, at: poison.ID}, matches, end}
			var r *running
			if live {
				r = start(t, store, projs...)
				end.reach(t, head(t, store))
			}
			pos := appendTo(t, store, bad, poison)
			later, _ := register(t, store)
			h := head(t, store)
			if !live {
				r = start(t, store, projs...)
			}

			stopped := r.stopsAt(t, h, "members", pos)
			if !errors.As(stopped, new(*follow.PanicError)) {
				t.Fatalf("the cause is not the panic: %v", stopped)
			}
			end.reach(t, h)
			if got := members.Position(); got != pos-1 {
				t.Errorf("members at %d, want %d, just before the poison event", got, pos-1)
			}
			for _, m := range []uuid.UUID{bad, later} {
				if _, ok, _ := members.Member(m); ok {
					t.Errorf("member %s of an event at or after the poison one was applied", m)
				}
			}
			if got := matches.Position(); got != h {
				t.Errorf("matches at %d, want %d: a projection the event did not break stopped too", got, h)
			}
		})
	}
}

func mode(live bool) string {
	if live {
		return "live"
	}
	return "catching up"
}

// An event that does not decode stops every projection at its position,
// caught up with everything before it; nothing after it is applied.
func TestUndecodableEventStopsEveryProjection(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(mode(live), func(t *testing.T) {
			store, _, _ := readmodeltest.NewProgram(t)
			appendRegistrations(t, store, 10)
			if !live {
				appendRegistrations(t, store, catchUpEvents)
			}
			members, matches, end := projections.NewMembers(), projections.NewMatches(), newTail()
			var r *running
			if live {
				r = start(t, store, members, matches, end)
				end.reach(t, head(t, store))
			}
			pos := appendUndecodable(t, store)
			later, _ := register(t, store)
			h := head(t, store)
			if !live {
				r = start(t, store, members, matches, end)
			}

			r.stopsAt(t, h, "members", pos)
			for _, p := range []projections.Projection{members, matches, end} {
				if got := p.Position(); got != pos-1 {
					t.Errorf("%s at %d, want %d, just before the poison event", p.Name(), got, pos-1)
				}
			}
			if _, ok, _ := members.Member(later); ok {
				t.Error("a member registered after the poison event was applied")
			}
		})
	}
}

// A projection that fails on an event is given the event again, after a
// pause, a bounded number of times: a failure that passes costs nothing,
// and one that stays stops the projection at the event, while the others
// go on.
func TestFailingProjectionIsRetriedThenStopped(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int32
		tries    int32
	}{
		{"the failure passes", 2, 3},
		{"the failure stays", 100, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, _, _ := readmodeltest.NewProgram(t)
			appendRegistrations(t, store, 10)
			member, ev := registration(t)
			members, matches, end := projections.NewMembers(), projections.NewMatches(), newTail()
			failing := &flaky{Projection: members, at: ev.ID, failures: tc.failures}
			r := start(t, store, failing, matches, end)
			end.reach(t, head(t, store))
			pos := appendTo(t, store, member, ev)
			later, _ := register(t, store)
			h := head(t, store)

			if tc.failures < 4 {
				if err := r.WaitForDefault(context.Background(), h); err != nil {
					t.Fatal(err)
				}
				if _, ok, _ := members.Member(later); !ok {
					t.Error("the events after a passing failure are missing")
				}
			} else {
				stopped := r.stopsAt(t, h, "members", pos)
				if !errors.Is(stopped, errUnavailable) {
					t.Fatalf("the cause is not the projection's error: %v", stopped)
				}
				end.reach(t, h)
				if got := members.Position(); got != pos-1 {
					t.Errorf("members at %d, want %d", got, pos-1)
				}
				if got := matches.Position(); got != h {
					t.Errorf("matches at %d, want %d", got, h)
				}
			}
			if got := failing.tries.Load(); got != tc.tries {
				t.Errorf("the event was tried %d times, want %d", got, tc.tries)
			}
		})
	}
}

// garbling is a store whose reads return the event at one position garbled
// the first time, as a bad read would; the stored event is sound.
type garbling struct {
	eventstore.Store
	at   eventstore.Position
	done atomic.Bool
}

func (s *garbling) garble(rec *eventstore.RecordedEvent) {
	if rec.Position == s.at && s.done.CompareAndSwap(false, true) {
		rec.Data = []byte(`{"memberId": 42}`)
	}
}

func (s *garbling) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadAll(ctx, from, limit)
	for i := range recs {
		s.garble(&recs[i])
	}
	return recs, err
}

func (s *garbling) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	inner, err := s.Store.SubscribeAll(ctx, from)
	if err != nil {
		return nil, err
	}
	sub := &garbledSub{Subscription: inner, events: make(chan eventstore.RecordedEvent), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sub.done)
		defer close(sub.events)
		for rec := range inner.Events() {
			s.garble(&rec)
			select {
			case sub.events <- rec:
			case <-sub.quit:
				return
			}
		}
	}()
	return sub, nil
}

type garbledSub struct {
	eventstore.Subscription
	events     chan eventstore.RecordedEvent
	quit, done chan struct{}
	once       sync.Once
}

func (s *garbledSub) Events() <-chan eventstore.RecordedEvent { return s.events }

func (s *garbledSub) Close() {
	s.once.Do(func() { close(s.quit) })
	s.Subscription.Close()
	<-s.done
}

// An event that did not decode is read again before anything stops: when
// the second read decodes, every projection applies it and goes on.
func TestBadReadIsReadAgain(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(mode(live), func(t *testing.T) {
			stored, _, _ := readmodeltest.NewProgram(t)
			appendRegistrations(t, stored, 10)
			if !live {
				appendRegistrations(t, stored, catchUpEvents)
			}
			store := &garbling{Store: stored}
			members, matches := projections.NewMembers(), projections.NewMatches()
			var r *running
			if live {
				store.at = head(t, stored) + 1
				r = start(t, store, members, matches)
				if err := r.WaitForDefault(context.Background(), head(t, stored)); err != nil {
					t.Fatal(err)
				}
			}
			member, pos := register(t, stored)
			if !live {
				store.at = pos
				r = start(t, store, members, matches)
			}
			later, _ := register(t, stored)
			if err := r.WaitForDefault(context.Background(), head(t, stored)); err != nil {
				t.Fatal(err)
			}
			if !store.done.Load() {
				t.Fatal("the read was never garbled")
			}
			for _, m := range []uuid.UUID{member, later} {
				if _, ok, _ := members.Member(m); !ok {
					t.Errorf("member %s is missing", m)
				}
			}
		})
	}
}
