package projections_test

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
)

// checkFastDecode checks the fast decoder against domain.Decode, the
// reference: whatever the fast one accepts, the reference reads the same.
func checkFastDecode(t *testing.T, typ string, version int, data []byte) (accepted bool) {
	t.Helper()
	got, ok := follow.FastDecode(typ, version, data)
	if !ok {
		return false
	}
	want, err := domain.Decode(typ, version, data)
	if err != nil {
		t.Fatalf("%s %s: the fast decoder accepted what domain.Decode refuses (%v)", typ, data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %s:\nfast      %#v\nreference %#v", typ, data, got, want)
	}
	return true
}

// Every event of a generated program history decodes the same both ways,
// and none needs the fallback.
func TestFastDecodeAgreesOnGeneratedHistory(t *testing.T) {
	n := 0
	err := generate(workload{Mentors: 60, Mentees: 180, Events: 6000, Seed: 3}, func(_ string, _ eventstore.ExpectedRevision, events ...eventstore.EventData) error {
		for _, e := range events {
			if !checkFastDecode(t, e.Type, e.SchemaVersion, e.Data) {
				t.Fatalf("%s %s: the fast decoder gave up on an event as the domain writes it", e.Type, e.Data)
			}
			n++
		}
		return nil
	})
	if err != nil || n != 6000 {
		t.Fatalf("%d events, %v", n, err)
	}
}

// tricky is text that exercises escapes: quotes, backslashes, HTML
// characters that encoding/json escapes, line separators, control
// characters and characters outside ASCII.
func tricky(r *rand.Rand) string {
	parts := []string{`"`, `\`, "<", ">", "&", "\u2028", "\u2029", "\n", "\t", "\x01", "é", "Ω", "日本", "😀", " ", "a", "Z", "/", "'", "\x7f"}
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

func randomEvents(r *rand.Rand) []domain.Event {
	id := func() uuid.UUID {
		var u uuid.UUID
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		return u
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(400 * 24 * time.Hour))))
	if r.IntN(2) == 0 {
		at = at.Truncate(time.Second)
	}
	s := func() string { return tricky(r) }
	date, _ := domain.NewDate(2026, time.Month(1+r.IntN(12)), 1+r.IntN(28))
	details := domain.SessionDetails{Date: date, Minutes: r.IntN(600), Notes: s(), Value: r.IntN(6)}
	pr := domain.Profile{Name: s(), Designation: s(), Discipline: s(), Industry: s(), Location: domain.Location{City: s(), Province: s()},
		YearsOfExperience: r.IntN(70), Biography: s(), Preferences: domain.Preferences{MeetingFrequency: s(),
			Partner: domain.PartnerPreferences{MinYearsOfExperience: r.IntN(30), Notes: s()}},
		Contact: domain.Contact{Email: s(), Phone: s(), PreferredMethod: domain.ContactMethod(s())}}
	if r.IntN(2) == 0 {
		pr.Languages, pr.Focus, pr.Preferences.MeetingFormats = []string{s(), s()}, []string{s()}, []string{s(), s(), s()}
		pr.Preferences.Partner.Disciplines, pr.Preferences.Partner.Industries = []string{s()}, []string{s()}
		pr.Preferences.Partner.Provinces, pr.Preferences.Partner.Languages = []string{s()}, []string{s()}
		pr.Skills = map[string]int{s(): r.IntN(6), s() + "x": -r.IntN(3)}
	}
	return []domain.Event{
		domain.MemberRegistered{MemberID: id(), Role: domain.Role(s()), Name: s(), Email: s(), Capacity: r.IntN(10), Accepting: r.IntN(2) == 0, At: at},
		domain.ProfileUpdated{MemberID: id(), Profile: pr, At: at},
		domain.MentorCapacityChanged{MemberID: id(), Capacity: r.IntN(10) - 2, At: at},
		domain.MentorAvailabilityChanged{MemberID: id(), Accepting: r.IntN(2) == 0, At: at},
		domain.RequestSlotTaken{MemberID: id(), MatchID: id(), MentorID: id(), Message: s(), At: at},
		domain.RequestSlotActivated{MemberID: id(), MatchID: id(), At: at},
		domain.RequestSlotReleased{MemberID: id(), MatchID: id(), At: at},
		domain.CapacitySlotReserved{MemberID: id(), MatchID: id(), MenteeID: id(), At: at},
		domain.CapacitySlotReleased{MemberID: id(), MatchID: id(), At: at},
		domain.MatchRequested{MatchID: id(), MenteeID: id(), MentorID: id(), Message: s(), At: at},
		domain.MatchAccepted{MatchID: id(), MenteeID: id(), MentorID: id(), At: at},
		domain.MatchDeclined{MatchID: id(), MenteeID: id(), MentorID: id(), Reason: s(), Message: s(), At: at},
		domain.MatchCancelled{MatchID: id(), MenteeID: id(), MentorID: id(), At: at},
		domain.NudgeRequested{MatchID: id(), MenteeID: id(), MentorID: id(), At: at},
		domain.MentorNudged{MatchID: id(), MenteeID: id(), MentorID: id(), StaffID: id(), Note: s(), At: at},
		domain.ResponseWindowElapsed{MatchID: id(), MenteeID: id(), MentorID: id(), At: at},
		domain.FirstMeetingReminderDue{MatchID: id(), MenteeID: id(), MentorID: id(), At: at},
		domain.MatchEnded{MatchID: id(), MenteeID: id(), MentorID: id(), Reason: s(), RequestedBy: id(), StaffID: id(), Note: s(), At: at},
		domain.MatchEnded{MatchID: id(), MenteeID: id(), MentorID: id(), Reason: domain.EndReasonTermCompleted, At: at},
		domain.ProfileReviewRequested{MatchID: id(), MenteeID: id(), MentorID: id(), At: at},
		domain.SessionLogged{MatchID: id(), SessionID: id(), AuthorID: id(), Details: details, At: at},
		domain.SessionEdited{MatchID: id(), SessionID: id(), AuthorID: id(), Details: details, At: at},
		domain.DocumentAdded{MatchID: id(), DocumentID: id(), UploaderID: id(), Name: s(), Size: r.Int64N(1 << 40), ContentType: s(), SHA256: s(), Version: r.IntN(9), At: at},
		domain.DocumentRemoved{MatchID: id(), DocumentID: id(), RemovedBy: id(), UploaderID: id(), Name: s(), Version: r.IntN(9), At: at},
		domain.DocumentRemoved{MatchID: id(), DocumentID: id(), RemovedBy: id(), Name: s(), Version: r.IntN(9), At: at},
		domain.ResourcePublished{ResourceID: id(), PublishedBy: id(), Title: s(), Description: s(), URL: s(), Text: s(), Audience: domain.Audience(s()), At: at},
		domain.ResourceRetired{ResourceID: id(), RetiredBy: id(), At: at},
		domain.PersonalDataRevealed{ActorID: id(), ActorRole: domain.Role(s()), Reason: s(), Scope: s(), At: at},
		domain.MatchEndRequested{MatchID: id(), MenteeID: id(), MentorID: id(), RequestedBy: id(), Reason: s(), Note: s(), At: at},
		domain.AccountClosureRequested{MemberID: id(), Note: s(), At: at},
		domain.MemberSignedIn{MemberID: id(), At: at},
		domain.MemberErased{MemberID: id(), Role: domain.Role(s()), ErasedBy: id(), ActorRole: domain.Role(s()), Reason: s(), ClosureRequested: r.IntN(2) == 0, At: at},
	}
}

// Random events of every type, with text full of escapes, decode the same
// both ways; the fast decoder may leave a few (surrogate escapes) to the
// reference but reads most.
func TestFastDecodeAgreesOnRandomEvents(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	total, accepted := 0, 0
	for range 300 {
		for _, e := range randomEvents(r) {
			enc, err := domain.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			seen[enc.Type] = true
			total++
			if checkFastDecode(t, enc.Type, enc.SchemaVersion, enc.Data) {
				accepted++
			}
		}
	}
	if len(seen) != len(domain.EventTypes()) {
		t.Fatalf("covered %d event types of %d", len(seen), len(domain.EventTypes()))
	}
	if accepted < total*9/10 {
		t.Fatalf("the fast decoder read only %d of %d events", accepted, total)
	}
}

// Inputs the domain never writes are left to the reference decoder, which
// reads them its own way or refuses them.
func TestFastDecodeLeavesTheUnusualToTheReference(t *testing.T) {
	const id = `"0b5d3a4c-7f57-4a53-9a0e-2f0d8f3a1c11"`
	cases := []struct {
		typ  string
		data string
	}{
		{"MatchAccepted", `{"MatchID":` + id + `}`},                               // another spelling
		{"MatchAccepted", `{"matchId":` + id + `,"matchId":` + id + `}`},          // a key twice
		{"MatchAccepted", `{"matchId":` + id + `,"extra":1}`},                     // an unknown key
		{"MatchAccepted", `{"matchId":` + id + `,"staffId":` + id + `}`},          // another type's key
		{"MatchAccepted", `{"matchId":null}`},                                     // null
		{"MatchAccepted", `{"matchId":"{0b5d3a4c-7f57-4a53-9a0e-2f0d8f3a1c11}"}`}, // another UUID form
		{"MatchAccepted", `{"at":"2026-01-02T03:04:05+02:00"}`},                   // an offset
		{"MatchAccepted", `{"at":"2026-02-30T03:04:05Z"}`},                        // no such day
		{"MentorCapacityChanged", `{"capacity":1.5}`},                             // a fraction
		{"MentorCapacityChanged", `{"capacity":1e2}`},                             // an exponent
		{"MentorCapacityChanged", `{"capacity":01}`},                              // not JSON
		{"MatchRequested", `{"message":"\ud83d\ude00"}`},                          // a surrogate pair
		{"MatchRequested", `{"message":"\ud83d"}`},                                // a lone surrogate
		{"MatchRequested", `{"message":"a"} x`},                                   // trailing data
		{"MatchRequested", `{"message":"a"`},                                      // truncated
		{"SessionLogged", `{"details":{"date":null}}`},                            // a null date
		{"SessionLogged", `{"details":{"date":"2026-13-01"}}`},                    // no such month
		{"ProfileUpdated", `{"profile":{"skills":{"A":1,"A":2}}}`},                // a skill twice
		{"ProfileUpdated", `{"profile":{"languages":null}}`},                      // a null list
		{"ProfileUpdated", `{"profile":{"location":{"city":"x","city":"y"}}}`},    // a nested key twice
		{"Unknown", `{}`}, // not a domain event
	}
	for _, tc := range cases {
		if checkFastDecode(t, tc.typ, 1, []byte(tc.data)) {
			t.Errorf("%s %s: the fast decoder read it", tc.typ, tc.data)
		}
	}
	// Spacing and key order are free in JSON, and read the same.
	for _, data := range []string{
		` { "at" : "2026-01-02T03:04:05.5Z" , "matchId" : ` + id + ` } `,
		`{"matchId":` + id + `,"menteeId":` + id + `,"mentorId":` + id + `,"at":"0001-01-01T00:00:00Z"}`,
		`{}`,
	} {
		if !checkFastDecode(t, "MatchAccepted", 1, []byte(data)) {
			t.Errorf("%s: the fast decoder gave up", data)
		}
	}
	if checkFastDecode(t, "MatchAccepted", 2, []byte(`{}`)) {
		t.Error("the fast decoder read another schema version")
	}
}

func FuzzFastDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, e := range randomEvents(r) {
		enc, err := domain.Encode(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc.Type, string(enc.Data))
	}
	f.Add("MatchAccepted", `{"matchId":"0b5d3a4c-7f57-4a53-9a0e-2f0d8f3a1c11","at":"2026-01-02T03:04:05.123Z"}`)
	f.Fuzz(func(t *testing.T, typ, data string) {
		checkFastDecode(t, typ, 1, []byte(data))
	})
}
