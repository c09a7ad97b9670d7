package notify_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/notify"
)

func entry(id string, match uuid.UUID, created time.Time) notify.Entry {
	return notify.Entry{ID: id, Kind: notify.KindRequestReceived, MatchID: match, To: "a@example.org", Subject: "s", Text: "t", CreatedAt: created}
}

func TestOutboxRemembersEveryIDItTook(t *testing.T) {
	dir := t.TempDir()
	o, err := notify.OpenOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = o.Close() }()
	if _, ok, err := o.Position(); err != nil || ok {
		t.Fatalf("a new outbox has a position (%v, %v)", ok, err)
	}
	match := uuid.New()
	added, err := o.Add(10, []notify.Entry{entry("a", match, t0), entry("b", match, t0.Add(time.Second))})
	if err != nil || added != 2 {
		t.Fatalf("added %d, %v", added, err)
	}
	if _, err := o.MarkSent("a", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The same events composed again, from an earlier position: nothing
	// is added, the sent entry stays sent, and the position stays.
	changed := entry("a", match, t0.Add(time.Hour))
	changed.Subject = "changed"
	added, err = o.Add(5, []notify.Entry{changed, entry("b", match, t0)})
	if err != nil || added != 0 {
		t.Fatalf("added %d again, %v", added, err)
	}
	if pos, ok, err := o.Position(); err != nil || !ok || pos != 10 {
		t.Errorf("position %d, %v, %v; want 10", pos, ok, err)
	}
	es, err := o.ForMatch(match)
	if err != nil || len(es) != 2 {
		t.Fatalf("entries %v, %v", es, err)
	}
	if es[0].ID != "a" || es[0].Status != notify.StatusSent || es[0].Subject != "s" || es[1].Status != notify.StatusPending {
		t.Errorf("entries %+v", es)
	}
	due, err := o.Due(t0.Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].ID != "b" || due[0].Text != "t" {
		t.Errorf("due %+v, %v; want b with its body", due, err)
	}
	if next, ok, err := o.NextAttempt(); err != nil || !ok || !next.Equal(t0.Add(time.Second)) {
		t.Errorf("next attempt %v, %v, %v", next, ok, err)
	}

	// A failure moves the entry's attempt; a final state leaves it alone.
	failed, err := o.MarkFailed("b", t0.Add(2*time.Second), errors.New("relay down"), t0.Add(time.Hour), false)
	if err != nil || failed.Status != notify.StatusFailing || failed.Attempts != 1 || failed.LastError != "relay down" {
		t.Fatalf("failed %+v, %v", failed, err)
	}
	if due, _ := o.Due(t0.Add(time.Minute), 10); len(due) != 0 {
		t.Errorf("due before its next attempt: %+v", due)
	}
	if again, err := o.MarkFailed("a", t0, errors.New("late"), t0, true); err != nil || again.Status != notify.StatusSent {
		t.Errorf("a sent entry changed: %+v, %v", again, err)
	}
	if _, err := o.MarkSent("missing", t0); err == nil {
		t.Error("marking an unknown entry succeeded")
	}
	if es, err := o.ForMatch(uuid.New()); err != nil || len(es) != 0 {
		t.Errorf("another match has entries %v, %v", es, err)
	}
}
