package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
)

// Automatic persisted queries: a hash alone is refused until the query has
// been sent once with it, and then works.
func TestPersistedQueries(t *testing.T) {
	e := newEnv(t)
	query := `{ programOptions { termMonths } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	post := func(body map[string]any) string {
		b, _ := json.Marshal(body)
		res, err := http.Post(e.url, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(res.Body)
		return out.String()
	}
	if got := post(map[string]any{"extensions": ext}); !strings.Contains(got, "PersistedQueryNotFound") {
		t.Fatalf("unknown hash: %s", got)
	}
	if got := post(map[string]any{"query": query, "extensions": ext}); !strings.Contains(got, `"termMonths":12`) {
		t.Fatalf("query with hash: %s", got)
	}
	if got := post(map[string]any{"extensions": ext}); !strings.Contains(got, `"termMonths":12`) {
		t.Fatalf("hash alone after registering: %s", got)
	}
}

// Subscriptions also work over server-sent events.
func TestSubscriptionOverSSE(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleStaff, "Sam Staff")
	res := e.stream(tok, `subscription { dashboard { pending position } }`)
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data:") {
			if !strings.Contains(line, `"pending":0`) {
				t.Fatalf("first dashboard: %s", line)
			}
			return
		}
	}
	t.Fatalf("the stream ended without data: %v", sc.Err())
}

// The legacy graphql-ws protocol (subscriptions-transport-ws) works too.
func TestLegacyGraphQLWSProtocol(t *testing.T) {
	e := newEnv(t)
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != "graphql-ws" {
		t.Fatalf("negotiated %q", conn.Subprotocol())
	}
	write := func(m map[string]any) {
		if err := wsjson.Write(ctx, conn, m); err != nil {
			t.Fatal(err)
		}
	}
	read := func(want string) map[string]any {
		for {
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatal(err)
			}
			if m["type"] == "ka" {
				continue
			}
			if m["type"] != want {
				t.Fatalf("got %v, want %s", m, want)
			}
			return m
		}
	}
	write(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + menteeTok}})
	read("connection_ack")
	write(map[string]any{"id": "1", "type": "start", "payload": map[string]any{"query": `subscription { myMatchUpdates { type } }`}})
	e.waitSubscribers(1)
	if _, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, ""); err != nil {
		t.Fatal(err)
	}
	m := read("data")
	if !strings.Contains(fmt.Sprint(m["payload"]), "MatchRequested") {
		t.Fatalf("data: %v", m)
	}
}

// Browsers may open WebSockets only from the allowed origins (and the
// server's own); a foreign page is refused before any message. Clients
// that send no Origin, which are not browsers, are served.
func TestWebSocketOriginAllowlist(t *testing.T) {
	e := newEnv(t)
	url := "ws" + strings.TrimPrefix(e.serve(graph.HandlerOptions{OriginPatterns: []string{"app.example.org", "localhost:*"}}), "http")
	host := strings.TrimPrefix(strings.TrimSuffix(url, "/graphql"), "ws://")
	cases := []struct {
		origin  string
		allowed bool
	}{
		{"", true},
		{"https://app.example.org", true},
		{"http://localhost:5173", true},
		{"http://" + host, true},
		{"https://evil.example.com", false},
		{"https://app.example.org.evil.example.com", false},
		{"https://evil.example.com/app.example.org", false},
		{"null", false},
	}
	for _, tc := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		conn, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
		switch {
		case tc.allowed && err != nil:
			t.Errorf("origin %q: refused: %v", tc.origin, err)
		case tc.allowed:
			if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
				t.Errorf("origin %q: %v", tc.origin, err)
			}
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil || m["type"] != "connection_ack" {
				t.Errorf("origin %q: %v %v", tc.origin, m, err)
			}
			conn.CloseNow()
		case err == nil:
			conn.CloseNow()
			t.Errorf("origin %q: accepted", tc.origin)
		case res == nil || res.StatusCode != http.StatusForbidden:
			t.Errorf("origin %q: want 403, got %v %v", tc.origin, res, err)
		}
		cancel()
	}
}

// A bad token in connection_init closes the connection with 4403 before
// any subscription: it is never served anonymously.
func TestWebSocketBadTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	for _, payload := range []map[string]any{
		{"Authorization": "Bearer forged"},
		{"token": "forged"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": payload})
		_ = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { matchEvents(since: "0") { type } }`}})
		var m map[string]any
		err = wsjson.Read(ctx, conn, &m)
		if err == nil {
			t.Errorf("%v: got %v, want the connection closed", payload, m)
		} else if websocket.CloseStatus(err) != 4403 {
			t.Errorf("%v: %v, want close status 4403", payload, err)
		}
		conn.CloseNow()
		cancel()
	}

	// The legacy protocol says why before closing.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer forged"}})
	var m map[string]any
	if err := wsjson.Read(ctx, conn, &m); err != nil || m["type"] != "connection_error" || !strings.Contains(fmt.Sprint(m["payload"]), graph.ErrBadToken.Error()) {
		t.Fatalf("legacy protocol: %v %v", m, err)
	}
	if err := wsjson.Read(ctx, conn, &m); websocket.CloseStatus(err) != 4403 {
		t.Fatalf("legacy protocol: %v %v, want close status 4403", m, err)
	}
}
