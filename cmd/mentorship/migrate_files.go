package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"

	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/process"
)

// blobsDirName is the documents' folder in the data directory (see
// blob.DefaultURL).
const blobsDirName = "blobs"

// copyBeside copies into newDir what a migrated data directory keeps of
// oldDir besides the log, and returns what it copied and how many emails
// the old outbox had not delivered.
//
//   - auth.db, the accounts, so that every member signs in as before. It
//     holds the login emails, as it must to sign anyone in, and is
//     compacted on the way, so that the bytes of records it deleted (an
//     erased member's credentials) stay behind.
//   - process.db, the process manager's state: IDs, statuses and times,
//     no personal text. The copied events keep their positions and IDs,
//     so its checkpoint holds in the new log and the manager resumes
//     rather than reconciling the whole history again.
//   - the record of accepted losses, which the start-up checks read.
//   - the documents' bytes (the blobs folder), which the log's document
//     events point at by their SHA-256.
//
// The outbox is not copied: its entries (recipients, subjects, bodies)
// and its saved directory (names, addresses, phone numbers) hold personal
// data in the clear. The new outbox starts with the position up to which
// the old one composed emails, so that the server composes none for the
// events before it again, and does compose those of later events a
// crashed server never got to. Emails the old outbox still had to deliver
// are counted and not sent. The snapshots are rebuilt from the log, and
// the development mailbox, plain emails, stays behind.
func copyBeside(oldDir, newDir string) (copied []string, undelivered int, err error) {
	for _, name := range []string{authbolt.FileName, process.FileName} {
		if _, err := os.Stat(filepath.Join(oldDir, name)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := compactBoltFile(filepath.Join(oldDir, name), filepath.Join(newDir, name)); err != nil {
			return nil, 0, fmt.Errorf("copy %s: %w", name, err)
		}
		copied = append(copied, name)
	}
	if _, err := os.Stat(filepath.Join(oldDir, acceptedFileName)); err == nil {
		if err := copyFile(filepath.Join(oldDir, acceptedFileName), filepath.Join(newDir, acceptedFileName)); err != nil {
			return nil, 0, fmt.Errorf("copy %s: %w", acceptedFileName, err)
		}
		copied = append(copied, acceptedFileName)
	}
	if n, err := copyTree(filepath.Join(oldDir, blobsDirName), filepath.Join(newDir, blobsDirName)); err != nil {
		return nil, 0, fmt.Errorf("copy the documents: %w", err)
	} else if n > 0 {
		copied = append(copied, fmt.Sprintf("%s (%d files)", blobsDirName, n))
	}
	pos, undelivered, found, err := outboxPosition(filepath.Join(oldDir, notify.FileName))
	if err != nil {
		return nil, 0, err
	}
	if found {
		out, err := notify.OpenOutbox(newDir)
		if err != nil {
			return nil, 0, err
		}
		_, err = out.Add(pos, nil)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, 0, err
		}
		copied = append(copied, fmt.Sprintf("%s (its position, %d, only)", notify.FileName, pos))
	}
	if len(copied) == 0 {
		copied = append(copied, "nothing")
	}
	return copied, undelivered, nil
}

// compactBoltFile writes a compacted copy of the bbolt file at from to to,
// reading it in one read transaction. A file another process holds (a
// running server) is reported, not waited for.
func compactBoltFile(from, to string) error {
	src, err := bbolt.Open(from, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w (is a server using it?)", err)
	}
	defer src.Close()
	dst, err := bbolt.Open(to, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return err
	}
	if err := bbolt.Compact(dst, src, 0); err != nil {
		_ = dst.Close()
		return err
	}
	return dst.Close()
}

// outboxPosition reads the position up to which the outbox at path
// composed emails, and counts the emails waiting for delivery (each has a
// next attempt in the "due" bucket until the relay takes it or the outbox
// gives up). found is false without an outbox file or a position in it.
func outboxPosition(path string) (pos eventstore.Position, waiting int, found bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, 0, false, nil
	}
	err = readBolt(path, func(tx *bbolt.Tx) error {
		if meta := tx.Bucket([]byte("meta")); meta != nil {
			if v := meta.Get([]byte("position")); len(v) == 8 {
				pos, found = eventstore.Position(binary.BigEndian.Uint64(v)), true
			}
		}
		if due := tx.Bucket([]byte("due")); due != nil {
			waiting = due.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return 0, 0, false, fmt.Errorf("read %s: %w", notify.FileName, err)
	}
	return pos, waiting, found, nil
}

// copyTree copies the regular files under from (which may be a link to a
// folder, or missing) into to, and returns how many it copied.
func copyTree(from, to string) (int, error) {
	root, err := filepath.EvalSymlinks(from)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o700)
		case !d.Type().IsRegular():
			return nil
		}
		n++
		return copyFile(path, dst)
	})
	return n, err
}
