package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

// appendConcurrently appends one event per writer, concurrently, and
// returns the IDs of those acknowledged and the errors of the others.
func appendConcurrently(s *bolt.Store, writers int, tag string) (map[uuid.UUID]bool, []error) {
	var mu sync.Mutex
	acked := map[uuid.UUID]bool{}
	var errs []error
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			ev := conformance.Event("Written", map[string]string{"tag": tag})
			_, err := s.Append(context.Background(), fmt.Sprintf("w-%d", w%8), eventstore.Any(), ev)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			acked[ev.ID] = true
		})
	}
	wg.Wait()
	return acked, errs
}

// logIDs reads the whole log and fails on a duplicate event.
func logIDs(t *testing.T, s *bolt.Store) map[uuid.UUID]bool {
	t.Helper()
	evs, err := s.ReadAll(context.Background(), eventstore.Start, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uuid.UUID]bool{}
	for _, ev := range evs {
		if ids[ev.ID] {
			t.Fatalf("event %s is stored twice", ev.ID)
		}
		ids[ev.ID] = true
	}
	return ids
}

func mustHave(t *testing.T, what string, ids, acked map[uuid.UUID]bool) {
	t.Helper()
	for id := range acked {
		if !ids[id] {
			t.Fatalf("%s: acknowledged event %s is lost", what, id)
		}
	}
}

// On a full disk every append fails with an error that callers report as
// temporary (eventstore.ErrUnavailable, wrapping ENOSPC), nothing is
// acknowledged, nothing acknowledged before is lost, and appends work again
// once there is room, without reopening; the reopened log holds every
// acknowledged event exactly once and verifies.
func TestFullDiskRefusesAppendsUntilThereIsRoom(t *testing.T) {
	dir := t.TempDir()
	// FlushAt 1 makes every commit try to flush into bbolt as well.
	s, err := bolt.Open(dir, bolt.Options{FlushAt: 1})
	if err != nil {
		t.Fatal(err)
	}
	acked, errs := appendConcurrently(s, 64, "before")
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}

	bolt.SetDiskFull(s, true)
	full, errs := appendConcurrently(s, 64, "full")
	if len(full) > 0 || len(errs) != 64 {
		t.Fatalf("on a full disk %d appends were acknowledged and %d refused", len(full), len(errs))
	}
	for _, err := range errs {
		if !errors.Is(err, eventstore.ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("an append on a full disk failed with %v, want ErrUnavailable wrapping ENOSPC", err)
		}
	}
	mustHave(t, "while the disk is full", logIDs(t, s), acked)

	bolt.SetDiskFull(s, false)
	after, errs := appendConcurrently(s, 64, "after")
	if len(errs) > 0 {
		t.Fatalf("an append once there is room again: %v", errs[0])
	}
	for id := range after {
		acked[id] = true
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := logIDs(t, s)
	mustHave(t, "after reopening", ids, acked)
	if len(ids) != len(acked) {
		t.Fatalf("the log holds %d events, %d acknowledged: refused appends were stored", len(ids), len(acked))
	}
	if rep := verify(t, s); !rep.OK() {
		t.Fatalf("verify after a full disk: %+v", rep)
	}
}

// When a flush into bbolt meets a full disk, the journal keeps the events:
// they stay readable, and a reopen moves them into bbolt.
func TestFullDiskDuringFlushKeepsTheJournal(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{FlushAt: 1 << 30, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	acked, errs := appendConcurrently(s, 64, "journaled")
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	// Close flushes, which fails on the full disk and leaves the journal.
	bolt.SetDiskFull(s, true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "journal-*.log")); len(segs) == 0 {
		t.Fatal("the journal is gone although the flush failed")
	}
	s, err = bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustHave(t, "after reopening", logIDs(t, s), acked)
	if rep := verify(t, s); !rep.OK() {
		t.Fatalf("verify: %+v", rep)
	}
}

// A failed fdatasync leaves the journal's state unknown: the store refuses
// every append after it with eventstore.ErrUnavailable until it is
// reopened, and the reopened log holds everything acknowledged and
// verifies.
func TestFailedSyncStopsTheStoreUntilReopened(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acked, errs := appendConcurrently(s, 64, "before")
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	bolt.SetSyncFails(s, true)
	failed, errs := appendConcurrently(s, 64, "unsynced")
	if len(failed) > 0 || len(errs) != 64 {
		t.Fatalf("with fdatasync failing %d appends were acknowledged", len(failed))
	}
	bolt.SetSyncFails(s, false)
	_, errs = appendConcurrently(s, 8, "stopped")
	for _, err := range errs {
		if !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("an append to a stopped store: %v, want ErrUnavailable", err)
		}
	}
	if len(errs) != 8 {
		t.Fatalf("a stopped store acknowledged %d appends", 8-len(errs))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustHave(t, "after reopening", logIDs(t, s), acked)
	more, errs := appendConcurrently(s, 8, "reopened")
	if len(errs) > 0 || len(more) != 8 {
		t.Fatalf("appends after reopening: %v", errs)
	}
	if rep := verify(t, s); !rep.OK() {
		t.Fatalf("verify: %+v", rep)
	}
}
