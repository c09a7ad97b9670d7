package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// A graceful shutdown also closes open WebSocket connections, which
// http.Server.Shutdown alone would leave hanging.
func TestShutdownClosesWebSockets(t *testing.T) {
	ts := startServer(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := openGraphQLSocket(ctx, t, ts.URL)
	stopped := make(chan struct{})
	go func() { ts.Stop(t); close(stopped) }()
	for {
		var msg map[string]any
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the WebSocket stayed open after shutdown")
			}
			break
		}
	}
	select {
	case <-stopped:
	case <-ctx.Done():
		t.Fatal("the server did not stop")
	}
}

// SIGTERM, as an orchestrator sends it, stops a server process gracefully:
// its WebSockets are closed and it exits with status 0.
func TestSIGTERMStopsTheProcessGracefully(t *testing.T) {
	c := startChild(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := openGraphQLSocket(ctx, t, c.URL)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		var msg map[string]any
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the WebSocket stayed open after SIGTERM")
			}
			break
		}
	}
	exited := make(chan error, 1)
	go func() { exited <- c.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the process exited with %v after SIGTERM:\n%s", err, c.logs.String())
		}
	case <-ctx.Done():
		t.Fatal("the process did not exit after SIGTERM")
	}
}

// openGraphQLSocket opens a graphql-transport-ws connection to the server
// at url and waits for its acknowledgement.
func openGraphQLSocket(ctx context.Context, t *testing.T, url string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
		t.Fatal(err)
	}
	var ack map[string]any
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack["type"] != "connection_ack" {
		t.Fatalf("no ack: %v %v", ack, err)
	}
	return conn
}
