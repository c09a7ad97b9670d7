package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

const storyPassword = "a long and careful passphrase"

// createOperator runs `mentorship users create` with the password on
// standard input.
func createOperator(t *testing.T, dir, role, email string) {
	t.Helper()
	var out strings.Builder
	err := run(context.Background(), []string{"users", "create", "--role", role, "--email", email, "--name", strings.ToUpper(role[:1]) + role[1:] + " Person", "--data-dir", dir},
		func(string) string { return "" }, strings.NewReader(storyPassword+"\n"), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "created "+role) {
		t.Fatalf("users create %s: %v %q", role, err, out.String())
	}
}

type client struct {
	t     *testing.T
	url   string
	token string
}

func (c *client) gql(query string, vars map[string]any) map[string]any {
	c.t.Helper()
	var h http.Header
	if c.token != "" {
		h = http.Header{"Authorization": {"Bearer " + c.token}}
	}
	code, res := postGraphQL(c.t, c.url, query, vars, h)
	if code != 200 || len(res.Errors) > 0 {
		c.t.Fatalf("%d %+v for %s", code, res.Errors, query)
	}
	var data map[string]any
	_ = json.Unmarshal(res.Data, &data)
	if strings.Contains(string(res.Data), `"userErrors":[{`) {
		c.t.Fatalf("userErrors: %s", res.Data)
	}
	return data
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

func (c *client) login(kind, email string) {
	c.t.Helper()
	d := c.gql(`mutation($in: LoginInput!) { login`+kind+`(input: $in) { token userErrors { code } } }`, map[string]any{"in": map[string]any{"email": email, "password": storyPassword}})
	c.token, _ = dig(d, "login"+kind, "token").(string)
	if c.token == "" {
		c.t.Fatalf("login %s: %v", email, d)
	}
}

// The program's whole story against the real server over HTTP and
// WebSocket: register, search, request, the mentor sees the request,
// accept, the subscription receives the change, both see each other's
// contact information, sessions are logged privately, staff end the match
// with Graceful Exit, and the history replays it.
func TestEndToEndStory(t *testing.T) {
	dir := t.TempDir()
	createOperator(t, dir, "staff", "staff@example.org")
	createOperator(t, dir, "auditor", "auditor@example.org")
	ts := startServer(t, dir)

	mentee := &client{t: t, url: ts.URL}
	mentor := &client{t: t, url: ts.URL}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Ada Lovelace", email: "ada@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	menteeID := dig(d, "registerMentee", "viewer", "id").(string)
	d = mentor.gql(`mutation { registerMentor(input: {name: "Grace Hopper", email: "grace@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentor.token = dig(d, "registerMentor", "token").(string)
	mentor.gql(`mutation { updateProfile(input: {name: "Grace Hopper", discipline: "SOFTWARE", biography: "Compilers, naval logistics and leadership.", contact: {email: "grace@example.org", phone: "+1 416 555 0100"}}) { userErrors { code } } }`, nil)
	mentee.gql(`mutation { updateProfile(input: {name: "Ada Lovelace", contact: {email: "ada@example.org"}}) { userErrors { code } } }`, nil)

	d = mentee.gql(`{ searchMentors(input: {words: "compilers leadership", disciplines: ["SOFTWARE"]}) { edges { node { id name contact { email } } } } }`, nil)
	edges := dig(d, "searchMentors", "edges").([]any)
	if len(edges) != 1 || dig(edges[0], "node", "contact") != nil {
		t.Fatalf("search: %v", d)
	}
	mentorID := dig(edges[0], "node", "id").(string)

	// The mentee's dashboard listens over WebSocket.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(m map[string]any) {
		if err := wsjson.Write(ctx, conn, m); err != nil {
			t.Fatal(err)
		}
	}
	next := func() map[string]any {
		for {
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatalf("websocket: %v", err)
			}
			switch m["type"] {
			case "ping":
				send(map[string]any{"type": "pong"})
			case "next":
				return m["payload"].(map[string]any)
			case "connection_ack":
			default:
				t.Fatalf("unexpected message %v", m)
			}
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + mentee.token}})
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { myMatchUpdates { type match { status } } }`}})
	waitSubscribers(t, ts.URL, 1)

	d = mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "Would you mentor me?"}) { match { id status } userErrors { code } } }`, map[string]any{"m": mentorID})
	matchID := dig(d, "requestMatch", "match", "id").(string)
	if got := dig(next(), "data", "myMatchUpdates", "type"); got != "MatchRequested" {
		t.Fatalf("first update: %v", got)
	}
	d = mentor.gql(`{ myMatches(group: PENDING) { edges { node { id message mentee { name } } } } }`, nil)
	if e := dig(d, "myMatches", "edges").([]any); len(e) != 1 || dig(e[0], "node", "id") != matchID {
		t.Fatalf("the mentor does not see the request: %v", d)
	}
	mentor.gql(`mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { status } userErrors { code } } }`, map[string]any{"id": matchID})
	if got := dig(next(), "data", "myMatchUpdates", "match", "status"); got != "ACTIVE" {
		t.Fatalf("the subscription did not hear the accept: %v", got)
	}
	d = mentee.gql(`query($id: ID!) { match(id: $id) { partner { contact { email phone } } } }`, map[string]any{"id": matchID})
	if dig(d, "match", "partner", "contact", "phone") != "+1 416 555 0100" {
		t.Fatalf("mentee does not see the mentor's contact: %v", d)
	}
	d = mentor.gql(`query($id: ID!) { match(id: $id) { partner { contact { email } } } }`, map[string]any{"id": matchID})
	if dig(d, "match", "partner", "contact", "email") != "ada@example.org" {
		t.Fatalf("mentor does not see the mentee's contact: %v", d)
	}

	today := time.Now().UTC().Format("2006-01-02")
	mentee.gql(`mutation($id: ID!, $d: Date!) { addSession(input: {matchId: $id, date: $d, minutes: 60, notes: "my private worries", value: 4}) { session { id } userErrors { code } } }`, map[string]any{"id": matchID, "d": today})
	d = mentor.gql(`{ mySessions { totalCount } }`, nil)
	if dig(d, "mySessions", "totalCount") != float64(0) {
		t.Fatalf("the mentor sees the mentee's session: %v", d)
	}

	staff := &client{t: t, url: ts.URL}
	staff.login("Staff", "staff@example.org")
	staff.gql(`mutation($id: ID!, $by: ID!) { endMatch(input: {matchId: $id, reason: "GRACEFUL_EXIT", requestedBy: $by, note: "Not a good fit"}) { match { status } userErrors { code } } }`, map[string]any{"id": matchID, "by": menteeID})
	d = mentee.gql(`query($id: ID!) { match(id: $id) { status endReason partner { contact { email } } } }`, map[string]any{"id": matchID})
	if dig(d, "match", "status") != "ENDED" || dig(d, "match", "partner", "contact") != nil {
		t.Fatalf("after the Graceful Exit: %v", d)
	}

	auditor := &client{t: t, url: ts.URL}
	auditor.login("Auditor", "auditor@example.org")
	d = auditor.gql(`query($id: ID!) { matchHistory(matchId: $id) { edges { node { type actorRole data } } } }`, map[string]any{"id": matchID})
	var types []string
	for _, e := range dig(d, "matchHistory", "edges").([]any) {
		types = append(types, dig(e, "node", "type").(string))
		if strings.Contains(dig(e, "node", "data").(string), "private worries") {
			t.Fatal("the history shows session notes")
		}
	}
	// The process manager asks both partners to review their profiles
	// once the match ended; it may have done so already.
	got := strings.TrimSuffix(strings.Join(types, " "), " ProfileReviewRequested")
	if got != "MatchRequested MatchAccepted SessionLogged MatchEnded" {
		t.Fatalf("history: %v", types)
	}
}

// GET /audit/export streams the log to auditors and staff only.
func TestAuditExportEndpoint(t *testing.T) {
	dir := t.TempDir()
	createOperator(t, dir, "auditor", "auditor@example.org")
	ts := startServer(t, dir)
	mentee := &client{t: t, url: ts.URL}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	auditor := &client{t: t, url: ts.URL}
	auditor.login("Auditor", "auditor@example.org")

	fetch := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/audit/export?format=ndjson", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := fetch(""); code != http.StatusUnauthorized {
		t.Fatalf("anonymous export: %d", code)
	}
	if code, _ := fetch(mentee.token); code != http.StatusForbidden {
		t.Fatalf("mentee export: %d", code)
	}
	code, body := fetch(auditor.token)
	if code != http.StatusOK || !strings.Contains(body, `"MemberRegistered"`) || strings.Contains(body, storyPassword) {
		t.Fatalf("auditor export: %d %.300s", code, body)
	}
}
