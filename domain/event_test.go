package domain_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/domain"
)

// sampleEvents holds one event of every type, with every field set.
func sampleEvents(t *testing.T) []domain.Event {
	details := domain.SessionDetails{Date: date(t, "2026-03-05"), Minutes: 45, Notes: "Notes.", Value: 3}
	return []domain.Event{
		domain.MemberRegistered{MemberID: mentorID, Role: domain.RoleMentor, Name: "N", Email: "n@example.org", Capacity: 2, Accepting: true, At: t0},
		domain.ProfileUpdated{MemberID: mentorID, Profile: cleanedProfile(), At: t0},
		domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 3, At: t0},
		domain.MentorAvailabilityChanged{MemberID: mentorID, Accepting: true, At: t0},
		domain.RequestSlotTaken{MemberID: menteeID, MatchID: matchID, MentorID: mentorID, Message: "Hi", At: t0},
		domain.RequestSlotActivated{MemberID: menteeID, MatchID: matchID, At: t0},
		domain.RequestSlotReleased{MemberID: menteeID, MatchID: matchID, At: t0},
		domain.CapacitySlotReserved{MemberID: mentorID, MatchID: matchID, MenteeID: menteeID, At: t0},
		domain.CapacitySlotReleased{MemberID: mentorID, MatchID: matchID, At: t0},
		domain.MatchRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Message: "Hi", At: t0},
		accepted(t0),
		domain.MatchDeclined{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Reason: "OTHER", Message: "No", At: t0},
		cancelled(t0),
		domain.NudgeRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: t0},
		domain.MentorNudged{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, StaffID: staffID, Note: "Called", At: t0},
		domain.ResponseWindowElapsed{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: t0},
		domain.FirstMeetingReminderDue{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: t0},
		ended(t0, "MOVED"),
		domain.ProfileReviewRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: t0},
		domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: details, At: t0},
		domain.SessionEdited{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: details, At: t0},
		domain.DocumentAdded{MatchID: matchID, DocumentID: documentID, UploaderID: menteeID, Name: "a.pdf", Size: 9, ContentType: "application/pdf", SHA256: sum1, Version: 2, At: t0},
		domain.DocumentRemoved{MatchID: matchID, DocumentID: documentID, RemovedBy: mentorID, Name: "a.pdf", Version: 2, At: t0},
		domain.ResourcePublished{ResourceID: resourceID, PublishedBy: staffID, Title: "T", Description: "D", URL: "https://example.org", Audience: domain.AudienceBoth, At: t0},
		domain.ResourceRetired{ResourceID: resourceID, RetiredBy: staffID, At: t0},
		domain.PersonalDataRevealed{ActorID: staffID, ActorRole: domain.RoleStaff, Reason: "A member's complaint.", Scope: "match=x", At: t0},
		domain.MatchEndRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, RequestedBy: menteeID, Reason: "GRACEFUL_EXIT", Note: "Not a fit.", At: t0},
		domain.AccountClosureRequested{MemberID: menteeID, Note: "Moving abroad.", At: t0},
		domain.MemberErased{MemberID: menteeID, Role: domain.RoleMentee, ErasedBy: staffID, ActorRole: domain.RoleStaff, Reason: "Asked to close the account.", ClosureRequested: true, At: t0},
		domain.MemberSignedIn{MemberID: menteeID, At: t0},
	}
}

func TestEveryEventTypeRoundTrips(t *testing.T) {
	var names []string
	for _, e := range sampleEvents(t) {
		enc, err := domain.Encode(e)
		if err != nil {
			t.Fatalf("Encode(%T): %v", e, err)
		}
		if enc.SchemaVersion != 1 {
			t.Errorf("%s has schema version %d, want 1", enc.Type, enc.SchemaVersion)
		}
		back, err := domain.Decode(enc.Type, enc.SchemaVersion, enc.Data)
		if err != nil {
			t.Fatalf("Decode(%s): %v", enc.Type, err)
		}
		if diff := cmp.Diff(e, back); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", enc.Type, diff)
		}
		names = append(names, enc.Type)
	}
	// The samples cover the registry exactly, and the registry's names
	// are the stable ones.
	want := []string{
		"AccountClosureRequested", "CapacitySlotReleased", "CapacitySlotReserved", "DocumentAdded", "DocumentRemoved",
		"FirstMeetingReminderDue", "MatchAccepted", "MatchCancelled", "MatchDeclined", "MatchEndRequested", "MatchEnded",
		"MatchRequested", "MemberErased", "MemberRegistered", "MemberSignedIn", "MentorAvailabilityChanged", "MentorCapacityChanged",
		"MentorNudged", "NudgeRequested", "PersonalDataRevealed", "ProfileReviewRequested", "ProfileUpdated",
		"RequestSlotActivated", "RequestSlotReleased", "RequestSlotTaken", "ResourcePublished",
		"ResourceRetired", "ResponseWindowElapsed", "SessionEdited", "SessionLogged",
	}
	if diff := cmp.Diff(want, domain.EventTypes()); diff != "" {
		t.Errorf("EventTypes (-want +got):\n%s", diff)
	}
	if len(names) != len(want) {
		t.Errorf("%d samples for %d event types", len(names), len(want))
	}
}

// TestStoredShape pins the JSON of a few events: stored events are never
// rewritten, so their field names must not drift.
func TestStoredShape(t *testing.T) {
	for _, tc := range []struct {
		event domain.Event
		want  string
	}{
		{
			domain.MatchRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Message: "Hi", At: t0},
			`{"matchId":"0000000e-0000-4000-8000-000000000001","menteeId":"0000000a-0000-4000-8000-000000000001","mentorId":"0000000b-0000-4000-8000-000000000001","message":"Hi","at":"2026-03-02T15:00:00Z"}`,
		},
		{
			ended(t0, domain.EndReasonTermCompleted),
			`{"matchId":"0000000e-0000-4000-8000-000000000001","menteeId":"0000000a-0000-4000-8000-000000000001","mentorId":"0000000b-0000-4000-8000-000000000001","reason":"TERM_COMPLETED","at":"2026-03-02T15:00:00Z"}`,
		},
		{
			domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: domain.SessionDetails{Date: date(t, "2026-03-05"), Value: 2}, At: t0},
			`{"matchId":"0000000e-0000-4000-8000-000000000001","sessionId":"0000000f-0000-4000-8000-000000000001","authorId":"0000000a-0000-4000-8000-000000000001","details":{"date":"2026-03-05","value":2},"at":"2026-03-02T15:00:00Z"}`,
		},
		{
			domain.MemberSignedIn{MemberID: menteeID, At: t0},
			`{"memberId":"0000000a-0000-4000-8000-000000000001","at":"2026-03-02T15:00:00Z"}`,
		},
	} {
		enc, err := domain.Encode(tc.event)
		if err != nil {
			t.Fatal(err)
		}
		if string(enc.Data) != tc.want {
			t.Errorf("%s stored as\n%s\nwant\n%s", enc.Type, enc.Data, tc.want)
		}
	}
}

type foreignEvent struct{}

func (foreignEvent) EventType() string { return "SomethingElse" }

func TestEncodeDecodeErrors(t *testing.T) {
	if _, err := domain.Encode(nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
	if _, err := domain.Encode(foreignEvent{}); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Errorf("Encode of a foreign event: %v, want ErrUnknownEventType", err)
	}
	if _, err := domain.Decode("PasswordChanged", 1, []byte(`{}`)); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Errorf("Decode of a foreign type: %v, want ErrUnknownEventType", err)
	}
	if _, err := domain.Decode("MatchAccepted", 2, []byte(`{}`)); err == nil || errors.Is(err, domain.ErrUnknownEventType) {
		t.Errorf("Decode of an unknown version: %v", err)
	}
	if _, err := domain.Decode("MatchAccepted", 1, []byte(`{"matchId":`)); err == nil {
		t.Error("Decode of broken JSON succeeded")
	}
	if _, err := domain.Decode("SessionLogged", 1, []byte(`{"details":{"date":"2026-02-30"}}`)); err == nil {
		t.Error("Decode of an impossible date succeeded")
	}
	var raw json.RawMessage
	if err := json.Unmarshal([]byte(`{}`), &raw); err != nil {
		t.Fatal(err)
	}
	e, err := domain.Decode("MatchAccepted", 1, raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.(domain.MatchAccepted); !ok {
		t.Errorf("Decode gave %T, want domain.MatchAccepted", e)
	}
}
