package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
)

// rawDial opens a graphql-transport-ws connection without initialising it.
func (e *env) rawDial(header http.Header) (*websocket.Conn, context.Context) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	e.t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.CloseNow() })
	if conn.Subprotocol() != "graphql-transport-ws" {
		e.t.Fatalf("negotiated %q", conn.Subprotocol())
	}
	return conn, ctx
}

// closedWith reads until the connection closes and returns its close
// status, failing on a message of a type other than skip.
func closedWith(t *testing.T, ctx context.Context, conn *websocket.Conn, skip ...string) websocket.StatusCode {
	t.Helper()
	for {
		var m map[string]any
		err := wsjson.Read(ctx, conn, &m)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("the connection stayed open")
			}
			return websocket.CloseStatus(err)
		}
		if m["type"] == "ping" {
			continue
		}
		ok := false
		for _, s := range skip {
			ok = ok || m["type"] == s
		}
		if !ok {
			t.Fatalf("got %v before the close", m)
		}
	}
}

// The protocol's errors close the connection with the codes
// graphql-transport-ws gives them.
func TestWebSocketProtocolErrorsCloseWithTheirCodes(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	init := map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}}
	sub := func(id string) map[string]any {
		return map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": `subscription { myMatchUpdates { type } }`}}
	}
	cases := []struct {
		name string
		send []any
		code websocket.StatusCode
	}{
		{"a second connection_init", []any{init, init}, 4429},
		{"a subscriber for an id already running", []any{init, sub("1"), sub("1")}, 4409},
		{"an unknown message type", []any{init, map[string]any{"type": "start", "id": "1"}}, 4400},
		{"an unknown message type before init", []any{map[string]any{"type": "hello"}}, 4400},
		{"a subscribe without an id", []any{init, sub("")}, 4400},
		{"a complete without an id", []any{init, map[string]any{"type": "complete"}}, 4400},
		{"a message that is no JSON", []any{"{nope"}, 4400},
		{"a message that is a JSON array", []any{"[1,2]"}, 4400},
		{"a connection_init payload that is no object", []any{map[string]any{"type": "connection_init", "payload": "token"}}, 4400},
		{"subscribe before the acknowledgement", []any{sub("1")}, 4401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, ctx := e.rawDial(nil)
			for _, m := range tc.send {
				var err error
				if s, ok := m.(string); ok {
					err = conn.Write(ctx, websocket.MessageText, []byte(s))
				} else {
					err = wsjson.Write(ctx, conn, m)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := closedWith(t, ctx, conn, "connection_ack"); got != tc.code {
				t.Fatalf("closed with %d, want %d", got, tc.code)
			}
		})
	}
}

// The running subscription of a refused duplicate ends with its
// connection: its hub subscription is let go.
func TestWebSocketDuplicateIDEndsTheConnectionsSubscriptions(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	c := e.dial(tok)
	c.subscribe("1", `subscription { myMatchUpdates { type } }`, nil)
	e.waitSubscribers(1)
	c.subscribe("1", `subscription { myMatchUpdates { type } }`, nil)
	if got := closedWith(t, c.ctx, c.conn); got != 4409 {
		t.Fatalf("closed with %d, want 4409", got)
	}
	waitNoSubscribers(t, e)
}

func waitNoSubscribers(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.hub.Subscribers() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d hub subscriptions left", e.hub.Subscribers())
		}
		time.Sleep(time.Millisecond)
	}
}

// A message over the read limit closes the connection with 1009.
func TestWebSocketOversizedMessageIsRefused(t *testing.T) {
	e := newEnv(t)
	conn, ctx := e.rawDial(nil)
	big := `{"type":"connection_init","payload":{"pad":"` + strings.Repeat("a", 1<<20) + `"}}`
	_ = conn.Write(ctx, websocket.MessageText, []byte(big))
	if got := closedWith(t, ctx, conn); got != websocket.StatusMessageTooBig {
		t.Fatalf("closed with %d, want 1009", got)
	}
}

// A ping is answered with a pong carrying its payload, before and after
// the connection is initialised.
func TestWebSocketPingIsAnsweredWithPong(t *testing.T) {
	e := newEnv(t)
	conn, ctx := e.rawDial(nil)
	ping := func(payload any) {
		t.Helper()
		if err := wsjson.Write(ctx, conn, map[string]any{"type": "ping", "payload": payload}); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			t.Fatal(err)
		}
		if m["type"] != "pong" || fmt.Sprint(m["payload"]) != fmt.Sprint(payload) {
			t.Fatalf("got %v, want a pong with %v", m, payload)
		}
	}
	ping(map[string]any{"n": 1.0})
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := wsjson.Read(ctx, conn, &m); err != nil || m["type"] != "connection_ack" {
		t.Fatalf("%v %v", m, err)
	}
	ping(map[string]any{"n": 2.0})
	// A pong nobody asked for is allowed.
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "pong"}); err != nil {
		t.Fatal(err)
	}
	ping(nil)
}

// Queries and mutations over the socket answer once, then complete.
func TestWebSocketQueriesAndMutationsAnswerOnceThenComplete(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	c := e.dial(tok)
	c.subscribe("q", `{ viewer { role } }`, nil)
	if data := c.next("q"); fmt.Sprint(data) != "map[viewer:map[role:MENTEE]]" {
		t.Fatalf("query: %v", data)
	}
	if m := c.read(); m["id"] != "q" || m["type"] != "complete" {
		t.Fatalf("after the query's answer: %v", m)
	}
	c.subscribe("m", `mutation($n: String!) { updateProfile(input: {name: $n}) { userErrors { code } } }`, map[string]any{"n": "Mia Renamed"})
	if data := c.next("m"); fmt.Sprint(data) != "map[updateProfile:map[userErrors:[]]]" {
		t.Fatalf("mutation: %v", data)
	}
	if m := c.read(); m["id"] != "m" || m["type"] != "complete" {
		t.Fatalf("after the mutation's answer: %v", m)
	}
	// The id of a finished operation may be used again.
	c.subscribe("q", `{ viewer { member { name } } }`, nil)
	if data := c.next("q"); fmt.Sprint(data) != "map[viewer:map[member:map[name:Mia Renamed]]]" {
		t.Fatalf("query again: %v", data)
	}
	if m := c.read(); m["id"] != "q" || m["type"] != "complete" {
		t.Fatalf("after the second query's answer: %v", m)
	}
	// A document that does not validate is an error message, and ends
	// the operation alone.
	c.subscribe("bad", `{ nope }`, nil)
	if m := c.read(); m["id"] != "bad" || m["type"] != "error" || !strings.Contains(fmt.Sprint(m["payload"]), "nope") {
		t.Fatalf("invalid document: %v", m)
	}
	c.subscribe("json", `{ viewer { role } }`, nil)
	if data := c.next("json"); data == nil {
		t.Fatal("the connection did not go on after an error")
	}
}

// A complete from the client ends its subscription: the hub lets it go,
// nothing more is sent for it, and its id may be used again at once.
func TestWebSocketCompleteEndsTheSubscription(t *testing.T) {
	e := newEnv(t)
	mentee, tok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	c := e.dial(tok)
	c.subscribe("1", `subscription { myMatchUpdates { type } }`, nil)
	e.waitSubscribers(1)
	c.send(map[string]any{"id": "1", "type": "complete"})
	waitNoSubscribers(t, e)
	c.subscribe("1", `subscription { myMatchUpdates { type position } }`, nil)
	e.waitSubscribers(1)
	ctx := context.Background()
	if _, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, ""); err != nil {
		t.Fatal(err)
	}
	data := c.next("1")
	if u, _ := data["myMatchUpdates"].(map[string]any); u["type"] != "MatchRequested" || u["position"] == nil {
		t.Fatalf("the new subscription of the same id: %v", data)
	}
	// Completing an id that is not running is no error.
	c.send(map[string]any{"id": "nothing", "type": "complete"})
	c.send(map[string]any{"type": "ping"})
	if m := c.read(); m["type"] != "pong" {
		t.Fatalf("got %v, want pong", m)
	}
}

// Subscribing and completing on many connections at once, with ids used
// again and again and queries among the subscriptions, leaves nothing
// running and every connection open (run with -race).
func TestWebSocketConcurrentSubscribeAndComplete(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	const conns, rounds = 4, 60
	var writers, readers sync.WaitGroup
	var clients []*ws
	for range conns {
		c := e.dial(tok)
		clients = append(clients, c)
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				var m map[string]any
				if err := wsjson.Read(c.ctx, c.conn, &m); err != nil {
					t.Errorf("the connection ended: %v", err)
					return
				}
				switch {
				case m["type"] == "ping":
					_ = wsjson.Write(c.ctx, c.conn, map[string]any{"type": "pong"})
				case m["type"] == "pong" && m["payload"] == "last":
					return
				case m["type"] == "error":
					t.Errorf("error: %v", m)
				}
			}
		}()
		writers.Add(1)
		go func() {
			defer writers.Done()
			write := func(m map[string]any) {
				if err := wsjson.Write(c.ctx, c.conn, m); err != nil {
					t.Error(err)
				}
			}
			for i := range rounds {
				id := fmt.Sprint(i % 3)
				query := `subscription { myMatchUpdates { type } }`
				if i%4 == 0 {
					query = `{ viewer { role } }`
				}
				write(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
				write(map[string]any{"id": id, "type": "complete"})
			}
		}()
	}
	writers.Wait()
	waitNoSubscribers(t, e)
	for _, c := range clients {
		if err := wsjson.Write(c.ctx, c.conn, map[string]any{"type": "ping", "payload": "last"}); err != nil {
			t.Fatal(err)
		}
	}
	readers.Wait()
}

// Many subscribers closing at once all let go of their subscriptions and
// goroutines.
func TestWebSocketManyConnectionsClosingAtOnce(t *testing.T) {
	e := buildEnvWith(t, false, func(r *graph.Resolver) { r.MaxSubscriptions = 1000 })
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	before := runtime.NumGoroutine()
	const n = 100
	var clients []*ws
	for i := range n {
		c := e.dial(tok)
		c.subscribe(fmt.Sprint(i), `subscription { myMatchUpdates { type } }`, nil)
		clients = append(clients, c)
	}
	e.waitSubscribers(n)
	// An idle subscriber holds two goroutines on the server: the one
	// reading its connection and its operation's.
	if per := float64(runtime.NumGoroutine()-before) / n; per > 2.5 {
		t.Errorf("%.2f goroutines per idle subscriber, want 2", per)
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.conn.CloseNow() }()
	}
	wg.Wait()
	waitNoSubscribers(t, e)
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left of %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A connection signed in by its upgrade request's Authorization header
// stays signed in after the upgrade, and closes when the token is revoked.
func TestWebSocketSignedInByHeaderClosesOnSignOut(t *testing.T) {
	e := newEnvWithAccounts(t)
	tok := e.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	conn, ctx := e.rawDial(http.Header{"Authorization": {"Bearer " + tok}})
	c := &ws{t: t, conn: conn, ctx: ctx}
	c.send(map[string]any{"type": "connection_init"})
	if m := c.read(); m["type"] != "connection_ack" {
		t.Fatalf("no ack: %v", m)
	}
	c.subscribe("v", `{ viewer { role } }`, nil)
	if data := c.next("v"); fmt.Sprint(data) != "map[viewer:map[role:MENTEE]]" {
		t.Fatalf("signed in by the header: %v", data)
	}
	c.subscribe("1", `subscription { myMatchUpdates { type } }`, nil)
	e.waitSubscribers(1)
	if r := e.ok(tok, `mutation { logout { ok } }`, nil); r.get("logout", "ok") != true {
		t.Fatalf("logout: %s", r.raw)
	}
	// Closed as a refused connection_init is, so that the client signs
	// in again rather than reconnects with the same token.
	if code := closedWith(t, ctx, conn, "complete"); code != 4403 {
		t.Fatalf("closed with %d after sign-out, want 4403", code)
	}
	waitNoSubscribers(t, e)
}

// Subscriptions over graphql-transport-ws are counted by transport while
// they stay open, as the executor's metrics count them over any other.
func TestWebSocketSubscriptionsAreCountedWhileOpen(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	reg := prometheus.NewRegistry()
	e.url = e.serve(graph.HandlerOptions{Metrics: graph.NewMetrics(reg, nil)})
	active := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "mentorship_graphql_subscriptions_active" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetValue() == "graphql-transport-ws" {
						return m.GetGauge().GetValue()
					}
				}
			}
		}
		return 0
	}
	waitActive := func(want float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for active() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%v subscriptions active over graphql-transport-ws, want %v", active(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	c := e.dial(tok)
	c.subscribe("1", `subscription { myMatchUpdates { type } }`, nil)
	c.subscribe("2", `subscription { myMatchUpdates { type } }`, nil)
	waitActive(2)
	c.send(map[string]any{"id": "1", "type": "complete"})
	waitActive(1)
	c.conn.CloseNow()
	waitActive(0)
}
