package bolt_test

import (
	"context"
	"testing"

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
