// Package bolttest edits an embedded store's file behind its back, as an
// outsider with access to the data directory could, for the tests that
// check the store notices.
package bolttest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
)

// A stored record ends with its 32-byte chain hash and a 4-byte checksum.
const (
	recordHash = 32
	recordCRC  = 4
)

// Rewind removes the events after pos from the store's file and rewrites
// its head to pos with the chain's hash there, leaving the stream index
// alone: an edit that keeps the chain valid, which is what someone who
// wants the log to look shorter would do. A block of events must end at
// pos. The store must be closed.
func Rewind(t testing.TB, dir string, pos eventstore.Position) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		events := tx.Bucket([]byte("events"))
		var drop [][]byte
		var hash []byte
		c := events.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			first := eventstore.Position(binary.BigEndian.Uint64(k))
			if first > pos {
				drop = append(drop, bytes.Clone(k))
				continue
			}
			for i := first; len(v) > 0; i++ {
				n, w := binary.Uvarint(v)
				rec := v[w : w+int(n)]
				if i == pos {
					hash = bytes.Clone(rec[len(rec)-recordCRC-recordHash : len(rec)-recordCRC])
				}
				v = v[w+int(n):]
			}
		}
		if hash == nil {
			return fmt.Errorf("no block ends at position %d", pos)
		}
		for _, k := range drop {
			if err := events.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("head"), append(binary.BigEndian.AppendUint64(nil, uint64(pos)), hash...))
	})
	if err != nil {
		t.Fatal(err)
	}
}
