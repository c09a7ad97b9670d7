package bolt_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore/bolt"
)

// smallStore returns the bytes of a small valid store file: forty events,
// cut to the pages bbolt uses (its file also holds room to grow).
func smallStore(f *testing.F) []byte {
	f.Helper()
	dir := f.TempDir()
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	appendEvents(f, s, 1, 40, map[int]string{20: "marker"})
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, bolt.FileName)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		f.Fatal(err)
	}
	pages := 0
	err = db.View(func(tx *bbolt.Tx) error {
		for {
			info, err := tx.Page(pages)
			if err != nil || info == nil {
				return err
			}
			pages++
		}
	})
	size := pages * db.Info().PageSize
	_ = db.Close()
	if err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b[:size]
}

// FuzzOpenAndVerify feeds damaged store files to Open, as the server and
// the verify command open them, and to Verify and the reads: each must
// answer with an error or a result, never panic or fault. The seeds are a
// small valid file, cut short at a page and inside one, and with a bit
// flipped in each page's header.
func FuzzOpenAndVerify(f *testing.F) {
	valid := smallStore(f)
	f.Add(valid)
	f.Add(valid[:8192])
	f.Add(valid[:len(valid)-4096])
	f.Add(valid[:len(valid)-100])
	for off := 8; off < len(valid); off += 4096 {
		b := append([]byte(nil), valid...)
		b[off] ^= 0x01
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, bolt.FileName), file, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := bolt.Open(dir, bolt.Options{SkipTailCheck: true, MustExist: true, NoSync: true}); err == nil {
			_, _ = s.Verify(context.Background(), nil)
			_ = s.Close()
		}
		if s, err := bolt.Open(dir, bolt.Options{NoSync: true}); err == nil {
			_ = useStore(s)
			_ = s.Close()
		}
	})
}
