package kurrent_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/conformance"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/keyringtest"
)

// perTest returns the value make gives for a test, making it on the first
// call for that test: the conformance suite reopens a store with the same
// t and expects the same storage.
func perTest[V any](make func(t *testing.T) V) func(t *testing.T) V {
	var mu sync.Mutex
	made := map[*testing.T]V{}
	return func(t *testing.T) V {
		mu.Lock()
		defer mu.Unlock()
		v, ok := made[t]
		if !ok {
			v = make(t)
			made[t] = v
		}
		return v
	}
}

// TestKeyStoreConformance runs the keyring store suite on key stores with
// their own connections, a fresh protocol test server for every test.
func TestKeyStoreConformance(t *testing.T) {
	server := perTest(func(t *testing.T) *kurrenttest.Server { return kurrenttest.New(t) })
	keyringtest.Run(t, func(t *testing.T) keyring.Store {
		ks, err := kurrent.OpenKeyStore(context.Background(), server(t).ConnectionString(), kurrent.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ks
	})
}

// TestKeyStoreConformanceInNamespaces runs the suite on the key stores of
// event stores, each test in a namespace of its own on one shared server,
// as it runs against a real server.
func TestKeyStoreConformanceInNamespaces(t *testing.T) {
	keyringtest.Run(t, namespacedKeys(kurrenttest.New(t).ConnectionString()))
}

// TestKeyStoreConformanceRealServer runs the suite against the KurrentDB
// server that KURRENTDB_URL names.
func TestKeyStoreConformanceRealServer(t *testing.T) {
	url := os.Getenv("KURRENTDB_URL")
	if url == "" {
		t.Skip("KURRENTDB_URL is not set; the key store runs against the protocol test server only")
	}
	keyringtest.Run(t, namespacedKeys(url))
}

func namespacedKeys(conn string) func(t *testing.T) keyring.Store {
	namespace := perTest(func(*testing.T) string { return "keys-" + uuid.NewString() + "-" })
	return func(t *testing.T) keyring.Store {
		s := open(t, conn, kurrent.Options{Namespace: namespace(t)})
		t.Cleanup(func() { _ = s.Close() })
		return s.Keys()
	}
}

// The key streams never reach the application: not through ReadAll,
// SubscribeAll, Head or Verify, with or without a namespace, and the
// application cannot name them.
func TestKeyStreamsAreHiddenFromTheApplication(t *testing.T) {
	srv := kurrenttest.New(t)
	for _, namespace := range []string{"", "tenant-a."} {
		t.Run("namespace "+namespace, func(t *testing.T) {
			s := open(t, srv.ConnectionString(), kurrent.Options{Namespace: namespace})
			defer s.Close()
			ctx := context.Background()
			stream := "order-" + uuid.NewString()
			sub, err := s.SubscribeAll(ctx, eventstore.Start)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			before := len(readAll(t, s))
			if _, err := s.Append(ctx, stream, eventstore.NoStream(), events(1, "Placed")...); err != nil {
				t.Fatal(err)
			}
			ks := s.Keys()
			erased := uuid.New()
			for _, m := range []uuid.UUID{uuid.New(), erased} {
				if _, err := ks.Create(ctx, m, []byte("wrapped key of "+m.String())); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ks.PutMeta(ctx, "kek", []byte("wrapped kek")); err != nil {
				t.Fatal(err)
			}
			if err := ks.Erase(ctx, erased); err != nil {
				t.Fatal(err)
			}
			// The key events are now the newest in the log: Head must look
			// past them.
			last, err := s.Append(ctx, stream, eventstore.StreamExists(), events(1, "Paid")...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ks.Create(ctx, uuid.New(), []byte("a key after the last event")); err != nil {
				t.Fatal(err)
			}
			if head, err := s.Head(ctx); err != nil || head != last.LastPosition {
				t.Fatalf("head = %d, %v; want the last application event's %d", head, err, last.LastPosition)
			}
			all := readAll(t, s)
			if len(all)-before != 2 {
				t.Fatalf("ReadAll returned %d new events, want the 2 appended", len(all)-before)
			}
			for _, e := range all {
				if e.Stream == "" || len(e.Stream) >= len(kurrent.KeyStreamPrefix) && e.Stream[:len(kurrent.KeyStreamPrefix)] == kurrent.KeyStreamPrefix {
					t.Fatalf("ReadAll returned %q", e.Stream)
				}
			}
			for _, e := range collect(t, sub, len(all)) {
				if e.Stream != all[0].Stream && e.Stream != stream {
					t.Fatalf("the subscription delivered an event of %q", e.Stream)
				}
			}
			// One more application event is the next thing delivered: no
			// key event is queued before it.
			next, err := s.Append(ctx, stream, eventstore.StreamExists(), events(1, "Shipped")...)
			if err != nil {
				t.Fatal(err)
			}
			if got := collect(t, sub, 1); got[0].Position != next.LastPosition {
				t.Fatalf("the subscription delivered %q at %d, want the application's event at %d", got[0].Stream, got[0].Position, next.LastPosition)
			}
			if n, err := s.Verify(ctx); err != nil || n != len(all)+1 {
				t.Fatalf("verify: %d events, %v; want %d", n, err, len(all)+1)
			}

			reserved := kurrent.KeyStreamPrefix + "member.x"
			if _, err := s.Append(ctx, reserved, eventstore.Any(), events(1, "T")...); !errors.Is(err, eventstore.ErrInvalidStreamName) {
				t.Fatalf("append to %q: %v, want ErrInvalidStreamName", reserved, err)
			}
			if _, err := s.ReadStream(ctx, reserved, eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrInvalidStreamName) {
				t.Fatalf("read %q: %v, want ErrInvalidStreamName", reserved, err)
			}
			if err := s.VerifyStream(ctx, reserved); !errors.Is(err, eventstore.ErrInvalidStreamName) {
				t.Fatalf("verify %q: %v, want ErrInvalidStreamName", reserved, err)
			}
		})
	}
}

// Erase tombstones the member's stream on the server. Its events stay in
// the server's log until a scavenge, which is why the package says that
// the bytes leave the disk only then.
func TestEraseTombstonesTheMembersStream(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{})
	defer s.Close()
	ks := s.Keys()
	ctx := context.Background()
	m := uuid.New()
	key := []byte("wrapped key bytes of one member")
	if _, err := ks.Create(ctx, m, key); err != nil {
		t.Fatal(err)
	}
	if err := ks.Erase(ctx, m); err != nil {
		t.Fatal(err)
	}
	name := kurrent.KeyStreamPrefix + "member." + hex.EncodeToString(m[:])
	if !srv.Tombstoned(name) {
		t.Fatalf("stream %q is not tombstoned", name)
	}
	raw := rawClient(t, srv)
	rs, err := raw.ReadStream(ctx, name, esdb.ReadStreamOptions{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs.Recv()
	rs.Close()
	var e *esdb.Error
	if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeStreamDeleted {
		t.Fatalf("a plain client reads the erased member's stream with %v, want ErrorCodeStreamDeleted", err)
	}
	inLog := false
	all, err := raw.ReadAll(ctx, esdb.ReadAllOptions{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	for {
		ev, err := all.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		inLog = inLog || bytes.Equal(ev.Event.Data, key)
	}
	if !inLog {
		t.Fatal("the server no longer holds the key before any scavenge; the package documentation says it does")
	}
}

// A Create whose answer is lost is sent again with the same event ID,
// which the server deduplicates, so it returns the key it stored.
func TestCreateRetriedAfterLostAnswer(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{Timeout: 500 * time.Millisecond})
	defer s.Close()
	ks := s.Keys()
	ctx := context.Background()
	m := uuid.New()
	key := []byte("wrapped key")
	srv.StallAppends(1)
	before := srv.Appends()
	got, err := ks.Create(ctx, m, key)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("create: %q, %v", got, err)
	}
	if calls := srv.Appends() - before; calls != 2 {
		t.Fatalf("the server received %d appends, want 2", calls)
	}
	if got, err := ks.Get(ctx, m); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("get: %q, %v", got, err)
	}
}

func TestKeyStoreAfterClose(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{})
	defer s.Close()
	ks := s.Keys()
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ks.Get(ctx, uuid.New()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("get after close: %v", err)
	}
	if err := ks.Erase(ctx, uuid.New()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("erase after close: %v", err)
	}
	// The event store it came from stays open.
	if _, err := s.Append(ctx, "order-1", eventstore.Any(), conformance.Event("T", 1)); err != nil {
		t.Fatalf("append after closing the key store: %v", err)
	}
}
