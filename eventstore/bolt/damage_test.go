package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/bolt/bolttest"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

// openAndVerify opens the store in dir for forensics, as the verify
// command does, and walks it. It returns the first error met, or one
// describing a report that is not OK.
func openAndVerify(dir string) error {
	s, err := bolt.Open(dir, bolt.Options{SkipTailCheck: true, MustExist: true})
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.Verify(context.Background(), nil)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("%w: broken at position %d: %s", eventstore.ErrCorrupt, rep.Broken, rep.Problem)
	}
	return s.Shorter()
}

// An emptied store file beside a head record is a lost log, not a new
// program: opening it to serve and opening it to verify both refuse,
// naming the files and the position that is gone.
func TestEmptiedLogIsRefused(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 300, nil)
	if err := os.Truncate(filepath.Join(dir, bolt.FileName), 0); err != nil {
		t.Fatal(err)
	}
	_, err := bolt.Open(dir, bolt.Options{})
	if !errors.Is(err, eventstore.ErrShorterLog) || !strings.Contains(err.Error(), "events.db") || !strings.Contains(err.Error(), "position 300") {
		t.Fatalf("open of an emptied log: %v, want ErrShorterLog naming events.db and position 300", err)
	}
	if err := openAndVerify(dir); err == nil || !strings.Contains(err.Error(), "events.db") {
		t.Fatalf("verify of an emptied log: %v, want an error naming events.db", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, bolt.FileName)); err != nil || fi.Size() != 0 {
		t.Fatalf("the refused file was changed: %v, %v", fi, err)
	}
	acceptAndReopen(t, dir, 0)
}

// A deleted store file beside a head record is refused too.
func TestDeletedLogIsRefused(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 120, nil)
	if err := os.Remove(filepath.Join(dir, bolt.FileName)); err != nil {
		t.Fatal(err)
	}
	if _, err := bolt.Open(dir, bolt.Options{}); !errors.Is(err, eventstore.ErrShorterLog) {
		t.Fatalf("open of a deleted log: %v, want ErrShorterLog", err)
	}
	if _, err := os.Stat(filepath.Join(dir, bolt.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused open created a store: %v", err)
	}
	acceptAndReopen(t, dir, 0)
}

// acceptAndReopen opens dir with AcceptShorterLog, checks that the store
// says what it accepted and ends at head, and that the next plain open is
// clean.
func acceptAndReopen(t *testing.T, dir string, head eventstore.Position) {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{AcceptShorterLog: true})
	if err != nil {
		t.Fatalf("open accepting a shorter log: %v", err)
	}
	if !errors.Is(s.Shorter(), eventstore.ErrShorterLog) {
		t.Fatalf("the store does not say what it accepted: %v", s.Shorter())
	}
	if got, _ := s.Head(context.Background()); got != head {
		t.Fatalf("accepted log ends at %d, want %d", got, head)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("the open after accepting is refused: %v", err)
	}
	if s.Shorter() != nil {
		t.Fatalf("the open after accepting still finds %v", s.Shorter())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// Removing the newest events and rewriting bbolt's head to match, which
// keeps the chain valid, is caught by the head record at open, without a
// published anchor. Accepting it trims the stream index, so that reads and
// appends of the streams that lost events work instead of failing.
func TestRewoundLogIsRefused(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 140, nil)
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, 141, 200, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	bolttest.Rewind(t, dir, 140)

	_, err = bolt.Open(dir, bolt.Options{})
	if !errors.Is(err, eventstore.ErrShorterLog) || !strings.Contains(err.Error(), "position 200") {
		t.Fatalf("open of a rewound log: %v, want ErrShorterLog naming position 200", err)
	}
	// Verify finds the stream index pointing past the head even without
	// the head record.
	if err := openAndVerify(dir); err == nil || !strings.Contains(err.Error(), "position 190") {
		t.Fatalf("verify of a rewound log: %v, want an error naming position 190", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, bolt.HeadFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, bolt.HeadFileName)); err != nil {
		t.Fatal(err)
	}
	if err := openAndVerify(dir); err == nil || !strings.Contains(err.Error(), "position 190") {
		t.Fatalf("verify of a rewound log without its head record: %v, want an error naming position 190", err)
	}
	if err := os.WriteFile(filepath.Join(dir, bolt.HeadFileName), b, 0o600); err != nil {
		t.Fatal(err)
	}

	acceptAndReopen(t, dir, 140)
	s, err = bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// v-1 gained events after position 140 and v-4 was created after it.
	for _, stream := range []string{"v-0", "v-1", "v-2"} {
		evs, err := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatalf("read %s after accepting: %v", stream, err)
		}
		last := evs[len(evs)-1]
		if last.Position > 140 {
			t.Fatalf("%s still ends at position %d", stream, last.Position)
		}
		res, err := s.Append(ctx, stream, eventstore.Exact(last.Revision), conformance.Event("Verified", map[string]string{"after": "accept"}))
		if err != nil {
			t.Fatalf("append to %s after accepting: %v", stream, err)
		}
		if res.FirstRevision != last.Revision+1 {
			t.Fatalf("append to %s landed at revision %d, want %d", stream, res.FirstRevision, last.Revision+1)
		}
	}
	if _, err := s.ReadStream(ctx, "v-4", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("read of a stream that only lost events: %v, want ErrStreamNotFound", err)
	}
	if _, err := s.Append(ctx, "v-4", eventstore.NoStream(), conformance.Event("Verified", nil)); err != nil {
		t.Fatalf("append to a stream that only lost events: %v", err)
	}
	if rep := verify(t, s); !rep.OK() {
		t.Fatalf("verify after accepting: %+v", rep)
	}
}

// pristine fills a store big enough to have many pages and returns its
// directory, the size of its pages, its high-water mark (the number of
// pages in use or free, beyond which bbolt's file only holds room to grow)
// and the pages that start with a header bbolt checks: branches, leaves
// and the freelist.
func pristine(t *testing.T) (dir string, pageSize, pages int, headed []int) {
	t.Helper()
	dir = t.TempDir()
	fillStore(t, dir, 1200, map[int]string{1100: "marker-late"})
	db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		for {
			info, err := tx.Page(pages)
			if err != nil || info == nil {
				return err
			}
			switch info.Type {
			case "branch", "leaf", "freelist":
				headed = append(headed, pages)
			}
			pages++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, db.Info().PageSize, pages, headed
}

// copyStore copies a store's head record and the first size bytes of its
// file into a new directory.
func copyStore(t *testing.T, from string, size int) string {
	t.Helper()
	to := t.TempDir()
	for _, name := range []string{bolt.FileName, bolt.HeadFileName} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == bolt.FileName {
			b = b[:size]
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// One flipped bit in a page's header is an error naming the file and the
// page, both when serving and when verifying, never a crash. (Pages that
// continue a large value have no header: a bit flipped there damages a
// record, which is reported at its position.)
func TestFlippedPageHeaderBitIsReported(t *testing.T) {
	src, pageSize, pages, headed := pristine(t)
	raw, err := os.ReadFile(filepath.Join(src, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	raw = raw[:pages*pageSize]
	damage := func(page int) string {
		dir := copyStore(t, src, len(raw))
		b := bytes.Clone(raw)
		b[page*pageSize+8] ^= 0x01 // the low bit of the page's flags
		if err := os.WriteFile(filepath.Join(dir, bolt.FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	for page := range pages {
		err := openAndVerify(damage(page))
		if err == nil {
			// A page on the freelist may hold anything.
			continue
		}
		if !errors.Is(err, eventstore.ErrCorrupt) {
			t.Errorf("page %d: %v, want ErrCorrupt", page, err)
		}
		named := strings.Contains(err.Error(), "events.db") && strings.Contains(err.Error(), fmt.Sprintf("page %d", page))
		if !named && !strings.Contains(err.Error(), "position") {
			t.Errorf("page %d: %q names neither the file and page nor a position", page, err)
		}
	}
	if len(headed) < 3 {
		t.Fatalf("only pages %v have headers", headed)
	}
	for _, page := range append([]int{0, 1}, headed...) {
		dir := damage(page)
		if err := openAndVerify(dir); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("page %d", page)) {
			t.Errorf("verify with page %d damaged: %v, want an error naming the page", page, err)
		}
		s, err := bolt.Open(dir, bolt.Options{})
		if err == nil {
			// Open reads only the newest records; the damage is found
			// where a read or an append meets it.
			err = useStore(s)
			closeIf(s)
		}
		if !errors.Is(err, eventstore.ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("page %d", page)) {
			t.Errorf("serving with page %d damaged: %v, want ErrCorrupt naming the page", page, err)
		}
	}
}

// A store file cut short, inside the pages its meta pages count or inside
// a page, is refused before bbolt maps it, where it would fault with
// SIGBUS.
func TestTruncatedFileIsRefused(t *testing.T) {
	src, pageSize, pages, _ := pristine(t)
	if pages*pageSize <= 49152 {
		t.Fatalf("the store has only %d pages", pages)
	}
	for _, size := range []int{8192, 49152, (pages - 1) * pageSize, 5000, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			dir := copyStore(t, src, size)
			for name, open := range map[string]func() error{
				"serve":  func() error { s, err := bolt.Open(dir, bolt.Options{}); closeIf(s); return err },
				"verify": func() error { return openAndVerify(dir) },
			} {
				err := open()
				if !errors.Is(err, eventstore.ErrCorrupt) || !strings.Contains(err.Error(), "events.db") || !strings.Contains(err.Error(), "page") {
					t.Errorf("%s: %v, want ErrCorrupt naming events.db and a page", name, err)
				}
			}
		})
	}
}

// useStore reads the whole log and every stream, and appends, as a server
// would, and returns the first error met.
func useStore(s *bolt.Store) error {
	ctx := context.Background()
	if _, err := s.ReadAll(ctx, 0, 0); err != nil {
		return err
	}
	for i := range 7 {
		if _, err := s.ReadStream(ctx, fmt.Sprintf("v-%d", i), eventstore.ReadStreamOptions{}); err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			return err
		}
	}
	_, err := s.Append(ctx, "v-1", eventstore.Any(), conformance.Event("Verified", nil))
	return err
}

func closeIf(s *bolt.Store) {
	if s != nil {
		_ = s.Close()
	}
}
