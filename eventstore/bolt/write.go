package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
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
	if err := s.brokenErr(); err != nil {
		return eventstore.AppendResult{}, err
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
	case <-s.syncerDone:
		// The syncer may have answered just before it stopped.
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

// brokenErr is the failure that stopped the store, if any. After a failed
// journal write or flush the files' state is uncertain, so the store stops
// taking appends instead of guessing; reopening recovers.
func (s *Store) brokenErr() error {
	if p := s.broken.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Store) breakWith(err error) {
	err = fmt.Errorf("%w: stopped after a storage failure (reopen to recover): %w", eventstore.ErrUnavailable, err)
	s.broken.CompareAndSwap(nil, &err)
}

// writer is the only goroutine that appends. It takes whatever is queued,
// checks it and writes it to the journal as one frame, then hands it to the
// syncer; while the syncer waits for fdatasync, the writer already prepares
// the next batch, so the disk's latency and the checks overlap.
func (s *Store) writer() {
	defer close(s.writerDone)
	defer close(s.syncq)
	for {
		var batch []*appendRequest
		select {
		case r := <-s.reqs:
			batch = append(make([]*appendRequest, 0, 64), r)
		case <-s.quit:
			s.refuseQueued()
			return
		}
		if !s.waitForFlusher() {
			for _, r := range batch {
				r.err = eventstore.ErrClosed
				close(r.done)
			}
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
		s.prepare(batch)
	}
}

// waitForFlusher holds the writer back while too many events wait for
// bbolt, so memory stays bounded. It returns false when the store closes.
func (s *Store) waitForFlusher() bool {
	for {
		s.mu.RLock()
		n := len(s.mem.events)
		s.mu.RUnlock()
		if n < maxMem {
			return true
		}
		trimmed := *s.trimmed.Load()
		s.kickFlusher()
		select {
		case <-trimmed:
		case <-s.quit:
			return false
		}
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

// pending is a batch written to the journal and waiting for its
// fdatasync, after which the syncer publishes and answers it.
type pending struct {
	batch     []*appendRequest
	added     []*memEvent
	byStream  map[string][]*memEvent
	head      eventstore.Position
	file      *os.File // to sync; nil when nothing was written
	closeFile *os.File // a full segment to close once synced
	started   time.Time
}

// prepare checks a batch against everything written so far (published or
// still in flight), encodes it, writes it to the journal and queues it for
// the syncer. A request that fails its checks writes nothing and gets its
// error; the others still commit. Requests are answered by the syncer, in
// order, so that none is answered before what it depends on is durable.
func (s *Store) prepare(batch []*appendRequest) {
	p := &pending{batch: batch, started: time.Now(), head: s.wHead}
	if err := s.brokenErr(); err != nil {
		for _, r := range batch {
			r.err = err
		}
		s.syncq <- p
		return
	}
	s.pruneInflight()
	head := s.wHead
	lastHash := s.lastHash
	recordedAt := s.opts.Now().UTC()

	v := &view{s: s, batch: map[string][]*memEvent{}}
	s.mu.RLock()
	err := s.view(func(tx *bbolt.Tx) error {
		v.tx = tx
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			res, evs, err := s.check(v, r, head, lastHash, recordedAt)
			if err != nil {
				r.err = err
				continue
			}
			r.result = res
			if len(evs) > 0 {
				p.added = append(p.added, evs...)
				v.batch[r.stream] = append(v.batch[r.stream], evs...)
				head = res.LastPosition
				lastHash = evs[len(evs)-1].ev.Hash
			}
		}
		return nil
	})
	s.mu.RUnlock()
	if err != nil {
		// bbolt could not be read (a damaged page): nothing of the
		// batch is written.
		for _, r := range batch {
			r.err, r.result = fmt.Errorf("append: %w", err), eventstore.AppendResult{}
		}
		p.added = nil
		s.syncq <- p
		return
	}
	if len(p.added) == 0 {
		s.syncq <- p
		return
	}

	records := make([][]byte, len(p.added))
	for i, m := range p.added {
		records[i] = m.raw
	}
	s.frameBuf = appendFrame(s.frameBuf[:0], records)
	file, full, err := s.journal.append(s.frameBuf, head)
	if err != nil && noSpace(err) && s.journal.rewind() == nil {
		// The journal is as it was before this frame: refuse the batch
		// and go on, so that appends work again once there is room.
		err = fmt.Errorf("append: %w: no space left for the journal: %w", eventstore.ErrUnavailable, err)
		for _, r := range batch {
			if r.err == nil {
				r.err, r.result = err, eventstore.AppendResult{}
			}
		}
		p.added = nil
		s.syncq <- p
		return
	}
	if err == nil && full {
		p.closeFile, err = s.journal.startSegment(head + 1)
	}
	if cap(s.frameBuf) > 4<<20 {
		s.frameBuf = nil
	}
	if err != nil {
		s.breakWith(fmt.Errorf("journal: %w", err))
		err := s.brokenErr()
		for _, r := range batch {
			if r.err == nil {
				r.err, r.result = err, eventstore.AppendResult{}
			}
		}
		p.added = nil
		s.syncq <- p
		return
	}
	for stream, evs := range v.batch {
		s.cacheHead(stream, evs[len(evs)-1].ev.Revision)
	}
	p.file, p.head, p.byStream = file, head, v.batch
	s.wHead, s.lastHash = head, lastHash
	s.inflight = append(s.inflight, p)
	s.syncq <- p
}

// pruneInflight forgets batches the syncer has published: the memtable
// holds them now.
func (s *Store) pruneInflight() {
	published := eventstore.Position(s.head.Load())
	i := 0
	for i < len(s.inflight) && s.inflight[i].head <= published {
		i++
	}
	if i > 0 {
		s.inflight = append(s.inflight[:0], s.inflight[i:]...)
	}
}

// syncer makes written batches durable, publishes them to readers and
// subscriptions, and answers their requests, in the order they were
// written. It takes every batch already written when it starts a sync, so
// that one fdatasync of the journal covers them all: while it waits on the
// disk the writer goes on writing, and the next sync takes all of that.
// After a failed fdatasync the store stops: the journal's state is unknown.
func (s *Store) syncer() {
	defer close(s.syncerDone)
	group := make([]*pending, 0, cap(s.syncq)+1)
	for p := range s.syncq {
		group = append(group[:0], p)
	more:
		for {
			select {
			case q, ok := <-s.syncq:
				if !ok {
					break more
				}
				group = append(group, q)
			default:
				break more
			}
		}
		s.syncGroup(group)
	}
}

// syncGroup syncs each journal file the group wrote once, closes the
// segments it filled, then publishes and answers its batches in order.
func (s *Store) syncGroup(group []*pending) {
	var synced *os.File
	for _, p := range group {
		if p.file != nil && p.file != synced && s.brokenErr() == nil {
			if err := s.journal.sync(p.file); err != nil {
				s.breakWith(fmt.Errorf("journal: %w", err))
			}
			synced = p.file
		}
		if p.closeFile != nil {
			// A filled segment was the file of this batch: it is
			// synced above, before anything after it.
			if err := p.closeFile.Close(); err != nil {
				s.breakWith(fmt.Errorf("journal: %w", err))
			}
			synced = nil
		}
	}
	appends, events := 0, 0
	for _, p := range group {
		if err := s.brokenErr(); err != nil && len(p.added) > 0 {
			for _, r := range p.batch {
				if r.err == nil {
					r.err, r.result = err, eventstore.AppendResult{}
				}
			}
		} else if len(p.added) > 0 {
			s.publish(p)
		}
		appends += len(p.batch)
		events += len(p.added)
	}
	if s.opts.OnCommit != nil && events > 0 {
		s.opts.OnCommit(appends, events, time.Since(group[0].started))
	}
	for _, p := range group {
		for _, r := range p.batch {
			close(r.done)
		}
	}
}

// publish adds a durable batch to the memtable and wakes subscriptions.
func (s *Store) publish(p *pending) {
	s.mu.Lock()
	for _, m := range p.added {
		s.mem.events = append(s.mem.events, m)
		s.mem.streams[m.ev.Stream] = append(s.mem.streams[m.ev.Stream], m.ev.Position)
	}
	waiting := len(s.mem.events)
	s.mu.Unlock()
	s.head.Store(uint64(p.head))
	s.wake()
	if waiting >= s.opts.FlushAt {
		s.kickFlusher()
	}
}

// check decides one request against the stream's state as the batch so far
// leaves it, and encodes its events. It returns no events for an idempotent
// retry.
func (s *Store) check(v *view, r *appendRequest, head eventstore.Position, prevHash []byte, recordedAt time.Time) (eventstore.AppendResult, []*memEvent, error) {
	var res eventstore.AppendResult
	exists, last, err := v.head(r.stream)
	if err != nil {
		return res, nil, err
	}
	if done, res, err := v.retried(r, exists, last); done || err != nil {
		return res, nil, err
	}
	if !r.expected.Matches(exists, last) {
		return res, nil, &eventstore.WrongExpectedRevisionError{Stream: r.stream, Expected: r.expected, ActualExists: exists, Actual: last}
	}
	next := eventstore.Revision(0)
	if exists {
		next = last + 1
	}
	evs := make([]*memEvent, len(r.events))
	for i := range r.events {
		pos := head + 1 + eventstore.Position(i)
		rev := next + eventstore.Revision(i)
		e := &r.events[i]
		raw, data, hash := encodeRecord(nil, e, r.stream, rev, pos, recordedAt, prevHash)
		meta := e.Metadata
		meta.RecordedAt = recordedAt
		if !meta.OccurredAt.IsZero() {
			meta.OccurredAt = time.Unix(0, meta.OccurredAt.UnixNano()).UTC()
		}
		evs[i] = &memEvent{raw: raw, ev: eventstore.RecordedEvent{
			ID: e.ID, Stream: r.stream, Type: e.Type, SchemaVersion: e.SchemaVersion,
			Data: data, Metadata: meta, Revision: rev, Position: pos, Hash: hash,
		}}
		prevHash = hash
	}
	res = eventstore.AppendResult{
		FirstRevision: next, LastRevision: next + eventstore.Revision(len(evs)-1),
		FirstPosition: head + 1, LastPosition: head + eventstore.Position(len(evs)),
	}
	return res, evs, nil
}

// view answers questions about streams while the writer checks a batch: the
// batch's own events first, then the memtable, then bbolt. The writer holds
// the store's lock shared meanwhile, so the memtable and the bbolt
// transaction agree.
type view struct {
	s     *Store
	tx    *bbolt.Tx
	batch map[string][]*memEvent
}

func (v *view) head(stream string) (bool, eventstore.Revision, error) {
	if b := v.batch[stream]; len(b) > 0 {
		return true, b[len(b)-1].ev.Revision, nil
	}
	for i := len(v.s.inflight) - 1; i >= 0; i-- {
		if b := v.s.inflight[i].byStream[stream]; len(b) > 0 {
			return true, b[len(b)-1].ev.Revision, nil
		}
	}
	if rev, ok := v.s.heads[stream]; ok {
		return true, rev, nil
	}
	if ps := v.s.mem.streams[stream]; len(ps) > 0 {
		return true, v.s.mem.at(ps[len(ps)-1]).ev.Revision, nil
	}
	if h := v.tx.Bucket(bucketHeads).Get([]byte(stream)); h != nil {
		if len(h) != 8 {
			return false, 0, fmt.Errorf("%w: malformed head of stream %q", eventstore.ErrCorrupt, stream)
		}
		rev := eventstore.Revision(binary.BigEndian.Uint64(h))
		v.s.cacheHead(stream, rev)
		return true, rev, nil
	}
	return false, 0, nil
}

// maxCachedHeads bounds the writer's cache of stream heads.
const maxCachedHeads = 1 << 20

// cacheHead remembers a stream's last revision. Only the writer changes
// heads, so the cache it owns is never stale.
func (s *Store) cacheHead(stream string, rev eventstore.Revision) {
	if len(s.heads) >= maxCachedHeads {
		clear(s.heads)
	}
	s.heads[stream] = rev
}

// event returns the event at a revision of a stream. With full false only
// its ID is filled in, which saves decoding while searching for a retry.
func (v *view) event(stream string, rev eventstore.Revision, full bool) (eventstore.RecordedEvent, error) {
	if b := v.batch[stream]; len(b) > 0 && rev >= b[0].ev.Revision {
		return b[rev-b[0].ev.Revision].ev, nil
	}
	for i := len(v.s.inflight) - 1; i >= 0; i-- {
		if b := v.s.inflight[i].byStream[stream]; len(b) > 0 && rev >= b[0].ev.Revision && int(rev-b[0].ev.Revision) < len(b) {
			return b[rev-b[0].ev.Revision].ev, nil
		}
	}
	if ps := v.s.mem.streams[stream]; len(ps) > 0 {
		first := v.s.mem.at(ps[0]).ev.Revision
		if rev >= first && int(rev-first) < len(ps) {
			return v.s.mem.at(ps[rev-first]).ev, nil
		}
	}
	pos, err := positionOf(v.tx, stream, rev)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	raw, err := recordAt(v.tx, pos)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	if !full && len(raw) >= 25 {
		return eventstore.RecordedEvent{ID: uuid.UUID(raw[9:25])}, nil
	}
	ev, err := decodeRecord(raw)
	if err != nil {
		return ev, fmt.Errorf("%w: position %d: %v", eventstore.ErrCorrupt, pos, err)
	}
	return ev, nil
}

// retried recognises an append that is already stored: the same event IDs at
// the revisions the expectation points to (for exact and no-stream), or
// among the stream's newest events (for any and stream-exists). It then
// answers with the original result. The same IDs with other contents are an
// error.
func (v *view) retried(r *appendRequest, exists bool, last eventstore.Revision) (bool, eventstore.AppendResult, error) {
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
		if last >= eventstore.DefaultRetryWindow {
			from = last - eventstore.DefaultRetryWindow + 1
		}
		for rev := last; ; rev-- {
			ev, err := v.event(r.stream, rev, false)
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
			if i == 0 {
				return false, res, nil
			}
			return true, res, partialRetry(r)
		}
		ev, err := v.event(r.stream, rev, true)
		if err != nil {
			return false, res, err
		}
		if ev.ID != r.events[i].ID {
			if i == 0 {
				return false, res, nil
			}
			return true, res, partialRetry(r)
		}
		if !eventstore.SameEvent(&ev, &r.events[i]) {
			return true, res, fmt.Errorf("append to %q: %w: event %s", r.stream, eventstore.ErrIdempotencyConflict, ev.ID)
		}
		if i == 0 {
			res.FirstRevision, res.FirstPosition = ev.Revision, ev.Position
		}
		res.LastRevision, res.LastPosition = ev.Revision, ev.Position
	}
	return true, res, nil
}

func partialRetry(r *appendRequest) error {
	return fmt.Errorf("append to %q: %w: only part of the events are stored", r.stream, eventstore.ErrIdempotencyConflict)
}

// at returns the memtable's event at a position it holds.
func (m *memtable) at(p eventstore.Position) *memEvent {
	return m.events[p-m.base-1]
}

func posKey(p uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), p) }

// wake tells every waiting subscription that the head moved.
func (s *Store) wake() {
	ch := make(chan struct{})
	old := s.notify.Swap(&ch)
	close(*old)
}

func (s *Store) kickFlusher() {
	select {
	case s.flushKick <- struct{}{}:
	default:
	}
}

// Close stops the writer after its current batch, moves everything
// journaled into bbolt, and closes the files. Appends still queued get
// eventstore.ErrClosed.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		<-s.writerDone
		<-s.syncerDone
		close(s.flushQuit)
		<-s.flusherDone
		var errs []error
		s.mu.RLock()
		empty := len(s.mem.events) == 0
		s.mu.RUnlock()
		if empty {
			errs = append(errs, s.journal.removeAll())
		} else if s.journal.f != nil {
			errs = append(errs, s.journal.f.Close())
		}
		errs = append(errs, s.headFile.close(), s.db.Close())
		err = errors.Join(errs...)
	})
	return err
}
