package projections

import (
	"context"
	"errors"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
)

// Event is a stored event as the read models apply it.
type Event = follow.Event

// Projection is a read model: a follower of the log.
type Projection = follow.Follower

// WithSnapshots returns the projections as followers, those that can be
// saved (members, matches) kept as snapshots in dir: the runner loads
// them before it catches up, saves them while it runs, and checks each
// against store's log before using it.
func WithSnapshots(store eventstore.Store, dir string, projs ...Projection) []follow.Follower {
	out := make([]follow.Follower, len(projs))
	for i, p := range projs {
		if sp, ok := p.(snapshotter); ok {
			out[i] = snapshotted{snapshotter: sp, store: store, dir: dir}
		} else {
			out[i] = p
		}
	}
	return out
}

// snapshotted is a projection saved as a snapshot file.
type snapshotted struct {
	snapshotter
	store eventstore.Store
	dir   string
}

func (s snapshotted) Load(context.Context) (follow.Saved, error) {
	info, err := LoadSnapshot(s.store, s.dir, s.snapshotter)
	if errors.Is(err, ErrNoSnapshot) {
		return follow.Saved{}, follow.ErrNothingSaved
	}
	return info.saved(), err
}

func (s snapshotted) Save() (follow.Saved, error) {
	info, err := SaveSnapshot(s.dir, s.snapshotter)
	return info.saved(), err
}

func (i SnapshotInfo) saved() follow.Saved {
	return follow.Saved{Position: i.Position, Where: i.Path, Bytes: i.Bytes, Locked: i.Locked, Took: i.Took}
}
