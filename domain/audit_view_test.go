package domain_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// An auditor's view of each event that holds personal data keeps its
// identifiers, names, reasons and times and drops every piece of personal
// text, whatever the event's data.
func TestAuditViewKeepsNoPersonalText(t *testing.T) {
	at := time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)
	ids := [3]uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	profile := domain.Profile{Name: "Vera Name", Biography: "private-bio", Contact: domain.Contact{Email: "private-mail@example.org", Phone: "+1 555 0100"}}
	profile.Preferences.Partner.Notes = "private-notes"
	events := []domain.Event{
		domain.MemberRegistered{MemberID: ids[0], Role: domain.RoleMentee, Name: "Vera Name", Email: "private-login@example.org", At: at},
		domain.ProfileUpdated{MemberID: ids[0], Profile: profile, At: at},
		domain.RequestSlotTaken{MemberID: ids[0], MatchID: ids[1], MentorID: ids[2], Message: "private-message", At: at},
		domain.MatchRequested{MatchID: ids[1], MenteeID: ids[0], MentorID: ids[2], Message: "private-message", At: at},
		domain.MatchDeclined{MatchID: ids[1], MenteeID: ids[0], MentorID: ids[2], Reason: "CAPACITY", Message: "private-message", At: at},
		domain.MentorNudged{MatchID: ids[1], MenteeID: ids[0], MentorID: ids[2], StaffID: ids[2], Note: "private-note", At: at},
		domain.MatchEnded{MatchID: ids[1], MenteeID: ids[0], MentorID: ids[2], Reason: "GRACEFUL_EXIT", Note: "private-note", At: at},
		domain.DocumentAdded{MatchID: ids[1], DocumentID: ids[2], UploaderID: ids[0], Name: "private-file.pdf", Size: 10, ContentType: "application/pdf", At: at},
	}
	for _, ev := range events {
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		view, changed := domain.AuditView(ev.EventType(), data)
		if !changed || strings.Contains(string(view), "private") {
			t.Errorf("%s: %s", ev.EventType(), view)
		}
		if !strings.Contains(string(view), ids[0].String()) || !strings.Contains(string(view), `"at"`) {
			t.Errorf("%s lost its identifiers or time: %s", ev.EventType(), view)
		}
	}
	if view, _ := domain.AuditView(domain.ProfileUpdated{}.EventType(), mustJSON(t, domain.ProfileUpdated{MemberID: ids[0], Profile: profile, At: at})); !strings.Contains(string(view), `"name":"Vera Name"`) {
		t.Errorf("a profile's display name is gone: %s", view)
	}
	if view, changed := domain.AuditView(domain.MatchAccepted{}.EventType(), []byte(`{"matchId":"x"}`)); changed || string(view) != `{"matchId":"x"}` {
		t.Errorf("an event without personal data changed: %s", view)
	}
	if view, _ := domain.AuditView(domain.MatchRequested{}.EventType(), []byte(`"private"`)); string(view) != "null" {
		t.Errorf("data that is not an object: %s", view)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
