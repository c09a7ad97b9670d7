// Package conformance is the test suite every event store engine runs with
// one call, so that all engines keep the same contract.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
)

// Harness gives the suite fresh stores of one engine.
type Harness struct {
	// Open returns a store over new, empty storage, and a function that
	// opens the same storage again after the first store was closed.
	Open func(t *testing.T) (store eventstore.Store, reopen func(t *testing.T) eventstore.Store)
	// MaxEventSize is the engine's configured event size limit.
	MaxEventSize int
	// Concurrency scales the race tests (100 when 0).
	Concurrency int
}

// Run runs every contract test against the engine.
func Run(t *testing.T, h Harness) {
	if h.MaxEventSize == 0 {
		h.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	if h.Concurrency == 0 {
		h.Concurrency = 100
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"AppendAndReadStream", testAppendAndReadStream},
		{"EnvelopeRoundTrip", testEnvelopeRoundTrip},
		{"ExpectedRevision", testExpectedRevision},
		{"ReadMissingStream", testReadMissingStream},
		{"ReadStreamWindows", testReadStreamWindows},
		{"IdempotentRetry", testIdempotentRetry},
		{"IdempotencyConflict", testIdempotencyConflict},
		{"BadInputWritesNothing", testBadInput},
		{"ReadAllGlobalOrder", testReadAllGlobalOrder},
		{"OneWinnerPerRevision", testOneWinnerPerRevision},
		{"ConcurrentAppendersNoGaps", testConcurrentAppenders},
		{"SubscriptionCatchUpThenLive", testSubscriptionCatchUpThenLive},
		{"SubscriptionFromPositionIsExclusive", testSubscriptionFromPosition},
		{"SubscriptionEndsOnCancel", testSubscriptionEndsOnCancel},
		{"ReopenKeepsEverything", testReopen},
		{"ClosedStore", testClosedStore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func open(t *testing.T, h Harness) eventstore.Store {
	t.Helper()
	s, _ := h.Open(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Event builds a test event with a fresh ID and the given type and JSON body.
func Event(typ string, body any) eventstore.EventData {
	data, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return eventstore.EventData{
		ID:            uuid.New(),
		Type:          typ,
		SchemaVersion: 1,
		Data:          data,
		Metadata: eventstore.Metadata{
			ActorID:       "actor-1",
			ActorRole:     "MENTEE",
			CorrelationID: "corr-1",
			CausationID:   "cause-1",
			OccurredAt:    time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC),
		},
	}
}

func events(n int, typ string) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = Event(typ, map[string]int{"n": i})
	}
	return out
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, exp, evs...)
	if err != nil {
		t.Fatalf("append to %s (%s): %v", stream, exp, err)
	}
	return res
}

func readStream(t *testing.T, s eventstore.Store, stream string, opts eventstore.ReadStreamOptions) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := s.ReadStream(context.Background(), stream, opts)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

func readAll(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	from := eventstore.Start
	for {
		page, err := s.ReadAll(context.Background(), from, 500)
		if err != nil {
			t.Fatalf("read all from %d: %v", from, err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		from = page[len(page)-1].Position
	}
}

func ids(evs []eventstore.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func dataIDs(evs []eventstore.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func revisions(evs []eventstore.RecordedEvent) []eventstore.Revision {
	out := make([]eventstore.Revision, len(evs))
	for i, e := range evs {
		out[i] = e.Revision
	}
	return out
}

func testAppendAndReadStream(t *testing.T, h Harness) {
	s := open(t, h)
	evs := events(3, "Thing")
	res := mustAppend(t, s, "a-1", eventstore.NoStream(), evs...)
	if res.FirstRevision != 0 || res.LastRevision != 2 || res.FirstPosition == eventstore.Start || res.LastPosition <= res.FirstPosition {
		t.Fatalf("first append: got %+v, want revisions 0..2 at increasing positions", res)
	}
	prev := res.LastPosition
	res = mustAppend(t, s, "b-1", eventstore.NoStream(), Event("Other", nil))
	if res.FirstRevision != 0 || res.FirstPosition <= prev {
		t.Fatalf("second stream: got %+v, want revision 0 after position %d", res, prev)
	}
	prev = res.LastPosition
	more := events(2, "Thing")
	res = mustAppend(t, s, "a-1", eventstore.Exact(2), more...)
	if res.FirstRevision != 3 || res.LastRevision != 4 || res.FirstPosition <= prev || res.LastPosition <= res.FirstPosition {
		t.Fatalf("third append: got %+v", res)
	}
	got := readStream(t, s, "a-1", eventstore.ReadStreamOptions{})
	if diff := cmp.Diff(append(dataIDs(evs), dataIDs(more)...), ids(got)); diff != "" {
		t.Fatalf("forward read (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]eventstore.Revision{0, 1, 2, 3, 4}, revisions(got)); diff != "" {
		t.Fatalf("revisions (-want +got):\n%s", diff)
	}
	for _, e := range got {
		if e.Stream != "a-1" {
			t.Fatalf("event %s has stream %q", e.ID, e.Stream)
		}
	}
	head, err := s.Head(context.Background())
	if err != nil || head != res.LastPosition {
		t.Fatalf("head = %d, %v; want %d", head, err, res.LastPosition)
	}
	positions := map[eventstore.Position]bool{}
	for _, e := range got {
		positions[e.Position] = true
	}
	if !positions[res.FirstPosition] || !positions[res.LastPosition] {
		t.Fatalf("the read does not hold the positions the append returned (%+v)", res)
	}
}

func testEnvelopeRoundTrip(t *testing.T, h Harness) {
	s := open(t, h)
	ev := Event("MatchRequested", map[string]any{"message": "héllo \u2603", "n": 1.5})
	ev.SchemaVersion = 3
	before := time.Now().Add(-time.Minute)
	res := mustAppend(t, s, "envelope-1", eventstore.Any(), ev)
	got := readStream(t, s, "envelope-1", eventstore.ReadStreamOptions{})
	if len(got) != 1 {
		t.Fatalf("got %d events, want 1", len(got))
	}
	e := got[0]
	if e.Metadata.RecordedAt.Before(before) || e.Metadata.RecordedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("recorded-at %v is not the time of the append", e.Metadata.RecordedAt)
	}
	wantMeta := ev.Metadata
	wantMeta.RecordedAt = e.Metadata.RecordedAt
	if diff := cmp.Diff(wantMeta, e.Metadata, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Fatalf("metadata (-want +got):\n%s", diff)
	}
	if e.ID != ev.ID || e.Type != ev.Type || e.SchemaVersion != 3 || e.Position != res.LastPosition || e.Revision != 0 {
		t.Fatalf("envelope: got %+v", e)
	}
	var a, b any
	if err := json.Unmarshal(ev.Data, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(e.Data, &b); err != nil {
		t.Fatalf("stored data is not JSON: %v", err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("data (-want +got):\n%s", diff)
	}
	all := readAll(t, s)
	if len(all) != 1 || all[0].ID != ev.ID || all[0].Stream != "envelope-1" {
		t.Fatalf("read all: %+v", all)
	}
}

func testExpectedRevision(t *testing.T, h Harness) {
	s := open(t, h)
	mustAppend(t, s, "exists-1", eventstore.NoStream(), events(2, "T")...) // last revision 1
	cases := []struct {
		name       string
		stream     string
		exp        eventstore.ExpectedRevision
		wantErr    bool
		wantExists bool
		wantActual eventstore.Revision
	}{
		{"any on missing", "new-any", eventstore.Any(), false, false, 0},
		{"any on existing", "exists-1", eventstore.Any(), false, false, 0},
		{"no stream on missing", "new-nostream", eventstore.NoStream(), false, false, 0},
		{"no stream on existing", "exists-1", eventstore.NoStream(), true, true, 2},
		{"stream exists on missing", "new-exists", eventstore.StreamExists(), true, false, 0},
		{"stream exists on existing", "exists-1", eventstore.StreamExists(), false, false, 0},
		{"exact on missing", "new-exact", eventstore.Exact(0), true, false, 0},
		{"exact too low", "exists-1", eventstore.Exact(0), true, true, 3},
		{"exact too high", "exists-1", eventstore.Exact(9), true, true, 3},
		{"exact right", "exists-1", eventstore.Exact(3), false, false, 0},
	}
	for _, tc := range cases {
		before := readAll(t, s)
		_, err := s.Append(context.Background(), tc.stream, tc.exp, Event("T", nil))
		if !tc.wantErr {
			if err != nil {
				t.Fatalf("%s: unexpected error %v", tc.name, err)
			}
			continue
		}
		var wrong *eventstore.WrongExpectedRevisionError
		if !errors.As(err, &wrong) || !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
			t.Fatalf("%s: got %v, want a wrong expected revision error", tc.name, err)
		}
		if wrong.Stream != tc.stream || wrong.Expected != tc.exp || wrong.ActualExists != tc.wantExists || (tc.wantExists && wrong.Actual != tc.wantActual) {
			t.Fatalf("%s: error fields %+v, want stream %s expected %s exists %v actual %d", tc.name, wrong, tc.stream, tc.exp, tc.wantExists, tc.wantActual)
		}
		if after := readAll(t, s); len(after) != len(before) {
			t.Fatalf("%s: a refused append wrote %d events", tc.name, len(after)-len(before))
		}
	}
}

func testReadMissingStream(t *testing.T, h Harness) {
	s := open(t, h)
	mustAppend(t, s, "present", eventstore.Any(), Event("T", nil))
	for _, d := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
		_, err := s.ReadStream(context.Background(), "absent", eventstore.ReadStreamOptions{Direction: d, FromEnd: d == eventstore.Backwards})
		if !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("direction %d: got %v, want ErrStreamNotFound", d, err)
		}
	}
	// A stream whose name is a prefix of another is still missing.
	_, err := s.ReadStream(context.Background(), "pres", eventstore.ReadStreamOptions{})
	if !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("prefix of a stream: got %v, want ErrStreamNotFound", err)
	}
}

func testReadStreamWindows(t *testing.T, h Harness) {
	s := open(t, h)
	mustAppend(t, s, "w", eventstore.NoStream(), events(10, "T")...)
	// Neighbours whose names share a prefix must not leak into the read.
	mustAppend(t, s, "w2", eventstore.NoStream(), events(3, "T")...)
	mustAppend(t, s, "v", eventstore.NoStream(), events(3, "T")...)
	cases := []struct {
		name string
		opts eventstore.ReadStreamOptions
		want []eventstore.Revision
	}{
		{"all forwards", eventstore.ReadStreamOptions{}, []eventstore.Revision{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"forwards from 7", eventstore.ReadStreamOptions{From: 7}, []eventstore.Revision{7, 8, 9}},
		{"forwards from 2 limit 3", eventstore.ReadStreamOptions{From: 2, Limit: 3}, []eventstore.Revision{2, 3, 4}},
		{"forwards past the end", eventstore.ReadStreamOptions{From: 10}, nil},
		{"backwards from end", eventstore.ReadStreamOptions{Direction: eventstore.Backwards, FromEnd: true}, []eventstore.Revision{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"backwards from end limit 2", eventstore.ReadStreamOptions{Direction: eventstore.Backwards, FromEnd: true, Limit: 2}, []eventstore.Revision{9, 8}},
		{"backwards from 3", eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: 3}, []eventstore.Revision{3, 2, 1, 0}},
		{"backwards from beyond the end", eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: 50, Limit: 1}, []eventstore.Revision{9}},
	}
	for _, tc := range cases {
		got := readStream(t, s, "w", tc.opts)
		if diff := cmp.Diff(tc.want, revisions(got), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", tc.name, diff)
		}
		for _, e := range got {
			if e.Stream != "w" {
				t.Fatalf("%s: event from stream %q leaked in", tc.name, e.Stream)
			}
		}
	}
	for _, bad := range []eventstore.ReadStreamOptions{{Limit: -1}, {Direction: eventstore.Direction(7)}} {
		if _, err := s.ReadStream(context.Background(), "w", bad); !errors.Is(err, eventstore.ErrInvalidReadOptions) {
			t.Fatalf("read with %+v: got %v, want ErrInvalidReadOptions", bad, err)
		}
	}
}

func testIdempotentRetry(t *testing.T, h Harness) {
	s := open(t, h)
	first := events(3, "T")
	res1 := mustAppend(t, s, "idem", eventstore.NoStream(), first...)
	res2 := mustAppend(t, s, "idem", eventstore.NoStream(), first...)
	if diff := cmp.Diff(res1, res2); diff != "" {
		t.Fatalf("retry with no-stream returned another result (-first +retry):\n%s", diff)
	}
	second := events(2, "T")
	res3 := mustAppend(t, s, "idem", eventstore.Exact(2), second...)
	res4 := mustAppend(t, s, "idem", eventstore.Exact(2), second...)
	if diff := cmp.Diff(res3, res4); diff != "" {
		t.Fatalf("retry with exact returned another result (-first +retry):\n%s", diff)
	}
	third := []eventstore.EventData{Event("T", 1)}
	res5 := mustAppend(t, s, "idem", eventstore.Any(), third...)
	// Another writer appends in between; the retry still recognises its event.
	mustAppend(t, s, "idem", eventstore.Any(), Event("T", 2))
	res6 := mustAppend(t, s, "idem", eventstore.Any(), third...)
	if diff := cmp.Diff(res5, res6); diff != "" {
		t.Fatalf("retry with any returned another result (-first +retry):\n%s", diff)
	}
	all := readAll(t, s)
	if len(all) != 7 {
		t.Fatalf("store holds %d events after retries, want 7", len(all))
	}
	seen := map[uuid.UUID]bool{}
	for _, e := range all {
		if seen[e.ID] {
			t.Fatalf("event %s stored twice", e.ID)
		}
		seen[e.ID] = true
	}
}

func testIdempotencyConflict(t *testing.T, h Harness) {
	s := open(t, h)
	evs := events(2, "T")
	mustAppend(t, s, "conflict", eventstore.NoStream(), evs...)
	changed := append([]eventstore.EventData(nil), evs...)
	changed[1].Data = json.RawMessage(`{"n":"something else"}`)
	_, err := s.Append(context.Background(), "conflict", eventstore.NoStream(), changed...)
	if !errors.Is(err, eventstore.ErrIdempotencyConflict) {
		t.Fatalf("same IDs with another body: got %v, want ErrIdempotencyConflict", err)
	}
	changedType := append([]eventstore.EventData(nil), evs...)
	changedType[0].Type = "Other"
	_, err = s.Append(context.Background(), "conflict", eventstore.NoStream(), changedType...)
	if !errors.Is(err, eventstore.ErrIdempotencyConflict) {
		t.Fatalf("same IDs with another type: got %v, want ErrIdempotencyConflict", err)
	}
	if n := len(readAll(t, s)); n != 2 {
		t.Fatalf("store holds %d events, want 2", n)
	}
}

func testBadInput(t *testing.T, h Harness) {
	s := open(t, h)
	mustAppend(t, s, "good", eventstore.NoStream(), Event("T", nil))
	big := Event("T", nil)
	big.Data = json.RawMessage(`"` + strings.Repeat("x", h.MaxEventSize) + `"`)
	dup := Event("T", nil)
	noID := Event("T", nil)
	noID.ID = uuid.Nil
	noType := Event("", nil)
	badJSON := Event("T", nil)
	badJSON.Data = json.RawMessage(`{"unclosed":`)
	badVersion := Event("T", nil)
	badVersion.SchemaVersion = 0
	cases := []struct {
		name   string
		stream string
		exp    eventstore.ExpectedRevision
		evs    []eventstore.EventData
		want   error
	}{
		{"empty stream name", "", eventstore.Any(), []eventstore.EventData{Event("T", nil)}, eventstore.ErrInvalidStreamName},
		{"oversized stream name", strings.Repeat("s", eventstore.MaxStreamNameLength+1), eventstore.Any(), []eventstore.EventData{Event("T", nil)}, eventstore.ErrInvalidStreamName},
		{"control character in stream name", "a\x00b", eventstore.Any(), []eventstore.EventData{Event("T", nil)}, eventstore.ErrInvalidStreamName},
		{"reserved stream name", "$all", eventstore.Any(), []eventstore.EventData{Event("T", nil)}, eventstore.ErrInvalidStreamName},
		{"event over the size limit", "good", eventstore.Any(), []eventstore.EventData{big}, eventstore.ErrEventTooLarge},
		{"invalid expected revision", "good", eventstore.ExpectedRevision{}, []eventstore.EventData{Event("T", nil)}, eventstore.ErrInvalidExpectedRevision},
		{"no events", "good", eventstore.Any(), nil, eventstore.ErrInvalidEvent},
		{"missing ID", "good", eventstore.Any(), []eventstore.EventData{noID}, eventstore.ErrInvalidEvent},
		{"missing type", "good", eventstore.Any(), []eventstore.EventData{noType}, eventstore.ErrInvalidEvent},
		{"invalid JSON", "good", eventstore.Any(), []eventstore.EventData{badJSON}, eventstore.ErrInvalidEvent},
		{"schema version 0", "good", eventstore.Any(), []eventstore.EventData{badVersion}, eventstore.ErrInvalidEvent},
		{"duplicate IDs in one append", "good", eventstore.Any(), []eventstore.EventData{dup, dup}, eventstore.ErrInvalidEvent},
		{"one bad event spoils the append", "good", eventstore.Any(), []eventstore.EventData{Event("T", nil), big}, eventstore.ErrEventTooLarge},
	}
	for _, tc := range cases {
		_, err := s.Append(context.Background(), tc.stream, tc.exp, tc.evs...)
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := len(readAll(t, s)); n != 1 {
		t.Fatalf("bad input wrote %d events", n-1)
	}
	if _, err := s.ReadStream(context.Background(), "", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrInvalidStreamName) {
		t.Fatalf("reading an empty stream name: got %v", err)
	}
}

func testReadAllGlobalOrder(t *testing.T, h Harness) {
	s := open(t, h)
	var want []uuid.UUID
	var positions []eventstore.Position
	for i := range 30 {
		ev := Event("T", i)
		res := mustAppend(t, s, fmt.Sprintf("order-%d", i%4), eventstore.Any(), ev)
		want = append(want, ev.ID)
		positions = append(positions, res.LastPosition)
	}
	all := readAll(t, s)
	if diff := cmp.Diff(want, ids(all)); diff != "" {
		t.Fatalf("global order differs from commit order (-want +got):\n%s", diff)
	}
	for i, e := range all {
		if e.Position != positions[i] || (i > 0 && e.Position <= all[i-1].Position) {
			t.Fatalf("event %d at position %d, append said %d", i, e.Position, positions[i])
		}
	}
	page, err := s.ReadAll(context.Background(), positions[9], 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 5 || page[0].ID != want[10] || page[4].ID != want[14] {
		t.Fatalf("read all after the 10th event, limit 5: got %d events: %v", len(page), ids(page))
	}
	page, err = s.ReadAll(context.Background(), positions[29], 5)
	if err != nil || len(page) != 0 {
		t.Fatalf("read all from the head: %d events, %v", len(page), err)
	}
}

func testOneWinnerPerRevision(t *testing.T, h Harness) {
	s := open(t, h)
	mustAppend(t, s, "race", eventstore.NoStream(), Event("T", nil))
	var wg sync.WaitGroup
	errs := make([]error, h.Concurrency)
	start := make(chan struct{})
	for i := range h.Concurrency {
		wg.Go(func() {
			<-start
			_, errs[i] = s.Append(context.Background(), "race", eventstore.Exact(0), Event("T", i))
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for _, err := range errs {
		switch {
		case err == nil:
			winners++
		case errors.Is(err, eventstore.ErrWrongExpectedRevision):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d appenders won revision 1, want exactly 1", winners)
	}
	if got := readStream(t, s, "race", eventstore.ReadStreamOptions{}); len(got) != 2 {
		t.Fatalf("stream holds %d events, want 2", len(got))
	}
}

func testConcurrentAppenders(t *testing.T, h Harness) {
	s := open(t, h)
	const perWriter = 5
	type won struct {
		id  uuid.UUID
		res eventstore.AppendResult
	}
	results := make([][]won, h.Concurrency)
	var wg sync.WaitGroup
	for w := range h.Concurrency {
		wg.Go(func() {
			for i := 0; i < perWriter; {
				var exp eventstore.ExpectedRevision
				evs, err := s.ReadStream(context.Background(), "busy", eventstore.ReadStreamOptions{Direction: eventstore.Backwards, FromEnd: true, Limit: 1})
				switch {
				case errors.Is(err, eventstore.ErrStreamNotFound):
					exp = eventstore.NoStream()
				case err != nil:
					t.Errorf("read: %v", err)
					return
				default:
					exp = eventstore.Exact(evs[0].Revision)
				}
				ev := Event("T", map[string]int{"writer": w, "i": i})
				res, err := s.Append(context.Background(), "busy", exp, ev)
				if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
					continue
				}
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				results[w] = append(results[w], won{ev.ID, res})
				i++
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	got := readStream(t, s, "busy", eventstore.ReadStreamOptions{})
	total := h.Concurrency * perWriter
	if len(got) != total {
		t.Fatalf("stream holds %d events, want %d", len(got), total)
	}
	byID := map[uuid.UUID]eventstore.RecordedEvent{}
	for i, e := range got {
		if e.Revision != eventstore.Revision(i) {
			t.Fatalf("gap: event %d has revision %d", i, e.Revision)
		}
		byID[e.ID] = e
	}
	for _, ws := range results {
		for _, r := range ws {
			e, ok := byID[r.id]
			if !ok {
				t.Fatalf("acknowledged event %s missing", r.id)
			}
			if e.Revision != r.res.LastRevision || e.Position != r.res.LastPosition {
				t.Fatalf("event %s stored at revision %d position %d, append said %d/%d", r.id, e.Revision, e.Position, r.res.LastRevision, r.res.LastPosition)
			}
		}
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

func testSubscriptionCatchUpThenLive(t *testing.T, h Harness) {
	s := open(t, h)
	const stored = 1500
	for i := 0; i < stored; i += 100 {
		mustAppend(t, s, fmt.Sprintf("pre-%d", i), eventstore.Any(), events(100, "T")...)
	}
	sub, err := s.SubscribeAll(context.Background(), eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const writers, perWriter = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if _, err := s.Append(context.Background(), fmt.Sprintf("live-%d", w), eventstore.Any(), Event("T", i)); err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	got := collect(t, sub, stored+writers*perWriter)
	wg.Wait()
	all := readAll(t, s)
	if diff := cmp.Diff(ids(all), ids(got)); diff != "" {
		t.Fatalf("the subscription skipped, repeated or reordered events (-log +delivered):\n%s", diff)
	}
	for i, e := range got {
		if e.Position != all[i].Position {
			t.Fatalf("delivery %d has position %d, the log says %d", i, e.Position, all[i].Position)
		}
	}
	// One more event after everything arrives live.
	ev := Event("T", "last")
	mustAppend(t, s, "live-last", eventstore.Any(), ev)
	last := collect(t, sub, 1)
	if last[0].ID != ev.ID {
		t.Fatalf("live event: got %s, want %s", last[0].ID, ev.ID)
	}
	select {
	case e := <-sub.Events():
		t.Fatalf("unexpected extra event at position %d", e.Position)
	default:
	}
}

func testSubscriptionFromPosition(t *testing.T, h Harness) {
	s := open(t, h)
	mustAppend(t, s, "p", eventstore.NoStream(), events(10, "T")...)
	all := readAll(t, s)
	sub, err := s.SubscribeAll(context.Background(), all[3].Position)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got := collect(t, sub, 6)
	if diff := cmp.Diff(ids(all[4:]), ids(got)); diff != "" {
		t.Fatalf("subscription after the 4th event (-want +got):\n%s", diff)
	}
	// From the head: only new events.
	sub2, err := s.SubscribeAll(context.Background(), all[9].Position)
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	ev := Event("T", nil)
	mustAppend(t, s, "p", eventstore.Exact(9), ev)
	if got := collect(t, sub2, 1); got[0].ID != ev.ID {
		t.Fatalf("subscription from the head delivered %s, want the new event %s", got[0].ID, ev.ID)
	}
}

func testSubscriptionEndsOnCancel(t *testing.T, h Harness) {
	s := open(t, h)
	mustAppend(t, s, "c", eventstore.NoStream(), Event("T", nil))
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := s.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, sub, 1)
	cancel()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-sub.Events():
			if ok {
				continue
			}
			if err := sub.Err(); err != nil {
				t.Fatalf("a cancelled subscription reports %v, want nil", err)
			}
			sub.Close()
			return
		case <-timeout:
			t.Fatal("the subscription did not end after its context was cancelled")
		}
	}
}

func testReopen(t *testing.T, h Harness) {
	s, reopen := h.Open(t)
	var want []uuid.UUID
	var last eventstore.Position
	for i := range 20 {
		ev := Event("T", i)
		last = mustAppend(t, s, fmt.Sprintf("r-%d", i%3), eventstore.Any(), ev).LastPosition
		want = append(want, ev.ID)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s2 := reopen(t)
	defer func() { _ = s2.Close() }()
	if diff := cmp.Diff(want, ids(readAll(t, s2))); diff != "" {
		t.Fatalf("after reopening (-want +got):\n%s", diff)
	}
	head, err := s2.Head(context.Background())
	if err != nil || head != last {
		t.Fatalf("head after reopen = %d, %v; want %d", head, err, last)
	}
	got := readStream(t, s2, "r-1", eventstore.ReadStreamOptions{})
	res := mustAppend(t, s2, "r-1", eventstore.Exact(got[len(got)-1].Revision), Event("T", "after"))
	if res.LastPosition <= last {
		t.Fatalf("first append after reopen at position %d, not after %d", res.LastPosition, last)
	}
}

func testClosedStore(t *testing.T, h Harness) {
	s, reopen := h.Open(t)
	mustAppend(t, s, "x", eventstore.NoStream(), Event("T", nil))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, "x", eventstore.Any(), Event("T", nil)); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if _, err := s.ReadStream(ctx, "x", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("read stream after close: %v", err)
	}
	if _, err := s.ReadAll(ctx, eventstore.Start, 10); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("read all after close: %v", err)
	}
	if _, err := s.SubscribeAll(ctx, eventstore.Start); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("subscribe after close: %v", err)
	}
	if _, err := s.Head(ctx); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("head after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second close: %v", err)
	}
	// The refused append wrote nothing.
	s2 := reopen(t)
	defer s2.Close()
	if all, err := s2.ReadAll(ctx, eventstore.Start, 10); err != nil || len(all) != 1 {
		t.Fatalf("the log holds %d events after reopening (%v), want 1", len(all), err)
	}
	if got := readStream(t, s2, "x", eventstore.ReadStreamOptions{}); len(got) != 1 {
		t.Fatalf("stream x holds %d events after reopening, want 1", len(got))
	}
}
