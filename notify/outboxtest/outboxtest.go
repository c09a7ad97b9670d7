// Package outboxtest is the conformance suite of notify.OutboxStore: every
// implementation (the bbolt file, Redis) runs it and must behave the same.
package outboxtest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/notify"
)

// Open returns a new, empty store, ready for the notifier's writes, that
// the test owns.
type Open func(t *testing.T) notify.OutboxStore

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func entry(id string, match uuid.UUID, created time.Time) notify.Entry {
	return notify.Entry{ID: id, Kind: notify.KindRequestReceived, MatchID: match, To: "a@example.org", Subject: "s", Text: "t", HTML: "<p>t</p>", CreatedAt: created}
}

// Run runs every case of the suite on stores from open.
func Run(t *testing.T, open Open) {
	t.Run("RemembersEveryIDItTook", func(t *testing.T) { remembersEveryID(t, open(t)) })
	t.Run("DueInOrder", func(t *testing.T) { dueInOrder(t, open(t)) })
	t.Run("StateAndPosition", func(t *testing.T) { stateAndPosition(t, open(t)) })
	t.Run("Claim", func(t *testing.T) { claim(t, open(t)) })
	t.Run("Stats", func(t *testing.T) { stats(t, open(t)) })
	t.Run("EraseMember", func(t *testing.T) { eraseMember(t, open(t)) })
}

func remembersEveryID(t *testing.T, o notify.OutboxStore) {
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
	if es[0].ID != "a" || es[0].Status != notify.StatusSent || es[0].Subject != "s" || es[0].Text != "" || es[1].Status != notify.StatusPending || es[1].Text != "" {
		t.Errorf("entries %+v", es)
	}
	if !es[0].SentAt.Equal(t0.Add(time.Minute)) || es[0].Attempts != 1 {
		t.Errorf("sent entry %+v", es[0])
	}
	due, err := o.Due(t0.Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].ID != "b" || due[0].Text != "t" || due[0].HTML != "<p>t</p>" {
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
	if next, ok, err := o.NextAttempt(); err != nil || !ok || !next.Equal(t0.Add(time.Hour)) {
		t.Errorf("next attempt after the failure %v, %v, %v", next, ok, err)
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
	// Given up: final, out of the schedule, bodies dropped.
	gaveUp, err := o.MarkFailed("b", t0.Add(time.Hour), errors.New("550 no such user"), time.Time{}, true)
	if err != nil || gaveUp.Status != notify.StatusFailed || gaveUp.Attempts != 2 || gaveUp.Text != "" {
		t.Fatalf("given up %+v, %v", gaveUp, err)
	}
	if _, ok, err := o.NextAttempt(); err != nil || ok {
		t.Errorf("a next attempt with nothing waiting: %v, %v", ok, err)
	}
}

func dueInOrder(t *testing.T, o notify.OutboxStore) {
	match := uuid.New()
	var es []notify.Entry
	for i, id := range []string{"c", "a", "d", "b"} {
		es = append(es, entry(id, match, t0.Add(time.Duration(3-i)*time.Second)))
	}
	if _, err := o.Add(3, es); err != nil {
		t.Fatal(err)
	}
	due, err := o.Due(t0.Add(time.Hour), 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range due {
		ids = append(ids, e.ID)
	}
	if len(ids) != 3 || ids[0] != "b" || ids[1] != "d" || ids[2] != "a" {
		t.Errorf("due %v, want the three earliest: b d a", ids)
	}
	// Exactly at an entry's time it is due; a nanosecond before, not.
	if due, _ := o.Due(t0.Add(time.Second-time.Nanosecond), 10); len(due) != 1 || due[0].ID != "b" {
		t.Errorf("due just before d: %+v", due)
	}
	if due, _ := o.Due(t0.Add(time.Second), 10); len(due) != 2 {
		t.Errorf("due at d's time: %+v", due)
	}
}

func stateAndPosition(t *testing.T, o notify.OutboxStore) {
	if found, err := o.LoadState(func([]byte) error { t.Error("decode called without a state"); return nil }); err != nil || found {
		t.Fatalf("a state in a new outbox: %v, %v", found, err)
	}
	if err := o.SaveState([]byte("one"), 7); err != nil {
		t.Fatal(err)
	}
	if err := o.SaveState([]byte("two"), 5); err != nil {
		t.Fatal(err)
	}
	var got string
	if found, err := o.LoadState(func(b []byte) error { got = string(b); return nil }); err != nil || !found || got != "two" {
		t.Fatalf("state %q, %v, %v; want the last saved", got, found, err)
	}
	if pos, ok, err := o.Position(); err != nil || !ok || pos != 7 {
		t.Errorf("position %d, %v, %v; want 7: saving never moves it back", pos, ok, err)
	}
	if _, err := o.Add(1<<60+1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Add(1<<60, nil); err != nil {
		t.Fatal(err)
	}
	if pos, _, _ := o.Position(); pos != 1<<60+1 {
		t.Errorf("position %d, want %d: positions compare exactly", pos, uint64(1<<60+1))
	}
	bad := errors.New("bad state")
	if _, err := o.LoadState(func([]byte) error { return bad }); !errors.Is(err, bad) {
		t.Errorf("decode's error: %v", err)
	}
}

func claim(t *testing.T, o notify.OutboxStore) {
	member, match := uuid.New(), uuid.New()
	gone := entry("gone", match, t0)
	gone.RecipientID = member
	if _, err := o.Add(2, []notify.Entry{entry("a", match, t0), gone}); err != nil {
		t.Fatal(err)
	}
	e, ok, err := o.Claim("a")
	if err != nil || !ok || e.ID != "a" || e.Text != "t" || e.InDoubt {
		t.Fatalf("claim of a pending entry: %+v, %v, %v", e, ok, err)
	}
	if _, err := o.MarkSent("a", t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := o.Claim("a"); err != nil || ok {
		t.Errorf("claim of a sent entry: %v, %v", ok, err)
	}
	if _, ok, err := o.Claim("nothing"); err != nil || ok {
		t.Errorf("claim of an unknown entry: %v, %v", ok, err)
	}
	if err := o.EraseMember(member, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := o.Claim("gone"); err != nil || ok {
		t.Errorf("claim of an erased entry: %v, %v", ok, err)
	}
}

func stats(t *testing.T, o notify.OutboxStore) {
	match := uuid.New()
	if st, err := o.Stats(); err != nil || st.Pending+st.Failing != 0 || !st.Oldest.IsZero() {
		t.Fatalf("stats of a new outbox %+v, %v", st, err)
	}
	if _, err := o.Add(1, []notify.Entry{entry("a", match, t0), entry("b", match, t0.Add(time.Minute)), entry("c", match, t0.Add(2*time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.MarkSent("a", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := o.MarkFailed("b", t0, errors.New("down"), t0.Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}
	st, err := o.Stats()
	if err != nil || st.Pending != 1 || st.Failing != 1 || !st.Oldest.Equal(t0.Add(time.Minute)) {
		t.Errorf("stats %+v, %v; want 1 pending, 1 failing, the oldest b's", st, err)
	}
	if _, err := o.MarkFailed("c", t0, errors.New("refused"), time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if sent, givenUp := o.Settled(); sent != 1 || givenUp != 1 {
		t.Errorf("settled %d sent, %d given up; want 1 and 1", sent, givenUp)
	}
}

func eraseMember(t *testing.T, o notify.OutboxStore) {
	member, partner := uuid.New(), uuid.New()
	theirs, pending, other := uuid.New(), uuid.New(), uuid.New()
	mk := func(id string, match, to uuid.UUID, addr, subject string) notify.Entry {
		return notify.Entry{ID: id, Kind: notify.KindRequestReceived, MatchID: match, RecipientID: to, To: addr,
			Subject: subject, Text: subject + " body", CreatedAt: t0}
	}
	entries := []notify.Entry{
		mk("to-member", theirs, member, "zephyrine.q@example.org", "You are matched with Grace"),
		mk("to-partner", theirs, partner, "grace@example.org", "You are matched with Zephyrine Quillfeather"),
		mk("request", pending, partner, "grace@example.org", "Zephyrine Quillfeather asks you to mentor"),
		mk("other-match", other, partner, "grace@example.org", "You are matched with Ada"),
	}
	if _, err := o.Add(10, entries); err != nil {
		t.Fatal(err)
	}
	if _, err := o.MarkSent("to-partner", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The pending match is named; the other is found through the email
	// to the member.
	if err := o.EraseMember(member, []uuid.UUID{pending}); err != nil {
		t.Fatal(err)
	}
	got, err := o.ForMatch(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "to-partner" || got[0].Subject != "" || got[0].Status != notify.StatusSent {
		t.Fatalf("the erased member's match: %+v", got)
	}
	got, err = o.ForMatch(pending)
	if err != nil || len(got) != 1 || got[0].Subject != "" {
		t.Fatalf("the erased member's pending match: %+v, %v", got, err)
	}
	// The blanked email still waits, without its bodies.
	due, err := o.Due(t0.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range due {
		if e.ID == "to-member" {
			t.Errorf("the email to the erased member is still due")
		}
		if e.ID == "request" && (e.Text != "" || e.Subject != "") {
			t.Errorf("the request email keeps %q %q", e.Subject, e.Text)
		}
	}
	kept, err := o.ForMatch(other)
	if err != nil || len(kept) != 1 || kept[0].Subject != "You are matched with Ada" {
		t.Fatalf("another match: %+v %v", kept, err)
	}
	if err := o.EraseMember(member, nil); err != nil {
		t.Errorf("erasing again: %v", err)
	}
	if err := o.EraseMembers([]uuid.UUID{partner}); err != nil {
		t.Fatal(err)
	}
	if kept, err := o.ForMatch(other); err != nil || len(kept) != 0 {
		t.Errorf("the partner's emails after their erasure: %+v, %v", kept, err)
	}
}
