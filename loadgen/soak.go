package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// SoakConfig describes a soak: a long mixed load while many idle
// subscribers listen to one match, with the server's memory, goroutines
// and open files read at intervals, so that a leak shows as a trend rather
// than hiding in one measurement.
type SoakConfig struct {
	// Duration is how long the load runs (30 minutes when 0).
	Duration time.Duration
	// Every is how often the server is sampled (1 minute when 0, at most
	// Duration).
	Every time.Duration
	// Subscribers is how many WebSocket subscribers to hold through the
	// soak (1,000 when 0). It is lowered to what the open-files limit
	// allows, with a note.
	Subscribers int
	// Clients and Rate are those of the mixed load (see Config).
	Clients int
	Rate    float64
	// Seed drives the load's random choices.
	Seed uint64
	// Timeout bounds the wait for an update to reach every subscriber
	// (10 s when 0).
	Timeout time.Duration
	// Log receives a line per sample; nil discards them.
	Log io.Writer
}

// SoakSample is the server's state at one moment of a soak.
type SoakSample struct {
	// At is the time since the load started.
	At time.Duration
	// RSS is the resident memory; Heap is the Go heap and stacks in use,
	// which includes garbage not yet collected.
	RSS, Heap int64
	// GCGoal is the heap size at which the next collection starts: about
	// twice the heap that was live after the last one (GOGC=100), so it
	// follows what the server keeps rather than what it has yet to sweep.
	GCGoal int64
	// Goroutines, OpenFiles and Subscriptions are the server's gauges.
	Goroutines, OpenFiles, Subscriptions int64
	// Events counts the events the server appended since it started: the
	// data the read models grew by, which a heap that grows with it holds
	// rightly.
	Events int64
	// Ops and Errors count the load's operations so far.
	Ops, Errors int
}

// SoakResult is what a soak found.
type SoakResult struct {
	// Samples are the server's state when the subscribers were connected
	// (At 0), at each interval and at the end.
	Samples []SoakSample
	// Ops and Errors count the load's operations, Codes its errors by code.
	Ops, Errors int
	Codes       map[string]int
	// Subscribers counts those that heard the first update; Dropped those
	// of them that did not hear the last one, sent after the load.
	Subscribers, Dropped int
	// Updates counts the match updates the subscribers heard in all.
	Updates int64
	// Note says what limited the soak, when anything did.
	Note string
}

// Soak runs a mixed load for cfg.Duration while cfg.Subscribers idle
// subscribers listen to the fixture's first match, which the load keeps
// updating. It samples the server every cfg.Every and, once the load is
// over, sends one more update and counts the subscribers that miss it.
func Soak(ctx context.Context, fx *Fixture, cfg SoakConfig) (SoakResult, error) {
	if cfg.Duration <= 0 {
		cfg.Duration = 30 * time.Minute
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	cfg.Every = min(cfg.Every, cfg.Duration)
	if cfg.Subscribers <= 0 {
		cfg.Subscribers = 1000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if len(fx.pairs) == 0 {
		return SoakResult{}, errors.New("loadgen: a soak needs a matched pair")
	}
	res := SoakResult{Codes: map[string]int{}}
	n, note := fdBudget(cfg.Subscribers)
	res.Note = note
	p := fx.pairs[0]
	subs, err := fx.connect(ctx, p, n, 0)
	defer func() {
		var wg sync.WaitGroup
		for _, s := range subs {
			wg.Go(func() { s.conn.CloseNow() })
		}
		wg.Wait()
	}()
	if err != nil {
		return res, err
	}
	live, first, err := fx.warmUp(ctx, p, subs, cfg.Timeout)
	if err != nil {
		return res, err
	}
	res.Subscribers = len(live)
	if len(live) == 0 {
		return res, errors.New("loadgen: no subscriber heard the first update")
	}
	// Each subscriber counts the updates after the first from here on.
	for _, s := range live {
		s.after.Store(first)
	}
	fmt.Fprintf(cfg.Log, "%d subscribers listening; soaking for %v, sampling every %v\n", len(live), cfg.Duration, cfg.Every)
	fmt.Fprintln(cfg.Log, soakHeader)

	started := time.Now()
	sample := func() error {
		s, err := fx.sample(ctx)
		if err != nil {
			return err
		}
		s.At, s.Ops, s.Errors = time.Since(started).Round(time.Second), res.Ops, res.Errors
		res.Samples = append(res.Samples, s)
		fmt.Fprintln(cfg.Log, s.line())
		return nil
	}
	if err := sample(); err != nil {
		return res, err
	}
	// The load runs in windows of one interval; each window withdraws the
	// match requests it left pending, so the next starts afresh.
	for i := uint64(0); time.Since(started) < cfg.Duration; i++ {
		window := min(cfg.Every, cfg.Duration-time.Since(started))
		r, err := Run(ctx, fx, Config{Workload: Mixed, Clients: cfg.Clients, Rate: cfg.Rate, Duration: window, Seed: cfg.Seed + i})
		res.Ops += r.Ops
		res.Errors += r.Errors
		for code, k := range r.Codes {
			res.Codes[code] += k
		}
		if err != nil {
			return res, err
		}
		if err := sample(); err != nil {
			return res, err
		}
	}

	// One more update must reach every subscriber that heard the first.
	if err := fx.logSession(ctx, &clientState{pair: p, r: newRand(cfg.Seed + 7)}, false); err != nil {
		return res, fmt.Errorf("loadgen: the last update: %w", err)
	}
	var target uint64
	deadline := time.Now().Add(cfg.Timeout)
	for {
		for _, s := range live {
			target = max(target, s.last.Load())
		}
		if all(live, func(s *subscriber) bool { return s.last.Load() >= target && target > first }) ||
			time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for _, s := range live {
		if s.last.Load() < target {
			res.Dropped++
		}
		res.Updates += int64(s.n.Load())
	}
	return res, ctx.Err()
}

const soakHeader = "      at      RSS     heap  GC goal  goroutines  open files  subscriptions   events       ops  errors"

func (s SoakSample) line() string {
	return fmt.Sprintf("%8v %8s %8s %8s %11d %11d %14d %8d %9d %7d", s.At, mib(s.RSS), mib(s.Heap), mib(s.GCGoal),
		s.Goroutines, s.OpenFiles, s.Subscriptions, s.Events, s.Ops, s.Errors)
}

// sample reads the server's gauges from /metrics.
func (fx *Fixture) sample(ctx context.Context) (SoakSample, error) {
	body, err := fx.target.get(ctx, "/metrics")
	if err != nil {
		return SoakSample{}, fmt.Errorf("loadgen: reading the server's metrics: %w", err)
	}
	var s SoakSample
	var heap, stack int64
	for _, v := range []struct {
		name string
		into *int64
	}{
		{"process_resident_memory_bytes", &s.RSS},
		{"go_memstats_heap_inuse_bytes", &heap},
		{"go_memstats_stack_inuse_bytes", &stack},
		{"go_memstats_next_gc_bytes", &s.GCGoal},
		{"go_goroutines", &s.Goroutines},
		{"mentorship_eventstore_events_appended_total", &s.Events},
		{"process_open_fds", &s.OpenFiles},
		{"mentorship_live_subscriptions", &s.Subscriptions},
	} {
		if *v.into, err = metric(body, v.name); err != nil {
			return SoakSample{}, err
		}
	}
	s.Heap = heap + stack
	return s, nil
}

// PrintSoak writes a soak's samples and totals as a table.
func PrintSoak(w io.Writer, r SoakResult) error {
	var b strings.Builder
	b.WriteString(soakHeader + "\n")
	for _, s := range r.Samples {
		b.WriteString(s.line() + "\n")
	}
	if len(r.Samples) >= 2 {
		// The first sample holds what starting up took (the catch-up and
		// the subscribers connecting), which the runtime returns over the
		// first window; the change counts from the end of that window
		// when there are later ones.
		first, last := r.Samples[0], r.Samples[len(r.Samples)-1]
		if len(r.Samples) >= 3 {
			first = r.Samples[1]
		}
		fmt.Fprintf(&b, "change from %v to %v: RSS %+.1f MiB, heap %+.1f MiB, GC goal %+.1f MiB, goroutines %+d, open files %+d, %+d events\n", first.At, last.At,
			float64(last.RSS-first.RSS)/(1<<20), float64(last.Heap-first.Heap)/(1<<20), float64(last.GCGoal-first.GCGoal)/(1<<20),
			last.Goroutines-first.Goroutines, last.OpenFiles-first.OpenFiles, last.Events-first.Events)
	}
	fmt.Fprintf(&b, "load: %d operations, %d errors", r.Ops, r.Errors)
	for _, code := range slices.Sorted(maps.Keys(r.Codes)) {
		fmt.Fprintf(&b, " %s=%d", code, r.Codes[code])
	}
	fmt.Fprintf(&b, "\nsubscribers: %d listening, %d missed the last update, %d updates heard in all\n", r.Subscribers, r.Dropped, r.Updates)
	if r.Note != "" {
		b.WriteString("note: " + r.Note + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
