package graph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// closeUnauthorized is graphql-transport-ws's close code for a subscribe
// message sent before the connection was initialised.
const closeUnauthorized = 4401

// initGuard makes a legacy graphql-ws WebSocket (served by gqlgen's
// transport; transportWS serves graphql-transport-ws) that starts an
// operation before connection_init close with 4401 Unauthorized, as
// graphql-transport-ws does, instead of the generic protocol error gqlgen
// sends for any unexpected first message.
type initGuard struct {
	transport.WebsocketImplementation
}

func (g initGuard) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := g.WebsocketImplementation.Accept(leanHijack{w}, r, opts)
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

// The buffers a WebSocket keeps for as long as it is open. The server
// reads and writes through 4 KiB buffers on every connection, and the
// WebSocket library keeps them after the upgrade: 8 KiB for every idle
// subscriber. What a subscriber sends (pings, pongs, subscribe) is small,
// and what it is sent is mostly a change of one or two hundred bytes. A
// message larger than the write buffer costs one write more than one that
// fits: bufio flushes what it holds and writes the rest straight through.
const (
	wsReadBuffer  = 512
	wsWriteBuffer = 512
)

// leanHijack hands the WebSocket library the connection with smaller
// buffers than the server's.
type leanHijack struct{ http.ResponseWriter }

func (h leanHijack) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// Hijack takes the connection over and resizes its buffers in place: the
// server's connection keeps pointing at the ones it returned until the
// request ends, so that only new contents let the old arrays go.
func (h leanHijack) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent right behind its handshake stay where they
	// are, in the server's reader.
	if brw.Reader.Buffered() == 0 {
		*brw.Reader = *bufio.NewReaderSize(conn, wsReadBuffer)
	}
	// Hijacking flushed the upgrade's answer, so the writer holds
	// nothing.
	if brw.Writer.Buffered() == 0 {
		*brw.Writer = *bufio.NewWriterSize(conn, wsWriteBuffer)
	}
	return conn, brw, nil
}
