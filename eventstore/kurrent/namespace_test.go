package kurrent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
)

func TestNamespacesShareOneServer(t *testing.T) {
	srv := kurrenttest.New(t)
	a := open(t, srv.ConnectionString(), kurrent.Options{Namespace: "tenant-a."})
	defer a.Close()
	b := open(t, srv.ConnectionString(), kurrent.Options{Namespace: "tenant-b."})
	defer b.Close()
	whole := open(t, srv.ConnectionString(), kurrent.Options{})
	defer whole.Close()
	ctx := context.Background()

	subA, err := a.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer subA.Close()
	inA := events(2, "A")
	if _, err := a.Append(ctx, "order-1", eventstore.NoStream(), inA...); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, "order-1", eventstore.NoStream(), events(3, "B")...); err != nil {
		t.Fatal(err)
	}
	lastA, err := a.Append(ctx, "order-2", eventstore.NoStream(), events(1, "A")...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, "order-2", eventstore.NoStream(), events(1, "B")...); err != nil {
		t.Fatal(err)
	}

	got, err := a.ReadStream(ctx, "order-1", eventstore.ReadStreamOptions{})
	if err != nil || len(got) != 2 || got[0].Stream != "order-1" {
		t.Fatalf("namespace a reads its order-1 as %v, %v", got, err)
	}
	allA := readAll(t, a)
	if len(allA) != 3 || allA[0].Stream != "order-1" || allA[2].Stream != "order-2" {
		t.Fatalf("namespace a reads the log as %+v", allA)
	}
	if n := len(readAll(t, b)); n != 4 {
		t.Fatalf("namespace b reads %d events, want 4", n)
	}
	wholeLog := readAll(t, whole)
	if len(wholeLog) != 7 || wholeLog[0].Stream != "tenant-a.order-1" {
		t.Fatalf("the store without a namespace reads %d events, the first in %q", len(wholeLog), wholeLog[0].Stream)
	}
	if head, err := a.Head(ctx); err != nil || head != lastA.LastPosition {
		t.Fatalf("head of a = %d, %v; want %d", head, err, lastA.LastPosition)
	}
	if diff := cmp.Diff(ids(allA), ids(collect(t, subA, 3))); diff != "" {
		t.Fatalf("subscription of a (-log +delivered):\n%s", diff)
	}
	if n, err := a.Verify(ctx); err != nil || n != 3 {
		t.Fatalf("verify a: %d events, %v", n, err)
	}

	if _, err := kurrent.Open(ctx, srv.ConnectionString(), kurrent.Options{Namespace: "$system"}); !errors.Is(err, eventstore.ErrInvalidStreamName) {
		t.Fatalf("a reserved namespace: got %v, want ErrInvalidStreamName", err)
	}
}

func TestConnectionStrings(t *testing.T) {
	srv := kurrenttest.New(t)
	for _, conn := range []string{
		srv.ConnectionString(),
		srv.DiscoverConnectionString(), // through the gossip service
		"kurrentdb://" + srv.Addr() + "?tls=false",
		"kurrent+discover://" + srv.Addr() + "?tls=false",
	} {
		s := open(t, conn, kurrent.Options{})
		stream := "g-" + uuid.NewString()
		if _, err := s.Append(context.Background(), stream, eventstore.NoStream(), events(2, "T")...); err != nil {
			t.Fatalf("%s: %v", conn, err)
		}
		if got, err := s.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{}); err != nil || len(got) != 2 {
			t.Fatalf("%s: read %d events, %v", conn, len(got), err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Events that other programs write are read as far as they go: without
// metadata they decode with an empty envelope, with metadata that is not
// JSON they are reported as corrupt rather than skipped.
func TestForeignEvents(t *testing.T) {
	srv := kurrenttest.New(t)
	s := open(t, srv.ConnectionString(), kurrent.Options{})
	defer s.Close()
	ctx := context.Background()
	raw := rawClient(t, srv)
	if _, err := raw.AppendToStream(ctx, "legacy-1", esdb.AppendToStreamOptions{}, esdb.EventData{
		EventType: "Imported", ContentType: esdb.ContentTypeJson, Data: []byte(`{"old":true}`),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadStream(ctx, "legacy-1", eventstore.ReadStreamOptions{})
	if err != nil || len(got) != 1 || got[0].Type != "Imported" || got[0].SchemaVersion != 0 || got[0].Hash != nil {
		t.Fatalf("foreign event read as %+v, %v", got, err)
	}
	if err := s.VerifyStream(ctx, "legacy-1"); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("verify a stream without hashes: got %v, want ErrCorrupt", err)
	}

	sub, err := s.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	collect(t, sub, 1)
	if _, err := raw.AppendToStream(ctx, "legacy-2", esdb.AppendToStreamOptions{}, esdb.EventData{
		EventType: "Imported", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`), Metadata: []byte("not json"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadStream(ctx, "legacy-2", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("read an event with broken metadata: got %v, want ErrCorrupt", err)
	}
	if err := waitEnd(t, sub); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("subscription meeting broken metadata ended with %v, want ErrCorrupt", err)
	}
}
