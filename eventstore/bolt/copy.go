package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
)

// CopyTo writes the log up to and including position until (the whole log
// when 0) into a new store in dir, record for record: the same bytes, so
// the same positions, times and hash chain. Auditors open the copy to look
// at the program as it was, without touching the live store. dir must not
// hold a store already.
func (s *Store) CopyTo(ctx context.Context, dir string, until eventstore.Position) (eventstore.Position, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		return 0, fmt.Errorf("copy: %s already holds a store", dir)
	}
	head := eventstore.Position(s.head.Load())
	if until == 0 || until > head {
		until = head
	}
	// Create the file with its buckets through the normal path, then fill
	// it directly.
	dst, err := Open(dir, Options{})
	if err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	if err := dst.Close(); err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, &bbolt.Options{Timeout: s.opts.LockTimeout})
	if err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	copied := eventstore.Start
	put := func(batch []*memEvent) error {
		if len(batch) == 0 {
			return nil
		}
		if err := db.Update(func(tx *bbolt.Tx) error { return putEvents(tx, batch) }); err != nil {
			return err
		}
		copied = batch[len(batch)-1].ev.Position
		return nil
	}
	err = s.rawRecords(ctx, until, func(batch []*memEvent) error { return put(batch) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return copied, fmt.Errorf("copy: %w", err)
	}
	return copied, nil
}

// rawRecords hands the stored records up to until to fn in batches, in
// order, with the fields putEvents needs.
func (s *Store) rawRecords(ctx context.Context, until eventstore.Position, fn func([]*memEvent) error) error {
	snap, _ := s.snapshot("")
	var batch []*memEvent
	flush := func() error {
		err := fn(batch)
		batch = nil
		return err
	}
	add := func(raw []byte) error {
		ev, err := decodeRecord(raw)
		if err != nil {
			return err
		}
		batch = append(batch, &memEvent{raw: append([]byte(nil), raw...), ev: ev})
		if len(batch) >= flushChunk {
			return flush()
		}
		return nil
	}
	errStop := errors.New("stop")
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, block := c.First(); k != nil; k, block = c.Next() {
			first := eventstore.Position(binary.BigEndian.Uint64(k))
			var inner error
			err := blockRecords(block, func(i int, raw []byte) bool {
				pos := first + eventstore.Position(i)
				if pos > snap.base || pos > until {
					inner = errStop
					return false
				}
				inner = add(raw)
				return inner == nil
			})
			if err != nil {
				return err
			}
			if inner != nil {
				return inner
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	for _, m := range snap.events {
		if m.ev.Position > until {
			break
		}
		batch = append(batch, m)
	}
	return flush()
}
