package graph_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

// The program guide's rules, each tried through the HTTP server as a
// frontend would.

// "Mentees must search and request a match with a mentor… Mentors do not
// request mentees."
func TestGuideOnlyMenteesSearchForMentors(t *testing.T) {
	e := newEnv(t)
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	_, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, auditorTok := e.user(domain.RoleAuditor, "Ada Auditor")
	const q = `{ searchMentors { totalCount } }`
	if r := e.ok(menteeTok, q, nil); r.get("searchMentors", "totalCount") != float64(1) {
		t.Fatalf("mentee: %s", r.raw)
	}
	for who, tok := range map[string]string{"mentor": mentorTok, "auditor": auditorTok} {
		if r := e.do(tok, q, nil); r.code() != "FORBIDDEN" || r.get("searchMentors") != nil {
			t.Errorf("%s: %s", who, r.raw)
		}
	}
}

// newActiveMatch makes an accepted match between a new mentee and mentor.
func newActiveMatch(t *testing.T, e *env) (mentee, mentor domain.Actor, menteeTok, mentorTok string, matchID string) {
	t.Helper()
	mentee, menteeTok = e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok = e.user(domain.RoleMentor, "Max Mentor")
	ctx := context.Background()
	id, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	return mentee, mentor, menteeTok, mentorTok, gid(model.KindMatch, id)
}

// "The only required field is the Session Date." A date-only session is
// saved, counts no CPD hours, and cpdSummary says it lacks a length until
// its author edits one in.
func TestGuideSessionNeedsOnlyItsDate(t *testing.T) {
	e := newEnv(t)
	_, _, menteeTok, _, matchID := newActiveMatch(t, e)
	today := e.clock.Now().Format("2006-01-02")
	r := e.ok(menteeTok, `mutation($in: AddSessionInput!) { addSession(input: $in) { session { id date minutes } userErrors { code } } }`,
		map[string]any{"in": map[string]any{"matchId": matchID, "date": today}})
	sid := r.str("addSession", "session", "id")
	if sid == "" || r.get("addSession", "session", "minutes") != nil {
		t.Fatalf("a date-only session: %s", r.raw)
	}
	e.ok(menteeTok, `mutation($in: AddSessionInput!) { addSession(input: $in) { session { id } } }`,
		map[string]any{"in": map[string]any{"matchId": matchID, "date": today, "minutes": 90}})
	const cpd = `query($from: Date) { cpdSummary(from: $from) { totalHours hoursInRange sessionsWithoutLength sessionsWithoutLengthInRange } }`
	want := map[string]any{"totalHours": 1.5, "hoursInRange": 1.5, "sessionsWithoutLength": float64(1), "sessionsWithoutLengthInRange": float64(1)}
	if diff := cmp.Diff(want, e.ok(menteeTok, cpd, map[string]any{"from": today}).get("cpdSummary")); diff != "" {
		t.Fatalf("cpdSummary (-want +got):\n%s", diff)
	}
	// A range that leaves the day out counts neither.
	if r := e.ok(menteeTok, cpd, map[string]any{"from": "2099-01-01"}); r.get("cpdSummary", "sessionsWithoutLengthInRange") != float64(0) || r.get("cpdSummary", "sessionsWithoutLength") != float64(1) {
		t.Fatalf("out of range: %s", r.raw)
	}
	// The length added later counts.
	e.ok(menteeTok, `mutation($in: EditSessionInput!) { editSession(input: $in) { session { minutes } } }`,
		map[string]any{"in": map[string]any{"sessionId": sid, "date": today, "minutes": 30}})
	want = map[string]any{"totalHours": 2.0, "hoursInRange": 2.0, "sessionsWithoutLength": float64(0), "sessionsWithoutLengthInRange": float64(0)}
	if diff := cmp.Diff(want, e.ok(menteeTok, cpd, map[string]any{"from": today}).get("cpdSummary")); diff != "" {
		t.Fatalf("after the edit (-want +got):\n%s", diff)
	}
}

const fullProfileMutation = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) {
  member { name designation discipline industry location { city province } yearsOfExperience languages biography focus
    skills { skill rating } preferences { meetingFormats meetingFrequency partner { disciplines provinces languages minYearsOfExperience notes } }
    contact { email phone preferredMethod } }
  userErrors { code field message } } }`

// Profiles are edited by section: a field left out stays as it was, an
// explicit null clears it, and the name is needed only to change it.
func TestGuideProfileEditedBySection(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	full := map[string]any{
		"name": "Mia Mentee", "designation": "P.Eng.", "discipline": "CIVIL", "industry": "CONSTRUCTION",
		"location": map[string]any{"city": "Calgary", "province": "AB"}, "yearsOfExperience": 3, "languages": []any{"en"},
		"biography": "Site engineer.", "focus": []any{"LEADERSHIP"}, "skills": []any{map[string]any{"skill": "COMMUNICATION", "rating": 2}},
		"preferences": map[string]any{"meetingFormats": []any{"VIDEO"}, "meetingFrequency": "MONTHLY",
			"partner": map[string]any{"disciplines": []any{"CIVIL"}, "provinces": []any{"AB"}, "languages": []any{"en"}, "minYearsOfExperience": 10, "notes": "Patient."}},
		"contact": map[string]any{"email": "mia@example.org", "phone": "+1 403 555 0100", "preferredMethod": "PHONE"},
	}
	before := e.ok(tok, fullProfileMutation, map[string]any{"in": full}).get("updateProfile", "member").(map[string]any)
	if before["biography"] != "Site engineer." {
		t.Fatalf("the whole profile: %v", before)
	}
	change := func(in map[string]any, edit func(m map[string]any)) {
		t.Helper()
		r := e.ok(tok, fullProfileMutation, map[string]any{"in": in})
		if ue := r.get("updateProfile", "userErrors"); !cmp.Equal(ue, []any{}) {
			t.Fatalf("%v: %v", in, ue)
		}
		want := before
		edit(want)
		if diff := cmp.Diff(want, r.get("updateProfile", "member")); diff != "" {
			t.Fatalf("%v (-want +got):\n%s", in, diff)
		}
		before = want
	}
	// Only the name: nothing else changes (it used to wipe the rest).
	change(map[string]any{"name": "Mia M."}, func(m map[string]any) { m["name"] = "Mia M." })
	// One section without the name.
	change(map[string]any{"biography": "Site engineer, bridges."}, func(m map[string]any) { m["biography"] = "Site engineer, bridges." })
	change(map[string]any{"skills": []any{map[string]any{"skill": "LEADERSHIP", "rating": 3}}}, func(m map[string]any) {
		m["skills"] = []any{map[string]any{"skill": "LEADERSHIP", "rating": float64(3)}}
	})
	// A nested field alone: the rest of its object stays.
	change(map[string]any{"contact": map[string]any{"phone": nil, "preferredMethod": "EMAIL"}}, func(m map[string]any) {
		m["contact"] = map[string]any{"email": "mia@example.org", "phone": nil, "preferredMethod": "EMAIL"}
	})
	change(map[string]any{"preferences": map[string]any{"partner": map[string]any{"notes": nil}}}, func(m map[string]any) {
		p := m["preferences"].(map[string]any)["partner"].(map[string]any)
		p["notes"] = nil
	})
	// An explicit null clears an optional field.
	change(map[string]any{"designation": nil, "location": nil}, func(m map[string]any) {
		m["designation"] = nil
		m["location"] = map[string]any{"city": nil, "province": nil}
	})
	change(map[string]any{"focus": nil}, func(m map[string]any) { m["focus"] = []any{} })
	// The name cannot be cleared, and a refusal changes nothing.
	head := e.head()
	for _, in := range []map[string]any{{"name": nil}, {"name": ""}, {"name": "  "}} {
		r := e.do(tok, fullProfileMutation, map[string]any{"in": in})
		if r.str("updateProfile", "userErrors", 0, "field") != "name" {
			t.Errorf("%v: %s", in, r.raw)
		}
	}
	if e.head() != head {
		t.Fatal("a refused update wrote events")
	}
}

// Two section edits sent at once both take effect: the patch is applied
// to the profile as stored, not as the client last read it.
func TestGuideSectionEditsAtOnceBothStay(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentor, "Max Mentor")
	for round := range 20 {
		bio, city := "Bio "+string(rune('a'+round)), "City "+string(rune('a'+round))
		var wg sync.WaitGroup
		for _, in := range []map[string]any{{"biography": bio}, {"location": map[string]any{"city": city}}} {
			wg.Go(func() {
				e.ok(tok, `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { userErrors { code } } }`, map[string]any{"in": in})
			})
		}
		wg.Wait()
		r := e.ok(tok, `{ viewer { member { biography location { city } } } }`, nil)
		if r.str("viewer", "member", "biography") != bio || r.str("viewer", "member", "location", "city") != city {
			t.Fatalf("round %d: %s", round, r.raw)
		}
	}
}

// After a match ends the member is asked to review three sections; saving
// the profile answers the prompt.
func TestGuideProfileReviewAfterAMatchEnds(t *testing.T) {
	e := newEnv(t)
	mentee, _, menteeTok, mentorTok, matchID := newActiveMatch(t, e)
	const q = `{ viewer { profileReviewDue { askedAt sections } } }`
	if r := e.ok(menteeTok, q, nil); r.get("viewer", "profileReviewDue") != nil {
		t.Fatalf("before the end: %s", r.raw)
	}
	staff, _ := e.user(domain.RoleStaff, "Sam Staff")
	id, err := model.ParseID(matchID, model.KindMatch)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.svc.EndMatch(ctx, command.Request{Actor: staff}, id, "GOALS_CONCLUDED", mentee.ID, "Goals met."); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.RequestProfileReview(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{menteeTok, mentorTok} {
		r := e.ok(tok, q, nil)
		if diff := cmp.Diff([]any{"FOCUS", "SKILLS", "PREFERENCES"}, r.get("viewer", "profileReviewDue", "sections")); diff != "" {
			t.Fatalf("after the end (-want +got):\n%s", diff)
		}
	}
	e.ok(menteeTok, `mutation { updateProfile(input: {focus: ["LEADERSHIP"]}) { userErrors { code } } }`, nil)
	if r := e.ok(menteeTok, q, nil); r.get("viewer", "profileReviewDue") != nil {
		t.Fatalf("after the review: %s", r.raw)
	}
	if r := e.ok(mentorTok, q, nil); r.get("viewer", "profileReviewDue") == nil {
		t.Fatalf("the partner's prompt went too: %s", r.raw)
	}
}

// "At most three words": counted as the member typed them, split on
// spaces; each still matches whole words after punctuation splits it.
func TestGuideSearchWordsCountedAsTyped(t *testing.T) {
	e := newEnv(t)
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	_, mentorTok := e.user(domain.RoleMentor, "Eve Engineer")
	e.ok(mentorTok, `mutation { updateProfile(input: {biography: "Water-resource management: dam safety."}) { userErrors { code } } }`, nil)
	const q = `query($w: String) { searchMentors(input: {words: $w}) { totalCount } }`
	for words, want := range map[string]float64{
		"water-resource management dam": 1,
		"water resource":                1,
		"water-resource management x":   0,
	} {
		if r := e.ok(menteeTok, q, map[string]any{"w": words}); r.get("searchMentors", "totalCount") != want {
			t.Errorf("%q: %s", words, r.raw)
		}
	}
	if r := e.do(menteeTok, q, map[string]any{"w": "water resource management dam"}); r.code() != "BAD_USER_INPUT" {
		t.Errorf("four typed words: %s", r.raw)
	}
}

// When acceptMatch and cancelMatchRequest race on one match, the refused
// call's payload shows the state that refused it: never PENDING.
func TestGuideRefusedRacerIsToldTheTruth(t *testing.T) {
	e := newEnv(t)
	const accept = `mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { status } userErrors { code } } }`
	const cancel = `mutation($id: ID!) { cancelMatchRequest(input: {matchId: $id}) { match { status } userErrors { code } } }`
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	ctx := context.Background()
	for round := range rounds {
		mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
		mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
		id, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
			t.Fatal(err)
		}
		vars := map[string]any{"id": gid(model.KindMatch, id)}
		var a, c response
		var wg sync.WaitGroup
		wg.Go(func() { a = e.do(mentorTok, accept, vars) })
		wg.Go(func() { c = e.do(menteeTok, cancel, vars) })
		wg.Wait()
		accepted := a.str("acceptMatch", "userErrors", 0, "code") == ""
		cancelled := c.str("cancelMatchRequest", "userErrors", 0, "code") == ""
		if accepted == cancelled {
			t.Fatalf("round %d: exactly one must win: %s %s", round, a.raw, c.raw)
		}
		if accepted {
			if a.str("acceptMatch", "match", "status") != "ACTIVE" || c.str("cancelMatchRequest", "match", "status") != "ACTIVE" {
				t.Fatalf("round %d: the accept won: %s %s", round, a.raw, c.raw)
			}
		} else if c.str("cancelMatchRequest", "match", "status") != "CANCELLED" || a.str("acceptMatch", "match", "status") != "CANCELLED" {
			t.Fatalf("round %d: the cancel won: %s %s", round, a.raw, c.raw)
		}
	}
}

// A skill rated twice is refused rather than kept as its last rating, and
// the payload shows the profile as it was, as every refused update does.
func TestGuideSkillRatedTwiceIsRefused(t *testing.T) {
	e := newEnv(t)
	mentee, tok := e.user(domain.RoleMentee, "Mia Mentee")
	head := e.head()
	r := e.do(tok, `mutation { updateProfile(input: {skills: [{skill: "LEADERSHIP", rating: 5}, {skill: "LEADERSHIP", rating: 4}]}) { member { id name skills { skill } } userErrors { code field } } }`, nil)
	if r.str("updateProfile", "userErrors", 0, "code") != "INVALID_INPUT" || r.str("updateProfile", "userErrors", 0, "field") != "skills" {
		t.Fatalf("%s", r.raw)
	}
	if r.str("updateProfile", "member", "id") != gid(model.KindMember, mentee.ID) || r.str("updateProfile", "member", "name") != "Mia Mentee" {
		t.Errorf("the refused update does not show the profile as it was: %s", r.raw)
	}
	if e.head() != head {
		t.Fatal("the refused update wrote events")
	}
}

// Staff editing a member's profile do not answer the member's review
// prompt: the member is still asked.
func TestGuideStaffEditKeepsTheReviewPrompt(t *testing.T) {
	e := newEnv(t)
	mentee, _, menteeTok, _, matchID := newActiveMatch(t, e)
	staff, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	id, _ := model.ParseID(matchID, model.KindMatch)
	ctx := context.Background()
	if _, err := e.svc.EndMatch(ctx, command.Request{Actor: staff}, id, "GOALS_CONCLUDED", mentee.ID, "Goals met."); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.RequestProfileReview(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	e.ok(staffTok, `mutation($id: ID!) { updateProfile(input: {memberId: $id, biography: "Edited by staff."}) { userErrors { code } } }`,
		map[string]any{"id": gid(model.KindMember, mentee.ID)})
	if r := e.ok(menteeTok, `{ viewer { profileReviewDue { sections } } }`, nil); r.get("viewer", "profileReviewDue") == nil {
		t.Fatalf("a staff edit answered the member's prompt: %s", r.raw)
	}
}

// The biography search's cost stays small however its words are joined.
func TestGuideSearchWordsAreBounded(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	const q = `query($w: String) { searchMentors(input: {words: $w}) { totalCount } }`
	for _, w := range []string{strings.Repeat("a-", 50000), "one-two-three-four five-six-seven eight-nine-ten", strings.Repeat("x", 201)} {
		if r := e.do(tok, q, map[string]any{"w": w}); r.code() != "BAD_USER_INPUT" {
			t.Errorf("%.40q…: %s", w, r.raw)
		}
	}
	if r := e.do(tok, q, map[string]any{"w": "one-two-three four-five-six seven-eight-nine"}); r.code() != "" {
		t.Errorf("nine whole words in three typed ones: %s", r.raw)
	}
}

// A credential that is not a bearer token is refused, not taken as
// signed out.
func TestGuideOnlyBearerTokens(t *testing.T) {
	e := newEnv(t)
	for _, h := range []string{"Basic dXNlcjpwYXNz", "Bearer ", "token-abc"} {
		r := e.doAt(e.url, http.Header{"Authorization": {h}}, "", `{ viewer { id } }`, nil)
		if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
			t.Errorf("%q: %d %s", h, r.Status, r.raw)
		}
	}
}

// Every live matchEvents push carries the match at least as new as the
// change it reports, even when the read models lag the log.
func TestMatchEventsCarryTheMatchAsNewAsTheChange(t *testing.T) {
	e := newEnv(t)
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	c := e.dial(staffTok)
	c.subscribe("1", `subscription($since: Position) { matchEvents(since: $since) { position type status match { status position } } }`,
		map[string]any{"since": strconv.FormatUint(uint64(e.head()), 10)})
	ctx := context.Background()
	want := 0
	for range 10 {
		mentee, _ := e.user(domain.RoleMentee, "Mia Mentee")
		mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
		id, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, id); err != nil {
			t.Fatal(err)
		}
		want += 2
	}
	for range want {
		ev, _ := c.next("1")["matchEvents"].(map[string]any)
		if ev == nil {
			t.Fatal("an event lost")
		}
		pos, _ := strconv.ParseUint(ev["position"].(string), 10, 64)
		match := ev["match"].(map[string]any)
		got, _ := strconv.ParseUint(match["position"].(string), 10, 64)
		if got < pos || (ev["status"] == "ACTIVE" && match["status"] != "ACTIVE") {
			t.Fatalf("a %s at %d carried the match at %d, %s", ev["type"], pos, got, match["status"])
		}
	}
}

// "Ending early goes through staff, with a reason": a partner asks, the
// request waits in the staff queue with its reason and note, and staff end
// the match naming the partner who asked.
func TestGuideEndingEarlyGoesThroughStaff(t *testing.T) {
	e := newEnv(t)
	mentee, _, menteeTok, mentorTok, matchID := newActiveMatch(t, e)
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, auditorTok := e.user(domain.RoleAuditor, "Ada Auditor")
	_, otherTok := e.user(domain.RoleMentee, "Other Mentee")
	const ask = `mutation($in: RequestMatchEndInput!) { requestMatchEnd(input: $in) { match { id status endRequest { reason note requestedBy { name } } } userErrors { code field } } }`
	in := func(reason string) map[string]any {
		return map[string]any{"in": map[string]any{"matchId": matchID, "reason": reason, "note": "We are not a good fit."}}
	}
	for tok, code := range map[string]string{otherTok: "NOT_A_PARTNER"} {
		if r := e.do(tok, ask, in("GRACEFUL_EXIT")); r.str("requestMatchEnd", "userErrors", 0, "code") != code {
			t.Fatalf("%s: %s", code, r.raw)
		}
	}
	if r := e.do(staffTok, ask, in("GRACEFUL_EXIT")); r.code() != "FORBIDDEN" {
		t.Fatalf("staff: %s", r.raw)
	}
	if r := e.do(menteeTok, ask, in("BORED")); r.str("requestMatchEnd", "userErrors", 0, "field") != "reason" {
		t.Fatalf("a reason not in the program: %s", r.raw)
	}
	r := e.ok(menteeTok, ask, in("GRACEFUL_EXIT"))
	if r.str("requestMatchEnd", "match", "endRequest", "reason") != "GRACEFUL_EXIT" || r.str("requestMatchEnd", "match", "endRequest", "requestedBy", "name") != "Mia Mentee" {
		t.Fatalf("the request: %s", r.raw)
	}
	if r := e.do(mentorTok, ask, in("MOVED")); r.str("requestMatchEnd", "userErrors", 0, "code") != "END_ALREADY_REQUESTED" {
		t.Fatalf("a second request: %s", r.raw)
	}
	const queue = `{ staffQueue { endRequests { id endRequest { reason note } } } }`
	r = e.ok(staffTok, queue, nil)
	if r.str("staffQueue", "endRequests", 0, "id") != matchID || r.str("staffQueue", "endRequests", 0, "endRequest", "note") != "We are not a good fit." {
		t.Fatalf("the queue: %s", r.raw)
	}
	if r := e.ok(auditorTok, `query($id: ID!) { match(id: $id) { endRequest { reason note } } }`, map[string]any{"id": matchID}); r.get("match", "endRequest", "note") != nil || r.str("match", "endRequest", "reason") != "GRACEFUL_EXIT" {
		t.Fatalf("an auditor: %s", r.raw)
	}
	e.ok(staffTok, `mutation($in: EndMatchInput!) { endMatch(input: $in) { match { status endRequest { reason } } } }`,
		map[string]any{"in": map[string]any{"matchId": matchID, "reason": "GRACEFUL_EXIT", "requestedBy": gid(model.KindMember, mentee.ID), "note": "As asked."}})
	if r := e.ok(staffTok, queue, nil); len(r.get("staffQueue", "endRequests").([]any)) != 0 {
		t.Fatalf("the queue after the end: %s", r.raw)
	}
}
