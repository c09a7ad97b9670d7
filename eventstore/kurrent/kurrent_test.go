package kurrent_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/conformance"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
)

const maxEvent = 64 << 10

// TestConformance runs the contract suite against the protocol test server,
// a fresh one for every test.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		MaxEventSize: maxEvent,
		Open: func(t *testing.T) (eventstore.Store, func(*testing.T) eventstore.Store) {
			srv := kurrenttest.New(t)
			open := func(t *testing.T) eventstore.Store {
				return open(t, srv.ConnectionString(), kurrent.Options{MaxEventSize: maxEvent})
			}
			return open(t), open
		},
	})
}

// TestConformanceRealServer runs the same suite against the KurrentDB
// server that KURRENTDB_URL names, such as "esdb://localhost:2113?tls=false".
func TestConformanceRealServer(t *testing.T) {
	url := os.Getenv("KURRENTDB_URL")
	if url == "" {
		t.Skip("KURRENTDB_URL is not set; the suite runs against the protocol test server only")
	}
	conformance.Run(t, namespaced(url, 0))
}

// TestConformanceNamespacesOnSharedServer runs the suite the way
// TestConformanceRealServer does, every store in a namespace of its own on
// one server that keeps everything, so that the harness a real server
// gets, and the namespace filtering on every path, are tested in every run.
// The race tests run smaller here; the suite above runs them in full.
func TestConformanceNamespacesOnSharedServer(t *testing.T) {
	conformance.Run(t, namespaced(kurrenttest.New(t).ConnectionString(), 20))
}

// namespaced gives every store a fresh namespace on the server at conn, so
// that the suite sees an empty log on a server that holds other data.
func namespaced(conn string, concurrency int) conformance.Harness {
	return conformance.Harness{
		MaxEventSize: maxEvent,
		Concurrency:  concurrency,
		Open: func(t *testing.T) (eventstore.Store, func(*testing.T) eventstore.Store) {
			opts := kurrent.Options{MaxEventSize: maxEvent, Namespace: "conformance-" + uuid.NewString() + "-"}
			open := func(t *testing.T) eventstore.Store { return open(t, conn, opts) }
			return open(t), open
		},
	}
}

// open opens a store that the caller closes.
func open(t *testing.T, conn string, opts kurrent.Options) *kurrent.Store {
	t.Helper()
	s, err := kurrent.Open(context.Background(), conn, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}
