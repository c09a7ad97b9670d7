package graph_test

import (
	"context"
	"encoding/base64"
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

// Bad input gets a clear error and writes nothing: the limits refuse a
// mutation before any of it runs, values that cannot be read are the
// client's error (never INTERNAL), and unknown IDs read as nothing.
func TestBadInputWritesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	matchID, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	// Each refused mutation below would write if it ran: the mentee cancels
	// her pending request or renames herself.
	nested := "id"
	for range 6 {
		nested = "mySessions { match { " + nested + " } }"
	}
	deepQuery := `query($m: ID!) { match(id: $m) { ` + nested + ` } }`
	deepMutation := `mutation($m: ID!) { cancelMatchRequest(input: {matchId: $m}) { match { ` + nested + ` } } }`
	aliases, aliasedMutations := "{ ", "mutation { "
	for i := range 31 {
		aliases += fmt.Sprintf("a%d: programOptions { termMonths } ", i)
		aliasedMutations += fmt.Sprintf(`a%d: updateProfile(input: {name: "Name %d"}) { userErrors { code } } `, i, i)
	}
	aliases += "}"
	aliasedMutations += "}"
	// 30 cancellations, each selecting 42 objects: 1260, over 1000 with
	// 29 aliases and 8 deep.
	complexMutation := `mutation($m: ID!) { `
	for i := range 30 {
		complexMutation += fmt.Sprintf(`a%d: cancelMatchRequest(input: {matchId: $m}) { match { ...M } } `, i)
	}
	complexMutation = strings.Replace(complexMutation, "a0: ", "", 1) + `}
		fragment Mem on Member { location { city } skills { skill } preferences { partner { notes } } contact { email } }
		fragment M on Match { mentee { ...Mem } mentor { ...Mem } partner { ...Mem } documents { uploadedBy { ...Mem } } emails { id } mySessions { match { mentee { ...Mem } mentor { ...Mem } } } }`
	manyTokens := `mutation { updateProfile(input: {name: "Renamed", languages: [` + strings.Repeat(`"English" `, 5000) + `]}) { userErrors { code } } }`
	unknownMatch := gid(model.KindMatch, uuid.New())
	m := map[string]any{"m": gid(model.KindMatch, matchID)}
	cases := []struct {
		name  string
		staff bool // sent by staff rather than the mentee
		query string
		vars  map[string]any
		// A GraphQL error code; a userError code prefixed with "user:";
		// or, prefixed with "null:" or "empty:", a path of the data that
		// must be null or an empty list, without errors.
		code string
	}{
		{"unknown match", false, `mutation($id: ID!) { cancelMatchRequest(input: {matchId: $id}) { userErrors { code } } }`, map[string]any{"id": unknownMatch}, "user:MATCH_NOT_FOUND"},
		{"ID of the wrong type", false, `mutation($id: ID!) { cancelMatchRequest(input: {matchId: $id}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMember, mentor.ID)}, "BAD_USER_INPUT"},
		{"malformed ID", false, `mutation { cancelMatchRequest(input: {matchId: "not an id"}) { userErrors { code } } }`, nil, "BAD_USER_INPUT"},
		{"mentor ID of the wrong type", false, `mutation($id: ID!) { requestMatch(input: {mentorId: $id}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMatch, matchID)}, "BAD_USER_INPUT"},
		{"oversized message", false, `mutation($id: ID!, $msg: String) { requestMatch(input: {mentorId: $id, message: $msg}) { userErrors { code field } } }`, map[string]any{"id": gid(model.KindMember, mentor.ID), "msg": strings.Repeat("x", 5000)}, "user:INVALID_INPUT"},
		{"oversized name", false, `mutation($n: String!) { updateProfile(input: {name: $n}) { userErrors { code field } } }`, map[string]any{"n": strings.Repeat("n", 1000)}, "user:INVALID_INPUT"},
		{"four search words", false, `{ searchMentors(input: {words: "one two three four"}) { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"malformed date", false, `mutation($id: ID!) { addSession(input: {matchId: $id, date: "06/04/2026"}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMatch, matchID)}, "BAD_USER_INPUT"},
		{"impossible date", false, `mutation($id: ID!) { addSession(input: {matchId: $id, date: "2026-02-30"}) { userErrors { code } } }`, map[string]any{"id": gid(model.KindMatch, matchID)}, "BAD_USER_INPUT"},
		{"bad cursor", false, `{ myMatches(after: "zzz") { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"negative page size", false, `{ myMatches(first: -1) { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"page too large", false, `{ myMatches(first: 1000) { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"page too large to afford", false, `{ myMatches(first: 1000) { edges { node { id } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"null page size counts as the largest", false, `{ matchHistory(matchId: "` + gid(model.KindMatch, matchID) + `", first: null) { edges { node { type occurredAt actorId } } } myMatches(first: null) { edges { node { id } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"too deep", false, deepQuery, m, "BAD_USER_INPUT"},
		{"too deep mutation", false, deepMutation, m, "BAD_USER_INPUT"},
		{"too many aliases", false, aliases, nil, "BAD_USER_INPUT"},
		{"too many aliased mutations", false, aliasedMutations, nil, "BAD_USER_INPUT"},
		{"too complex", false, `{ myMatches(first: 100) { edges { node { mentee { skills { skill } languages focus } mentor { skills { skill } } mySessions { id notes } documents { id } } } } a: searchMentors(first: 100) { edges { node { skills { skill } } } } b: searchMentors(first: 100) { edges { node { skills { skill } } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"too complex mutation", false, complexMutation, m, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"too many tokens in a mutation", false, manyTokens, nil, "BAD_USER_INPUT"},
		{"position not a number", false, `query($m: ID!) { match(id: $m, asOf: {position: "latest"}) { id } }`, m, "BAD_USER_INPUT"},
		{"negative position", false, `query($m: ID!) { match(id: $m, asOf: {position: -1}) { id } }`, m, "BAD_USER_INPUT"},
		{"position variable not a number", false, `query($m: ID!, $p: Position) { match(id: $m, asOf: {position: $p}) { id } }`, map[string]any{"m": m["m"], "p": "1e3"}, "BAD_USER_INPUT"},
		{"position past 2^64", false, `query($m: ID!) { match(id: $m, asOf: {position: "18446744073709551616"}) { id } }`, m, "BAD_USER_INPUT"},
		{"both a time and a position", false, `query($m: ID!) { match(id: $m, asOf: {position: "1", time: "2026-04-01T00:00:00Z"}) { id } }`, m, "BAD_USER_INPUT"},
		{"a known match as of position 0, before anything", false, `query($m: ID!) { match(id: $m, asOf: {position: "0"}) { id } }`, m, "null:match"},
		{"a known match as of the zero time, before anything", false, `query($m: ID!) { match(id: $m, asOf: {time: "0001-01-01T00:00:00Z"}) { id } }`, m, "null:match"},
		{"a known match as of the zero time in a variable", false, `query($m: ID!, $t: Time) { match(id: $m, asOf: {time: $t}) { id } }`, map[string]any{"m": m["m"], "t": "0001-01-01T00:00:00Z"}, "null:match"},
		{"time not RFC 3339", false, `query($m: ID!) { match(id: $m, asOf: {time: "yesterday"}) { id } }`, m, "BAD_USER_INPUT"},
		{"impossible time variable", false, `query($m: ID!, $t: Time) { match(id: $m, asOf: {time: $t}) { id } }`, map[string]any{"m": m["m"], "t": "2026-13-01T00:00:00Z"}, "BAD_USER_INPUT"},
		{"unknown match by ID", false, `query($id: ID!) { match(id: $id) { id } }`, map[string]any{"id": unknownMatch}, "null:match"},
		{"unknown match as of a position", false, `query($id: ID!) { match(id: $id, asOf: {position: "1"}) { id } }`, map[string]any{"id": unknownMatch}, "null:match"},
		{"unknown match as of a time", false, `query($id: ID!) { match(id: $id, asOf: {time: "2026-04-01T00:00:00Z"}) { id } }`, map[string]any{"id": unknownMatch}, "null:match"},
		{"unknown match node", false, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": unknownMatch}, "null:node"},
		{"unknown member node", false, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gid(model.KindMember, uuid.New())}, "null:node"},
		{"unknown session node", false, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gid(model.KindSession, uuid.New())}, "null:node"},
		{"unknown resource node", false, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gid(model.KindResource, uuid.New())}, "null:node"},
		{"unknown document node", false, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gid(model.KindDocument, uuid.New())}, "null:node"},
		{"node of an unknown kind", false, `{ node(id: "` + base64.RawURLEncoding.EncodeToString([]byte("Nothing:"+uuid.NewString())) + `") { id } }`, nil, "BAD_USER_INPUT"},
		{"unknown mentor", false, `query($id: ID!) { mentor(id: $id) { id } }`, map[string]any{"id": gid(model.KindMember, uuid.New())}, "null:mentor"},
		{"a mentee as a mentor", false, `query($id: ID!) { mentor(id: $id) { id } }`, map[string]any{"id": gid(model.KindMember, mentee.ID)}, "null:mentor"},
		{"sessions of an unknown match", false, `query($id: ID) { mySessions(matchId: $id) { edges { cursor } } }`, map[string]any{"id": unknownMatch}, "empty:mySessions.edges"},
		{"history of an unknown match", true, `query($id: ID!) { matchHistory(matchId: $id) { totalCount } }`, map[string]any{"id": unknownMatch}, "NOT_FOUND"},
	}
	for _, tc := range cases {
		before := e.head()
		tok := menteeTok
		if tc.staff {
			tok = staffTok
		}
		r := e.do(tok, tc.query, tc.vars)
		kind, arg, _ := strings.Cut(tc.code, ":")
		switch kind {
		case "user":
			if !strings.Contains(string(r.raw), `"code":"`+arg+`"`) {
				t.Errorf("%s: want userError %s, got %s", tc.name, arg, r.raw)
			}
		case "null", "empty":
			var path []any
			for p := range strings.SplitSeq(arg, ".") {
				path = append(path, p)
			}
			v := r.get(path...)
			if l, ok := v.([]any); len(r.Errors) > 0 || (kind == "null" && v != nil) || (kind == "empty" && (!ok || len(l) > 0)) {
				t.Errorf("%s: want %s at %s, got %s", tc.name, kind, arg, truncate(r.raw))
			}
		default:
			if r.code() != tc.code {
				t.Errorf("%s: want %s, got %s", tc.name, tc.code, truncate(r.raw))
			} else if r.Errors[0].Message == "" || strings.Contains(r.Errors[0].Message, "internal") {
				t.Errorf("%s: unclear message %q", tc.name, r.Errors[0].Message)
			}
		}
		if after := e.head(); after != before {
			t.Errorf("%s: wrote %d events", tc.name, after-before)
		}
	}

	// Subscriptions: a position that cannot be read, and an unknown match.
	c := e.dial(staffTok)
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		code        string
	}{
		{"since not a number", `subscription { matchEvents(since: "latest") { type } }`, nil, "BAD_USER_INPUT"},
		{"since variable negative", `subscription($p: Position) { matchEvents(since: $p) { type } }`, map[string]any{"p": -5}, "BAD_USER_INPUT"},
		{"updates of an unknown match", `subscription($id: ID!) { matchUpdated(matchId: $id) { type } }`, map[string]any{"id": unknownMatch}, "NOT_FOUND"},
	} {
		c.subscribe(tc.name, tc.query, tc.vars)
		msg := c.read()
		for msg["id"] != tc.name || msg["type"] == "complete" {
			msg = c.read()
		}
		if !strings.Contains(fmt.Sprint(msg["payload"]), "code:"+tc.code) {
			t.Errorf("subscription %s: want %s, got %v", tc.name, tc.code, msg)
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
