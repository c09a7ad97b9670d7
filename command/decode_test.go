package command

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/refusal"
)

// Commands fold the events they load with the fast decoder where it
// reads them, and with domain.Decode otherwise: every event a history of
// commands wrote, texts with escapes included, decodes the same both
// ways, and the fast decoder reads nearly all of them. A stream spelled in
// a way the fast decoder leaves to the reference, and a stream it cannot
// decode at all, are read as domain.Decode reads them.
func TestLoadDecodesAsTheDomainDoes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	texts := []string{`Zoë "Q" O'Brien`, `back\slash </script> & more`, "日本 😀 é", "plain"}
	day := f.svc.Program().Today(f.clock.Now())
	for i, text := range texts {
		mentee, mentor := f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)
		id, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, mentor.ID, text)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptMatch(ctx, Request{Actor: mentor}, id); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			session := uuid.New()
			details := domain.SessionDetails{Date: day, Minutes: 30 + j, Notes: fmt.Sprint(text, "\n\t", j), Value: 1 + j}
			if _, err := f.svc.LogSession(ctx, Request{Actor: mentee}, id, session, details); err != nil {
				t.Fatal(err)
			}
			details.Notes += " (edited)"
			if _, err := f.svc.EditSession(ctx, Request{Actor: mentee}, id, session, details); err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 0 {
			if _, err := f.svc.EndMatch(ctx, Request{Actor: mentee}, id, "MOVED", uuid.Nil, text); err != nil && refusal.CodeOf(err) == "" {
				t.Fatal(err)
			}
		}
	}
	recs, err := f.store.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	fast := 0
	for _, rec := range recs {
		got, err := decode(rec.Type, rec.SchemaVersion, rec.Data)
		want, wantErr := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil || wantErr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %s:\ncommand %#v (%v)\ndomain  %#v (%v)", rec.Type, rec.Data, got, err, want, wantErr)
		}
		if _, ok := follow.FastDecode(rec.Type, rec.SchemaVersion, rec.Data); ok {
			fast++
		}
	}
	if fast < len(recs)*9/10 {
		t.Fatalf("the fast decoder read %d of %d events", fast, len(recs))
	}

	// A match written with spaces and a key in another case, which the
	// fast decoder leaves to the reference.
	match, mentee, mentor := uuid.New(), uuid.New(), uuid.New()
	spaced := fmt.Sprintf(`{ "matchId": %q, "menteeId": %q, "mentorId": %q, "Message": "hi", "at": "2026-03-02T09:00:00Z" }`, match, mentee, mentor)
	if _, ok := follow.FastDecode("MatchRequested", domain.SchemaVersion, []byte(spaced)); ok {
		t.Fatal("the fast decoder read a spelling this test means it to leave")
	}
	stream := domain.MatchStream(match)
	if _, err := f.store.Append(ctx, stream, eventstore.NoStream(), eventstore.EventData{
		ID: uuid.New(), Type: "MatchRequested", SchemaVersion: domain.SchemaVersion, Data: []byte(spaced),
	}); err != nil {
		t.Fatal(err)
	}
	m, err := f.svc.Match(ctx, match)
	if err != nil || m.MenteeID() != mentee || m.MentorID() != mentor || m.Status() != domain.StatusPending {
		t.Fatalf("match from spaced JSON: %+v, %v", m, err)
	}
	// An event neither decoder reads stops the load with the reference's
	// error.
	if _, err := f.store.Append(ctx, stream, eventstore.Any(), eventstore.EventData{
		ID: uuid.New(), Type: "MatchAccepted", SchemaVersion: domain.SchemaVersion, Data: []byte(`{"matchId": 7}`),
	}); err != nil {
		t.Fatal(err)
	}
	_, want := domain.Decode("MatchAccepted", domain.SchemaVersion, []byte(`{"matchId": 7}`))
	if _, err := f.svc.Match(ctx, match); err == nil || want == nil || !strings.Contains(err.Error(), want.Error()) {
		t.Fatalf("loading a stream with a broken event: %v, want the reference's %v", err, want)
	}
}
