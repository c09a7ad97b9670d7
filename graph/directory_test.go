package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
)

// Staff find members by name or email words, role, discipline, province
// and where they stand, page by page, with their matches.
func TestMemberDirectory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	mia, miaTok := e.user(domain.RoleMentee, "Mia Mentee")
	noor, _ := e.user(domain.RoleMentee, "Noor Newcomer")
	ola, _ := e.user(domain.RoleMentee, "Ola Waiting")
	max, maxTok := e.user(domain.RoleMentor, "Max Mentor")
	grace, graceTok := e.user(domain.RoleMentor, "Grace Hopper")
	e.ok(maxTok, `mutation { updateProfile(input: {discipline: "CIVIL", location: {province: "AB"}}) { userErrors { code } } }`, nil)
	e.ok(graceTok, `mutation { updateProfile(input: {discipline: "SOFTWARE", location: {province: "BC"}}) { userErrors { code } } }`, nil)
	e.ok(miaTok, `mutation { updateProfile(input: {discipline: "CIVIL", location: {province: "AB"}}) { userErrors { code } } }`, nil)
	// Mia is matched with Max; Ola has waited 20 days for Grace, Noor
	// nothing.
	id, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mia}, max.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AcceptMatch(ctx, command.Request{Actor: max}, id); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	e.clock.Set(now.Add(-20 * 24 * time.Hour))
	_, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: ola}, grace.ID, "")
	e.clock.Set(now)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	_ = noor
	const q = `query($f: MemberFilter, $first: Int = 10, $after: String) { memberDirectory(filter: $f, first: $first, after: $after) {
	  totalCount edges { cursor node { name role matches(first: 2) { totalCount edges { node { status } } } } } pageInfo { hasNextPage endCursor } } }`
	names := func(f map[string]any) []string {
		t.Helper()
		r := e.ok(staffTok, q, map[string]any{"f": f})
		var out []string
		for _, edge := range r.get("memberDirectory", "edges").([]any) {
			out = append(out, edge.(map[string]any)["node"].(map[string]any)["name"].(string))
		}
		return out
	}
	for _, tc := range []struct {
		filter map[string]any
		want   []string
	}{
		{nil, []string{"Grace Hopper", "Max Mentor", "Mia Mentee", "Noor Newcomer", "Ola Waiting"}},
		{map[string]any{"words": "gra hop"}, []string{"Grace Hopper"}},
		{map[string]any{"words": "MIA"}, []string{"Mia Mentee"}},
		{map[string]any{"words": "noor-"}, []string{"Noor Newcomer"}}, // the login email's first word
		{map[string]any{"words": "example"}, []string{"Grace Hopper", "Max Mentor", "Mia Mentee", "Noor Newcomer", "Ola Waiting"}},
		{map[string]any{"roles": []any{"MENTOR"}}, []string{"Grace Hopper", "Max Mentor"}},
		{map[string]any{"disciplines": []any{"CIVIL"}}, []string{"Max Mentor", "Mia Mentee"}},
		{map[string]any{"provinces": []any{"BC"}, "roles": []any{"MENTOR"}}, []string{"Grace Hopper"}},
		{map[string]any{"status": "ACTIVE_MATCH"}, []string{"Max Mentor", "Mia Mentee"}},
		{map[string]any{"status": "PENDING_REQUEST"}, []string{"Grace Hopper", "Ola Waiting"}},
		{map[string]any{"status": "PENDING_OLDER_THAN"}, []string{"Grace Hopper", "Ola Waiting"}},
		{map[string]any{"status": "PENDING_OLDER_THAN", "pendingOlderThanDays": 21}, nil},
		{map[string]any{"status": "NO_MATCH"}, []string{"Noor Newcomer"}},
		{map[string]any{"words": "nobody"}, nil},
	} {
		if diff := cmp.Diff(tc.want, names(tc.filter)); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.filter, diff)
		}
	}
	// Their matches come with them.
	r := e.ok(staffTok, q, map[string]any{"f": map[string]any{"words": "mia"}})
	if r.get("memberDirectory", "edges", 0, "node", "matches", "edges", 0, "node", "status") != "ACTIVE" {
		t.Fatalf("matches: %s", r.raw)
	}
	// Pages follow one another without repeats.
	var seen []string
	var after any
	for {
		r := e.ok(staffTok, q, map[string]any{"first": 2, "after": after})
		for _, edge := range r.get("memberDirectory", "edges").([]any) {
			seen = append(seen, edge.(map[string]any)["node"].(map[string]any)["name"].(string))
		}
		if r.get("memberDirectory", "pageInfo", "hasNextPage") != true {
			break
		}
		after = r.get("memberDirectory", "pageInfo", "endCursor")
	}
	if diff := cmp.Diff([]string{"Grace Hopper", "Max Mentor", "Mia Mentee", "Noor Newcomer", "Ola Waiting"}, seen); diff != "" {
		t.Fatalf("pages (-want +got):\n%s", diff)
	}
	// Bad filters are refused with a reason.
	for _, f := range []map[string]any{
		{"pendingOlderThanDays": 3},
		{"status": "PENDING_OLDER_THAN", "pendingOlderThanDays": -1},
		{"words": "a\u0000b"},
		{"roles": []any{"STAFF"}},
		{"words": "a b c d e f g h i j k"},
		{"words": strings.Repeat("a-", 150)},
	} {
		if r := e.do(staffTok, q, map[string]any{"f": f}); r.code() != "BAD_USER_INPUT" {
			t.Errorf("%v: %s", f, r.raw)
		}
	}
	// Another member's matches are for staff only.
	if r := e.ok(miaTok, `query($id: ID!) { mentor(id: $id) { name matches { totalCount } } }`, map[string]any{"id": gid("Member", max.ID)}); r.get("mentor", "matches") != nil || r.str("mentor", "name") != "Max Mentor" {
		t.Fatalf("a mentee reading a mentor's matches: %s", r.raw)
	}
}

// Recommended mentors: those who accept requests and have room, scored by
// reasons a member can read, the best first.
func TestRecommendedMentors(t *testing.T) {
	e := newEnv(t)
	_, miaTok := e.user(domain.RoleMentee, "Mia Mentee")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	mentor := func(name, profile string) string {
		_, tok := e.user(domain.RoleMentor, name)
		e.ok(tok, `mutation { updateProfile(input: `+profile+`) { userErrors { code } } }`, nil)
		return tok
	}
	mentor("Ann Close", `{discipline: "CIVIL", focus: ["LEADERSHIP"], skills: [{skill: "COMMUNICATION", rating: 5}], location: {province: "AB"}, preferences: {meetingFormats: ["VIDEO"]}, languages: ["en"], yearsOfExperience: 20}`)
	mentor("Ben Partial", `{discipline: "SOFTWARE", focus: ["LEADERSHIP"]}`)
	mentor("Cy Nothing", `{discipline: "MINING"}`)
	mentor("Dee Full", `{discipline: "CIVIL", focus: ["LEADERSHIP"], acceptingRequests: false}`)
	e.ok(miaTok, `mutation { updateProfile(input: {discipline: "CIVIL", focus: ["LEADERSHIP", "CAREER_DEVELOPMENT"], skills: [{skill: "COMMUNICATION", rating: 1}],
		location: {province: "AB"}, languages: ["en"], preferences: {meetingFormats: ["VIDEO", "PHONE"], partner: {minYearsOfExperience: 10}}}) { userErrors { code } } }`, nil)
	const q = `query($id: ID) { recommendedMentors(menteeId: $id, first: 10) { score mentor { name } reasons { kind points values text } } }`
	r := e.ok(miaTok, q, nil)
	got := r.get("recommendedMentors").([]any)
	var order []string
	for _, rec := range got {
		order = append(order, rec.(map[string]any)["mentor"].(map[string]any)["name"].(string))
	}
	// Dee does not accept requests; Cy shares nothing but is still open.
	if diff := cmp.Diff([]string{"Ann Close", "Ben Partial", "Cy Nothing"}, order); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
	ann := got[0].(map[string]any)
	// 3 discipline + 2 focus + 2 skill + 1 province + 1 video + 1 English + 1 experience.
	if ann["score"] != float64(11) {
		t.Fatalf("Ann's score: %v", ann)
	}
	var sum float64
	kinds := map[string]bool{}
	for _, why := range ann["reasons"].([]any) {
		w := why.(map[string]any)
		sum += w["points"].(float64)
		kinds[w["kind"].(string)] = true
	}
	if sum != ann["score"] {
		t.Fatalf("the reasons do not add up to the score: %v", ann)
	}
	for _, k := range []string{"SAME_DISCIPLINE", "SHARED_FOCUS", "SKILL_TO_GROW", "SAME_PROVINCE", "MEETING_FORMAT", "LANGUAGE", "EXPERIENCE"} {
		if !kinds[k] {
			t.Errorf("Ann lacks the reason %s: %v", k, ann["reasons"])
		}
	}
	if first := ann["reasons"].([]any)[0].(map[string]any); first["text"] != "both in civil" {
		t.Errorf("the largest reason first, in words: %v", first)
	}
	// Staff ask for a mentee; mentors and other members' IDs are refused.
	miaID := gid("Member", e.tokens.actor(miaTok).ID)
	if r := e.ok(staffTok, q, map[string]any{"id": miaID}); len(r.get("recommendedMentors").([]any)) != 3 {
		t.Fatalf("staff: %s", r.raw)
	}
	if r := e.do(staffTok, q, nil); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("staff without a mentee: %s", r.raw)
	}
	_, otherTok := e.user(domain.RoleMentee, "Other Mentee")
	if r := e.do(otherTok, q, map[string]any{"id": miaID}); r.code() != "FORBIDDEN" {
		t.Fatalf("another mentee's recommendations: %s", r.raw)
	}
}

// A directory cursor names the member it follows: a member who joins
// before it does not repeat the page's last member, and names sort and
// match as people read them, without regard to accents.
func TestMemberDirectoryCursorsAndNames(t *testing.T) {
	e := newEnv(t)
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	for _, name := range []string{"Bea Brown", "Étienne Côté", "Dan Day", "Yuki Nakamura", "Carl Cole"} {
		e.user(domain.RoleMentee, name)
	}
	const q = `query($w: String, $first: Int, $after: String) { memberDirectory(filter: {words: $w}, first: $first, after: $after) {
	  edges { node { name } } pageInfo { hasNextPage endCursor } } }`
	names := func(r response) []string {
		var out []string
		for _, edge := range r.get("memberDirectory", "edges").([]any) {
			out = append(out, edge.(map[string]any)["node"].(map[string]any)["name"].(string))
		}
		return out
	}
	r := e.ok(staffTok, q, map[string]any{"first": 2})
	if diff := cmp.Diff([]string{"Bea Brown", "Carl Cole"}, names(r)); diff != "" {
		t.Fatalf("first page (-want +got):\n%s", diff)
	}
	e.user(domain.RoleMentee, "Aaron Aardvark")
	r = e.ok(staffTok, q, map[string]any{"first": 10, "after": r.get("memberDirectory", "pageInfo", "endCursor")})
	if diff := cmp.Diff([]string{"Dan Day", "Étienne Côté", "Yuki Nakamura"}, names(r)); diff != "" {
		t.Fatalf("the next page after a member joined (-want +got):\n%s", diff)
	}
	for _, w := range []string{"cote", "côte", "Côté", "etienne"} {
		if got := names(e.ok(staffTok, q, map[string]any{"w": w})); !cmp.Equal(got, []string{"Étienne Côté"}) {
			t.Errorf("%q finds %v", w, got)
		}
	}
	for _, c := range []string{"MA", "bm90IGEgY3Vyc29y", "!"} {
		if r := e.do(staffTok, q, map[string]any{"after": c}); r.code() != "BAD_USER_INPUT" {
			t.Errorf("cursor %q: %s", c, r.raw)
		}
	}
}
