package bolt_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

// ReadAllInto reads what ReadAll reads, from bbolt and from the memtable
// and across the two, with one buffer used again and again; and what
// ReadAll returned before is left alone by later reads into a buffer.
func TestReadAllIntoReadsWhatReadAllReads(t *testing.T) {
	s, err := bolt.Open(t.TempDir(), bolt.Options{FlushAt: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 300 {
		// Sizes vary, so that a buffer filled by a read of small events
		// must grow for a read of larger ones.
		e := conformance.Event("T", map[string]any{"i": i, "text": strings.Repeat("x", i*7%500)})
		if i%5 == 0 {
			e.Data = nil
		}
		if _, err := s.Append(ctx, fmt.Sprint("stream-", i%7), eventstore.Any(), e); err != nil {
			t.Fatal(err)
		}
	}
	var br eventstore.BufferedReader = s
	var buf eventstore.ReadBuffer
	before, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	kept := make([]eventstore.RecordedEvent, len(before))
	for i, ev := range before {
		ev.Data, ev.Hash = append([]byte(nil), ev.Data...), append([]byte(nil), ev.Hash...)
		kept[i] = ev
	}
	for _, from := range []eventstore.Position{0, 1, 17, 63, 64, 100, 250, 299, 300, 310} {
		for _, limit := range []int{0, 1, 5, 64, 200, 1000} {
			want, err := s.ReadAll(ctx, from, limit)
			if err != nil {
				t.Fatal(err)
			}
			got, err := br.ReadAllInto(ctx, from, limit, &buf)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 && len(got) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("from %d, limit %d: ReadAllInto read %d events unlike ReadAll's %d", from, limit, len(got), len(want))
			}
		}
	}
	if !reflect.DeepEqual(before, kept) {
		t.Fatal("reads into a buffer changed the events an earlier ReadAll returned")
	}
}
