package kurrent_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
)

func TestHashChainRunsPerStream(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{})
	defer s.Close()
	ctx := context.Background()
	for i, step := range []struct {
		stream string
		exp    eventstore.ExpectedRevision
		n      int
	}{
		{"match-1", eventstore.NoStream(), 3},
		{"match-2", eventstore.Any(), 1},
		{"match-1", eventstore.Exact(2), 2},
		{"match-2", eventstore.StreamExists(), 2},
		{"match-1", eventstore.Any(), 1},
	} {
		if _, err := s.Append(ctx, step.stream, step.exp, events(step.n, fmt.Sprint(i))...); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, stream := range []string{"match-1", "match-2"} {
		evs, err := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if len(e.Hash) != 32 || seen[string(e.Hash)] {
				t.Fatalf("%s revision %d has hash %x", stream, e.Revision, e.Hash)
			}
			seen[string(e.Hash)] = true
		}
		if err := s.VerifyStream(ctx, stream); err != nil {
			t.Fatalf("verify %s: %v", stream, err)
		}
	}
	n, err := s.Verify(ctx)
	if err != nil || n != 9 {
		t.Fatalf("verify checked %d events: %v", n, err)
	}

	if err := srv.Tamper("match-1", 3, []byte(`{"n":99}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyStream(ctx, "match-1"); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("verify a tampered stream: got %v, want ErrCorrupt", err)
	}
	if err := s.VerifyStream(ctx, "match-2"); err != nil {
		t.Fatalf("verify the untouched stream: %v", err)
	}
	if _, err := s.Verify(ctx); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("verify the log: got %v, want ErrCorrupt", err)
	}
}

// Writers that expect nothing of the stream still cannot fork its chain:
// each append is pinned to the revision whose hash it chains to.
func TestConcurrentLooseAppendsKeepOneChain(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{ContentionAttempts: 1000})
	defer s.Close()
	ctx := context.Background()
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				exp := eventstore.Any()
				if i > 0 {
					exp = eventstore.StreamExists()
				}
				if _, err := s.Append(ctx, "busy-1", exp, events(1, fmt.Sprint(w))...); err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	evs, err := s.ReadStream(ctx, "busy-1", eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != writers*each {
		t.Fatalf("stream holds %d events, want %d", len(evs), writers*each)
	}
	if err := s.VerifyStream(ctx, "busy-1"); err != nil {
		t.Fatal(err)
	}
}

// When another writer extends the stream between the engine's read and its
// pinned write, an Any append starts over, an Exact one reports the wrong
// expectation, and an Any append out of attempts gives up with a wrong
// expected revision error, which callers already handle by trying again.
func TestAppendRacingAnotherWriter(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{ContentionAttempts: 3})
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, "hot-1", eventstore.NoStream(), events(1, "T")...); err != nil {
		t.Fatal(err)
	}

	srv.Interleave(2)
	ours := events(1, "Ours")
	res, err := s.Append(ctx, "hot-1", eventstore.Any(), ours...)
	if err != nil {
		t.Fatalf("any append after two lost races: %v", err)
	}
	if res.FirstRevision != 3 {
		t.Fatalf("any append landed at revision %d, want 3 after two interlopers", res.FirstRevision)
	}

	srv.Interleave(1)
	_, err = s.Append(ctx, "hot-1", eventstore.Exact(3), events(1, "T")...)
	var wrong *eventstore.WrongExpectedRevisionError
	if !errors.As(err, &wrong) || !wrong.ActualExists || wrong.Actual != 4 {
		t.Fatalf("exact append that lost the race: got %v, want actual revision 4", err)
	}

	srv.Interleave(3)
	_, err = s.Append(ctx, "hot-1", eventstore.Any(), events(1, "T")...)
	if !errors.As(err, &wrong) || wrong.Expected != eventstore.Any() || !wrong.ActualExists {
		t.Fatalf("any append out of attempts: got %v", err)
	}
	evs, err := s.ReadStream(ctx, "hot-1", eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 8 || evs[3].ID != ours[0].ID {
		t.Fatalf("stream holds %d events, revision 3 is %s; want 8 with ours at 3", len(evs), evs[3].ID)
	}
}

// rawClient is a plain client of the test server, for writing what the
// engine would not write.
func rawClient(t *testing.T, srv *kurrenttest.Server) *esdb.Client {
	t.Helper()
	config, err := esdb.ParseConnectionString(srv.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	config.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
