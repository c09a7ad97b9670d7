package boltfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/internal/boltfile"
)

func TestCompactLeavesNoDeletedBytesInTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	opts := &bbolt.Options{}
	db, err := bbolt.Open(path, 0o600, opts)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("ada.lovelace@example.org")
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		for i := range 200 {
			if err := b.Put([]byte{byte(i)}, bytes.Repeat([]byte("filler "), 20)); err != nil {
				return err
			}
		}
		return b.Put(secret, secret)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("b")).Delete(secret) }); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, secret) {
		t.Fatal("precondition: bbolt is expected to leave a deleted record's bytes in its file")
	}
	db, err = boltfile.Compact(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, _ = os.ReadFile(path)
	if bytes.Contains(raw, secret) {
		t.Fatal("the deleted record's bytes are still in the file after compacting")
	}
	n := 0
	_ = db.View(func(tx *bbolt.Tx) error { n = tx.Bucket([]byte("b")).Stats().KeyN; return nil })
	if n != 200 {
		t.Fatalf("%d records after compacting, want 200", n)
	}
}
