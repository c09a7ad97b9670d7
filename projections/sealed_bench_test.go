package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/sealed"
)

// sealedMillion is the million-event history stored as the server stores
// it now: every personal text sealed under its member's key. Its events
// are the same as million's (the same seed and shards); only the order in
// which the shards' appends interleave in the global log may differ.
var sealedMillion = func() workload {
	w := million
	w.Sealed = true
	return w
}()

// openLog opens the dataset of w in dir as the server reads it: through
// the members' keys when it is sealed. It returns the function that closes
// it.
func openLog(b *testing.B, dir string, w workload) (eventstore.Store, func()) {
	b.Helper()
	s := openStore(b, dir)
	if !w.Sealed {
		return s, func() { _ = s.Close() }
	}
	keys, closeKeys, err := openKeys(dir)
	if err != nil {
		_ = s.Close()
		b.Fatal(err)
	}
	return sealed.Wrap(s, sealed.Keyring(keys), keyring.Prefix), func() {
		_ = closeKeys()
		_ = s.Close()
	}
}

// sealedPair is the same history stored both ways. The sealed benchmarks
// measure both in every iteration, each first in turn, so that the ratio
// holds on a machine whose speed drifts from one minute to the next.
type sealedPair [2]struct {
	dir string
	w   workload
}

func newSealedPair(b *testing.B) sealedPair {
	return sealedPair{{dataset(b, million), million}, {dataset(b, sealedMillion), sealedMillion}}
}

// each calls f with the unsealed (0) and the sealed (1) history, in the
// order that iteration i takes.
func (p sealedPair) each(i int, f func(which int, dir string, w workload)) {
	for k := range 2 {
		which := (k + i) % 2
		f(which, p[which].dir, p[which].w)
	}
}

// BenchmarkRebuildSealed rebuilds both read models from 1,000,000 events
// whose personal texts are sealed, opened through the members' keys as the
// server reads them (the keys opened afresh in each run, so that every
// member's key is unwrapped once, as after a restart), and from the same
// events stored unsealed, alternately in every iteration.
func BenchmarkRebuildSealed(b *testing.B) {
	pair := newSealedPair(b)
	var took [2]time.Duration
	var events [2]int
	for i := 0; b.Loop(); i++ {
		pair.each(i, func(which int, dir string, w workload) {
			start := time.Now()
			s, closeLog := openLog(b, dir, w)
			n, err := follow.Rebuild(context.Background(), s, 0, nil, projections.NewMembers(), projections.NewMatches())
			if err != nil {
				b.Fatal(err)
			}
			took[which] += time.Since(start)
			events[which] += n
			b.StopTimer()
			closeLog()
			b.StartTimer()
		})
	}
	if events[0] != events[1] {
		b.Fatalf("rebuilt %d unsealed events and %d sealed ones", events[0], events[1])
	}
	b.ReportMetric(float64(events[0])/took[0].Seconds(), "unsealed-events/s")
	b.ReportMetric(float64(events[1])/took[1].Seconds(), "sealed-events/s")
	b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "sealed/unsealed")
}

// BenchmarkRestartSealed is BenchmarkRestart's restart to ready (open the
// log, load the snapshots, catch up the last restartTail events) on the
// sealed history, opening the keys as part of it, and on the unsealed one,
// alternately in every iteration.
func BenchmarkRestartSealed(b *testing.B) {
	pair := newSealedPair(b)
	snaps := [2]string{snapshotsFor(b, pair[0].dir, pair[0].w), snapshotsFor(b, pair[1].dir, pair[1].w)}
	var took [2]time.Duration
	n := 0
	for i := 0; b.Loop(); i++ {
		pair.each(i, func(which int, dir string, w workload) {
			took[which] += restartOnce(b, dir, snaps[which], w)
		})
		n++
	}
	b.ReportMetric(float64(took[0].Milliseconds())/float64(n), "unsealed-ms/restart")
	b.ReportMetric(float64(took[1].Milliseconds())/float64(n), "sealed-ms/restart")
	b.ReportMetric(took[1].Seconds()/took[0].Seconds(), "sealed/unsealed")
}
