package bolt_test

import (
	"testing"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

func TestConformance(t *testing.T) {
	const maxEvent = 64 << 10
	conformance.Run(t, conformance.Harness{
		MaxEventSize: maxEvent,
		Open: func(t *testing.T) (eventstore.Store, func(*testing.T) eventstore.Store) {
			dir := t.TempDir()
			open := func(t *testing.T) eventstore.Store {
				s, err := bolt.Open(dir, bolt.Options{MaxEventSize: maxEvent})
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				return s
			}
			return open(t), open
		},
	})
}
