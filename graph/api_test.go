package graph_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

// A page of 50 matches with both partners' profiles costs a constant
// number of read-model calls, not one per match.
func TestPageOfMatchesBatchesMemberReads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mentor, mentorTok := e.user(domain.RoleMentor, "Busy Mentor")
	if _, err := e.svc.SetMentorCapacity(ctx, command.Request{Actor: mentor}, mentor.ID, 10); err != nil {
		t.Fatal(err)
	}
	var last command.Result
	for i := range 50 {
		mentee, _ := e.user(domain.RoleMentee, fmt.Sprint("Mentee ", i))
		id, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		last = res
		if i%2 == 0 {
			// Decline half, so the mentor has 50 matches in all.
			if last, err = e.svc.DeclineMatch(ctx, command.Request{Actor: mentor}, id, "", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.runner.WaitForDefault(ctx, last.Position); err != nil {
		t.Fatal(err)
	}
	e.members.calls.Store(0)
	r := e.ok(mentorTok, `{ myMatches(first: 50) { edges { node { id mentee { name location { city } } mentor { name } partner { name } } } } }`, nil)
	if n := len(r.get("myMatches", "edges").([]any)); n != 50 {
		t.Fatalf("%d matches on the page, want 50", n)
	}
	if calls := e.members.calls.Load(); calls > 3 {
		t.Fatalf("a page of 50 matches cost %d member reads, want at most 3", calls)
	}
}

// A dashboard that disconnects and reconnects with since receives exactly
// the match events it missed, then live ones.
func TestMatchEventsResumeWithoutGaps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	mentor, _ := e.user(domain.RoleMentor, "Mentor")
	if _, err := e.svc.SetMentorCapacity(ctx, command.Request{Actor: mentor}, mentor.ID, 10); err != nil {
		t.Fatal(err)
	}
	request := func() uuid.UUID {
		mentee, _ := e.user(domain.RoleMentee, "Mentee")
		id, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	const q = `subscription($since: Position) { matchEvents(since: $since) { position type matchId status } }`
	c := e.dial(staffTok)
	c.subscribe("1", q, map[string]any{"since": "0"})
	first := request()
	got := c.next("1")["matchEvents"].(map[string]any)
	if got["matchId"] != gid(model.KindMatch, first) || got["status"] != "PENDING" {
		t.Fatalf("first event: %v", got)
	}
	seen := got["position"].(string)
	c.conn.CloseNow()

	// While disconnected: three requests and an accept.
	missed := []uuid.UUID{request(), request(), request()}
	if _, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, missed[0]); err != nil {
		t.Fatal(err)
	}
	c2 := e.dial(staffTok)
	c2.subscribe("2", q, map[string]any{"since": seen})
	want := []string{
		gid(model.KindMatch, missed[0]) + " PENDING", gid(model.KindMatch, missed[1]) + " PENDING",
		gid(model.KindMatch, missed[2]) + " PENDING", gid(model.KindMatch, missed[0]) + " ACTIVE",
	}
	for i, w := range want {
		ev := c2.next("2")["matchEvents"].(map[string]any)
		if got := ev["matchId"].(string) + " " + ev["status"].(string); got != w {
			t.Fatalf("event %d after reconnecting: %s, want %s", i, got, w)
		}
	}
	live := request()
	ev := c2.next("2")["matchEvents"].(map[string]any)
	if ev["matchId"] != gid(model.KindMatch, live) {
		t.Fatalf("live event: %v", ev)
	}
}

// Bad input gets a clear error and writes nothing.
func TestBadInputWritesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	matchID, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	deepQuery := `query($m: ID!) { match(id: $m) { id } }`
	for range 6 {
		deepQuery = strings.Replace(deepQuery, "{ id }", "{ mySessions { match { id } } }", 1)
	}
	aliases := "{ "
	for i := range 31 {
		aliases += fmt.Sprintf("a%d: programOptions { termMonths } ", i)
	}
	aliases += "}"
	cases := []struct {
		name  string
		query string
		vars  map[string]any
		code  string // a GraphQL error code, or a userError code prefixed with "user:"
	}{
		{"unknown match", `mutation($id: ID!) { cancelMatchRequest(input: {matchId: $id}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMatch, uuid.New())}, "user:MATCH_NOT_FOUND"},
		{"ID of the wrong type", `mutation($id: ID!) { cancelMatchRequest(input: {matchId: $id}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMember, mentor.ID)}, "BAD_USER_INPUT"},
		{"malformed ID", `mutation { cancelMatchRequest(input: {matchId: "not an id"}) { userErrors { code } } }`, nil, "BAD_USER_INPUT"},
		{"mentor ID of the wrong type", `mutation($id: ID!) { requestMatch(input: {mentorId: $id}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMatch, matchID)}, "BAD_USER_INPUT"},
		{"oversized message", `mutation($id: ID!, $msg: String) { requestMatch(input: {mentorId: $id, message: $msg}) { userErrors { code field } } }`, map[string]any{"id": gid(model.KindMember, mentor.ID), "msg": strings.Repeat("x", 5000)}, "user:INVALID_INPUT"},
		{"oversized name", `mutation($n: String!) { updateProfile(input: {name: $n}) { userErrors { code field } } }`, map[string]any{"n": strings.Repeat("n", 1000)}, "user:INVALID_INPUT"},
		{"four search words", `{ searchMentors(input: {words: "one two three four"}) { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"malformed date", `mutation($id: ID!) { addSession(input: {matchId: $id, date: "06/04/2026"}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMatch, matchID)}, "BAD_USER_INPUT"},
		{"impossible date", `mutation($id: ID!) { addSession(input: {matchId: $id, date: "2026-02-30"}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMatch, matchID)}, "BAD_USER_INPUT"},
		{"bad cursor", `{ myMatches(after: "zzz") { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"negative page size", `{ myMatches(first: -1) { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"page too large", `{ myMatches(first: 1000) { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"page too large to afford", `{ myMatches(first: 1000) { edges { node { id } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"null page size counts as the largest", `{ matchHistory(matchId: "` + gid(model.KindMatch, matchID) + `", first: null) { edges { node { type occurredAt actorId } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"too deep", deepQuery, map[string]any{"m": gid(model.KindMatch, matchID)}, "BAD_USER_INPUT"},
		{"too many aliases", aliases, nil, "BAD_USER_INPUT"},
		{"too complex", `{ myMatches(first: 100) { edges { node { mentee { skills { skill } languages focus } mentor { skills { skill } } mySessions { id notes } documents { id } } } } a: searchMentors(first: 100) { edges { node { skills { skill } } } } b: searchMentors(first: 100) { edges { node { skills { skill } } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED"},
	}
	for _, tc := range cases {
		before := e.head()
		r := e.do(menteeTok, tc.query, tc.vars)
		if user, ok := strings.CutPrefix(tc.code, "user:"); ok {
			if !strings.Contains(string(r.raw), `"code":"`+user+`"`) {
				t.Errorf("%s: want userError %s, got %s", tc.name, user, r.raw)
			}
		} else if r.code() != tc.code {
			t.Errorf("%s: want %s, got %s", tc.name, tc.code, truncate(r.raw))
		} else if r.Errors[0].Message == "" || strings.Contains(r.Errors[0].Message, "internal") {
			t.Errorf("%s: unclear message %q", tc.name, r.Errors[0].Message)
		}
		if after := e.head(); after != before {
			t.Errorf("%s: wrote %d events", tc.name, after-before)
		}
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// Mutations never run over GET, where a link or an image could trigger them.
func TestNoMutationOverGET(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleStaff, "Sam Staff")
	before := e.head()
	q := url.Values{"query": {`mutation { publishResource(input: {title: "t", url: "https://example.org", audience: BOTH}) { userErrors { code } } }`}}
	req, _ := http.NewRequest(http.MethodGet, e.url+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusOK && !strings.Contains(string(body), "errors") {
		t.Fatalf("a mutation ran over GET: %d %s", res.StatusCode, body)
	}
	if e.head() != before {
		t.Fatal("a mutation over GET wrote events")
	}
	// Queries over GET work.
	q = url.Values{"query": {`{ programOptions { termMonths } }`}}
	res, err = http.Get(e.url + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"termMonths":12`) {
		t.Fatalf("query over GET: %s", body)
	}
}

func TestBadTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	r := e.do("forged-token", `{ viewer { role } }`, nil)
	if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
		t.Fatalf("forged token: %d %s", r.Status, r.raw)
	}
}
