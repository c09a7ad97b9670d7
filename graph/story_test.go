package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

const updateProfile = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { member { id name contact { email } } userErrors { code field message } } }`

const matchFields = `id status mentee { id name contact { email phone } } mentor { id name contact { email phone } } partner { name } daysPending responseWindowElapsed`

// The program's story through the API: search, request, the mentor sees
// it, accepts, the mentee's subscription hears it, contact information
// shows, sessions stay private, staff end the match with a Graceful Exit,
// and the history replays it.
func TestProgramStory(t *testing.T) {
	e := newEnv(t)
	mentee, menteeTok := e.user(domain.RoleMentee, "Ada Lovelace")
	_, mentorTok := e.user(domain.RoleMentor, "Grace Hopper")
	_, otherMentorTok := e.user(domain.RoleMentor, "Other Mentor")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")

	e.ok(mentorTok, updateProfile, map[string]any{"in": map[string]any{
		"name": "Grace Hopper", "discipline": "SOFTWARE", "location": map[string]any{"city": "Toronto", "province": "ON"},
		"biography": "Compiler pioneer; mentoring software engineers in COBOL and leadership.",
		"focus":     []string{"LEADERSHIP"}, "contact": map[string]any{"email": "grace@example.org", "phone": "+1 416 555 0100", "preferredMethod": "EMAIL"},
	}})
	e.ok(menteeTok, updateProfile, map[string]any{"in": map[string]any{
		"name": "Ada Lovelace", "focus": []string{"LEADERSHIP"}, "contact": map[string]any{"email": "ada@example.org"},
	}})

	// Search: exact words, filters; contact is never in search results.
	r := e.ok(menteeTok, `{ searchMentors(input: {words: "compiler, LEADERSHIP", disciplines: ["SOFTWARE"], provinces: ["ON"]}) { totalCount edges { node { id name affinity contact { email } } } } }`, nil)
	if r.get("searchMentors", "totalCount") != float64(1) || r.str("searchMentors", "edges", 0, "node", "name") != "Grace Hopper" {
		t.Fatalf("search: %s", r.raw)
	}
	if r.get("searchMentors", "edges", 0, "node", "contact") != nil {
		t.Fatalf("search shows contact information: %s", r.raw)
	}
	mentorID := r.str("searchMentors", "edges", 0, "node", "id")

	// The mentee listens to their matches.
	sub := e.dial(menteeTok)
	sub.subscribe("mine", `subscription { myMatchUpdates { position type match { id status } } }`, nil)
	e.waitSubscribers(1)

	r = e.ok(menteeTok, `mutation($in: RequestMatchInput!) { requestMatch(input: $in) { match { `+matchFields+` } userErrors { code } } }`,
		map[string]any{"in": map[string]any{"mentorId": mentorID, "message": "Would you mentor me?", "clientMutationId": "req-1"}})
	matchID := r.str("requestMatch", "match", "id")
	if r.str("requestMatch", "match", "status") != "PENDING" || r.get("requestMatch", "match", "mentor", "contact") != nil {
		t.Fatalf("request: %s", r.raw)
	}
	if got := sub.next("mine"); got["myMatchUpdates"].(map[string]any)["type"] != "MatchRequested" {
		t.Fatalf("subscription: %v", got)
	}
	// A second request is refused while one is pending.
	r = e.do(menteeTok, `mutation($in: RequestMatchInput!) { requestMatch(input: $in) { match { id } userErrors { code } } }`,
		map[string]any{"in": map[string]any{"mentorId": mentorID}})
	if r.str("requestMatch", "userErrors", 0, "code") != "PENDING_REQUEST_EXISTS" {
		t.Fatalf("second request: %s", r.raw)
	}

	// The mentor sees the request; another mentor cannot accept it.
	r = e.ok(mentorTok, `{ myMatches(group: PENDING) { totalCount edges { node { id message mentee { name } } } } }`, nil)
	if r.str("myMatches", "edges", 0, "node", "id") != matchID || r.str("myMatches", "edges", 0, "node", "message") != "Would you mentor me?" {
		t.Fatalf("mentor's pending matches: %s", r.raw)
	}
	r = e.do(otherMentorTok, `mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { userErrors { code } } }`, map[string]any{"id": matchID})
	if r.str("acceptMatch", "userErrors", 0, "code") != "NOT_REQUESTED_MENTOR" {
		t.Fatalf("another mentor accepts: %s", r.raw)
	}
	r = e.ok(mentorTok, `mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { `+matchFields+` } userErrors { code } } }`, map[string]any{"id": matchID})
	if r.str("acceptMatch", "match", "status") != "ACTIVE" || r.str("acceptMatch", "match", "mentee", "contact", "email") != "ada@example.org" {
		t.Fatalf("accept: %s", r.raw)
	}
	if got := sub.next("mine"); got["myMatchUpdates"].(map[string]any)["match"].(map[string]any)["status"] != "ACTIVE" {
		t.Fatalf("subscription after accept: %v", got)
	}
	// The mentor listens to their matches too.
	mentorSub := e.dial(mentorTok)
	mentorSub.subscribe("mentor", `subscription { myMatchUpdates { type } }`, nil)
	e.waitSubscribers(2)
	// Both partners see each other's contact information now.
	r = e.ok(menteeTok, `query($id: ID!) { match(id: $id) { partner { name contact { email phone } } } }`, map[string]any{"id": matchID})
	if r.str("match", "partner", "contact", "email") != "grace@example.org" {
		t.Fatalf("mentee sees partner contact: %s", r.raw)
	}

	// Sessions are private to their author.
	today := e.clock.Now().Format("2006-01-02")
	r = e.ok(menteeTok, `mutation($in: AddSessionInput!) { addSession(input: $in) { session { id notes minutes } userErrors { code } } }`,
		map[string]any{"in": map[string]any{"matchId": matchID, "date": today, "minutes": 90, "notes": "Talked about my licensing exam", "value": 5}})
	sessionID := r.str("addSession", "session", "id")
	if r.str("addSession", "session", "notes") != "Talked about my licensing exam" {
		t.Fatalf("add session: %s", r.raw)
	}
	if got := sub.next("mine"); got["myMatchUpdates"].(map[string]any)["type"] != "SessionLogged" {
		t.Fatalf("the author hears of the session: %v", got)
	}
	r = e.ok(mentorTok, `query($id: ID!, $s: ID!) { match(id: $id) { mySessions { id } } node(id: $s) { id } }`, map[string]any{"id": matchID, "s": sessionID})
	if n := len(r.get("match", "mySessions").([]any)); n != 0 || r.get("node") != nil {
		t.Fatalf("the mentor sees the mentee's session: %s", r.raw)
	}
	r = e.ok(menteeTok, `{ cpdSummary { totalHours byMatch { minutes match { id } } } }`, nil)
	if r.get("cpdSummary", "totalHours") != 1.5 {
		t.Fatalf("CPD: %s", r.raw)
	}

	// Staff end the match with a Graceful Exit requested by the mentee.
	r = e.ok(staffTok, `mutation($in: EndMatchInput!) { endMatch(input: $in) { match { status endReason } userErrors { code } } }`,
		map[string]any{"in": map[string]any{"matchId": matchID, "reason": "GRACEFUL_EXIT", "requestedBy": gid(model.KindMember, mentee.ID), "note": "Not a good fit"}})
	if r.str("endMatch", "match", "status") != "ENDED" {
		t.Fatalf("end: %s", r.raw)
	}
	// The mentor heard nothing of the mentee's session: the end comes next.
	if got := mentorSub.next("mentor"); got["myMatchUpdates"].(map[string]any)["type"] != "MatchEnded" {
		t.Fatalf("the mentor's next update: %v", got)
	}
	r = e.ok(menteeTok, `query($id: ID!) { match(id: $id) { partner { contact { email } } } }`, map[string]any{"id": matchID})
	if r.get("match", "partner", "contact") != nil {
		t.Fatalf("contact still visible after the end: %s", r.raw)
	}

	// The auditor replays the history, without the session's notes.
	r = e.ok(auditorTok, `query($id: ID!) { matchHistory(matchId: $id) { totalCount edges { node { type actorRole data } } } }`, map[string]any{"id": matchID})
	var types []string
	for _, edge := range r.get("matchHistory", "edges").([]any) {
		n := edge.(map[string]any)["node"].(map[string]any)
		types = append(types, n["type"].(string))
		if strings.Contains(n["data"].(string), "licensing exam") {
			t.Fatalf("history shows session notes: %v", n)
		}
	}
	if strings.Join(types, ",") != "MatchRequested,MatchAccepted,SessionLogged,MatchEnded" {
		t.Fatalf("history: %v", types)
	}
	// And the match as of before the acceptance.
	r = e.ok(auditorTok, `query($id: ID!, $at: Position) { match(id: $id, asOf: {position: $at}) { status } }`,
		map[string]any{"id": matchID, "at": "1"})
	if r.get("match") != nil {
		t.Fatalf("the match before it existed: %s", r.raw)
	}
	r = e.ok(auditorTok, `query($id: ID!) { matchHistory(matchId: $id, first: 1) { edges { node { position } } } }`, map[string]any{"id": matchID})
	first := r.str("matchHistory", "edges", 0, "node", "position")
	r = e.ok(auditorTok, `query($id: ID!, $at: Position) { match(id: $id, asOf: {position: $at}) { status mentee { contact { email } } } }`,
		map[string]any{"id": matchID, "at": first})
	if r.str("match", "status") != "PENDING" || r.get("match", "mentee", "contact") != nil {
		t.Fatalf("as of the request: %s", r.raw)
	}
}

// The response window shows as elapsed from day 14, whether or not the
// process manager has recorded it yet.
func TestResponseWindowFollowsTheClock(t *testing.T) {
	e := newEnv(t)
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	r := e.ok(menteeTok, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id responseWindowElapsed daysPending } } }`, map[string]any{"m": gid(model.KindMember, mentor.ID)})
	id := r.str("requestMatch", "match", "id")
	if r.get("requestMatch", "match", "responseWindowElapsed") != false || r.get("requestMatch", "match", "daysPending") != float64(0) {
		t.Fatalf("day 0: %s", r.raw)
	}
	e.clock.Advance(14*24*time.Hour - time.Minute)
	if r := e.ok(menteeTok, `query($id: ID!) { match(id: $id) { responseWindowElapsed daysPending } }`, map[string]any{"id": id}); r.get("match", "responseWindowElapsed") != false || r.get("match", "daysPending") != float64(13) {
		t.Fatalf("just before day 14: %s", r.raw)
	}
	e.clock.Advance(time.Minute)
	if r := e.ok(menteeTok, `query($id: ID!) { match(id: $id) { responseWindowElapsed daysPending } }`, map[string]any{"id": id}); r.get("match", "responseWindowElapsed") != true || r.get("match", "daysPending") != float64(14) {
		t.Fatalf("day 14: %s", r.raw)
	}
	// Now the mentee may ask staff to nudge.
	if r := e.ok(menteeTok, `mutation($id: ID!) { askStaffToNudge(input: {matchId: $id}) { match { nudgeRequested } } }`, map[string]any{"id": id}); r.get("askStaffToNudge", "match", "nudgeRequested") != true {
		t.Fatalf("nudge request: %s", r.raw)
	}
}

// A profile saved with a capacity or switch that the rules refuse writes
// nothing at all, not even the valid profile.
func TestUpdateProfileIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	_, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	profile := func(extra map[string]any) map[string]any {
		in := map[string]any{"name": "Renamed", "biography": "A new biography."}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	for _, tc := range []struct {
		name, token string
		extra       map[string]any
		code, field string
	}{
		{"a mentor's capacity of 0", mentorTok, map[string]any{"capacity": 0}, "INVALID_INPUT", "capacity"},
		{"a mentor's capacity of 999", mentorTok, map[string]any{"capacity": 999, "acceptingRequests": false}, "INVALID_INPUT", "capacity"},
		{"a mentee's capacity", menteeTok, map[string]any{"capacity": 2}, "NOT_A_MENTOR", "capacity"},
		{"a mentee's switch", menteeTok, map[string]any{"acceptingRequests": true}, "NOT_A_MENTOR", "acceptingRequests"},
		{"staff giving a mentee a capacity", staffTok, map[string]any{"memberId": gid(model.KindMember, mentee.ID), "capacity": 2}, "NOT_A_MENTOR", "capacity"},
	} {
		before := e.head()
		r := e.do(tc.token, updateProfile, profile(tc.extra))
		if len(r.Errors) > 0 || r.str("updateProfile", "userErrors", 0, "code") != tc.code || r.str("updateProfile", "userErrors", 0, "field") != tc.field {
			t.Errorf("%s: want %s on %s, got %s", tc.name, tc.code, tc.field, r.raw)
		}
		if after := e.head(); after != before {
			t.Errorf("%s: wrote %d events", tc.name, after-before)
		}
		if name := r.str("updateProfile", "member", "name"); name == "Renamed" {
			t.Errorf("%s: the profile was saved", tc.name)
		}
	}
	// Accepted, all three land together.
	before := e.head()
	r := e.ok(mentorTok, `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { member { name capacity acceptingRequests } } }`,
		profile(map[string]any{"capacity": 3, "acceptingRequests": false}))
	if r.str("updateProfile", "member", "name") != "Renamed" || r.get("updateProfile", "member", "capacity") != float64(3) || r.get("updateProfile", "member", "acceptingRequests") != false {
		t.Fatalf("update: %s", r.raw)
	}
	if after := e.head(); after-before != 3 {
		t.Fatalf("update wrote %d events, want 3", after-before)
	}
}

// Each of the match's parts has its own refusal code for those who do not
// play it.
func TestMatchRolesHaveTheirOwnCodes(t *testing.T) {
	e := newEnv(t)
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, otherMenteeTok := e.user(domain.RoleMentee, "Olive Other")
	_, otherMentorTok := e.user(domain.RoleMentor, "Oscar Other")
	r := e.ok(menteeTok, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } } }`, map[string]any{"m": gid(model.KindMember, mentor.ID)})
	id := r.str("requestMatch", "match", "id")
	e.clock.Advance(15 * 24 * time.Hour)
	for _, tc := range []struct{ name, token, mutation, code string }{
		{"the mentee accepts", menteeTok, "acceptMatch", "NOT_REQUESTED_MENTOR"},
		{"another mentor accepts", otherMentorTok, "acceptMatch", "NOT_REQUESTED_MENTOR"},
		{"another mentor declines", otherMentorTok, "declineMatch", "NOT_REQUESTED_MENTOR"},
		{"the mentor cancels", mentorTok, "cancelMatchRequest", "NOT_REQUESTING_MENTEE"},
		{"another mentee cancels", otherMenteeTok, "cancelMatchRequest", "NOT_REQUESTING_MENTEE"},
		{"the mentor asks for a nudge", mentorTok, "askStaffToNudge", "NOT_REQUESTING_MENTEE"},
	} {
		before := e.head()
		r := e.do(tc.token, `mutation($id: ID!) { `+tc.mutation+`(input: {matchId: $id}) { userErrors { code } } }`, map[string]any{"id": id})
		if got := r.str(tc.mutation, "userErrors", 0, "code"); got != tc.code {
			t.Errorf("%s: got %q, want %s: %s", tc.name, got, tc.code, r.raw)
		}
		if e.head() != before {
			t.Errorf("%s: wrote events", tc.name)
		}
	}
	e.ok(mentorTok, `mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { id } } }`, map[string]any{"id": id})
	today := e.clock.Now().Format("2006-01-02")
	r = e.do(otherMenteeTok, `mutation($id: ID!, $d: Date!) { addSession(input: {matchId: $id, date: $d, minutes: 30}) { userErrors { code } } }`, map[string]any{"id": id, "d": today})
	if got := r.str("addSession", "userErrors", 0, "code"); got != "NOT_A_PARTNER" {
		t.Errorf("another mentee logs a session: %s", r.raw)
	}
}

// A session's length is required (CPD hours count it) and its value, when
// given, is 1 to 5: 0 is refused rather than read as "not rated". The
// date is the only required field.
func TestSessionInputRules(t *testing.T) {
	e := newEnv(t)
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	ctx := context.Background()
	matchID, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, matchID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	mid, today := gid(model.KindMatch, matchID), e.clock.Now().Format("2006-01-02")
	const add = `mutation($in: AddSessionInput!) { addSession(input: $in) { session { id minutes value } userErrors { code field } } }`
	const edit = `mutation($in: EditSessionInput!) { editSession(input: $in) { session { id minutes value } userErrors { code field } } }`
	in := func(extra map[string]any) map[string]any {
		v := map[string]any{"matchId": mid, "date": today}
		for k, x := range extra {
			v[k] = x
		}
		return map[string]any{"in": v}
	}
	for _, tc := range []struct {
		name  string
		extra map[string]any
		field string
	}{
		{"a length of 0", map[string]any{"minutes": 0}, "minutes"},
		{"a negative length", map[string]any{"minutes": -5}, "minutes"},
		{"a length over 600", map[string]any{"minutes": 601}, "minutes"},
		{"a value of 0", map[string]any{"minutes": 30, "value": 0}, "value"},
		{"a value of 6", map[string]any{"minutes": 30, "value": 6}, "value"},
	} {
		before := e.head()
		r := e.do(menteeTok, add, in(tc.extra))
		if len(r.Errors) > 0 || r.str("addSession", "userErrors", 0, "code") != "INVALID_INPUT" || r.str("addSession", "userErrors", 0, "field") != tc.field {
			t.Errorf("%s: %s", tc.name, r.raw)
		}
		if e.head() != before {
			t.Errorf("%s: wrote events", tc.name)
		}
	}
	// The guide: "The only required field is the Session Date." A length
	// left out or null is "not known yet".
	for _, extra := range []map[string]any{nil, {"minutes": nil, "value": 3}} {
		r := e.ok(menteeTok, add, in(extra))
		if r.str("addSession", "session", "id") == "" || r.get("addSession", "session", "minutes") != nil {
			t.Fatalf("a date-only session %v: %s", extra, r.raw)
		}
	}
	// A value left out is "not rated".
	r := e.ok(menteeTok, add, in(map[string]any{"minutes": 45}))
	if r.get("addSession", "session", "minutes") != float64(45) || r.get("addSession", "session", "value") != nil {
		t.Fatalf("a session without a value: %s", r.raw)
	}
	sid := r.str("addSession", "session", "id")
	before := e.head()
	for _, v := range []map[string]any{
		{"sessionId": sid, "date": today, "minutes": 0, "value": 4},
		{"sessionId": sid, "date": today, "minutes": 45, "value": 0},
	} {
		r := e.do(menteeTok, edit, map[string]any{"in": v})
		if r.str("editSession", "userErrors", 0, "code") != "INVALID_INPUT" {
			t.Errorf("edit %v: %s", v, r.raw)
		}
		// A refused edit shows the session as it was, as the schema says.
		if r.str("editSession", "session", "id") != sid || r.get("editSession", "session", "minutes") != float64(45) || r.get("editSession", "session", "value") != nil {
			t.Errorf("edit %v does not show the session as it was: %s", v, r.raw)
		}
	}
	if e.head() != before {
		t.Fatal("refused edits wrote events")
	}
}
