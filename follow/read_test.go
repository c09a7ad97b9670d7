package follow_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
)

func appendEvent(t *testing.T, s eventstore.Store, e domain.Event) eventstore.Position {
	t.Helper()
	enc, err := domain.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Append(context.Background(), "member-"+uuid.NewString(), eventstore.NoStream(),
		eventstore.EventData{ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data})
	if err != nil {
		t.Fatal(err)
	}
	return res.LastPosition
}

func openStore(t *testing.T) eventstore.Store {
	t.Helper()
	s, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Read hands on, in order and in pages, exactly the events after from up
// to to that keep chooses, and stops at an event that does not decode
// without skipping it.
func TestReadHandsOnTheRangeAndStopsAtAnUndecodableEvent(t *testing.T) {
	s := openStore(t)
	var positions []eventstore.Position
	for i := range 2500 {
		var e domain.Event = domain.MemberSignedIn{MemberID: uuid.New()}
		if i%3 == 0 {
			e = domain.MemberErased{MemberID: uuid.New(), ErasedBy: uuid.New(), Reason: "r"}
		}
		positions = append(positions, appendEvent(t, s, e))
	}
	var got []eventstore.Position
	keep := func(typ string) bool { return typ == domain.MemberErased{}.EventType() }
	to, err := follow.Read(context.Background(), s, positions[9], positions[2400], keep, func(batch []follow.Event) error {
		if len(batch) > follow.ReadPage {
			t.Fatalf("a batch of %d events", len(batch))
		}
		for _, ev := range batch {
			if _, ok := ev.Data.(domain.MemberErased); !ok {
				t.Fatalf("handed on a %s", ev.Type)
			}
			got = append(got, ev.Position)
		}
		return nil
	})
	if err != nil || to != positions[2400] {
		t.Fatalf("Read: %d, %v", to, err)
	}
	var want []eventstore.Position
	for i := 10; i <= 2400; i++ {
		if i%3 == 0 {
			want = append(want, positions[i])
		}
	}
	if len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("read %d events from %d to %d, want %d from %d to %d", len(got), got[0], got[len(got)-1], len(want), want[0], want[len(want)-1])
	}

	bad, err := s.Append(context.Background(), "member-"+uuid.NewString(), eventstore.NoStream(),
		eventstore.EventData{ID: uuid.New(), Type: domain.MemberErased{}.EventType(), SchemaVersion: domain.SchemaVersion, Data: json.RawMessage(`{"memberId":7}`)})
	if err != nil {
		t.Fatal(err)
	}
	after := appendEvent(t, s, domain.MemberErased{MemberID: uuid.New(), ErasedBy: uuid.New(), Reason: "r"})
	n := 0
	to, err = follow.Read(context.Background(), s, positions[len(positions)-1], after, nil, func(batch []follow.Event) error {
		n += len(batch)
		return nil
	})
	var de *follow.DecodeError
	if !errors.As(err, &de) || de.Position != bad.LastPosition || n != 0 || to != positions[len(positions)-1] {
		t.Fatalf("Read over an undecodable event: at %d, %d handed on, %v", to, n, err)
	}
}

// counter is a follower that counts what it applied. Its position is read
// while it applies, so it is atomic.
type counter struct {
	pos atomic.Uint64
	n   int
}

func (c *counter) Name() string                  { return "counter" }
func (c *counter) Position() eventstore.Position { return eventstore.Position(c.pos.Load()) }
func (c *counter) Apply(events []follow.Event) error {
	for _, ev := range events {
		if ev.Position > c.Position() {
			c.pos.Store(uint64(ev.Position))
			c.n++
		}
	}
	return nil
}

// CatchUp brings the followers to the head as it was when called, and
// again from where they are after more events.
func TestCatchUpReachesTheHead(t *testing.T) {
	s := openStore(t)
	for range 5000 {
		appendEvent(t, s, domain.MemberSignedIn{MemberID: uuid.New()})
	}
	c := &counter{}
	r := follow.NewRunner(s, follow.Options{}, c)
	if err := r.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	head, _ := s.Head(context.Background())
	if c.Position() != head || c.n != 5000 || r.Reached() != head {
		t.Fatalf("after CatchUp: at %d with %d events, reached %d; head %d", c.Position(), c.n, r.Reached(), head)
	}
	last := appendEvent(t, s, domain.MemberSignedIn{MemberID: uuid.New()})
	if err := r.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Position() != last || c.n != 5001 {
		t.Fatalf("after a second CatchUp: at %d with %d events, want %d with 5001", c.Position(), c.n, last)
	}
}

// RunWith starts the runner and the effect over after a failure, feeding
// the follower all along, and returns nil once its context ends.
func TestRunWithStartsOverUntilTheContextEnds(t *testing.T) {
	s := openStore(t)
	head := appendEvent(t, s, domain.MemberSignedIn{MemberID: uuid.New()})
	c := &counter{}
	r := follow.NewRunner(s, follow.Options{RestartPause: time.Millisecond}, c)
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	err := r.RunWith(ctx, func(ctx context.Context) error {
		runs++
		if runs < 3 {
			return errors.New("outbox unavailable")
		}
		if err := r.WaitFor(ctx, head); err != nil {
			return err
		}
		cancel()
		<-ctx.Done()
		return nil
	})
	if err != nil || runs != 3 || c.Position() != head {
		t.Fatalf("returned %v after %d runs at %d, want nil after 3 at %d", err, runs, c.Position(), head)
	}
}

// A second Run of a runner that runs is refused: it would hand the
// followers every batch twice.
func TestASecondRunIsRefused(t *testing.T) {
	s := openStore(t)
	appendEvent(t, s, domain.MemberSignedIn{MemberID: uuid.New()})
	r := follow.NewRunner(s, follow.Options{}, &counter{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	head, _ := s.Head(ctx)
	if err := r.WaitForDefault(ctx, head); err != nil {
		t.Fatal(err)
	}
	if err := r.Run(ctx); !errors.Is(err, follow.ErrRunning) {
		t.Fatalf("second Run: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
