package kurrent

import (
	"context"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/mentorship/mentorship/eventstore"
)

// conn is one client of the library together with the number of calls
// inside it.
//
// The library's client hands every call to one goroutine over a channel
// without a context. Closing the client closes that channel, which panics
// any call still waiting to send on it; and once the goroutine gives up on
// discovering a node it stops receiving, leaving such calls blocked for
// good. So a client is closed only when it is retired and no call is inside
// it, and a call that stays blocked past its context is abandoned, keeping
// its client open, rather than waited for.
type conn struct {
	client *esdb.Client

	mu      sync.Mutex
	users   int
	retired bool
}

// enter counts a call into the client.
func (c *conn) enter() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users++
}

// leave counts a call out, closing a retired client that it leaves idle.
func (c *conn) leave() {
	c.mu.Lock()
	c.users--
	idle := c.retired && c.users == 0
	c.mu.Unlock()
	if idle {
		_ = c.client.Close()
	}
}

// retire closes the client as soon as no call is inside it.
func (c *conn) retire() {
	c.mu.Lock()
	c.retired = true
	idle := c.users == 0
	c.mu.Unlock()
	if idle {
		_ = c.client.Close()
	}
}

// stuckGrace is how long a call whose context has ended may take to
// return before it is taken for blocked inside the library.
const stuckGrace = 200 * time.Millisecond

// result is what one call into the library returned.
type result[T any] struct {
	v   T
	err error
}

// call runs fn on the store's current client. fn must use the context it
// is given for every call into the library. When ctx ends first, call
// returns ctx's error; if fn then stays blocked inside the library, the
// client is replaced, and whatever fn returns later is dropped.
func call[T any](s *Store, ctx context.Context, fn func(ctx context.Context, c *esdb.Client) (T, error)) (T, error) {
	var zero T
	c, err := s.acquire()
	if err != nil {
		return zero, err
	}
	done := make(chan result[T], 1)
	go func() {
		defer c.leave()
		v, err := fn(ctx, c.client)
		done <- result[T]{v, err}
	}()
	var r result[T]
	select {
	case r = <-done:
	case <-ctx.Done():
		t := time.NewTimer(stuckGrace)
		defer t.Stop()
		select {
		case r = <-done:
		case <-t.C:
			s.renew(c)
			return zero, ctx.Err()
		}
	}
	if code(r.err) == esdb.ErrorCodeConnectionClosed {
		// The library closes a client for good when it fails to discover a
		// node, so a store that outlives a server restart needs a new one.
		s.renew(c)
	}
	return r.v, r.err
}

// acquire returns the current client, counted in.
func (s *Store) acquire() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	s.conn.enter()
	return s.conn, nil
}

// renew replaces the client old, unless it was replaced already or the
// store is closed.
func (s *Store) renew(old *conn) {
	s.mu.Lock()
	if s.conn != old || s.closed.Load() {
		s.mu.Unlock()
		return
	}
	client, err := esdb.NewClient(s.config)
	if err != nil {
		// Open accepted this configuration, so this does not happen; if
		// it did, the old client would stay.
		s.mu.Unlock()
		return
	}
	s.conn = &conn{client: client}
	s.mu.Unlock()
	old.retire()
}
