package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/mentorship/mentorship/eventstore"
)

// StateStore is where a Manager keeps its saved state and the position up
// to which its follow-ups are settled. The bbolt file in the data
// directory (File) serves one instance; process/redis serves several, each
// running the manager in turn under a fenced lease. Both pass the
// conformance suite in process/statetest. Neither position moves back.
type StateStore interface {
	// Settled returns the settled position; 0 when none was saved.
	Settled() (eventstore.Position, error)
	// Load calls decode with the saved state, valid only during the call,
	// and reports whether there was one.
	Load(decode func([]byte) error) (bool, error)
	// Save stores the state and moves the settled position up to settled,
	// in one atomic step.
	Save(state []byte, settled eventstore.Position) error
	// SaveSettled moves the settled position up to settled.
	SaveSettled(settled eventstore.Position) error
	// Close releases the store.
	Close() error
}

var _ StateStore = (*File)(nil)

var keySettled = []byte("settled")

var bucketMeta = []byte("meta")

// File is the manager's state in process.db, a bbolt file in the data
// directory, which one process at a time holds open.
type File struct {
	db *bbolt.DB
}

// OpenFile opens (creating when missing) process.db in dir. Another
// process holding the file makes it fail after a short wait.
func OpenFile(dir string) (*File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("process: %w", err)
	}
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("process: %s is in use by another process", FileName)
	}
	if err != nil {
		return nil, fmt.Errorf("process: %w", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketMeta)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("process: %w", err)
	}
	return &File{db: db}, nil
}

// Settled returns the settled position.
func (f *File) Settled() (eventstore.Position, error) {
	var pos eventstore.Position
	err := f.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySettled); len(v) == 8 {
			pos = eventstore.Position(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return pos, err
}

// Load calls decode with the saved state.
func (f *File) Load(decode func([]byte) error) (bool, error) {
	found := false
	err := f.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyState)
		if v == nil {
			return nil
		}
		found = true
		return decode(v)
	})
	return found, err
}

// Save stores the state and the settled position in one transaction.
func (f *File) Save(state []byte, settled eventstore.Position) error {
	err := f.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if err := b.Put(keyState, state); err != nil {
			return err
		}
		return moveSettled(b, settled)
	})
	if err != nil {
		return fmt.Errorf("process: save state: %w", err)
	}
	return nil
}

// SaveSettled moves the settled position.
func (f *File) SaveSettled(settled eventstore.Position) error {
	err := f.db.Update(func(tx *bbolt.Tx) error { return moveSettled(tx.Bucket(bucketMeta), settled) })
	if err != nil {
		return fmt.Errorf("process: save position: %w", err)
	}
	return nil
}

func moveSettled(b *bbolt.Bucket, settled eventstore.Position) error {
	if v := b.Get(keySettled); len(v) == 8 && eventstore.Position(binary.BigEndian.Uint64(v)) >= settled {
		return nil
	}
	return b.Put(keySettled, binary.BigEndian.AppendUint64(nil, uint64(settled)))
}

// CopyFile writes a consistent copy of process.db to path while it stays
// in use: for backups.
func (f *File) CopyFile(path string) error {
	return f.db.View(func(tx *bbolt.Tx) error { return tx.CopyFile(path, 0o600) })
}

// Close closes the file.
func (f *File) Close() error { return f.db.Close() }
