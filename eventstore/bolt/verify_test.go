package bolt_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

// The tests below tamper with the files the way an outsider would, so they
// restate the stored layout instead of borrowing the engine's code:
//
//	events bucket: first position (8 bytes, big endian) -> block of records,
//	               each prefixed with its length (uvarint)
//	record:        body | sha256(previous hash | body) | crc32c(body | hash)
//	body:          format (1) | position (8, big endian) | ...
const (
	recHash = sha256.Size
	recCRC  = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fillStore appends n events to a new store in dir, in batches, and closes
// it, which moves every event into bbolt. The event at each position in
// markers carries the marker text in its data.
func fillStore(t *testing.T, dir string, n int, markers map[int]string) {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, 1, n, markers)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// appendEvents appends the events of positions from..to, 50 to an append.
func appendEvents(t testing.TB, s *bolt.Store, from, to int, markers map[int]string) {
	t.Helper()
	var batch []eventstore.EventData
	for p := from; p <= to; p++ {
		body := map[string]string{"n": strconv.Itoa(p)}
		if m, ok := markers[p]; ok {
			body["m"] = m
		}
		batch = append(batch, conformance.Event("Verified", body))
		if len(batch) == 50 || p == to {
			res, err := s.Append(context.Background(), fmt.Sprintf("v-%d", p%7), eventstore.Any(), batch...)
			if err != nil {
				t.Fatal(err)
			}
			if res.LastPosition != eventstore.Position(p) {
				t.Fatalf("appended up to position %d, want %d", res.LastPosition, p)
			}
			batch = batch[:0]
		}
	}
}

func verify(t *testing.T, s *bolt.Store) bolt.VerifyReport {
	t.Helper()
	rep, err := s.Verify(context.Background(), nil)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestVerifyPassesAnIntactLog(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 700, nil)
	// Events 701..760 stay in the journal only.
	s, err := bolt.Open(dir, bolt.Options{NoSync: true, FlushAt: 1 << 30, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendEvents(t, s, 701, 760, nil)

	var calls [][2]eventstore.Position
	rep, err := s.Verify(context.Background(), func(done, total eventstore.Position) {
		calls = append(calls, [2]eventstore.Position{done, total})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != 760 || rep.Head != 760 {
		t.Fatalf("report %+v, want 760 intact records", rep)
	}
	headPos, headHash := s.HeadHash()
	if headPos != rep.Head || !bytes.Equal(headHash, rep.HeadHash) {
		t.Fatalf("report ends at %d %x, the store's head is %d %x", rep.Head, rep.HeadHash, headPos, headHash)
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]eventstore.Position{760, 760} {
		t.Fatalf("progress ended with %v, want [760 760]", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] || calls[i][1] != 760 {
			t.Fatalf("progress went %v then %v", calls[i-1], calls[i])
		}
	}
}

func TestVerifyOfAnEmptyLog(t *testing.T) {
	s, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep := verify(t, s)
	if !rep.OK() || rep.Records != 0 || rep.Head != 0 || rep.HeadHash != nil {
		t.Fatalf("report %+v for an empty log", rep)
	}
}

// TestVerifyNamesAFlippedByte changes one byte of one event in the bbolt
// file, in every stale copy the file still holds, and checks that Verify
// names its position, also where Open's tail check refuses the file.
func TestVerifyNamesAFlippedByte(t *testing.T) {
	cases := []struct {
		name        string
		pos         int
		openRefuses bool
	}{
		{"old event that Open does not check", 100, false},
		{"event inside the tail Open checks", 500, true},
		{"newest event", 600, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			marker := "marker-" + strconv.Itoa(tc.pos)
			fillStore(t, dir, 600, map[int]string{tc.pos: marker})
			flipEveryCopy(t, filepath.Join(dir, bolt.FileName), marker)

			s, err := bolt.Open(dir, bolt.Options{})
			if tc.openRefuses != (err != nil) {
				t.Fatalf("default open: %v, want refused %v", err, tc.openRefuses)
			}
			if err != nil {
				if !errors.Is(err, eventstore.ErrCorrupt) {
					t.Fatalf("default open: got %v, want ErrCorrupt", err)
				}
				if s, err = bolt.Open(dir, bolt.Options{SkipTailCheck: true}); err != nil {
					t.Fatalf("open for forensics: %v", err)
				}
			}
			defer s.Close()
			rep := verify(t, s)
			if rep.Broken != eventstore.Position(tc.pos) || !strings.Contains(rep.Problem, "checksum") {
				t.Fatalf("report %+v, want position %d named for its checksum", rep, tc.pos)
			}
			if rep.Records != uint64(tc.pos-1) || rep.Head != eventstore.Position(tc.pos-1) || len(rep.HeadHash) != sha256.Size {
				t.Fatalf("report %+v, want the %d records before the damage counted", rep, tc.pos-1)
			}
		})
	}
}

// flipEveryCopy changes one bit of marker wherever the file holds it:
// bbolt's copy-on-write leaves stale copies of pages behind.
func flipEveryCopy(t *testing.T, path, marker string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := bytes.Index(raw, []byte(marker)); i >= 0; i = bytes.Index(raw, []byte(marker)) {
		raw[i] ^= 0x01
		n++
	}
	if n == 0 {
		t.Fatalf("%q not found in %s", marker, filepath.Base(path))
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyNamesDamageInTheJournal damages the journal's copy of an event
// that bbolt does not hold yet, on disk under a running store.
func TestVerifyNamesDamageInTheJournal(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 40, nil)
	s, err := bolt.Open(dir, bolt.Options{NoSync: true, FlushAt: 1 << 30, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendEvents(t, s, 41, 60, map[int]string{50: "marker-journal"})
	if rep := verify(t, s); !rep.OK() || rep.Records != 60 {
		t.Fatalf("before the damage: %+v", rep)
	}

	segs, err := filepath.Glob(filepath.Join(dir, "journal-*.log"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("journal segments %v (%v), want one", segs, err)
	}
	raw, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("marker-journal"))
	if i < 0 {
		t.Fatal("marker not found in the journal")
	}
	f, err := os.OpenFile(segs[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{raw[i] ^ 0x01}, int64(i)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	rep := verify(t, s)
	if rep.Broken != 50 || !strings.Contains(rep.Problem, "journal") || !strings.Contains(rep.Problem, "checksum") {
		t.Fatalf("report %+v, want position 50 named for its journal checksum", rep)
	}
	if rep.Records != 49 {
		t.Fatalf("report %+v, want 49 intact records before the damage", rep)
	}
}

// TestVerifyNoticesDeliberateEdits changes the bbolt file through bbolt
// itself, keeping every checksum valid, as someone covering their tracks
// would.
func TestVerifyNoticesDeliberateEdits(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(t *testing.T, tx *bbolt.Tx)
		broken  eventstore.Position
		problem string
	}{
		{
			name: "event deleted from the middle",
			edit: func(t *testing.T, tx *bbolt.Tx) {
				editRecords(t, tx, 300, func(recs [][]byte, i int) [][]byte {
					return append(recs[:i:i], recs[i+1:]...)
				})
			},
			broken: 300, problem: "position 300 is missing",
		},
		{
			name: "event deleted and the later ones renumbered",
			edit: func(t *testing.T, tx *bbolt.Tx) {
				editRecords(t, tx, 300, func(recs [][]byte, i int) [][]byte {
					recs = append(recs[:i:i], recs[i+1:]...)
					for j := i; j < len(recs); j++ {
						recs[j] = renumber(recs[j], -1)
					}
					return recs
				})
			},
			broken: 300, problem: "hash chain broken",
		},
		{
			name: "data changed and the checksum recomputed",
			edit: func(t *testing.T, tx *bbolt.Tx) {
				editRecords(t, tx, 200, func(recs [][]byte, i int) [][]byte {
					recs[i] = reseal(changeMarker(t, recs[i]), hashOf(recs[i]))
					return recs
				})
			},
			broken: 200, problem: "hash chain broken",
		},
		{
			name: "data changed and its hash recomputed too",
			edit: func(t *testing.T, tx *bbolt.Tx) {
				editRecords(t, tx, 200, func(recs [][]byte, i int) [][]byte {
					body := changeMarker(t, recs[i])
					h := sha256.Sum256(append(bytes.Clone(hashOf(recs[i-1])), body...))
					recs[i] = reseal(body, h[:])
					return recs
				})
			},
			broken: 201, problem: "hash chain broken",
		},
		{
			name: "recorded head hash replaced",
			edit: func(t *testing.T, tx *bbolt.Tx) {
				meta := tx.Bucket([]byte("meta"))
				head := bytes.Clone(meta.Get([]byte("head")))
				head[len(head)-1] ^= 0x01
				if err := meta.Put([]byte("head"), head); err != nil {
					t.Fatal(err)
				}
			},
			broken: 600, problem: "recorded head",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fillStore(t, dir, 600, map[int]string{200: "marker-200"})
			db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error { tc.edit(t, tx); return nil }); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := bolt.Open(dir, bolt.Options{SkipTailCheck: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			rep := verify(t, s)
			if rep.Broken != tc.broken || !strings.Contains(rep.Problem, tc.problem) {
				t.Fatalf("report %+v, want position %d named with %q", rep, tc.broken, tc.problem)
			}
		})
	}
}

// editRecords rewrites the block that holds pos, giving edit the block's
// records and the index of pos among them.
func editRecords(t *testing.T, tx *bbolt.Tx, pos uint64, edit func(recs [][]byte, i int) [][]byte) {
	t.Helper()
	events := tx.Bucket([]byte("events"))
	c := events.Cursor()
	k, v := c.Seek(binary.BigEndian.AppendUint64(nil, pos))
	if k == nil || binary.BigEndian.Uint64(k) > pos {
		k, v = c.Prev()
	}
	first := binary.BigEndian.Uint64(k)
	var recs [][]byte
	for b := v; len(b) > 0; {
		n, l := binary.Uvarint(b)
		recs = append(recs, bytes.Clone(b[l:l+int(n)]))
		b = b[l+int(n):]
	}
	if pos-first >= uint64(len(recs)) {
		t.Fatalf("the block at %d does not hold position %d", first, pos)
	}
	var block []byte
	for _, r := range edit(recs, int(pos-first)) {
		block = binary.AppendUvarint(block, uint64(len(r)))
		block = append(block, r...)
	}
	if err := events.Put(bytes.Clone(k), block); err != nil {
		t.Fatal(err)
	}
}

// changeMarker returns the body of a record with its marker text altered.
func changeMarker(t *testing.T, rec []byte) []byte {
	t.Helper()
	body := bytes.Clone(rec[:len(rec)-recHash-recCRC])
	i := bytes.Index(body, []byte("marker-200"))
	if i < 0 {
		t.Fatal("marker not found in the record")
	}
	copy(body[i:], "MARKER")
	return body
}

// reseal completes a body into a record with the given hash and a valid
// checksum.
func reseal(body, hash []byte) []byte {
	rec := append(bytes.Clone(body), hash...)
	return binary.BigEndian.AppendUint32(rec, crc32.Checksum(rec, castagnoli))
}

// hashOf returns a record's stored hash.
func hashOf(rec []byte) []byte { return rec[len(rec)-recCRC-recHash : len(rec)-recCRC] }

// renumber moves a record by delta positions, keeping its old hash and
// fixing its checksum.
func renumber(rec []byte, delta int) []byte {
	rec = bytes.Clone(rec)
	pos := binary.BigEndian.Uint64(rec[1:9])
	binary.BigEndian.PutUint64(rec[1:9], uint64(int64(pos)+int64(delta)))
	n := len(rec) - recCRC
	binary.BigEndian.PutUint32(rec[n:], crc32.Checksum(rec[:n], castagnoli))
	return rec
}

// TestVerifyWhileAppending verifies again and again while appends and
// flushes go on: each walk covers the log as it was when it started.
func TestVerifyWhileAppending(t *testing.T) {
	s, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true, FlushAt: 40, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := s.Append(ctx, fmt.Sprintf("w-%d", i%5), eventstore.Any(), conformance.Event("W", i), conformance.Event("W", i)); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
		}
	})
	for range 30 {
		head, _ := s.Head(ctx)
		rep, err := s.Verify(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Head < head {
			t.Fatalf("report %+v with the head at %d before the walk", rep, head)
		}
	}
	cancel()
	wg.Wait()
}

func TestVerifyAfterCloseOrCancel(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 10, nil)
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Verify(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("verify with a cancelled context: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(context.Background(), nil); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("verify after close: %v", err)
	}
}

// BenchmarkVerify walks a log of a million events, beside the baseline of
// reading the same events with ReadAll.
func BenchmarkVerify(b *testing.B) {
	const total = 1_000_000
	dir := b.TempDir()
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	batch := make([]eventstore.EventData, 1000)
	for i := 0; i < total; i += len(batch) {
		for j := range batch {
			batch[j] = benchEvent()
		}
		if _, err := s.Append(ctx, fmt.Sprintf("verify-%d", i), eventstore.Any(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if s, err = bolt.Open(dir, bolt.Options{NoSync: true}); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Run("baseline=ReadAll", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for from := eventstore.Start; ; {
				page, err := s.ReadAll(ctx, from, 2048)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				n += len(page)
				from = page[len(page)-1].Position
			}
			if n != total {
				b.Fatalf("read %d events, want %d", n, total)
			}
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			rep, err := s.Verify(ctx, nil)
			if err != nil || !rep.OK() || rep.Records != total {
				b.Fatalf("verify: %+v, %v", rep, err)
			}
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
