package graph

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/mentorship/mentorship/graph/generated"
)

// wsServer serves tr alone on a real http.Server and returns the
// WebSocket URL and the server.
func wsServer(t *testing.T, tr *transportWS) (string, *http.Server) {
	t.Helper()
	h := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
	h.AddTransport(tr)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "ws://" + ln.Addr().String(), srv
}

func testTransport(initTimeout, ping time.Duration) *transportWS {
	tr := newTransportWS(HandlerOptions{})
	tr.initTimeout, tr.pingInterval = initTimeout, ping
	return tr
}

func wsDial(t *testing.T, url string) (*websocket.Conn, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wsProtocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn, ctx
}

func wsInit(t *testing.T, ctx context.Context, conn *websocket.Conn) {
	t.Helper()
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := wsjson.Read(ctx, conn, &m); err != nil || m["type"] != "connection_ack" {
		t.Fatalf("no ack: %v %v", m, err)
	}
}

// A connection that does not send connection_init in time is closed with
// 4408.
func TestWebSocketInitTimeout(t *testing.T) {
	url, _ := wsServer(t, testTransport(100*time.Millisecond, time.Hour))
	conn, ctx := wsDial(t, url)
	start := time.Now()
	_, _, err := conn.Read(ctx)
	if websocket.CloseStatus(err) != closeInitTimeout {
		t.Fatalf("%v, want close status 4408", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("closed after %s, before the timeout", d)
	}
	// One that does stays open past it.
	conn, ctx = wsDial(t, url)
	wsInit(t, ctx, conn)
	time.Sleep(200 * time.Millisecond)
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "ping"}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := wsjson.Read(ctx, conn, &m); err != nil || m["type"] != "pong" {
		t.Fatalf("after the timeout: %v %v", m, err)
	}
}

// The server pings every interval; a client that answers stays, one that
// stops answering is dropped two pings later.
func TestWebSocketPingsAndDropsAClientThatStopsAnswering(t *testing.T) {
	const interval = 50 * time.Millisecond
	url, _ := wsServer(t, testTransport(time.Second, interval))
	conn, ctx := wsDial(t, url)
	wsInit(t, ctx, conn)
	for range 6 {
		var m map[string]any
		if err := wsjson.Read(ctx, conn, &m); err != nil || m["type"] != "ping" {
			t.Fatalf("want a ping: %v %v", m, err)
		}
		if err := wsjson.Write(ctx, conn, map[string]any{"type": "pong"}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	pings := 0
	for {
		var m map[string]any
		err := wsjson.Read(ctx, conn, &m)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("a client that stopped answering pings was kept")
			}
			break
		}
		if m["type"] == "ping" {
			pings++
		}
	}
	if d := time.Since(start); pings != 2 || d < 2*interval {
		t.Fatalf("dropped after %d unanswered pings and %s, want 2 and at least %s", pings, d, 2*interval)
	}
}

// The server's graceful shutdown closes its WebSockets, which outlive
// their requests.
func TestWebSocketClosedByShutdown(t *testing.T) {
	url, srv := wsServer(t, testTransport(time.Second, time.Hour))
	conn, ctx := wsDial(t, url)
	wsInit(t, ctx, conn)
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	_, _, err := conn.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("%v, want a normal closure", err)
	}
	// The server is forgotten once it shut down.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := shutdowns.Load(weak.Make(srv)); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shut down server is still remembered")
		}
		time.Sleep(time.Millisecond)
	}
}

// Reasons longer than a close frame holds are cut on a rune boundary.
func TestCloseReasonFitsAFrame(t *testing.T) {
	long := strings.Repeat("é", 100)
	got := closeReason(long)
	if len(got) > 123 || !strings.HasPrefix(long, got) || len(got) < 121 {
		t.Fatalf("%d bytes: %q", len(got), got)
	}
	if closeReason("short") != "short" {
		t.Fatal("a short reason was changed")
	}
}

// A refused sign-in closes with the code its error calls for.
func TestInitRefusalCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code websocket.StatusCode
	}{
		{ErrBadToken, closeForbidden},
		{errSignInUnavailable, closeTryAgainLater},
		{errors.New("other"), closeForbidden},
	} {
		if code, _ := initRefusal(tc.err); code != tc.code {
			t.Errorf("%v: %d, want %d", tc.err, code, tc.code)
		}
	}
}
