package projections

import (
	"testing"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// follower is a projection without snapshots, like the subscription hub.
type follower struct{ pos eventstore.Position }

func (f *follower) Name() string                  { return "follower" }
func (f *follower) Position() eventstore.Position { return f.pos }
func (f *follower) Apply(events []Event) error {
	f.pos = events[len(events)-1].Position
	return nil
}

func registrations(from, to eventstore.Position) []Event {
	var out []Event
	for p := from; p <= to; p++ {
		id := uuid.New()
		out = append(out, Event{Position: p, ID: uuid.New(), Data: domain.MemberRegistered{MemberID: id, Role: domain.RoleMentee, Name: "M", Email: "m@example.org"}})
	}
	return out
}

// A projection that takes no snapshots does not make the runner ask for
// snapshots after every batch: they come every SnapshotEvery events.
func TestSnapshotsComeEveryNEventsWithAProjectionWithout(t *testing.T) {
	members := NewMembers()
	r := NewRunner(nil, RunnerOptions{Logger: zerolog.Nop(), SnapshotDir: t.TempDir(), SnapshotEvery: 10}, members, &follower{})
	kicked := func() bool {
		select {
		case <-r.kick:
			return true
		default:
			return false
		}
	}
	r.apply(registrations(1, 5))
	if kicked() {
		t.Fatal("asked for snapshots after 5 events")
	}
	r.apply(registrations(6, 12))
	if !kicked() {
		t.Fatal("no snapshots asked for after 12 events")
	}
	if err := r.SaveSnapshots(); err != nil {
		t.Fatal(err)
	}
	r.apply(registrations(13, 15))
	if kicked() {
		t.Fatal("asked for snapshots again 3 events after the last ones")
	}
}
