package projections_test

import (
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/projections"
)

// saveLoad is the program of the load benchmark (`make bench-load`):
// 100,000 mentors, 20,000 mentees, 400,000 events.
var saveLoad = workload{Mentors: 100_000, Mentees: 20_000, Events: 400_000, Shards: 1, Seed: 1}

// generatedEvents decodes a generated workload in log order, without a
// store.
func generatedEvents(b *testing.B, w workload) []projections.Event {
	b.Helper()
	var events []projections.Event
	err := generate(w, func(stream string, _ eventstore.ExpectedRevision, data ...eventstore.EventData) error {
		for _, d := range data {
			ev, err := domain.Decode(d.Type, d.SchemaVersion, d.Data)
			if err != nil {
				return err
			}
			events = append(events, projections.Event{Position: eventstore.Position(len(events) + 1), ID: d.ID,
				Stream: stream, Type: d.Type, Meta: d.Metadata, Data: ev})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return events
}

// BenchmarkApplyWhileSaving measures how long applying one event takes
// while the read models are saved: the models hold the load benchmark's
// program less its last 20,000 events, which are applied one at a time,
// every 200µs, while each model is saved three times. It reports the
// applies' latency during the saves and each model's longest locked time.
// Run it with -benchtime 1x.
func BenchmarkApplyWhileSaving(b *testing.B) {
	events := generatedEvents(b, saveLoad)
	tail := 20_000
	models := []projections.Projection{projections.NewMembers(), projections.NewMatches(), projections.NewReports(time.UTC)}
	for _, p := range models {
		if err := p.Apply(events[:len(events)-tail]); err != nil {
			b.Fatal(err)
		}
	}
	live := events[len(events)-tail:]
	b.ResetTimer()
	for range b.N {
		dir := b.TempDir()
		var (
			mu     sync.Mutex
			lat    []time.Duration
			saving = make(chan struct{})
			done   = make(chan struct{})
		)
		go func() {
			defer close(done)
			tick := time.NewTicker(200 * time.Microsecond)
			defer tick.Stop()
			for i := range live {
				select {
				case <-saving:
					return
				case <-tick.C:
				}
				start := time.Now()
				for _, p := range models {
					_ = p.Apply(live[i : i+1])
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}
		}()
		locked := map[string]time.Duration{}
		took := map[string]time.Duration{}
		for range 3 {
			for _, p := range models {
				info, err := projections.SaveSnapshot(dir, p)
				if err != nil {
					b.Fatal(err)
				}
				locked[p.Name()] = max(locked[p.Name()], info.Locked)
				took[p.Name()] = max(took[p.Name()], info.Took)
			}
		}
		close(saving)
		<-done
		slices.Sort(lat)
		if len(lat) == 0 {
			b.Fatal("no event was applied")
		}
		q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))]) / 1e6 }
		b.ReportMetric(q(0.5), "p50-apply-ms")
		b.ReportMetric(q(0.99), "p99-apply-ms")
		b.ReportMetric(q(1), "max-apply-ms")
		b.ReportMetric(float64(len(lat)), "applies")
		for _, p := range models {
			b.ReportMetric(float64(locked[p.Name()])/1e6, p.Name()+"-locked-ms")
			b.ReportMetric(float64(took[p.Name()])/1e6, p.Name()+"-took-ms")
		}
	}
}

// threadCPU is the CPU time the calling thread used so far.
func threadCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFreeze measures what a save holds each read model of the load
// benchmark's program still for: capturing its state, and releasing the
// capture. It reports the thread's CPU time per capture beside the wall
// time, which a loaded machine inflates.
func BenchmarkFreeze(b *testing.B) {
	events := generatedEvents(b, saveLoad)
	for _, p := range []projections.Projection{projections.NewMembers(), projections.NewMatches(), projections.NewReports(time.UTC)} {
		if err := p.Apply(events); err != nil {
			b.Fatal(err)
		}
		b.Run(p.Name(), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu := threadCPU(b)
			for b.Loop() {
				projections.Freeze(p)()
			}
			b.ReportMetric(float64(threadCPU(b)-cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
