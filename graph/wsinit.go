package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// closeUnauthorized is graphql-transport-ws's close code for a subscribe
// message sent before the connection was initialised.
const closeUnauthorized = 4401

// initGuard makes a WebSocket that subscribes before connection_init close
// with 4401 Unauthorized, as graphql-transport-ws says, instead of the
// generic protocol error gqlgen sends for any unexpected first message.
type initGuard struct {
	transport.WebsocketImplementation
}

func (g initGuard) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := g.WebsocketImplementation.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return &guardedConn{WebsocketConn: c}, nil
}

// guardedConn reads the messages before connection_init to see whether a
// subscription came first; after it, messages pass untouched.
type guardedConn struct {
	transport.WebsocketConn
	initialised atomic.Bool
	early       atomic.Bool
}

func (c *guardedConn) NextReader() (int, io.Reader, error) {
	t, r, err := c.WebsocketConn.NextReader()
	if err != nil || c.initialised.Load() {
		return t, r, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return t, nil, err
	}
	var m struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(data, &m)
	switch m.Type {
	case "connection_init":
		c.initialised.Store(true)
	case "subscribe", "start":
		c.early.Store(true)
	}
	return t, bytes.NewReader(data), nil
}

func (c *guardedConn) WriteClose(code int, msg string) error {
	if c.early.Load() && !c.initialised.Load() && code == transport.WebsocketCloseProtocolError {
		code, msg = closeUnauthorized, "Unauthorized"
	}
	return c.WebsocketConn.WriteClose(code, msg)
}

// SetReadLimit keeps the transport's payload limit on the connection.
func (c *guardedConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline keeps the transport's ping-pong timeout on the connection.
func (c *guardedConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
