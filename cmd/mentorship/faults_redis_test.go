package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/mentorship/mentorship/internal/redistest"
)

// outcome is how the server answered one mutation.
type outcome struct {
	acked     bool   // answered without an error
	sessionID string // the new session, when the answer could show it
	code      string // the error code otherwise
	message   string
}

// addSession logs a session and reports the answer without failing the
// test, which decides what answers are acceptable; it runs beside the
// test's goroutine, so it reports a failed request rather than stopping.
func addSession(url, token, matchID string) outcome {
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($id: ID!, $d: Date!) { addSession(input: {matchId: $id, date: $d, minutes: 30, value: 4}) { session { id } userErrors { code message } } }`,
		"variables": map[string]any{"id": matchID, "d": time.Now().UTC().Format("2006-01-02")},
	})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return outcome{code: "NO ANSWER", message: err.Error()}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return outcome{code: "HTTP " + strconv.Itoa(res.StatusCode), message: string(raw)}
	}
	if len(out.Errors) > 0 {
		code, _ := out.Errors[0].Extensions["code"].(string)
		return outcome{code: code, message: out.Errors[0].Message}
	}
	var data map[string]any
	_ = json.Unmarshal(out.Data, &data)
	if ue, _ := dig(data, "addSession", "userErrors").([]any); len(ue) > 0 {
		return outcome{code: "USER_ERROR", message: string(out.Data)}
	}
	id, _ := dig(data, "addSession", "session", "id").(string)
	return outcome{acked: true, sessionID: id}
}

// Redis goes away in the middle of a stream of mutations and comes back
// on its own. Every mutation the server acknowledged is in the read models
// afterwards, and no change was saved behind an error; while Redis is
// gone, every failure of a read, a mutation, a sign-up or a sign-in is
// UNAVAILABLE (the client's cue to retry), never INTERNAL nor
// UNAUTHENTICATED; and once Redis answers again the server serves reads,
// writes and sign-ins without being restarted.
func TestRedisGoesAwayAndComesBack(t *testing.T) {
	rs := redistest.StartProcess(t)
	ts := startServer(t, "", "--redis-url", rs.URL(), "--redis-prefix", "faults")
	mentee, mentor, mentorID := signUpPair(t, ts.URL)
	d := mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } userErrors { code } } }`, map[string]any{"m": mentorID})
	matchID := dig(d, "requestMatch", "match", "id").(string)
	mentor.gql(`mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { status } userErrors { code } } }`, map[string]any{"id": matchID})

	// The mentee's dashboard listens to the match over WebSocket from
	// before Redis goes until after it is back, recording the position of
	// each session it hears of (sessions are told to their author only).
	heard := listenForSessions(t, ts.URL, mentee.token, matchID)

	// The mentee logs sessions one after another, from before Redis goes
	// until after it is back.
	var (
		mu       sync.Mutex
		outcomes []outcome
	)
	count := func() (acked, failed int) {
		mu.Lock()
		defer mu.Unlock()
		for _, o := range outcomes {
			if o.acked {
				acked++
			} else {
				failed++
			}
		}
		return acked, failed
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			o := addSession(ts.URL, mentee.token, matchID)
			mu.Lock()
			outcomes = append(outcomes, o)
			mu.Unlock()
		}
	}()
	waitUntil := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) {
				close(stop)
				<-done
				t.Fatalf("%s within %s; answers so far: %+v", what, limit, outcomes)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitUntil("5 sessions acknowledged with Redis up", 30*time.Second, func() bool { a, _ := count(); return a >= 5 })
	rs.Kill()
	waitUntil("3 mutations refused with Redis gone", 60*time.Second, func() bool { _, f := count(); return f >= 3 })

	// Reads, sign-ups and sign-ins fail the same way while Redis is gone:
	// a client told UNAUTHENTICATED would throw away a good token, and one
	// told INTERNAL would not know to try again.
	signIn := `mutation { loginMentee(input: {email: "ada@example.org", password: "` + storyPassword + `"}) { token userErrors { code } } }`
	for _, c := range []struct {
		query  string
		header http.Header
	}{
		{`{ searchMentors { totalCount } }`, http.Header{"Authorization": {"Bearer " + mentee.token}}},
		{`{ viewer { member { name } } }`, http.Header{"Authorization": {"Bearer " + mentee.token}}},
		{`mutation { registerMentee(input: {name: "Bo", email: "bo@example.org", password: "` + storyPassword + `"}) { token userErrors { code } } }`, nil},
		{signIn, nil},
	} {
		_, res := postGraphQL(t, ts.URL, c.query, nil, c.header)
		if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "UNAVAILABLE" {
			t.Errorf("%s with Redis gone: %+v", c.query, res.Errors)
		}
	}

	rs.Start()
	ackedBefore, _ := count()
	waitUntil("5 more sessions acknowledged after Redis came back", 60*time.Second, func() bool { a, _ := count(); return a >= ackedBefore+5 })
	close(stop)
	<-done
	if d := (&client{t: t, url: ts.URL}).gql(signIn, nil); dig(d, "loginMentee", "token") == nil {
		t.Errorf("no sign-in after Redis came back: %v", d)
	}

	acked, ackedIDs := 0, map[string]bool{}
	answers := map[string]int{}
	for _, o := range outcomes {
		switch {
		case o.acked && o.sessionID != "":
			ackedIDs[o.sessionID] = true
			fallthrough
		case o.acked:
			acked++
		default:
			answers[o.code+": "+o.message]++
		}
	}
	for answer, n := range answers {
		if !strings.HasPrefix(answer, "UNAVAILABLE: ") {
			t.Errorf("%d mutations answered %q, want UNAVAILABLE", n, answer)
		}
	}
	// Every acknowledged session is there once Redis is back, and nothing
	// else is: a mutation that saved its change answers without an error
	// (at worst saying that the read models do not show it yet), so the
	// client never retries what is already done.
	shown := map[string]bool{}
	after := ""
	for {
		d := mentee.gql(`query($id: ID!, $after: String) { mySessions(matchId: $id, first: 50, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
			map[string]any{"id": matchID, "after": after})
		for _, e := range dig(d, "mySessions", "edges").([]any) {
			shown[dig(e, "node", "id").(string)] = true
		}
		if dig(d, "mySessions", "pageInfo", "hasNextPage") != true {
			break
		}
		after = dig(d, "mySessions", "pageInfo", "endCursor").(string)
	}
	for id := range ackedIDs {
		if !shown[id] {
			t.Errorf("acknowledged session %s is missing after Redis came back", id)
		}
	}
	if len(shown) != acked {
		t.Errorf("%d sessions saved for %d mutations acknowledged", len(shown), acked)
	}
	t.Logf("%d mutations: %d acknowledged, %d saved; the others answered %v", len(outcomes), acked, len(shown), answers)

	// The subscriber that was listening throughout hears of every saved
	// session, those saved while Redis was gone included, each once.
	deadline := time.Now().Add(30 * time.Second)
	for {
		positions, dup, err := heard()
		if dup != "" {
			t.Fatalf("the subscriber heard of the session at position %s twice", dup)
		}
		if len(positions) == len(shown) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("the subscriber heard of %d sessions of %d saved (%v)", len(positions), len(shown), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listenForSessions subscribes to a match's updates over WebSocket and
// returns a function that reports the positions of the SessionLogged
// updates heard so far, the first position heard twice, and why the
// subscription ended, if it did.
func listenForSessions(t *testing.T, url, token, matchID string) func() (map[string]bool, string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	for _, m := range []map[string]any{
		{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}},
		{"id": "1", "type": "subscribe", "payload": map[string]any{
			"query":     `subscription($id: ID!) { matchUpdated(matchId: $id) { position type } }`,
			"variables": map[string]any{"id": matchID},
		}},
	} {
		if err := wsjson.Write(ctx, conn, m); err != nil {
			t.Fatal(err)
		}
	}
	waitSubscribers(t, url, 1)
	var (
		mu        sync.Mutex
		positions = map[string]bool{}
		dup       string
		ended     error
	)
	go func() {
		for {
			var m struct {
				Type    string `json:"type"`
				Payload struct {
					Data struct {
						MatchUpdated struct{ Position, Type string } `json:"matchUpdated"`
					} `json:"data"`
				} `json:"payload"`
			}
			err := wsjson.Read(ctx, conn, &m)
			mu.Lock()
			switch {
			case err != nil:
				ended = err
			case m.Type == "ping":
				_ = wsjson.Write(ctx, conn, map[string]string{"type": "pong"})
			case m.Type == "next" && m.Payload.Data.MatchUpdated.Type == "SessionLogged":
				pos := m.Payload.Data.MatchUpdated.Position
				if positions[pos] && dup == "" {
					dup = pos
				}
				positions[pos] = true
			case m.Type == "error" || m.Type == "complete":
				ended = fmt.Errorf("the subscription ended with %q", m.Type)
			}
			stop := ended != nil
			mu.Unlock()
			if stop {
				return
			}
		}
	}()
	return func() (map[string]bool, string, error) {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(positions), dup, ended
	}
}
