package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/mentorship/mentorship/eventstore"
)

// noLimit is the count asked of the server for an unbounded stream read.
// The protocol's count is unsigned, but servers have handled it as a signed
// number, so the largest signed value is the safe "everything".
const noLimit = math.MaxInt64

// streamPage is what one read of a stream returned. found is false for a
// stream that does not exist.
type streamPage struct {
	events []*esdb.RecordedEvent
	found  bool
}

// readServerStream reads up to count events of a stream in one attempt. The
// server says that a stream does not exist on the first receive.
func readServerStream(ctx context.Context, c *esdb.Client, name string, dir esdb.Direction, from esdb.StreamPosition, count uint64) (streamPage, error) {
	rs, err := c.ReadStream(ctx, name, esdb.ReadStreamOptions{Direction: dir, From: from}, count)
	if err != nil {
		return streamPage{}, err
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return streamPage{out, true}, nil
		case code(err) == esdb.ErrorCodeResourceNotFound:
			return streamPage{}, nil
		case err != nil:
			return streamPage{}, err
		}
		out = append(out, ev.OriginalEvent())
	}
}

// readStream reads events of one of the application's streams, retrying
// transient failures, and decodes them.
func (s *Store) readStream(ctx context.Context, stream string, dir esdb.Direction, from esdb.StreamPosition, count uint64) ([]eventstore.RecordedEvent, bool, error) {
	page, _, err := do(s, ctx, func(ctx context.Context, c *esdb.Client) (streamPage, error) {
		return readServerStream(ctx, c, s.serverName(stream), dir, from, count)
	})
	if err != nil || !page.found {
		return nil, page.found, err
	}
	out := make([]eventstore.RecordedEvent, len(page.events))
	for i, e := range page.events {
		if out[i], err = decode(e, stream); err != nil {
			return nil, true, err
		}
	}
	return out, true, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := eventstore.ValidateReadStream(stream, opts); err != nil {
		return nil, err
	}
	if err := reservedStream(stream); err != nil {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	count := uint64(noLimit)
	if opts.Limit > 0 {
		count = uint64(opts.Limit)
	}
	dir, from := esdb.Forwards, esdb.StreamPosition(esdb.Revision(uint64(opts.From)))
	if opts.Direction == eventstore.Backwards {
		dir = esdb.Backwards
		if opts.FromEnd {
			from = esdb.End{}
		}
	}
	evs, found, err := s.readStream(ctx, stream, dir, from, count)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read stream %q: %w", stream, err)
	case !found:
		return nil, fmt.Errorf("read stream %q: %w", stream, eventstore.ErrStreamNotFound)
	}
	return evs, nil
}

// ReadAll implements eventstore.Store. The client library reads $all
// without a server-side filter, so the engine drops the server's own events
// and other namespaces' here, paging until it has limit events of its own
// or reaches the end of the log.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if limit <= 0 {
		limit = s.opts.ReadBatch
	}
	var out []eventstore.RecordedEvent
	err := s.scanAll(ctx, esdb.Forwards, allPosition(from), func(e *esdb.RecordedEvent) (bool, error) {
		// The server starts at from inclusive; the contract starts after it.
		if e.Position.Commit <= uint64(from) {
			return true, nil
		}
		stream, ok := s.ownStream(e.StreamID, e.EventType)
		if !ok {
			return true, nil
		}
		rec, err := decode(e, stream)
		if err != nil {
			return false, err
		}
		out = append(out, rec)
		return len(out) < limit, nil
	}, limit+1)
	if err != nil {
		return nil, fmt.Errorf("read all from %d: %w", from, err)
	}
	return out, nil
}

// Head implements eventstore.Store: it reads $all backwards until it meets
// one of the application's events.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if s.closed.Load() {
		return eventstore.Start, eventstore.ErrClosed
	}
	head := eventstore.Start
	err := s.scanAll(ctx, esdb.Backwards, esdb.End{}, func(e *esdb.RecordedEvent) (bool, error) {
		if _, ok := s.ownStream(e.StreamID, e.EventType); !ok {
			return true, nil
		}
		head = eventstore.Position(e.Position.Commit)
		return false, nil
	}, 16)
	if err != nil {
		return eventstore.Start, fmt.Errorf("head: %w", err)
	}
	return head, nil
}

// scanAll hands the events of $all to fn in the given direction, starting
// at from, until fn returns false or the log ends. It reads pages, first of
// size first and then growing while fn keeps skipping events, and starts
// each page where the previous one ended.
func (s *Store) scanAll(ctx context.Context, dir esdb.Direction, from esdb.AllPosition, fn func(*esdb.RecordedEvent) (bool, error), first int) error {
	size := max(first, 2)
	var last *esdb.Position
	for {
		page, _, err := do(s, ctx, func(ctx context.Context, c *esdb.Client) ([]*esdb.RecordedEvent, error) {
			return readServerAll(ctx, c, dir, from, uint64(size))
		})
		if err != nil {
			return err
		}
		for _, e := range page {
			// A page starts at the previous page's last event; whether the
			// server repeats that event depends on the direction, so
			// anything already seen is skipped by position.
			if last != nil && !beyond(dir, e.Position, *last) {
				continue
			}
			more, err := fn(e)
			if err != nil || !more {
				return err
			}
			p := e.Position
			last = &p
		}
		if len(page) < size {
			return nil
		}
		// A full page handed at least one event to fn, so last is set.
		from = *last
		size = min(size*2, s.opts.ReadBatch+1)
	}
}

// beyond reports whether p comes after last in the direction of a read.
func beyond(dir esdb.Direction, p, last esdb.Position) bool {
	if dir == esdb.Backwards {
		return p.Commit < last.Commit || (p.Commit == last.Commit && p.Prepare < last.Prepare)
	}
	return p.Commit > last.Commit || (p.Commit == last.Commit && p.Prepare > last.Prepare)
}

// readServerAll reads one page of $all in one attempt.
func readServerAll(ctx context.Context, c *esdb.Client, dir esdb.Direction, from esdb.AllPosition, count uint64) ([]*esdb.RecordedEvent, error) {
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: dir, From: from}, count)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make([]*esdb.RecordedEvent, 0, min(count, 1024))
	for {
		ev, err := rs.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case err != nil:
			return nil, err
		}
		out = append(out, ev.OriginalEvent())
	}
}
