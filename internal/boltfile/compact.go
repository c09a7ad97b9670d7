// Package boltfile rewrites a bbolt file without its free pages. bbolt
// keeps the bytes of deleted records in pages it only marks free, so a
// record erased for privacy stays readable in the file until the page is
// reused; Compact copies the live records into a new file and puts it in
// the old one's place, so that the erased bytes leave the disk's file.
package boltfile

import (
	"fmt"
	"os"
	"path/filepath"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/internal/durable"
)

// Compact copies db's live records into a new file, closes db, renames the
// copy over db's path and opens it with opts. The caller must keep every
// other use of db out until it returns; on failure before the rename, db is
// left open and usable and nil is returned with the error.
func Compact(db *bbolt.DB, opts *bbolt.Options) (*bbolt.DB, error) {
	path := db.Path()
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: opts.Timeout})
	if err != nil {
		return nil, fmt.Errorf("compact %s: %w", filepath.Base(path), err)
	}
	if err := bbolt.Compact(dst, db, 0); err != nil {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("compact %s: %w", filepath.Base(path), err)
	}
	if err := dst.Sync(); err != nil {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("compact %s: %w", filepath.Base(path), err)
	}
	if err := dst.Close(); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("compact %s: %w", filepath.Base(path), err)
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("compact %s: close: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return reopen(path, opts, fmt.Errorf("compact %s: %w", filepath.Base(path), err))
	}
	if err := durable.SyncDir(filepath.Dir(path)); err != nil {
		return reopen(path, opts, fmt.Errorf("compact %s: %w", filepath.Base(path), err))
	}
	return reopen(path, opts, nil)
}

func reopen(path string, opts *bbolt.Options, cause error) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o600, opts)
	if err != nil {
		return nil, fmt.Errorf("reopen %s after compacting: %w", filepath.Base(path), err)
	}
	return db, cause
}
