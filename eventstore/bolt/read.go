package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
)

// snapshot is a reader's consistent picture of the memtable: everything up
// to base is in bbolt, everything after it in events.
type snapshot struct {
	base   eventstore.Position
	events []*memEvent
}

func (s *Store) snapshot(stream string) (snapshot, []eventstore.Position) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	snap := snapshot{base: s.mem.base, events: s.mem.events}
	if stream == "" {
		return snap, nil
	}
	return snap, slices.Clone(s.mem.streams[stream])
}

func (sn snapshot) at(p eventstore.Position) eventstore.RecordedEvent {
	return sn.events[p-sn.base-1].ev
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := eventstore.ValidateReadStream(stream, opts); err != nil {
		return nil, err
	}
	snap, memPos := s.snapshot(stream)
	// The memtable holds the stream's newest revisions, in order; only
	// those the read returns are copied out of it, so that reading the
	// few events after a revision costs the same however many the
	// memtable holds.
	memRev := func(i int) eventstore.Revision { return snap.events[memPos[i]-snap.base-1].ev.Revision }
	var out []eventstore.RecordedEvent
	full := func() bool { return opts.Limit > 0 && len(out) >= opts.Limit }
	if opts.Direction != eventstore.Backwards && len(memPos) > 0 && opts.From >= memRev(0) {
		// Everything asked for is in the memtable: bbolt has nothing to
		// add, and the stream exists.
		for i := sort.Search(len(memPos), func(i int) bool { return memRev(i) >= opts.From }); i < len(memPos) && !full(); i++ {
			out = append(out, snap.at(memPos[i]))
		}
		return out, nil
	}
	err := s.view(func(tx *bbolt.Tx) error {
		exists := len(memPos) > 0
		var last eventstore.Revision
		if len(memPos) > 0 {
			last = memRev(len(memPos) - 1)
		} else if h := tx.Bucket(bucketHeads).Get([]byte(stream)); h != nil {
			exists, last = true, eventstore.Revision(binary.BigEndian.Uint64(h))
		}
		if !exists {
			return eventstore.ErrStreamNotFound
		}
		// bbolt holds the revisions below firstMem; the memtable the rest.
		firstMem := last + 1
		if len(memPos) > 0 {
			firstMem = memRev(0)
		}
		if opts.Direction == eventstore.Backwards {
			from := opts.From
			if opts.FromEnd || from > last {
				from = last
			}
			for i := len(memPos) - 1; i >= 0 && !full(); i-- {
				if memRev(i) <= from {
					out = append(out, snap.at(memPos[i]))
				}
			}
			if full() || firstMem == 0 {
				return nil
			}
			return readStreamBolt(ctx, tx, stream, min(from, firstMem-1), eventstore.Backwards, firstMem, &out, full)
		}
		if opts.From < firstMem {
			if err := readStreamBolt(ctx, tx, stream, opts.From, eventstore.Forwards, firstMem, &out, full); err != nil {
				return err
			}
		}
		for i := range memPos {
			if full() {
				break
			}
			if memRev(i) >= opts.From {
				out = append(out, snap.at(memPos[i]))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read stream %q: %w", stream, err)
	}
	return out, nil
}

// readStreamBolt reads revisions below stop of a stream from bbolt, starting
// at from.
func readStreamBolt(ctx context.Context, tx *bbolt.Tx, stream string, from eventstore.Revision, dir eventstore.Direction, stop eventstore.Revision, out *[]eventstore.RecordedEvent, full func() bool) error {
	prefix := runPrefix(stream)
	c := tx.Bucket(bucketStreams).Cursor()
	k, v := runFor(c, stream, from)
	if k == nil {
		if dir == eventstore.Backwards {
			return nil
		}
		// from lies before the first run: start at the first run.
		k, v = c.Seek(prefix)
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8 && !full(); k, v = step(c, dir) {
		positions, err := decodeRun(v)
		if err != nil {
			return fmt.Errorf("%w: stream %q: %v", eventstore.ErrCorrupt, stream, err)
		}
		start := runStart(k)
		for j := range positions {
			i := j
			if dir == eventstore.Backwards {
				i = len(positions) - 1 - j
			}
			rev := start + eventstore.Revision(i)
			if rev >= stop || (dir == eventstore.Forwards && rev < from) || (dir == eventstore.Backwards && rev > from) {
				continue
			}
			if full() {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			raw, err := recordAt(tx, positions[i])
			if err != nil {
				return err
			}
			ev, err := decodeRecord(raw)
			if err != nil {
				return fmt.Errorf("%w: position %d: %v", eventstore.ErrCorrupt, positions[i], err)
			}
			*out = append(*out, ev)
		}
	}
	return nil
}

func step(c *bbolt.Cursor, d eventstore.Direction) ([]byte, []byte) {
	if d == eventstore.Backwards {
		return c.Prev()
	}
	return c.Next()
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	return s.readAll(ctx, from, limit, nil)
}

// ReadAllInto implements eventstore.BufferedReader.
func (s *Store) ReadAllInto(ctx context.Context, from eventstore.Position, limit int, buf *eventstore.ReadBuffer) ([]eventstore.RecordedEvent, error) {
	return s.readAll(ctx, from, limit, buf)
}

// readAll reads as ReadAll does, into buf when it is not nil.
func (s *Store) readAll(ctx context.Context, from eventstore.Position, limit int, buf *eventstore.ReadBuffer) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if limit <= 0 {
		limit = s.opts.ReadBatch
	}
	snap, _ := s.snapshot("")
	end := snap.base + eventstore.Position(len(snap.events))
	if from >= end {
		return nil, ctx.Err()
	}
	var out []eventstore.RecordedEvent
	var arena *[]byte
	if buf != nil {
		out, arena = buf.Events[:0], &buf.Bytes
		*arena = (*arena)[:0]
		defer func() { buf.Events = out[:0] }()
	} else {
		out = make([]eventstore.RecordedEvent, 0, min(limit, int(end-from)))
	}
	if from < snap.base {
		err := s.view(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketEvents).Cursor()
			want := from + 1
			first, block := blockFor(c, want)
			for block != nil && len(out) < limit && want <= snap.base {
				var bad error
				err := blockRecords(block, func(i int, raw []byte) bool {
					pos := first + eventstore.Position(i)
					if pos < want {
						return true
					}
					if pos != want || want > snap.base || len(out) >= limit {
						if pos != want {
							bad = fmt.Errorf("%w: position %d is missing", eventstore.ErrCorrupt, want)
						}
						return false
					}
					ev, err := decodeRecordInto(raw, arena)
					if err != nil {
						bad = fmt.Errorf("%w: position %d: %v", eventstore.ErrCorrupt, pos, err)
						return false
					}
					out = append(out, ev)
					want++
					return true
				})
				if bad != nil {
					return bad
				}
				if err != nil {
					return fmt.Errorf("%w: block at %d: %v", eventstore.ErrCorrupt, first, err)
				}
				k, v := c.Next()
				if k == nil {
					break
				}
				first, block = eventstore.Position(binary.BigEndian.Uint64(k)), v
			}
			if want <= snap.base && len(out) < limit {
				return fmt.Errorf("%w: position %d is missing", eventstore.ErrCorrupt, want)
			}
			return ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("read all from %d: %w", from, err)
		}
	}
	for p := max(from, snap.base) + 1; p <= end && len(out) < limit; p++ {
		out = append(out, snap.at(p))
	}
	return out, ctx.Err()
}

// Head implements eventstore.Store.
func (s *Store) Head(context.Context) (eventstore.Position, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	return eventstore.Position(s.head.Load()), nil
}

// HeadHash returns the last position and the hash that ends the chain there,
// for publishing elsewhere.
func (s *Store) HeadHash() (eventstore.Position, []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n := len(s.mem.events); n > 0 {
		ev := s.mem.events[n-1].ev
		return ev.Position, bytes.Clone(ev.Hash)
	}
	var pos eventstore.Position
	var hash []byte
	_ = s.view(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyHead); len(v) == 8+hashSize {
			pos, hash = eventstore.Position(binary.BigEndian.Uint64(v)), bytes.Clone(v[8:])
		}
		return nil
	})
	return pos, hash
}
