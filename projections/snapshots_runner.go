package projections

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mentorship/mentorship/eventstore"
)

// LoadSnapshots loads each projection's snapshot from the runner's
// SnapshotDir, all at once, since decoding them is most of a restart and
// they share nothing. Call it before Run. A projection without a usable
// snapshot (none yet, damaged, from an unknown format or of another log) is
// left empty, with a log line saying why, and Run rebuilds it from the log.
func (r *Runner) LoadSnapshots() []SnapshotInfo {
	if r.opts.SnapshotDir == "" {
		return nil
	}
	infos := make([]SnapshotInfo, len(r.projs))
	errs := make([]error, len(r.projs))
	var wg sync.WaitGroup
	for i, p := range r.projs {
		if _, ok := p.Projection.(snapshotter); !ok {
			continue
		}
		wg.Go(func() { infos[i], errs[i] = LoadSnapshot(r.store, r.opts.SnapshotDir, p.Projection) })
	}
	wg.Wait()
	var out []SnapshotInfo
	for i, p := range r.projs {
		if _, ok := p.Projection.(snapshotter); !ok {
			continue
		}
		info, err := infos[i], errs[i]
		switch {
		case errors.Is(err, ErrNoSnapshot):
			r.opts.Logger.Info().Str("projection", p.Name()).Msg("no snapshot: rebuilding from the log")
			continue
		case err != nil:
			r.opts.Logger.Warn().Err(err).Str("projection", p.Name()).Msg("snapshot ignored: rebuilding from the log")
			continue
		}
		r.saved[i] = info.Position
		out = append(out, info)
		r.opts.Logger.Info().Str("projection", p.Name()).Uint64("position", uint64(info.Position)).
			Int64("bytes", info.Bytes).Dur("took", info.Took).Msg("snapshot loaded")
	}
	r.advance()
	return out
}

// SaveSnapshots writes a snapshot of every projection that moved since its
// last one. A stopped projection gets none: a panic may have left part of
// the event it stopped at in its state, which a restart must not load as
// the state before that event.
func (r *Runner) SaveSnapshots() error {
	if r.opts.SnapshotDir == "" {
		return nil
	}
	r.saving.Lock()
	defer r.saving.Unlock()
	var errs []error
	for i, p := range r.projs {
		if _, ok := p.Projection.(snapshotter); !ok || p.failed.Load() != nil || p.Position() <= r.saved[i] {
			continue
		}
		info, err := SaveSnapshot(r.opts.SnapshotDir, p.Projection)
		if err != nil {
			r.opts.Logger.Error().Err(err).Str("projection", p.Name()).Msg("snapshot failed")
			errs = append(errs, err)
			continue
		}
		r.mu.Lock()
		r.saved[i] = info.Position
		r.mu.Unlock()
		r.opts.Logger.Info().Str("projection", p.Name()).Uint64("position", uint64(info.Position)).Int64("bytes", info.Bytes).
			Dur("locked", info.Locked).Dur("took", info.Took).Msg("snapshot saved")
	}
	return errors.Join(errs...)
}

// savedLowest is the oldest snapshot's position among the projections
// that take snapshots. The others (the subscription hub) never save one,
// and counting their zero would ask for snapshots after every batch.
func (r *Runner) savedLowest() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	var low eventstore.Position
	first := true
	for i, p := range r.projs {
		if _, ok := p.Projection.(snapshotter); !ok {
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

// snapshots saves snapshots off the applying goroutine: every
// SnapshotInterval, when apply reports SnapshotEvery events since the last
// ones, and a last time when ctx ends.
func (r *Runner) snapshots(ctx context.Context) {
	t := time.NewTicker(r.opts.SnapshotInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = r.SaveSnapshots()
			return
		case <-t.C:
		case <-r.kick:
		}
		_ = r.SaveSnapshots()
	}
}
