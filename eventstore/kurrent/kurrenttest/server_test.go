package kurrenttest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
)

// These tests hold the server to the KurrentDB behaviour the engine relies
// on, through the official client.

func client(t *testing.T, srv *kurrenttest.Server) *esdb.Client {
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

func event(typ, data string) esdb.EventData {
	return esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(data)}
}

// drainer returns a function that reads everything a read returns.
func drainer(t *testing.T) func(*esdb.ReadStream, error) []*esdb.ResolvedEvent {
	return func(rs *esdb.ReadStream, err error) []*esdb.ResolvedEvent {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []*esdb.ResolvedEvent
		for {
			e, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
	}
}

func TestLogHasSystemEventsPositionsWithGapsAndCategoryLinks(t *testing.T) {
	srv := kurrenttest.New(t)
	c := client(t, srv)
	drain := drainer(t)
	ctx := context.Background()
	wr, err := c.AppendToStream(ctx, "order-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}},
		event("Placed", `{"n":1}`), event("Paid", `{"n":2}`))
	if err != nil {
		t.Fatal(err)
	}
	all := drain(c.ReadAll(ctx, esdb.ReadAllOptions{}, 100))
	if len(all) < 4 || !strings.HasPrefix(all[0].Event.StreamID, "$") || !strings.HasPrefix(all[0].Event.EventType, "$") {
		t.Fatalf("the log does not open with the server's own events: %d events", len(all))
	}
	var user []*esdb.RecordedEvent
	var links []*esdb.RecordedEvent
	for i, e := range all {
		p := e.Event.Position
		if p.Commit != p.Prepare || (i > 0 && p.Commit <= all[i-1].Event.Position.Commit+1) {
			t.Fatalf("event %d at %+v after %+v: positions must be equal pairs that grow with gaps", i, p, all[i-1].Event.Position)
		}
		switch e.Event.StreamID {
		case "order-1":
			user = append(user, e.Event)
		case "$ce-order":
			links = append(links, e.Event)
		}
	}
	if len(user) != 2 || wr.CommitPosition != user[1].Position.Commit || wr.NextExpectedVersion != 1 {
		t.Fatalf("append answered %+v; the log holds %+v", wr, user)
	}
	if len(links) != 2 || links[0].EventType != "$>" || string(links[0].Data) != "0@order-1" {
		t.Fatalf("category links: %+v", links)
	}
	resolved := drain(c.ReadStream(ctx, "$ce-order", esdb.ReadStreamOptions{ResolveLinkTos: true}, 10))
	if len(resolved) != 2 || resolved[1].Link == nil || resolved[1].Event.EventType != "Paid" {
		t.Fatalf("resolved links: %+v", resolved)
	}
	stream := drain(c.ReadStream(ctx, "order-1", esdb.ReadStreamOptions{}, 10))
	if len(stream) != 2 || stream[1].Event.Position != user[1].Position || stream[1].Event.CreatedDate.IsZero() {
		t.Fatalf("a stream read must carry global positions and creation times: %+v", stream[1].Event)
	}
}

func TestExpectedRevisionAndIDOnlyIdempotency(t *testing.T) {
	srv := kurrenttest.New(t)
	c := client(t, srv)
	drain := drainer(t)
	ctx := context.Background()
	first, second := event("T", `{"v":1}`), event("T", `{"v":2}`)
	if _, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, first, second); err != nil {
		t.Fatal(err)
	}
	changed := second
	changed.Data = []byte(`{"v":"other"}`)
	wr, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, first, changed)
	if err != nil || wr.NextExpectedVersion != 1 {
		t.Fatalf("the same IDs again, other contents: %+v, %v; KurrentDB accepts them without writing", wr, err)
	}
	for name, tc := range map[string]struct {
		exp esdb.ExpectedRevision
		evs []esdb.EventData
	}{
		"exact too low, new IDs": {esdb.Revision(0), []esdb.EventData{event("T", `{}`)}},
		"exact too high":         {esdb.Revision(5), []esdb.EventData{event("T", `{}`)}},
		"no stream on a stream":  {esdb.NoStream{}, []esdb.EventData{event("T", `{}`)}},
		"some IDs stored":        {esdb.NoStream{}, []esdb.EventData{first, event("T", `{}`)}},
		"stream exists, missing": {esdb.StreamExists{}, []esdb.EventData{event("T", `{}`)}},
	} {
		stream := "s-1"
		if name == "stream exists, missing" {
			stream = "s-2"
		}
		_, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: tc.exp}, tc.evs...)
		if e, ok := esdb.FromError(err); ok || e.Code() != esdb.ErrorCodeWrongExpectedVersion {
			t.Errorf("%s: got %v, want a wrong expected version", name, err)
		}
	}
	got := drain(c.ReadStream(ctx, "s-1", esdb.ReadStreamOptions{}, 10))
	if len(got) != 2 || string(got[1].Event.Data) != `{"v":2}` {
		t.Fatalf("stream after refused appends: %d events", len(got))
	}
	big := event("T", `"`+strings.Repeat("x", kurrenttest.MaxAppendSize)+`"`)
	if _, err := c.AppendToStream(ctx, "s-3", esdb.AppendToStreamOptions{}, big); err == nil {
		t.Fatal("an append over the size limit was accepted")
	}
}

func TestReadsFromEitherEnd(t *testing.T) {
	srv := kurrenttest.New(t)
	c := client(t, srv)
	drain := drainer(t)
	ctx := context.Background()
	_, err := c.ReadStream(ctx, "missing", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := c.ReadStream(ctx, "missing", esdb.ReadStreamOptions{}, 10)
	if _, err := rs.Recv(); !isNotFound(err) {
		t.Fatalf("reading a missing stream: first receive gave %v", err)
	}
	rs.Close()
	evs := make([]esdb.EventData, 5)
	for i := range evs {
		evs[i] = event("T", `{}`)
	}
	if _, err := c.AppendToStream(ctx, "r-1", esdb.AppendToStreamOptions{}, evs...); err != nil {
		t.Fatal(err)
	}
	back := drain(c.ReadStream(ctx, "r-1", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(50)}, 2))
	if len(back) != 2 || back[0].Event.EventNumber != 4 || back[1].Event.EventNumber != 3 {
		t.Fatalf("backwards from beyond the end: %d events", len(back))
	}
	last := drain(c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1))
	from := last[0].Event.Position
	if after := drain(c.ReadAll(ctx, esdb.ReadAllOptions{From: from}, 10)); len(after) != 1 || after[0].Event.Position != from {
		t.Fatalf("a forward read of $all includes its start position; got %d events", len(after))
	}
	if before := drain(c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, 1)); len(before) != 1 || before[0].Event.Position.Commit >= from.Commit {
		t.Fatal("a backward read of $all excludes its start position")
	}
}

func isNotFound(err error) bool {
	e, ok := esdb.FromError(err)
	return !ok && e.Code() == esdb.ErrorCodeResourceNotFound
}

func TestSubscriptionsCatchUpThenGoLiveWithFiltersAndCheckpoints(t *testing.T) {
	srv := kurrenttest.New(t)
	c := client(t, srv)
	ctx := context.Background()
	if _, err := c.AppendToStream(ctx, "sub-1", esdb.AppendToStreamOptions{}, event("Old", `{}`)); err != nil {
		t.Fatal(err)
	}
	fromEnd, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fromEnd.Close()
	filtered, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{
		From: esdb.Start{}, Filter: esdb.ExcludeSystemEventsFilter(), MaxSearchWindow: 2, CheckpointInterval: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer filtered.Close()
	// Catching up: the old event and checkpoints, then the notice.
	var types []string
	checkpoints := 0
	for caughtUp := false; !caughtUp; {
		msg := filtered.Recv()
		switch {
		case msg.SubscriptionDropped != nil:
			t.Fatal(msg.SubscriptionDropped.Error)
		case msg.EventAppeared != nil:
			types = append(types, msg.EventAppeared.Event.EventType)
		case msg.CheckPointReached != nil:
			checkpoints++
		case msg.CaughtUp != nil:
			caughtUp = true
		}
	}
	if len(types) != 1 || types[0] != "Old" || checkpoints == 0 {
		t.Fatalf("filtered catch-up: events %v, %d checkpoints", types, checkpoints)
	}
	// Live: the new event reaches both; from the end it is the first.
	if _, err := c.AppendToStream(ctx, "sub-1", esdb.AppendToStreamOptions{}, event("New", `{}`)); err != nil {
		t.Fatal(err)
	}
	if e := next(t, filtered); e.EventType != "New" {
		t.Fatalf("filtered subscription delivered %s live", e.EventType)
	}
	if e := next(t, fromEnd); e.EventType != "New" {
		t.Fatalf("subscription from the end delivered %s first", e.EventType)
	}

	// What was sent before the drop still arrives (here the category link
	// of the new event); then the subscription reports the drop.
	srv.DropSubscriptions()
	for i := 0; ; i++ {
		msg := fromEnd.Recv()
		if msg.SubscriptionDropped != nil {
			break
		}
		if i == 3 {
			t.Fatal("a dropped subscription kept going")
		}
	}
}

func next(t *testing.T, sub *esdb.Subscription) *esdb.RecordedEvent {
	t.Helper()
	for {
		msg := sub.Recv()
		if msg.SubscriptionDropped != nil {
			t.Fatal(msg.SubscriptionDropped.Error)
		}
		if msg.EventAppeared != nil {
			return msg.EventAppeared.Event
		}
	}
}

// esdbCode is the client's error code of err.
func esdbCode(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return esdb.ErrorCodeUnknown
}

// readErr reads a stream to its end and returns the error that ended it.
func readErr(c *esdb.Client, stream string) error {
	rs, err := c.ReadStream(context.Background(), stream, esdb.ReadStreamOptions{}, 10)
	if err != nil {
		return err
	}
	defer rs.Close()
	for {
		if _, err := rs.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func TestTombstonedStreamsAreDeletedForGood(t *testing.T) {
	srv := kurrenttest.New(t)
	c := client(t, srv)
	ctx := context.Background()
	if _, err := c.AppendToStream(ctx, "key-1", esdb.AppendToStreamOptions{}, event("KeyCreated", `{"k":1}`)); err != nil {
		t.Fatal(err)
	}
	// A wrong expectation is refused and deletes nothing.
	if _, err := c.TombstoneStream(ctx, "key-1", esdb.TombstoneStreamOptions{ExpectedRevision: esdb.NoStream{}}); err == nil || esdbCode(err) == esdb.ErrorCodeStreamDeleted {
		t.Fatalf("tombstone expecting no stream on an existing one: %v", err)
	}
	if err := readErr(c, "key-1"); err != nil {
		t.Fatalf("read after a refused tombstone: %v", err)
	}
	res, err := c.TombstoneStream(ctx, "key-1", esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Revision(0)})
	if err != nil || res.Position.Commit == 0 {
		t.Fatalf("tombstone: %+v, %v", res, err)
	}
	if !srv.Tombstoned("key-1") {
		t.Fatal("the server does not report the stream as tombstoned")
	}
	// Tombstoning a stream that never existed deletes it too.
	if _, err := c.TombstoneStream(ctx, "never-1", esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatalf("tombstone a stream that never existed: %v", err)
	}
	for _, stream := range []string{"key-1", "never-1"} {
		if err := readErr(c, stream); esdbCode(err) != esdb.ErrorCodeStreamDeleted {
			t.Fatalf("read %s: %v, want ErrorCodeStreamDeleted", stream, err)
		}
		for _, expected := range []esdb.ExpectedRevision{esdb.Any{}, esdb.NoStream{}, esdb.StreamExists{}} {
			_, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, event("KeyCreated", `{}`))
			if esdbCode(err) != esdb.ErrorCodeStreamDeleted {
				t.Fatalf("append to %s expecting %T: %v, want ErrorCodeStreamDeleted", stream, expected, err)
			}
		}
		if _, err := c.TombstoneStream(ctx, stream, esdb.TombstoneStreamOptions{}); esdbCode(err) != esdb.ErrorCodeStreamDeleted {
			t.Fatalf("tombstone %s again: %v, want ErrorCodeStreamDeleted", stream, err)
		}
		sub, err := c.SubscribeToStream(ctx, stream, esdb.SubscribeToStreamOptions{})
		if err == nil {
			ev := sub.Recv()
			if ev.SubscriptionDropped == nil {
				t.Fatalf("subscribe to %s: got %+v, want it dropped", stream, ev)
			}
			_ = sub.Close()
		}
	}
	// $all keeps the stream's events, as KurrentDB does until a scavenge,
	// and shows the tombstones.
	var created, tombstones int
	for _, e := range drainer(t)(c.ReadAll(ctx, esdb.ReadAllOptions{}, 100)) {
		switch {
		case e.Event.StreamID == "key-1" && e.Event.EventType == "KeyCreated":
			created++
		case e.Event.EventType == "$streamDeleted":
			tombstones++
		}
	}
	if created != 1 || tombstones != 2 {
		t.Fatalf("$all holds %d created events and %d tombstones, want 1 and 2", created, tombstones)
	}
}
