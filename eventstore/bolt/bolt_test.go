package bolt_test

import (
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
