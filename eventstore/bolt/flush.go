package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
)

// flusher moves journaled events into bbolt in large transactions, in the
// background, and then lets the journal drop them.
func (s *Store) flusher() {
	defer close(s.flusherDone)
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.flushKick:
		case <-t.C:
		case <-s.flushQuit:
			for s.flushOnce() {
			}
			return
		}
		// Flush what is there, and go on only while a full chunk waits:
		// small flushes in a row would cost far more per event.
		for s.flushOnce() && s.memLen() >= s.opts.FlushAt {
		}
	}
}

func (s *Store) memLen() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.mem.events)
}

// flushOnce moves up to flushChunk events into bbolt. It reports whether it
// moved any and all went well.
func (s *Store) flushOnce() bool {
	if s.brokenErr() != nil {
		return false
	}
	s.mu.RLock()
	evs := s.mem.events
	s.mu.RUnlock()
	if len(evs) == 0 {
		return false
	}
	if len(evs) > flushChunk {
		evs = evs[:flushChunk]
	}
	err := s.faults.flushFault(s.path)
	if err == nil {
		err = s.update(func(tx *bbolt.Tx) error { return putEvents(tx, evs) })
	}
	if noSpace(err) {
		// bbolt rolled the transaction back and the journal still
		// holds the events: try again later, when there may be room.
		return false
	}
	if err != nil {
		s.breakWith(fmt.Errorf("flush to bbolt: %w", err))
		return false
	}
	last := evs[len(evs)-1].ev.Position
	if s.headFile != nil {
		if err := s.headFile.record(last, evs[len(evs)-1].ev.Hash); err != nil {
			s.breakWith(err)
			return false
		}
	}

	s.mu.Lock()
	rest := s.mem.events[len(evs):]
	if cap(s.mem.events) > 2*len(rest)+flushChunk {
		rest = append(make([]*memEvent, 0, len(rest)+flushChunk), rest...)
	}
	s.mem.events = rest
	s.mem.base = last
	for _, m := range evs {
		ps := s.mem.streams[m.ev.Stream]
		i := 0
		for i < len(ps) && ps[i] <= last {
			i++
		}
		if i == len(ps) {
			delete(s.mem.streams, m.ev.Stream)
		} else if i > 0 {
			s.mem.streams[m.ev.Stream] = ps[i:]
		}
	}
	s.mu.Unlock()
	ch := make(chan struct{})
	close(*s.trimmed.Swap(&ch))

	if err := s.journal.release(last); err != nil {
		s.breakWith(fmt.Errorf("journal: %w", err))
		return false
	}
	return true
}

// putEvents writes events in blocks, a run of positions for each stream
// they touch, the streams' heads and the store's head, in one bbolt
// transaction.
func putEvents(tx *bbolt.Tx, evs []*memEvent) error {
	events, streams, heads := tx.Bucket(bucketEvents), tx.Bucket(bucketStreams), tx.Bucket(bucketHeads)
	events.FillPercent = 1.0 // keys only ever grow
	for i := 0; i < len(evs); {
		first := evs[i].ev.Position
		var block []byte
		n := 0
		for i < len(evs) && n < blockEvents && len(block) < blockBytes {
			block = appendBlock(block, evs[i].raw)
			i++
			n++
		}
		if err := events.Put(posKey(uint64(first)), block); err != nil {
			return err
		}
	}
	type run struct {
		first     eventstore.Revision
		positions []eventstore.Position
	}
	runs := map[string]*run{}
	for _, m := range evs {
		r := runs[m.ev.Stream]
		if r == nil {
			r = &run{first: m.ev.Revision}
			runs[m.ev.Stream] = r
		}
		r.positions = append(r.positions, m.ev.Position)
	}
	// bbolt inserts far faster in key order.
	names := make([]string, 0, len(runs))
	for stream := range runs {
		names = append(names, stream)
	}
	slices.Sort(names)
	for _, stream := range names {
		r := runs[stream]
		if err := streams.Put(runKey(stream, r.first), appendRun(nil, r.positions)); err != nil {
			return err
		}
		last := r.first + eventstore.Revision(len(r.positions)-1)
		if err := heads.Put([]byte(stream), binary.BigEndian.AppendUint64(nil, uint64(last))); err != nil {
			return err
		}
	}
	tail := evs[len(evs)-1].ev
	head := binary.BigEndian.AppendUint64(make([]byte, 0, 8+hashSize), uint64(tail.Position))
	return tx.Bucket(bucketMeta).Put(keyHead, append(head, tail.Hash...))
}

// recover moves events that the journal holds beyond bbolt's head into
// bbolt, checking that they continue the log and its hash chain, and then
// empties the journal.
func (s *Store) recover() error {
	records, err := readJournal(s.journal.dir)
	if err != nil {
		return err
	}
	head := eventstore.Position(s.head.Load())
	hash := s.lastHash
	var pending []*memEvent
	for _, raw := range records {
		ev, err := decodeRecord(raw)
		if err != nil {
			return fmt.Errorf("%w: journal record: %v", eventstore.ErrCorrupt, err)
		}
		if ev.Position <= head {
			continue
		}
		if ev.Position != head+1 {
			return fmt.Errorf("%w: journal skips from position %d to %d", eventstore.ErrCorrupt, head, ev.Position)
		}
		body, _, _ := recordParts(raw)
		if h := chainHash(hash, body); !bytes.Equal(h[:], ev.Hash) {
			return fmt.Errorf("%w: journal record at position %d breaks the hash chain", eventstore.ErrCorrupt, ev.Position)
		}
		pending = append(pending, &memEvent{raw: bytes.Clone(raw), ev: ev})
		head, hash = ev.Position, ev.Hash
	}
	for len(pending) > 0 {
		n := min(len(pending), flushChunk)
		if err := s.update(func(tx *bbolt.Tx) error { return putEvents(tx, pending[:n]) }); err != nil {
			return fmt.Errorf("replay journal: %w", err)
		}
		pending = pending[n:]
	}
	s.head.Store(uint64(head))
	s.lastHash = bytes.Clone(hash)
	return s.journal.removeAll()
}
