package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
)

// Append implements eventstore.Store. The events are durable when it returns
// without error. A cancelled context may leave the append written or not;
// retrying it with the same event IDs settles which without duplicating.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.closed.Load() {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	if err := eventstore.ValidateAppend(stream, expected, events, s.opts.MaxEventSize); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %q: %w", stream, err)
	}
	r := &appendRequest{ctx: ctx, stream: stream, expected: expected, events: events, done: make(chan struct{})}
	select {
	case s.reqs <- r:
	case <-s.quit:
		return eventstore.AppendResult{}, eventstore.ErrClosed
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	}
	select {
	case <-r.done:
		return r.result, r.err
	case <-s.writerDone:
		// The writer may have answered just before it stopped.
		select {
		case <-r.done:
			return r.result, r.err
		default:
			return eventstore.AppendResult{}, eventstore.ErrClosed
		}
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	}
}

// writer is the only goroutine that writes. It commits whatever is queued in
// one transaction, so concurrent appends share one fsync.
func (s *Store) writer() {
	defer close(s.writerDone)
	batch := make([]*appendRequest, 0, s.opts.MaxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.quit:
			s.refuseQueued()
			return
		}
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

func (s *Store) refuseQueued() {
	for {
		select {
		case r := <-s.reqs:
			r.err = eventstore.ErrClosed
			close(r.done)
		default:
			return
		}
	}
}

// commit writes a batch in one transaction. A request that fails its checks
// writes nothing and gets its error; the others still commit. A storage
// failure fails the whole batch.
func (s *Store) commit(batch []*appendRequest) {
	started := time.Now()
	head := s.head.Load()
	lastHash := s.lastHash
	events := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := buckets{events: tx.Bucket(bucketEvents), streams: tx.Bucket(bucketStreams), heads: tx.Bucket(bucketHeads)}
		recordedAt := s.opts.Now().UTC()
		for _, r := range batch {
			r.err = nil
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			res, written, err := s.apply(b, r, head, lastHash, recordedAt)
			if err != nil {
				if isStorageError(err) {
					return err
				}
				r.err = err
				continue
			}
			r.result = res
			if written > 0 {
				head = uint64(res.LastPosition)
				lastHash = s.lastWrittenHash
				events += written
			}
		}
		if head == s.head.Load() {
			// Nothing to write: skip the commit and its fsync.
			return errNothingWritten
		}
		meta := tx.Bucket(bucketMeta)
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+hashSize), head)
		return meta.Put(keyHead, append(v, lastHash...))
	})
	if errors.Is(err, errNothingWritten) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("append: commit: %w", err)
		for _, r := range batch {
			r.err = err
			r.result = eventstore.AppendResult{}
		}
	} else if head != s.head.Load() {
		s.lastHash = bytes.Clone(lastHash)
		s.head.Store(head)
		s.wake()
	}
	if s.opts.OnCommit != nil {
		s.opts.OnCommit(len(batch), events, time.Since(started))
	}
	for _, r := range batch {
		close(r.done)
	}
}

var errNothingWritten = errors.New("nothing written")

// storageError marks failures of the file itself, which fail a whole batch,
// apart from a request's own refusals.
type storageError struct{ err error }

func (e storageError) Error() string { return e.err.Error() }
func (e storageError) Unwrap() error { return e.err }

func isStorageError(err error) bool {
	_, ok := err.(storageError)
	return ok
}

type buckets struct {
	events, streams, heads *bbolt.Bucket
}

// streamKey is the index key of one revision of a stream. Stream names hold
// no control characters, so the zero byte ends the name unambiguously.
func streamKey(dst []byte, stream string, rev eventstore.Revision) []byte {
	dst = append(dst, stream...)
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint64(dst, uint64(rev))
}

func posKey(p uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), p) }

// apply checks one request against the stream's state and writes it. It
// returns the number of events written, which is 0 for an idempotent retry.
func (s *Store) apply(b buckets, r *appendRequest, head uint64, prevHash []byte, recordedAt time.Time) (eventstore.AppendResult, int, error) {
	var res eventstore.AppendResult
	exists := false
	var last eventstore.Revision
	if v := b.heads.Get([]byte(r.stream)); v != nil {
		exists = true
		last = eventstore.Revision(binary.BigEndian.Uint64(v))
	}
	if done, res, err := s.retried(b, r, exists, last); done || err != nil {
		return res, 0, err
	}
	if !r.expected.Matches(exists, last) {
		return res, 0, &eventstore.WrongExpectedRevisionError{Stream: r.stream, Expected: r.expected, ActualExists: exists, Actual: last}
	}
	next := eventstore.Revision(0)
	if exists {
		next = last + 1
	}
	res.FirstRevision = next
	res.FirstPosition = eventstore.Position(head + 1)
	for i := range r.events {
		pos := head + 1 + uint64(i)
		rev := next + eventstore.Revision(i)
		record, hash := encodeRecord(s.scratch[:0], &r.events[i], r.stream, rev, eventstore.Position(pos), recordedAt, prevHash)
		s.scratch = record[:0]
		// bbolt keeps the value slice until commit, so each record
		// needs its own memory.
		if err := b.events.Put(posKey(pos), bytes.Clone(record)); err != nil {
			return res, 0, storageError{err}
		}
		if err := b.streams.Put(streamKey(nil, r.stream, rev), posKey(pos)); err != nil {
			return res, 0, storageError{err}
		}
		prevHash = bytes.Clone(hash)
	}
	res.LastRevision = next + eventstore.Revision(len(r.events)-1)
	res.LastPosition = eventstore.Position(head + uint64(len(r.events)))
	if err := b.heads.Put([]byte(r.stream), binary.BigEndian.AppendUint64(nil, uint64(res.LastRevision))); err != nil {
		return res, 0, storageError{err}
	}
	s.lastWrittenHash = prevHash
	return res, len(r.events), nil
}

// retried recognises an append that is already stored: the same event IDs at
// the revisions the expectation points to (for exact and no-stream), or
// anywhere among the stream's newest events (for any and stream-exists). It
// then answers with the original result. The same IDs with other contents
// are an error.
func (s *Store) retried(b buckets, r *appendRequest, exists bool, last eventstore.Revision) (bool, eventstore.AppendResult, error) {
	var res eventstore.AppendResult
	if !exists {
		return false, res, nil
	}
	var first eventstore.Revision
	switch r.expected.Kind {
	case eventstore.ExpectExact:
		if r.expected.Revision >= last {
			return false, res, nil
		}
		first = r.expected.Revision + 1
	case eventstore.ExpectNoStream:
		first = 0
	default:
		found := false
		from := eventstore.Revision(0)
		if last >= retryWindow {
			from = last - retryWindow + 1
		}
		for rev := last; ; rev-- {
			ev, err := s.eventAt(b, r.stream, rev)
			if err != nil {
				return false, res, err
			}
			if ev.ID == r.events[0].ID {
				first, found = rev, true
				break
			}
			if rev == from {
				break
			}
		}
		if !found {
			return false, res, nil
		}
	}
	for i := range r.events {
		rev := first + eventstore.Revision(i)
		if rev > last {
			return i > 0, res, idempotencyError(r, i > 0)
		}
		ev, err := s.eventAt(b, r.stream, rev)
		if err != nil {
			return false, res, err
		}
		if ev.ID != r.events[i].ID {
			if i == 0 {
				return false, res, nil
			}
			return true, res, idempotencyError(r, true)
		}
		if !sameEvent(&ev, &r.events[i]) {
			return true, res, fmt.Errorf("append to %q: %w: event %s", r.stream, eventstore.ErrIdempotencyConflict, ev.ID)
		}
		if i == 0 {
			res.FirstRevision, res.FirstPosition = ev.Revision, ev.Position
		}
		res.LastRevision, res.LastPosition = ev.Revision, ev.Position
	}
	return true, res, nil
}

// retryWindow is how far back from a stream's end an append with a loose
// expectation looks for its own events.
const retryWindow = 64

func idempotencyError(r *appendRequest, partial bool) error {
	if !partial {
		return nil
	}
	return fmt.Errorf("append to %q: %w: only part of the events are stored", r.stream, eventstore.ErrIdempotencyConflict)
}

func (s *Store) eventAt(b buckets, stream string, rev eventstore.Revision) (eventstore.RecordedEvent, error) {
	pos := b.streams.Get(streamKey(nil, stream, rev))
	if pos == nil {
		return eventstore.RecordedEvent{}, storageError{fmt.Errorf("%w: stream %q has no revision %d", eventstore.ErrCorrupt, stream, rev)}
	}
	raw := b.events.Get(pos)
	if raw == nil {
		return eventstore.RecordedEvent{}, storageError{fmt.Errorf("%w: stream %q revision %d points to a missing event", eventstore.ErrCorrupt, stream, rev)}
	}
	ev, err := decodeRecord(raw)
	if err != nil {
		return ev, storageError{fmt.Errorf("%w: position %d: %v", eventstore.ErrCorrupt, binary.BigEndian.Uint64(pos), err)}
	}
	return ev, nil
}

// wake tells every waiting subscription that the head moved.
func (s *Store) wake() {
	ch := make(chan struct{})
	old := s.notify.Swap(&ch)
	close(*old)
}

// Close stops the writer after its current batch and closes the file.
// Appends still queued get eventstore.ErrClosed.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		<-s.writerDone
		err = s.db.Close()
	})
	return err
}
