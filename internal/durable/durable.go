// Package durable makes files and directory entries reach the disk: the
// fsync calls the stores make after writing a file and renaming it into
// place.
package durable

import (
	"errors"
	"io"
	"os"
	"path/filepath"
)

// SyncDir makes a directory's entries (a file created, renamed or removed
// in it) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems answer a directory's sync with EOF; there is
	// nothing more to flush.
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// SyncFile makes a file's contents durable.
func SyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncTree makes every regular file under dir, and every directory's
// entries, durable: for a directory written without fsync (a seed, a
// migration) before it is put to use.
func SyncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return SyncDir(path)
		case d.Type().IsRegular():
			return SyncFile(path)
		}
		return nil
	})
}
