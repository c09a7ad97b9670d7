package follow

import (
	"context"
	"errors"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mentorship/mentorship/eventstore"
)

// Saver is a follower that keeps its state in memory and saves it whole,
// with its position, from time to time, so that a restart loads it and
// catches up only on what came after.
type Saver interface {
	Follower
	// Load restores the last saved state. ErrNothingSaved says there is
	// none; any other error says why the saved state cannot be used, and
	// the follower starts empty and is rebuilt from the log.
	Load(ctx context.Context) (Saved, error)
	// Save writes the state and its position together, so that neither
	// is ever found without the other.
	Save() (Saved, error)
}

// ErrNothingSaved is Load's answer when no state was saved yet.
var ErrNothingSaved = errors.New("nothing saved")

// Saved describes a state saved or loaded.
type Saved struct {
	Position eventstore.Position
	// Where names where the state is kept (a file's path).
	Where string
	Bytes int64
	// Locked is how long the follower's state was held still to be
	// saved (saving only): events, and queries, wait that long. A
	// follower that captures its state and encodes the capture without
	// its lock holds it still only for the capture.
	Locked time.Duration
	Took   time.Duration
}

func (r *Runner) savers() bool {
	for _, f := range r.followers {
		if _, ok := f.Follower.(Saver); ok {
			return true
		}
	}
	return false
}

// Load loads the saved state of every Saver, all at once, since decoding
// them is most of a restart and they share nothing. Call it before Run. A
// follower without a usable saved state is left empty, with a log line
// saying why, and Run rebuilds it from the log.
func (r *Runner) Load(ctx context.Context) []Saved {
	defer relaxGC()()
	infos := make([]Saved, len(r.followers))
	errs := make([]error, len(r.followers))
	var wg sync.WaitGroup
	for i, f := range r.followers {
		if s, ok := f.Follower.(Saver); ok {
			wg.Go(func() { infos[i], errs[i] = s.Load(ctx) })
		}
	}
	wg.Wait()
	var out []Saved
	for i, f := range r.followers {
		if _, ok := f.Follower.(Saver); !ok {
			continue
		}
		info, err := infos[i], errs[i]
		switch {
		case errors.Is(err, ErrNothingSaved):
			r.opts.Logger.Info().Str("follower", f.Name()).Msg("nothing saved: rebuilding from the log")
			continue
		case err != nil:
			r.opts.Logger.Warn().Err(err).Str("follower", f.Name()).Msg("saved state ignored: rebuilding from the log")
			continue
		}
		r.saved[i] = info.Position
		out = append(out, info)
		r.opts.Logger.Info().Str("follower", f.Name()).Uint64("position", uint64(info.Position)).
			Int64("bytes", info.Bytes).Dur("took", info.Took).Msg("saved state loaded")
	}
	r.advance()
	return out
}

// Save saves the state of every Saver that moved since its last save. A
// stopped follower is not saved: a panic may have left part of the event
// it stopped at in its state, which a restart must not load as the state
// before that event.
func (r *Runner) Save() error {
	r.saving.Lock()
	defer r.saving.Unlock()
	var errs []error
	for i, f := range r.followers {
		s, ok := f.Follower.(Saver)
		if !ok || f.failed.Load() != nil || f.Position() <= r.saved[i] {
			continue
		}
		info, err := s.Save()
		if err != nil {
			r.opts.Logger.Error().Err(err).Str("follower", f.Name()).Msg("saving failed")
			errs = append(errs, err)
			continue
		}
		r.mu.Lock()
		r.saved[i] = info.Position
		r.mu.Unlock()
		r.opts.Logger.Info().Str("follower", f.Name()).Uint64("position", uint64(info.Position)).Int64("bytes", info.Bytes).
			Dur("locked", info.Locked).Dur("took", info.Took).Msg("state saved")
	}
	return errors.Join(errs...)
}

// savedLowest is the oldest save's position among the Savers. The others
// (the subscription hub) never save, and counting their zero would ask
// for saves after every batch.
func (r *Runner) savedLowest() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	var low eventstore.Position
	first := true
	for i, f := range r.followers {
		if _, ok := f.Follower.(Saver); !ok {
			continue
		}
		if first || r.saved[i] < low {
			low, first = r.saved[i], false
		}
	}
	if first {
		return r.reached
	}
	return low
}

// saveLoop saves off the applying goroutine: every SaveInterval, when
// apply reports SaveEvery events since the last saves, and a last time
// when ctx ends.
func (r *Runner) saveLoop(ctx context.Context) {
	t := time.NewTicker(r.opts.SaveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = r.Save()
			return
		case <-t.C:
		case <-r.kick:
		}
		_ = r.Save()
	}
}

// loadGCPercent is the garbage collector's target while saved states load.
// A load builds a heap of several hundred megabytes from nothing; at the
// default target the collector runs again at every doubling and marks
// what was just built, a third of the load's work, whereas nearly all of
// it stays live. A higher target lets the heap grow in fewer steps.
const loadGCPercent = 400

// loading counts the loads under way, so that loads side by side (tests,
// or two runners) raise the target once and the last one done restores
// it.
var loading struct {
	sync.Mutex
	n   int
	old int
}

// relaxGC raises the collector's target for a load and returns the
// function that restores it, unless the target is already higher or the
// collector is off.
func relaxGC() (restore func()) {
	loading.Lock()
	defer loading.Unlock()
	if loading.n == 0 {
		loading.old = debug.SetGCPercent(loadGCPercent)
		if loading.old < 0 || loading.old >= loadGCPercent {
			debug.SetGCPercent(loading.old)
		}
	}
	loading.n++
	return func() {
		loading.Lock()
		defer loading.Unlock()
		loading.n--
		if loading.n == 0 {
			debug.SetGCPercent(loading.old)
		}
	}
}
