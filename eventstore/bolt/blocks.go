package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
)

// bbolt layout. Writing one key per event costs a B+tree insert per event,
// which is most of a flush's time, so events are stored in blocks:
//
//	events:  first position (8 bytes) -> block of consecutive records,
//	         each prefixed with its length (uvarint)
//	streams: stream \x00 first revision (8 bytes) -> the positions of a run
//	         of consecutive revisions (uvarint, then uvarint deltas)
//	heads:   stream -> last revision (8 bytes)
//
// A flush writes one block per blockEvents events and one run per stream
// it touches.
const (
	blockEvents = 256
	blockBytes  = 256 << 10
)

var errBadBlock = errors.New("malformed block")

// appendBlock appends records to a block.
func appendBlock(dst []byte, records ...[]byte) []byte {
	for _, r := range records {
		dst = binary.AppendUvarint(dst, uint64(len(r)))
		dst = append(dst, r...)
	}
	return dst
}

// blockRecords calls fn with each record of a block in order, with its
// index; fn returns false to stop.
func blockRecords(block []byte, fn func(i int, rec []byte) bool) error {
	for i := 0; len(block) > 0; i++ {
		n, k := binary.Uvarint(block)
		if k <= 0 || n > uint64(len(block)-k) {
			return errBadBlock
		}
		if !fn(i, block[k:k+int(n)]) {
			return nil
		}
		block = block[k+int(n):]
	}
	return nil
}

// blockFor positions a cursor on the block that holds pos.
func blockFor(c *bbolt.Cursor, pos eventstore.Position) (first eventstore.Position, block []byte) {
	k, v := c.Seek(posKey(uint64(pos)))
	if k == nil || binary.BigEndian.Uint64(k) > uint64(pos) {
		k, v = c.Prev()
	}
	if k == nil {
		return 0, nil
	}
	return eventstore.Position(binary.BigEndian.Uint64(k)), v
}

// recordAt returns the stored record at a position.
func recordAt(tx *bbolt.Tx, pos eventstore.Position) ([]byte, error) {
	first, block := blockFor(tx.Bucket(bucketEvents).Cursor(), pos)
	if block == nil || pos < first {
		return nil, fmt.Errorf("%w: position %d is missing", eventstore.ErrCorrupt, pos)
	}
	var found []byte
	want := int(pos - first)
	err := blockRecords(block, func(i int, rec []byte) bool {
		if i == want {
			found = rec
			return false
		}
		return true
	})
	if err != nil || found == nil {
		return nil, fmt.Errorf("%w: position %d is missing from its block", eventstore.ErrCorrupt, pos)
	}
	return found, nil
}

// appendRun encodes the positions of a run of revisions.
func appendRun(dst []byte, positions []eventstore.Position) []byte {
	prev := eventstore.Position(0)
	for _, p := range positions {
		dst = binary.AppendUvarint(dst, uint64(p-prev))
		prev = p
	}
	return dst
}

// decodeRun reads the positions of a run.
func decodeRun(v []byte) ([]eventstore.Position, error) {
	var out []eventstore.Position
	prev := uint64(0)
	for len(v) > 0 {
		d, k := binary.Uvarint(v)
		if k <= 0 {
			return nil, errBadBlock
		}
		prev += d
		out = append(out, eventstore.Position(prev))
		v = v[k:]
	}
	return out, nil
}

// runKey is the key of a stream's run starting at rev. Stream names hold no
// control characters, so the zero byte ends the name unambiguously.
func runKey(stream string, rev eventstore.Revision) []byte {
	k := make([]byte, 0, len(stream)+9)
	k = append(k, stream...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, uint64(rev))
}

func runPrefix(stream string) []byte {
	k := make([]byte, 0, len(stream)+1)
	k = append(k, stream...)
	return append(k, 0)
}

// runFor positions a cursor on the run of a stream that holds rev, or the
// last run before it.
func runFor(c *bbolt.Cursor, stream string, rev eventstore.Revision) (k, v []byte) {
	prefix := runPrefix(stream)
	k, v = c.Seek(runKey(stream, rev))
	if k == nil || !bytes.Equal(k, runKey(stream, rev)) {
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
		return nil, nil
	}
	return k, v
}

func runStart(k []byte) eventstore.Revision {
	return eventstore.Revision(binary.BigEndian.Uint64(k[len(k)-8:]))
}

// positionOf returns the position of a stream's revision from bbolt.
func positionOf(tx *bbolt.Tx, stream string, rev eventstore.Revision) (eventstore.Position, error) {
	k, v := runFor(tx.Bucket(bucketStreams).Cursor(), stream, rev)
	if k == nil {
		return 0, fmt.Errorf("%w: stream %q has no revision %d", eventstore.ErrCorrupt, stream, rev)
	}
	positions, err := decodeRun(v)
	if err != nil {
		return 0, fmt.Errorf("%w: stream %q: %v", eventstore.ErrCorrupt, stream, err)
	}
	i := int(rev - runStart(k))
	if i >= len(positions) {
		return 0, fmt.Errorf("%w: stream %q has no revision %d", eventstore.ErrCorrupt, stream, rev)
	}
	return positions[i], nil
}
