package projections

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// breaking panics on the event at one position, applying those before it.
type breaking struct {
	*Members
	at eventstore.Position
}

func (p breaking) Apply(events []Event) error {
	for i := range events {
		if events[i].Position == p.at && p.at > p.Position() {
			_ = p.Members.Apply(events[:i])
			panic("evolve: broken event")
		}
	}
	return p.Members.Apply(events)
}

func registered(pos eventstore.Position) Event {
	id := uuid.New()
	return Event{Position: pos, ID: uuid.New(), Data: domain.MemberRegistered{MemberID: id, Role: domain.RoleMentee, Name: "M", Email: "m@example.org"}}
}

// The position a stopped projection reports is the failing event's own,
// also on a log whose positions have gaps (KurrentDB's), where the one
// after the projection's checkpoint is no event at all.
func TestStoppedProjectionReportsTheEventsPosition(t *testing.T) {
	broken, other := breaking{Members: NewMembers(), at: 200}, NewMatches()
	r := NewRunner(nil, RunnerOptions{Logger: zerolog.Nop(), RetryWait: time.Millisecond}, broken, other)
	r.apply([]Event{registered(100), registered(200), registered(300)})
	r.apply([]Event{registered(400)})

	var stopped *PoisonError
	if err := r.Healthy(); !errors.As(err, &stopped) || stopped.Position != 200 || stopped.Projection != "members" {
		t.Fatalf("Healthy: %v, want members stopped at 200", err)
	}
	if got := broken.Position(); got != 100 {
		t.Errorf("the broken projection moved to %d after it stopped", got)
	}
	if got := other.Position(); got != 400 {
		t.Errorf("the other projection is at %d, want 400", got)
	}
	if got := r.Reached(); got != 100 {
		t.Errorf("Reached is %d, want 100: the stopped projection holds it back", got)
	}
}

// A stopped projection gets no snapshot: its state may hold part of the
// event it stopped at, which a restart must not load.
func TestStoppedProjectionGetsNoSnapshot(t *testing.T) {
	dir := t.TempDir()
	members, matches := NewMembers(), NewMatches()
	r := NewRunner(nil, RunnerOptions{Logger: zerolog.Nop(), SnapshotDir: dir}, members, matches)
	r.apply([]Event{registered(1), registered(2)})
	r.poison(r.projs[0], 3, errors.New("evolve: broken event"))
	if err := r.SaveSnapshots(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(SnapshotPath(dir, members)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stopped projection got a snapshot: %v", err)
	}
	if _, err := os.Stat(SnapshotPath(dir, matches)); err != nil {
		t.Errorf("the healthy projection got no snapshot: %v", err)
	}
}
