package bolt_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

func TestConformance(t *testing.T) {
	t.Run("default", func(t *testing.T) { conformance.Run(t, harness(bolt.Options{})) })
	// Flushing after every commit puts bbolt, the memtable and the merge
	// between them under every test.
	t.Run("flush every commit", func(t *testing.T) { conformance.Run(t, harness(bolt.Options{FlushAt: 1})) })
}

func harness(opts bolt.Options) conformance.Harness {
	const maxEvent = 64 << 10
	opts.MaxEventSize = maxEvent
	return conformance.Harness{
		MaxEventSize: maxEvent,
		Open: func(t *testing.T) (eventstore.Store, func(*testing.T) eventstore.Store) {
			dir := t.TempDir()
			open := func(t *testing.T) eventstore.Store {
				s, err := bolt.Open(dir, opts)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				return s
			}
			return open(t), open
		},
	}
}

// The embedded engine's positions are dense: 1, 2, 3, ... in commit order,
// which the contract does not promise for every engine.
func TestPositionsAreDense(t *testing.T) {
	s, err := bolt.Open(t.TempDir(), bolt.Options{FlushAt: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 10 {
		res, err := s.Append(ctx, "dense", eventstore.Any(), conformance.Event("T", i), conformance.Event("T", i))
		if err != nil {
			t.Fatal(err)
		}
		if res.FirstPosition != eventstore.Position(2*i+1) || res.LastPosition != eventstore.Position(2*i+2) {
			t.Fatalf("append %d at positions %d..%d", i, res.FirstPosition, res.LastPosition)
		}
	}
	all, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range all {
		if e.Position != eventstore.Position(i+1) {
			t.Fatalf("event %d has position %d", i, e.Position)
		}
	}
}

// Concurrent appends share group commits: each commit is one journal write
// and one fsync, and with 64 appenders waiting on the disk, commits carry
// several appends each, while every append is counted exactly once.
func TestConcurrentAppendsShareCommits(t *testing.T) {
	var mu sync.Mutex
	commits, appends, biggest := 0, 0, 0
	s, err := bolt.Open(t.TempDir(), bolt.Options{OnCommit: func(n, _ int, _ time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		commits++
		appends += n
		biggest = max(biggest, n)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, each = 64, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(context.Background(), fmt.Sprintf("g-%d", w), eventstore.Any(), conformance.Event("T", i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if appends != writers*each {
		t.Fatalf("commits reported %d appends, want %d", appends, writers*each)
	}
	if commits >= appends/2 || biggest < 2 {
		t.Fatalf("%d appends took %d commits (largest %d appends): appends are not grouped", appends, commits, biggest)
	}
	t.Logf("%d appends in %d commits, largest %d", appends, commits, biggest)
}
