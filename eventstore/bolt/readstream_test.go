package bolt_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

// A stream's events lie partly in bbolt and partly in the memtable; every
// read of the stream (each start, limit and direction) returns what
// filtering the whole log gives, wherever the split falls: all in bbolt,
// all in the memtable, or any point between.
func TestReadStreamAcrossTheMemtable(t *testing.T) {
	ctx := context.Background()
	const n = 12
	for split := 0; split <= n; split += 3 {
		t.Run(fmt.Sprint("bbolt holds ", split), func(t *testing.T) {
			dir := t.TempDir()
			opts := bolt.Options{NoSync: true, FlushAt: 1 << 30, FlushInterval: time.Hour}
			s, err := bolt.Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			appendOne := func(i int) {
				for _, stream := range []string{"other", "s"} {
					if _, err := s.Append(ctx, stream, eventstore.Any(), conformance.Event("T", i)); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i := range split {
				appendOne(i)
			}
			// Closing moves everything into bbolt; what follows stays in
			// the memtable, since nothing flushes before the hour.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = bolt.Open(dir, opts); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i := split; i < n; i++ {
				appendOne(i)
			}
			all, err := s.ReadAll(ctx, eventstore.Start, 0)
			if err != nil {
				t.Fatal(err)
			}
			var stream []eventstore.RecordedEvent
			for _, e := range all {
				if e.Stream == "s" {
					stream = append(stream, e)
				}
			}
			if len(stream) != n {
				t.Fatalf("%d events in the stream, want %d", len(stream), n)
			}
			for from := eventstore.Revision(0); from <= n+1; from++ {
				for limit := 0; limit <= n+1; limit++ {
					for _, o := range []eventstore.ReadStreamOptions{
						{From: from, Limit: limit},
						{From: from, Limit: limit, Direction: eventstore.Backwards},
						{FromEnd: true, Limit: limit, Direction: eventstore.Backwards},
					} {
						var want []eventstore.RecordedEvent
						if o.Direction == eventstore.Backwards {
							start := o.From
							if o.FromEnd || start >= n {
								start = n - 1
							}
							for r := int(start); r >= 0 && (o.Limit == 0 || len(want) < o.Limit); r-- {
								want = append(want, stream[r])
							}
						} else {
							for r := int(o.From); r < n && (o.Limit == 0 || len(want) < o.Limit); r++ {
								want = append(want, stream[r])
							}
						}
						got, err := s.ReadStream(ctx, "s", o)
						if err != nil {
							t.Fatalf("%+v: %v", o, err)
						}
						if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
							t.Fatalf("%+v: got %d events, want %d:\ngot  %+v\nwant %+v", o, len(got), len(want), got, want)
						}
					}
				}
			}
			if _, err := s.ReadStream(ctx, "never", eventstore.ReadStreamOptions{From: 3}); err == nil {
				t.Fatal("a stream never written was read")
			}
		})
	}
}
