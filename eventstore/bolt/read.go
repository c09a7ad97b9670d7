package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
)

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if err := eventstore.ValidateStreamName(stream); err != nil {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("read stream %q: negative limit %d", stream, opts.Limit)
	}
	var out []eventstore.RecordedEvent
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := buckets{events: tx.Bucket(bucketEvents), streams: tx.Bucket(bucketStreams), heads: tx.Bucket(bucketHeads)}
		headV := b.heads.Get([]byte(stream))
		if headV == nil {
			return eventstore.ErrStreamNotFound
		}
		last := eventstore.Revision(binary.BigEndian.Uint64(headV))
		prefix := streamKey(nil, stream, 0)
		prefix = prefix[:len(prefix)-8]
		c := b.streams.Cursor()
		var k, v []byte
		switch {
		case opts.Direction == eventstore.Backwards && (opts.FromEnd || opts.From > last):
			k, v = c.Seek(streamKey(nil, stream, last))
		default:
			k, v = c.Seek(streamKey(nil, stream, opts.From))
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, v = step(c, opts.Direction) {
			if err := ctx.Err(); err != nil {
				return err
			}
			raw := b.events.Get(v)
			if raw == nil {
				return fmt.Errorf("%w: stream %q points to missing position %d", eventstore.ErrCorrupt, stream, binary.BigEndian.Uint64(v))
			}
			ev, err := decodeRecord(raw)
			if err != nil {
				return fmt.Errorf("%w: position %d: %v", eventstore.ErrCorrupt, binary.BigEndian.Uint64(v), err)
			}
			out = append(out, ev)
			if opts.Limit > 0 && len(out) == opts.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read stream %q: %w", stream, err)
	}
	return out, nil
}

func step(c *bbolt.Cursor, d eventstore.Direction) ([]byte, []byte) {
	if d == eventstore.Backwards {
		return c.Prev()
	}
	return c.Next()
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if limit <= 0 {
		limit = s.opts.ReadBatch
	}
	out := make([]eventstore.RecordedEvent, 0, min(limit, int(max(0, int64(s.head.Load())-int64(from)))))
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		want := uint64(from) + 1
		for k, v := c.Seek(posKey(want)); k != nil && len(out) < limit; k, v = c.Next() {
			pos := binary.BigEndian.Uint64(k)
			if pos != want {
				return fmt.Errorf("%w: position %d is missing", eventstore.ErrCorrupt, want)
			}
			ev, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("%w: position %d: %v", eventstore.ErrCorrupt, pos, err)
			}
			out = append(out, ev)
			want++
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read all from %d: %w", from, err)
	}
	return out, nil
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
func (s *Store) HeadHash() (eventstore.Position, []byte, error) {
	var pos uint64
	var hash []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyHead)
		if v == nil {
			return nil
		}
		pos = binary.BigEndian.Uint64(v)
		hash = bytes.Clone(v[8:])
		return nil
	})
	return eventstore.Position(pos), hash, err
}
