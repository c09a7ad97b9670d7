package follow

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/eventstore"
)

// tally is a follower that counts the events it applied and can be made
// to fail: by panicking, or by returning an error, on the event at one
// position. It applies the events before that one first, as a partial
// apply would. atomic makes it undo them, as a transaction would.
type tally struct {
	name    string
	pos     eventstore.Position
	applied []eventstore.Position
	panicAt eventstore.Position
	failAt  eventstore.Position
	fails   int // how many times failAt fails before it applies
	saves   int
}

func (f *tally) Name() string                  { return f.name }
func (f *tally) Position() eventstore.Position { return f.pos }
func (f *tally) Apply(events []Event) error {
	for _, ev := range events {
		if ev.Position <= f.pos {
			continue
		}
		if ev.Position == f.panicAt {
			panic("evolve: broken event")
		}
		if ev.Position == f.failAt && f.fails > 0 {
			f.fails--
			return errors.New("store out of reach")
		}
		f.applied = append(f.applied, ev.Position)
		f.pos = ev.Position
	}
	return nil
}

// saving is a tally that saves its state.
type saving struct{ *tally }

func (s saving) Load(context.Context) (Saved, error) { return Saved{}, ErrNothingSaved }
func (s saving) Save() (Saved, error) {
	s.saves++
	return Saved{Position: s.pos}, nil
}

// atomicTally is a tally whose failed Apply changes nothing.
type atomicTally struct{ *tally }

func (a atomicTally) AtomicApply() {}
func (a atomicTally) Apply(events []Event) (err error) {
	pos, n := a.pos, len(a.applied)
	defer func() {
		if v := recover(); v != nil {
			a.pos, a.applied = pos, a.applied[:n]
			panic(v)
		}
		if err != nil {
			a.pos, a.applied = pos, a.applied[:n]
		}
	}()
	return a.tally.Apply(events)
}

func events(positions ...eventstore.Position) []Event {
	out := make([]Event, len(positions))
	for i, p := range positions {
		out[i] = Event{Position: p}
	}
	return out
}

func testRunner(fs ...Follower) *Runner {
	r := NewRunner(nil, Options{Logger: zerolog.Nop(), RetryWait: time.Millisecond}, fs...)
	r.quit = make(chan struct{})
	return r
}

func noHalt(error) {}

// The position a stopped follower reports is the failing event's own,
// also on a log whose positions have gaps (KurrentDB's), where the one
// after the follower's position is no event at all; the other followers
// go on, and Reached stays where the stopped one is.
func TestStoppedFollowerReportsTheEventsPosition(t *testing.T) {
	broken, other := &tally{name: "broken", panicAt: 200}, &tally{name: "other"}
	r := testRunner(broken, other)
	r.apply(events(100, 200, 300), noHalt)
	r.apply(events(400), noHalt)

	var stopped *PoisonError
	if err := r.Healthy(); !errors.As(err, &stopped) || stopped.Position != 200 || stopped.Follower != "broken" {
		t.Fatalf("Healthy: %v, want broken stopped at 200", err)
	}
	if got := broken.Position(); got != 100 {
		t.Errorf("the broken follower moved to %d after it stopped", got)
	}
	if got := other.Position(); got != 400 {
		t.Errorf("the other follower is at %d, want 400", got)
	}
	if got := r.Reached(); got != 100 {
		t.Errorf("Reached is %d, want 100: the stopped follower holds it back", got)
	}
}

// An error is retried with the bounded retries, and a follower that
// recovers in time is not stopped; one that does not is stopped at the
// event.
func TestFailingBatchIsRetriedThenStops(t *testing.T) {
	recovers := &tally{name: "recovers", failAt: 2, fails: 3}
	r := testRunner(recovers)
	r.apply(events(1, 2, 3), noHalt)
	if err := r.Healthy(); err != nil || recovers.pos != 3 {
		t.Fatalf("after 3 failures and 3 retries: %v at %d, want healthy at 3", err, recovers.pos)
	}
	stays := &tally{name: "stays", failAt: 2, fails: 4}
	r = testRunner(stays)
	r.apply(events(1, 2, 3), noHalt)
	var stopped *PoisonError
	if err := r.Healthy(); !errors.As(err, &stopped) || stopped.Position != 2 {
		t.Fatalf("Healthy: %v, want stopped at 2", err)
	}
}

// An Atomic follower that panics on a batch is retried and then given the
// batch one event at a time: the events before the bad one are applied and
// it stops at the bad one exactly, without skipping it.
func TestAtomicFollowerStopsAtTheExactEvent(t *testing.T) {
	a := atomicTally{&tally{name: "atomic", panicAt: 3}}
	r := testRunner(a)
	r.apply(events(1, 2, 3, 4, 5), noHalt)
	var stopped *PoisonError
	if err := r.Healthy(); !errors.As(err, &stopped) || stopped.Position != 3 {
		t.Fatalf("Healthy: %v, want stopped at 3", err)
	}
	if a.pos != 2 || len(a.applied) != 2 {
		t.Fatalf("applied %v (at %d), want 1 and 2", a.applied, a.pos)
	}
	r.apply(events(6), noHalt)
	if a.pos != 2 {
		t.Fatalf("the stopped follower applied an event after the one it stopped at")
	}
}

// A Halt error from Apply ends the run and stops no follower.
func TestHaltEndsTheRunWithoutStopping(t *testing.T) {
	lost := errors.New("lease lost")
	h := &halting{tally: &tally{name: "halting"}, err: Halt(lost)}
	r := testRunner(h)
	var got error
	r.apply(events(1), func(err error) { got = err })
	if !errors.Is(got, lost) {
		t.Fatalf("halt: %v, want the lost lease", got)
	}
	if err := r.Healthy(); err != nil {
		t.Fatalf("a halted follower is reported stopped: %v", err)
	}
}

type halting struct {
	*tally
	err error
}

func (h *halting) Apply([]Event) error { return h.err }

// A stopped follower is not saved: its state may hold part of the event it
// stopped at, which a restart must not load.
func TestStoppedFollowerIsNotSaved(t *testing.T) {
	broken, fine := saving{&tally{name: "broken", panicAt: 3}}, saving{&tally{name: "fine"}}
	r := testRunner(broken, fine)
	r.apply(events(1, 2, 3), noHalt)
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	if broken.saves != 0 || fine.saves != 1 {
		t.Fatalf("saves: broken %d, fine %d; want 0 and 1", broken.saves, fine.saves)
	}
}

// A follower that saves nothing (the hub) does not make the runner ask for
// saves after every batch: they come every SaveEvery events.
func TestSavesComeEveryNEventsWithAFollowerWithout(t *testing.T) {
	r := NewRunner(nil, Options{Logger: zerolog.Nop(), SaveEvery: 10}, saving{&tally{name: "saved"}}, &tally{name: "hub"})
	r.quit = make(chan struct{})
	kicked := func() bool {
		select {
		case <-r.kick:
			return true
		default:
			return false
		}
	}
	r.apply(events(1, 2, 3, 4, 5), noHalt)
	if kicked() {
		t.Fatal("asked for saves after 5 events")
	}
	r.apply(events(6, 7, 8, 9, 10, 11, 12), noHalt)
	if !kicked() {
		t.Fatal("no saves asked for after 12 events")
	}
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	r.apply(events(13, 14, 15), noHalt)
	if kicked() {
		t.Fatal("asked for saves again 3 events after the last ones")
	}
}

// opened is a tally whose Open reports an earlier stop.
type opened struct {
	*tally
	stopAt eventstore.Position
}

func (o opened) Open(context.Context) error {
	if o.stopAt == 0 {
		return nil
	}
	return &PoisonError{Follower: o.name, Position: o.stopAt, Err: errors.New("stopped by an earlier run")}
}

// A follower an earlier run stopped (its stop recorded in a shared store)
// starts stopped: Healthy names it and Run feeds it nothing, but waits
// rather than return, so that it keeps holding what it holds.
func TestOpenerStoppedEarlierStaysStopped(t *testing.T) {
	o := opened{tally: &tally{name: "shared"}, stopAt: 7}
	r := testRunner(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for r.Healthy() == nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	var stopped *PoisonError
	if err := r.Healthy(); !errors.As(err, &stopped) || stopped.Position != 7 {
		t.Fatalf("Healthy: %v, want stopped at 7", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v while its context lasts", err)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// refusing fails with an Unappliable error on one event and counts the
// tries.
type refusing struct {
	*tally
	at    eventstore.Position
	tries int
}

func (r *refusing) Apply(events []Event) error {
	for _, ev := range events {
		if ev.Position == r.at {
			r.tries++
			return &Unappliable{Err: errors.New("stored view does not read")}
		}
	}
	return r.tally.Apply(events)
}

// An event a follower reports it cannot apply is not retried: the
// follower stops at it at once.
func TestUnappliableEventStopsAtOnce(t *testing.T) {
	f := &refusing{tally: &tally{name: "refusing"}, at: 2}
	r := testRunner(f)
	r.apply(events(2, 3), noHalt)
	var stopped *PoisonError
	if err := r.Healthy(); !errors.As(err, &stopped) || stopped.Position != 2 {
		t.Fatalf("Healthy: %v, want stopped at 2", err)
	}
	if f.tries != 1 {
		t.Fatalf("tried %d times, want once", f.tries)
	}
}
