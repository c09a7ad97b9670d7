package notify_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/notify"
)

// Erasing a member drops the emails to them and blanks the subject and
// bodies of the emails about their matches to others, finding the matches
// through the emails to the member; other matches' emails stay whole, and
// the file keeps none of the removed bytes.
func TestOutboxEraseMember(t *testing.T) {
	dir := t.TempDir()
	o, err := notify.OpenOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = o.Close() }()
	member, partner := uuid.New(), uuid.New()
	theirs, other := uuid.New(), uuid.New()
	mk := func(id string, match, to uuid.UUID, addr, subject string) notify.Entry {
		return notify.Entry{ID: id, Kind: notify.KindRequestReceived, MatchID: match, RecipientID: to, To: addr,
			Subject: subject, Text: subject + " body", CreatedAt: t0}
	}
	entries := []notify.Entry{
		mk("to-member", theirs, member, "zephyrine.q@example.org", "You are matched with Grace"),
		mk("to-partner", theirs, partner, "grace@example.org", "You are matched with Zephyrine Quillfeather"),
		mk("other-match", other, partner, "grace@example.org", "You are matched with Ada"),
	}
	if _, err := o.Add(10, entries); err != nil {
		t.Fatal(err)
	}
	if _, err := o.MarkSent("to-partner", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := o.EraseMember(member, nil); err != nil {
		t.Fatal(err)
	}
	got, err := o.ForMatch(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "to-partner" || got[0].Subject != "" || got[0].Status != notify.StatusSent {
		t.Fatalf("the erased member's match: %+v", got)
	}
	kept, err := o.ForMatch(other)
	if err != nil || len(kept) != 1 || kept[0].Subject != "You are matched with Ada" {
		t.Fatalf("another match: %+v %v", kept, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, notify.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"zephyrine", "Zephyrine", "Quillfeather"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("outbox.db still holds %q", s)
		}
	}
	if err := o.EraseMember(member, nil); err != nil {
		t.Errorf("erasing again: %v", err)
	}
}
