package graph_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/projections"
)

// A subscriber that does not keep up is dropped rather than slowing the
// others down, and one forwarding through send ends exactly once.
func TestHubDropsSlowSubscribers(t *testing.T) {
	hub := graph.NewHub(0, nil)
	all := func(graph.Change) bool { return true }
	slow := hub.Subscribe(all, 1)
	fast := hub.Subscribe(all, 10)
	taken, ended := 0, 0
	forwarded := hub.Forward(all, func(graph.Change) bool { taken++; return taken <= 2 }, func() { ended++ })
	var events []projections.Event
	for i := range 3 {
		events = append(events, projections.Event{Position: eventstore.Position(i + 1), Type: "MatchRequested",
			Data: domain.MatchRequested{MatchID: uuid.New(), MenteeID: uuid.New(), MentorID: uuid.New()}})
	}
	if err := hub.Notifier().Apply(events); err != nil {
		t.Fatal(err)
	}
	if n := len(fast.C); n != 3 {
		t.Fatalf("the fast subscriber got %d changes, want 3", n)
	}
	got := 0
	for range slow.C {
		got++
	}
	if got != 1 {
		t.Fatalf("the slow subscriber got %d changes before being dropped, want 1", got)
	}
	if taken != 3 || ended != 1 {
		t.Fatalf("forwarding subscriber: offered %d, ended %d times", taken, ended)
	}
	forwarded.Close()
	if ended != 1 {
		t.Fatalf("closing again ended it %d times", ended)
	}
	if n := hub.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers left, want the fast one", n)
	}
}

type oneMatch projections.MatchView

func (m *oneMatch) Match(id uuid.UUID) (*projections.MatchView, bool, error) {
	if id != m.ID {
		return nil, false, nil
	}
	v := projections.MatchView(*m)
	return &v, true, nil
}

// Document changes name both partners, from the matches read model, so
// that each hears of them among their own matches; a session's change
// names only its author.
func TestHubNamesWhoHearsAChange(t *testing.T) {
	m := &oneMatch{ID: uuid.New(), MenteeID: uuid.New(), MentorID: uuid.New()}
	hub := graph.NewHub(0, m)
	all := hub.Subscribe(func(graph.Change) bool { return true }, 10)
	events := []projections.Event{
		{Position: 1, Type: "DocumentAdded", Data: domain.DocumentAdded{MatchID: m.ID, DocumentID: uuid.New(), UploaderID: m.MenteeID}},
		{Position: 2, Type: "DocumentRemoved", Data: domain.DocumentRemoved{MatchID: m.ID, DocumentID: uuid.New(), RemovedBy: m.MentorID}},
		{Position: 3, Type: "SessionLogged", Data: domain.SessionLogged{MatchID: m.ID, SessionID: uuid.New(), AuthorID: m.MentorID}},
	}
	if err := hub.Notifier().Apply(events); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c := <-all.C
		if c.MenteeID != m.MenteeID || c.MentorID != m.MentorID || c.Author != uuid.Nil {
			t.Fatalf("change %d: %+v, want both partners named", i, c)
		}
	}
	if c := <-all.C; c.Author != m.MentorID || c.MenteeID != uuid.Nil {
		t.Fatalf("session change: %+v, want its author only", c)
	}
}
