package kurrent_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/conformance"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
)

// quickDiscovery makes the client give up on an unreachable server after
// one try instead of ten.
const quickDiscovery = "&maxDiscoverAttempts=1&discoveryInterval=10"

func events(n int, typ string) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = conformance.Event(typ, map[string]int{"n": i})
	}
	return out
}

func ids[E eventstore.EventData | eventstore.RecordedEvent](evs []E) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		switch e := any(e).(type) {
		case eventstore.EventData:
			out[i] = e.ID
		case eventstore.RecordedEvent:
			out[i] = e.ID
		}
	}
	return out
}

func readAll(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	from := eventstore.Start
	for {
		page, err := s.ReadAll(context.Background(), from, 100)
		if err != nil {
			t.Fatalf("read all: %v", err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		from = page[len(page)-1].Position
	}
}

func collect(t *testing.T, sub eventstore.Subscription, n int) []eventstore.RecordedEvent {
	t.Helper()
	out := make([]eventstore.RecordedEvent, 0, n)
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for len(out) < n {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended after %d of %d events: %v", len(out), n, sub.Err())
			}
			out = append(out, e)
		case <-timeout.C:
			t.Fatalf("subscription delivered %d of %d events in 30 s", len(out), n)
		}
	}
	return out
}

// waitEnd waits for a subscription to end and returns its error.
func waitEnd(t *testing.T, sub eventstore.Subscription) error {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case _, ok := <-sub.Events():
			if !ok {
				return sub.Err()
			}
		case <-timeout:
			t.Fatal("the subscription did not end")
		}
	}
}

func TestAppendRetriedAfterTransientFailureIsStoredOnce(t *testing.T) {
	cases := []struct {
		name   string
		n      int
		inject func(*kurrenttest.Server)
	}{
		{"one event, answer lost", 1, func(s *kurrenttest.Server) { s.StallAppends(1) }},
		{"three events, answer lost", 3, func(s *kurrenttest.Server) { s.StallAppends(1) }},
		{"server unavailable", 2, func(s *kurrenttest.Server) { s.FailAppends(1, codes.Unavailable) }},
		{"deadline exceeded on the server", 1, func(s *kurrenttest.Server) { s.FailAppends(1, codes.DeadlineExceeded) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := kurrenttest.New(t)
			s := open(t, srv.ConnectionString(), kurrent.Options{Timeout: time.Second})
			defer s.Close()
			ctx := context.Background()
			if _, err := s.Append(ctx, "order-1", eventstore.NoStream(), conformance.Event("T", "first")); err != nil {
				t.Fatal(err)
			}
			evs := events(tc.n, "T")
			tc.inject(srv)
			before := srv.Appends()
			res, err := s.Append(ctx, "order-1", eventstore.Any(), evs...)
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if calls := srv.Appends() - before; calls != 2 {
				t.Fatalf("the server received %d append calls, want 2", calls)
			}
			got, err := s.ReadStream(ctx, "order-1", eventstore.ReadStreamOptions{From: 1})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids(evs), ids(got)); diff != "" {
				t.Fatalf("stored events (-appended +stored):\n%s", diff)
			}
			want := eventstore.AppendResult{
				FirstRevision: 1, LastRevision: eventstore.Revision(tc.n),
				FirstPosition: got[0].Position, LastPosition: got[len(got)-1].Position,
			}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Fatalf("append result (-stored +returned):\n%s", diff)
			}
			if err := s.VerifyStream(ctx, "order-1"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// When every attempt times out the caller gets the error, yet the events
// may be stored; the caller's own retry then answers with where they are.
func TestCallerRetryAfterExhaustedAttempts(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{Timeout: 500 * time.Millisecond, Attempts: 1})
	defer s.Close()
	ctx := context.Background()
	evs := events(2, "T")
	srv.StallAppends(1)
	if _, err := s.Append(ctx, "order-2", eventstore.NoStream(), evs...); err == nil {
		t.Fatal("an append whose answer was lost reported success")
	}
	res, err := s.Append(ctx, "order-2", eventstore.NoStream(), evs...)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	got, err := s.ReadStream(ctx, "order-2", eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || res.FirstPosition != got[0].Position || res.LastPosition != got[1].Position || res.LastRevision != 1 {
		t.Fatalf("retry returned %+v for stored events %v", res, got)
	}
}

func TestSubscriptionResumesAfterDropsWithoutGapOrDuplicate(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{})
	defer s.Close()
	ctx := context.Background()
	for i := range 40 {
		if _, err := s.Append(ctx, fmt.Sprintf("drop-%d", i%5), eventstore.Any(), events(10, "T")...); err != nil {
			t.Fatal(err)
		}
	}
	const every = 37
	srv.DropSubscriptionsAfter(every)
	sub, err := s.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got := collect(t, sub, 400)
	for i := range 30 {
		if _, err := s.Append(ctx, "drop-live", eventstore.Any(), events(3, fmt.Sprint(i))...); err != nil {
			t.Fatal(err)
		}
	}
	got = append(got, collect(t, sub, 90)...)
	all := readAll(t, s)
	if diff := cmp.Diff(ids(all), ids(got)); diff != "" {
		t.Fatalf("delivered events differ from the log (-log +delivered):\n%s", diff)
	}
	if n := srv.Subscriptions(); n < 490/every {
		t.Fatalf("the server saw %d subscriptions; the drops did not happen", n)
	}
}

func TestSubscriptionSurvivesServerRestart(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString()+quickDiscovery, kurrent.Options{Timeout: 2 * time.Second})
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, "restart-1", eventstore.NoStream(), events(20, "T")...); err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got := collect(t, sub, 20)

	srv.Stop()
	// The client library gives up on a server it cannot discover and stays
	// closed; the store must replace it once the server is back.
	if _, err := s.Append(ctx, "restart-1", eventstore.Exact(19), events(1, "T")...); err == nil {
		t.Fatal("an append to a stopped server succeeded")
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "restart-1", eventstore.Exact(19), events(5, "T")...); err != nil {
		t.Fatalf("append after the server came back: %v", err)
	}
	got = append(got, collect(t, sub, 5)...)
	if diff := cmp.Diff(ids(readAll(t, s)), ids(got)); diff != "" {
		t.Fatalf("delivered events differ from the log (-log +delivered):\n%s", diff)
	}
}

func TestSubscriptionGivesUpOnAServerThatStaysDown(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString()+quickDiscovery, kurrent.Options{Resubscribes: 2})
	defer s.Close()
	sub, err := s.SubscribeAll(context.Background(), eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	srv.Stop()
	err = waitEnd(t, sub)
	if err == nil || errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("got %v, want the cause of the drops", err)
	}
}

func TestClosingTheStoreEndsSubscriptions(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{})
	if _, err := s.Append(context.Background(), "c-1", eventstore.NoStream(), events(1, "T")...); err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubscribeAll(context.Background(), eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	collect(t, sub, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitEnd(t, sub); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}

func TestOpenFailsWithoutServer(t *testing.T) {
	srv := kurrenttest.New(t)
	conn := srv.ConnectionString() + quickDiscovery
	srv.Stop()
	if _, err := kurrent.Open(context.Background(), conn, kurrent.Options{}); err == nil {
		t.Fatal("open succeeded without a server")
	}
	if _, err := kurrent.Open(context.Background(), "http://localhost:2113", kurrent.Options{}); err == nil {
		t.Fatal("open accepted a connection string of another scheme")
	}
}

// The client library panics when it is closed under calls that wait on it,
// and strands calls when it gives up on discovery. Appends, subscriptions
// and Close racing through an outage must neither panic nor hang.
func TestCloseDuringOutageWithCallsInFlight(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString()+quickDiscovery, kurrent.Options{Timeout: 500 * time.Millisecond, Attempts: 2})
	ctx := context.Background()
	var subs []eventstore.Subscription
	for range 3 {
		sub, err := s.SubscribeAll(ctx, eventstore.Start)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	failed := make(chan struct{}, 8)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			reported := false
			for {
				_, err := s.Append(ctx, fmt.Sprintf("outage-%d", w), eventstore.Any(), events(1, "T")...)
				if errors.Is(err, eventstore.ErrClosed) {
					return
				}
				if err != nil && !reported {
					reported = true
					failed <- struct{}{}
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	srv.Stop()
	for range 8 {
		<-failed
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	close(done)
	wg.Wait()
	for _, sub := range subs {
		if err := waitEnd(t, sub); !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("subscription ended with %v, want ErrClosed", err)
		}
	}
}
