package audit_test

import (
	"context"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
)

// benchEvents is the size of the log the export benchmark reads.
const benchEvents = 1_000_000

// BenchmarkExport exports a log of a million events to io.Discard and
// reports the rate and the peak heap during the export, beside the
// baseline of reading the same events with ReadAll and nothing else. A
// fifth of the events are session logs, which the export redacts.
func BenchmarkExport(b *testing.B) {
	dir := b.TempDir()
	fillBenchLog(b, dir)
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.Run("baseline=ReadAll", func(b *testing.B) {
		measureExport(b, func() (uint64, error) {
			var n uint64
			for from := eventstore.Start; ; {
				page, err := s.ReadAll(ctx, from, 2048)
				if err != nil || len(page) == 0 {
					return n, err
				}
				n += uint64(len(page))
				from = page[len(page)-1].Position
			}
		})
	})
	for _, format := range []audit.Format{audit.NDJSON, audit.CSV} {
		b.Run("format="+string(format), func(b *testing.B) {
			measureExport(b, func() (uint64, error) {
				stats, err := audit.Export(ctx, s, io.Discard, format, audit.Filter{}, audit.Options{})
				return stats.Events, err
			})
		})
	}
}

// measureExport runs one whole pass per iteration while sampling the heap.
func measureExport(b *testing.B, pass func() (uint64, error)) {
	runtime.GC()
	peak := watchHeap()
	var events uint64
	for b.Loop() {
		n, err := pass()
		if err != nil {
			b.Fatal(err)
		}
		if n != benchEvents {
			b.Fatalf("%d events read, want %d", n, benchEvents)
		}
		events += n
	}
	heap, live := peak()
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
}

// watchHeap samples the heap every millisecond until the returned function
// is called, which gives the peaks: all heap objects (garbage not yet
// collected included) and the heap live after a collection.
func watchHeap() (peaks func() (heap, live uint64)) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var heap, live uint64
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			heap = max(heap, samples[0].Value.Uint64())
			live = max(live, samples[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	return func() (uint64, uint64) {
		close(stop)
		wg.Wait()
		return heap, live
	}
}

// fillBenchLog stores benchEvents events in dir, in large appends without
// fsync, and closes the store so that bbolt holds them all.
func fillBenchLog(b *testing.B, dir string) {
	b.Helper()
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	mentee, mentor, match := uuid.New(), uuid.New(), uuid.New()
	date := domain.DateOf(at, time.UTC)
	templates := []domain.Event{
		domain.MatchRequested{MatchID: match, MenteeID: mentee, MentorID: mentor, Message: "I would like to learn how to lead a small team.", At: at},
		domain.MatchAccepted{MatchID: match, MenteeID: mentee, MentorID: mentor, At: at},
		domain.SessionLogged{MatchID: match, SessionID: uuid.New(), AuthorID: mentee, Details: domain.SessionDetails{Date: date, Minutes: 60, Notes: "We talked about delegation and about the next review.", Value: 4}, At: at},
		domain.DocumentAdded{MatchID: match, DocumentID: uuid.New(), UploaderID: mentor, Name: "plan.pdf", Size: 52311, ContentType: "application/pdf", SHA256: "9f2c0e1d5b7a4c3e8f6d2b1a0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d", Version: 1, At: at},
		domain.MatchEnded{MatchID: match, MenteeID: mentee, MentorID: mentor, Reason: "TERM_COMPLETED", At: at},
	}
	encoded := make([]domain.EncodedEvent, len(templates))
	for i, ev := range templates {
		if encoded[i], err = domain.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 1000
	evs := make([]eventstore.EventData, batch)
	for i := 0; i < benchEvents; i += batch {
		for j := range evs {
			enc := encoded[(i+j)%len(encoded)]
			evs[j] = eventstore.EventData{
				ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data,
				Metadata: eventstore.Metadata{
					ActorID: mentee.String(), ActorRole: string(domain.RoleMentee),
					CorrelationID: "c0a8012e-0000-4000-8000-000000000001", CausationID: "c0a8012e-0000-4000-8000-000000000002",
					OccurredAt: at.Add(time.Duration(i+j) * time.Second),
				},
			}
		}
		if _, err := s.Append(context.Background(), domain.MatchStream(uuid.New()), eventstore.NoStream(), evs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}
