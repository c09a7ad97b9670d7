package kurrent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/mentorship/mentorship/eventstore"
)

// raced reports that the server refused a pinned append because another
// writer extended the stream after the engine read its end.
type raced struct {
	exists bool
	last   eventstore.Revision
}

// Error describes the race; callers see a WrongExpectedRevisionError
// instead when the engine gives up.
func (r *raced) Error() string { return "another writer extended the stream" }

// Append implements eventstore.Store.
//
// Every append reads the stream's end first and then writes with the exact
// revision it read (or "no stream"), whatever the caller's expectation: the
// new events' hashes chain to the event read, and the pinned revision makes
// the server refuse the write if that event is no longer the last. An Any
// or StreamExists append that loses such a race starts over, a bounded
// number of times; an Exact or NoStream one re-reads once to tell a retry
// from a wrong expectation.
//
// Retries are recognised before writing, as in the embedded engine: the
// same event IDs at the place the expectation points to (or among the
// stream's newest RetryWindow events for Any and StreamExists) answer with
// the stored events' revisions and positions, and the same IDs with other
// contents give eventstore.ErrIdempotencyConflict. KurrentDB itself
// deduplicates only by ID, which covers an attempt that timed out and is
// sent again unchanged; the engine then reads the events back and compares
// their contents. One case escapes the comparison: another writer storing
// the same IDs between this append's read and its write, which the server
// deduplicates and reports as this append's success.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.closed.Load() {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	if err := eventstore.ValidateAppend(stream, expected, events, s.opts.MaxEventSize); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %q: %w", stream, err)
	}
	if err := reservedStream(stream); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %q: %w", stream, err)
	}
	loose := expected.Kind == eventstore.ExpectAny || expected.Kind == eventstore.ExpectStreamExists
	for attempt := 1; ; attempt++ {
		res, err := s.appendOnce(ctx, stream, expected, events, loose)
		var r *raced
		if !errors.As(err, &r) {
			if err != nil {
				return res, fmt.Errorf("append to %q: %w", stream, err)
			}
			return res, nil
		}
		if attempt >= s.opts.ContentionAttempts {
			return res, fmt.Errorf("append to %q: gave up after %d attempts: %w", stream, attempt,
				&eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, ActualExists: r.exists, Actual: r.last})
		}
		if loose {
			if err := sleep(ctx, backoff(attempt, time.Millisecond, 50*time.Millisecond)); err != nil {
				return res, fmt.Errorf("append to %q: %w", stream, err)
			}
		}
	}
}

// appendOnce reads the stream's end and either recognises a retry, refuses
// a wrong expectation, or writes pinned to the revision it read.
func (s *Store) appendOnce(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, loose bool) (eventstore.AppendResult, error) {
	window := 1
	if loose {
		window = s.opts.RetryWindow
	}
	tail, _, err := s.readStream(ctx, stream, esdb.Backwards, esdb.End{}, uint64(window))
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	exists := len(tail) > 0
	var last eventstore.Revision
	if exists {
		last = tail[0].Revision
	}
	if res, done, err := s.retried(ctx, stream, expected, events, tail); done || err != nil {
		return res, err
	}
	if !expected.Matches(exists, last) {
		return eventstore.AppendResult{}, &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, ActualExists: exists, Actual: last}
	}

	var pin esdb.ExpectedRevision = esdb.NoStream{}
	var prev []byte
	first := eventstore.Revision(0)
	if exists {
		pin, prev, first = esdb.Revision(uint64(last)), tail[0].Hash, last+1
	}
	proposed := make([]esdb.EventData, len(events))
	for i := range events {
		meta, hash := encodeMeta(stream, &events[i], prev)
		proposed[i] = esdb.EventData{
			EventID:     events[i].ID,
			EventType:   events[i].Type,
			ContentType: esdb.ContentTypeJson,
			Data:        events[i].Data,
			Metadata:    meta,
		}
		prev = hash
	}
	wr, attempts, err := do(s, ctx, func(ctx context.Context, c *esdb.Client) (*esdb.WriteResult, error) {
		return c.AppendToStream(ctx, s.serverName(stream), esdb.AppendToStreamOptions{ExpectedRevision: pin}, proposed...)
	})
	if code(err) == esdb.ErrorCodeWrongExpectedVersion {
		return eventstore.AppendResult{}, &raced{exists: exists, last: last}
	}
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	lastRev := first + eventstore.Revision(len(events)-1)
	// The server reports the last event's position. With one event and one
	// attempt that is all the result needs; otherwise the positions of the
	// others, or whether a repeated attempt was deduplicated, are read back.
	// So is an answer without a usable position.
	if len(events) == 1 && attempts == 1 && wr.CommitPosition != 0 && wr.CommitPosition != noPosition && wr.NextExpectedVersion == uint64(lastRev) {
		p := eventstore.Position(wr.CommitPosition)
		return eventstore.AppendResult{FirstRevision: first, LastRevision: lastRev, FirstPosition: p, LastPosition: p}, nil
	}
	stored, _, err := s.readStream(ctx, stream, esdb.Forwards, esdb.Revision(uint64(first)), uint64(len(events)))
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("read back: %w", err)
	}
	res, ours, err := match(stream, stored, events)
	if err == nil && !ours {
		err = fmt.Errorf("the server acknowledged the append, but revision %d holds another event", first)
	}
	return res, err
}

// retried recognises an append whose events are already stored where its
// expectation points: from revision 0 for NoStream, after the expected
// revision for Exact, and wherever the first event's ID is among the newest
// events read for Any and StreamExists. tail holds those newest events,
// newest first. done is false when the append is not a retry.
func (s *Store) retried(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, tail []eventstore.RecordedEvent) (res eventstore.AppendResult, done bool, err error) {
	if len(tail) == 0 {
		return res, false, nil
	}
	last := tail[0].Revision
	var start eventstore.Revision
	switch expected.Kind {
	case eventstore.ExpectExact:
		if expected.Revision >= last {
			return res, false, nil
		}
		start = expected.Revision + 1
	case eventstore.ExpectNoStream:
		start = 0
	default:
		found := false
		for _, e := range tail {
			if e.ID == events[0].ID {
				start, found = e.Revision, true
				break
			}
		}
		if !found {
			return res, false, nil
		}
	}
	var stored []eventstore.RecordedEvent
	if oldest := tail[len(tail)-1].Revision; start >= oldest {
		// The tail already holds everything from start to the end.
		for i := len(tail) - 1; i >= 0; i-- {
			if tail[i].Revision >= start {
				stored = append(stored, tail[i])
			}
		}
	} else if stored, _, err = s.readStream(ctx, stream, esdb.Forwards, esdb.Revision(uint64(start)), uint64(len(events))); err != nil {
		return res, true, err
	}
	res, ours, err := match(stream, stored, events)
	return res, ours || err != nil, err
}

// match compares the events stored from some revision on with an append's
// events. ours is false when the first stored event is not the append's
// first; an error reports the same IDs with other contents, or only some of
// the append's events stored.
func match(stream string, stored []eventstore.RecordedEvent, events []eventstore.EventData) (res eventstore.AppendResult, ours bool, err error) {
	if len(stored) == 0 || stored[0].ID != events[0].ID {
		return res, false, nil
	}
	for i := range events {
		if i >= len(stored) || stored[i].ID != events[i].ID {
			return res, true, fmt.Errorf("%w: only %d of the %d events are stored", eventstore.ErrIdempotencyConflict, i, len(events))
		}
		if !eventstore.SameEvent(&stored[i], &events[i]) {
			return res, true, fmt.Errorf("%w: event %s of stream %q", eventstore.ErrIdempotencyConflict, events[i].ID, stream)
		}
	}
	n := len(events) - 1
	return eventstore.AppendResult{
		FirstRevision: stored[0].Revision, LastRevision: stored[n].Revision,
		FirstPosition: stored[0].Position, LastPosition: stored[n].Position,
	}, true, nil
}
