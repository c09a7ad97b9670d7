package bolt_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
)

// benchEvent is a typical domain event: about 200 bytes of JSON with a full
// envelope.
func benchEvent() eventstore.EventData {
	return eventstore.EventData{
		ID:            uuid.New(),
		Type:          "SessionLogged",
		SchemaVersion: 1,
		Data:          []byte(`{"matchId":"0b5d3a4c-7f57-4a53-9a0e-2f0d8f3a1c11","sessionId":"5f1c2b9e-2d7a-4c1f-8e5b-6a9d0c3e4f21","date":"2026-11-20","minutes":60,"value":4}`),
		Metadata: eventstore.Metadata{
			ActorID: "8a6e0804-2bd0-4672-b79d-d97027f9071a", ActorRole: "MENTEE",
			CorrelationID: "c0a8012e-0000-4000-8000-000000000001", CausationID: "c0a8012e-0000-4000-8000-000000000002",
		},
	}
}

// BenchmarkRawFsync is the baseline: one small write and fdatasync on the
// same disk, which bounds a durable serial append from below.
func BenchmarkRawFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 256)
	for b.Loop() {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSerial is one appender, each append durable before the next.
func BenchmarkAppendSerial(b *testing.B) {
	s, err := bolt.Open(b.TempDir(), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := s.Append(ctx, fmt.Sprintf("serial-%d", i%1000), eventstore.Any(), benchEvent()); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkAppendConcurrent is 64 appenders, each appending single events
// with an exact expected revision to its own streams, as commands do.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, writers := range []int{64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := bolt.Open(b.TempDir(), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					revs := map[string]eventstore.ExpectedRevision{}
					for next.Add(1) <= int64(b.N) {
						stream := fmt.Sprintf("w%d-%d", w, next.Load()%16)
						exp, ok := revs[stream]
						if !ok {
							exp = eventstore.NoStream()
						}
						res, err := s.Append(ctx, stream, exp, benchEvent())
						if err != nil {
							b.Error(err)
							return
						}
						revs[stream] = eventstore.Exact(res.LastRevision)
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkAppendConcurrentRawBolt is the same-run baseline of
// BenchmarkAppendConcurrent: 64 writers whose records a single committer
// groups into one bbolt transaction, committed and fsynced, per round,
// taking every record that waits (up to 1,024), with nothing else: no
// journal, no streams, no revisions, no index, no encoding. It is the
// fastest a group commit on bbolt can go on this disk, so the store's
// appends are measured as a fraction of it.
func BenchmarkAppendConcurrentRawBolt(b *testing.B) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("events"))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	type request struct {
		value []byte
		done  chan error
	}
	requests := make(chan request, 1024)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		var seq uint64
		for first := range requests {
			batch := []request{first}
		drain:
			for len(batch) < 1024 {
				select {
				case r, ok := <-requests:
					if !ok {
						break drain
					}
					batch = append(batch, r)
				default:
					break drain
				}
			}
			err := db.Update(func(tx *bbolt.Tx) error {
				bk := tx.Bucket([]byte("events"))
				for _, r := range batch {
					seq++
					if err := bk.Put(binary.BigEndian.AppendUint64(nil, seq), r.value); err != nil {
						return err
					}
				}
				return nil
			})
			for _, r := range batch {
				r.done <- err
			}
		}
	}()
	ev := benchEvent()
	value := append(append([]byte(nil), ev.Data...), []byte(ev.Metadata.ActorID+ev.Metadata.CorrelationID+ev.Metadata.CausationID+ev.Type)...)
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			done := make(chan error, 1)
			for next.Add(1) <= int64(b.N) {
				requests <- request{value: value, done: done}
				if err := <-done; err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(requests)
	<-committed
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkReadAll reads the whole log in pages, as a projection rebuild does.
func BenchmarkReadAll(b *testing.B) {
	s, err := bolt.Open(b.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const total = 100_000
	batch := make([]eventstore.EventData, 100)
	for i := 0; i < total; i += len(batch) {
		for j := range batch {
			batch[j] = benchEvent()
		}
		if _, err := s.Append(ctx, fmt.Sprintf("r-%d", i), eventstore.Any(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	read := 0
	for b.Loop() {
		from := eventstore.Start
		for {
			page, err := s.ReadAll(ctx, from, 4096)
			if err != nil {
				b.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			read += len(page)
			from = page[len(page)-1].Position
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
