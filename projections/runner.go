// Package projections builds the read models from the event log and answers
// queries from them. A Runner feeds every projection from one catch-up
// subscription; each projection applies events idempotently by global
// position and keeps its checkpoint with its state, so it can be dropped and
// rebuilt from the log at any time.
package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Event is a stored event decoded once for every projection.
type Event struct {
	Position eventstore.Position
	// ID is the stored event's ID. A projection keeps the ID of the last
	// event it applied, so that a snapshot can be checked against the log.
	ID       uuid.UUID
	Stream   string
	Revision eventstore.Revision
	Type     string
	Meta     eventstore.Metadata
	// Data is the decoded domain event; nil for types the domain does not
	// define.
	Data domain.Event
}

// Projection is a read model fed by the runner.
type Projection interface {
	// Name identifies the projection in metrics, logs and snapshots.
	Name() string
	// Position is the global position of the last event applied.
	Position() eventstore.Position
	// Apply applies events in order. Events at or before Position are
	// skipped, so a batch delivered twice changes nothing. The state and
	// the new position change together.
	Apply(events []Event) error
}

// Decode turns a stored event into an Event. Unknown types decode with nil
// Data; a known type that fails to decode is an error.
func Decode(rec eventstore.RecordedEvent) (Event, error) {
	ev := Event{Position: rec.Position, ID: rec.ID, Stream: rec.Stream, Revision: rec.Revision, Type: rec.Type, Meta: rec.Metadata}
	if data, ok := fastDecode(rec.Type, rec.SchemaVersion, rec.Data); ok {
		ev.Data = data
		return ev, nil
	}
	data, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
	switch {
	case errors.Is(err, domain.ErrUnknownEventType):
	case err != nil:
		return ev, fmt.Errorf("position %d: %w", rec.Position, err)
	default:
		ev.Data = data
	}
	return ev, nil
}

// RunnerOptions tune a Runner.
type RunnerOptions struct {
	// MaxRetries is how often an event a projection failed on is retried
	// before the projection stops (3 when 0).
	MaxRetries int
	// Logger receives the runner's reports.
	Logger zerolog.Logger
	// Registerer, when set, receives the runner's metrics.
	Registerer prometheus.Registerer
	// SnapshotDir, when set, is where the projections' snapshots live:
	// LoadSnapshots reads them, and Run writes them every SnapshotEvery
	// events or SnapshotInterval, whichever comes first, and once more
	// when it stops.
	SnapshotDir string
	// SnapshotEvery is how many events may pass between snapshots
	// (DefaultSnapshotEvery when 0).
	SnapshotEvery int
	// SnapshotInterval is the longest time between snapshots while events
	// arrive (DefaultSnapshotInterval when 0).
	SnapshotInterval time.Duration
}

// Snapshot defaults: at 1,000,000 events a second, a restart replays at
// most a tenth of a second of log after the last snapshot, or five
// minutes of traffic.
const (
	DefaultSnapshotEvery    = 100_000
	DefaultSnapshotInterval = 5 * time.Minute
)

// Runner feeds projections from the log.
type Runner struct {
	store eventstore.Store
	projs []*fed
	opts  RunnerOptions

	mu      sync.Mutex
	reached eventstore.Position // every healthy projection has applied up to here
	changed chan struct{}       // closed and replaced whenever reached moves

	position *prometheus.GaugeVec
	applied  *prometheus.CounterVec

	// saved is the position of each projection's last snapshot; kick
	// asks for snapshots early once enough events passed.
	saving sync.Mutex
	saved  []eventstore.Position
	kick   chan struct{}
}

type fed struct {
	Projection
	failed atomic.Pointer[error]
}

// NewRunner returns a runner for the projections.
func NewRunner(store eventstore.Store, opts RunnerOptions, projs ...Projection) *Runner {
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 3
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	if opts.SnapshotInterval <= 0 {
		opts.SnapshotInterval = DefaultSnapshotInterval
	}
	r := &Runner{store: store, opts: opts, changed: make(chan struct{}), saved: make([]eventstore.Position, len(projs)), kick: make(chan struct{}, 1)}
	for _, p := range projs {
		r.projs = append(r.projs, &fed{Projection: p})
	}
	r.position = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mentorship_projection_position", Help: "Global position of the last event a projection applied.",
	}, []string{"projection"})
	r.applied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mentorship_projection_events_total", Help: "Events applied by a projection.",
	}, []string{"projection"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(r.position, r.applied, LagGauge(store, r.Reached))
	}
	r.reached = r.lowest()
	return r
}

// LagGauge reports how far reached, the position every read model has
// applied, is behind the head of store. Every read-model store registers
// it under the same name, so that one dashboard serves them all.
func LagGauge(store eventstore.Store, reached func() eventstore.Position) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mentorship_projection_lag_events", Help: "How far the slowest projection is behind the log head.",
	}, func() float64 {
		head, err := store.Head(context.Background())
		if err != nil {
			return 0
		}
		return float64(head) - float64(reached())
	})
}

// lowest is the smallest checkpoint of the projections.
func (r *Runner) lowest() eventstore.Position {
	var low eventstore.Position
	for i, p := range r.projs {
		if pos := p.Position(); i == 0 || pos < low {
			low = pos
		}
	}
	return low
}

// Reached is the position every projection has applied.
func (r *Runner) Reached() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reached
}

// Healthy reports the first projection that stopped on a poison event.
func (r *Runner) Healthy() error {
	for _, p := range r.projs {
		if err := p.failed.Load(); err != nil {
			return *err
		}
	}
	return nil
}

// WaitFor returns once every projection has applied the event at pos, or
// with the context's error; a stopped projection makes it fail at once.
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position) error {
	for {
		r.mu.Lock()
		reached, changed := r.reached, r.changed
		r.mu.Unlock()
		if reached >= pos {
			return nil
		}
		if err := r.Healthy(); err != nil {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for read models to reach position %d (at %d): %w", pos, reached, ctx.Err())
		}
	}
}

// Run feeds the projections until ctx ends. It first catches up from the
// lowest checkpoint by reading the log in chunks, decoding on every core;
// once near the head it subscribes and hands each live batch to every
// projection that has not yet seen it.
func (r *Runner) Run(ctx context.Context) error {
	if r.opts.SnapshotDir != "" {
		snapCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); r.snapshots(snapCtx) }()
		defer func() { stop(); <-done }()
	}
	from, err := r.catchUp(ctx)
	switch {
	case ctx.Err() != nil:
		return nil
	case errors.As(err, new(*DecodeError)):
		// Every projection is stopped at the event; there is nothing
		// left to feed.
		<-ctx.Done()
		return nil
	case err != nil:
		return fmt.Errorf("projections: %w", err)
	}
	sub, err := r.store.SubscribeAll(ctx, from)
	if err != nil {
		return fmt.Errorf("projections: %w", err)
	}
	defer sub.Close()
	batch := make([]Event, 0, 1024)
	for {
		rec, ok := <-sub.Events()
		if !ok {
			if err := sub.Err(); err != nil && ctx.Err() == nil {
				return fmt.Errorf("projections: subscription: %w", err)
			}
			return nil
		}
		// Take whatever else is already waiting, so that projections
		// apply many events per lock.
		batch = batch[:0]
		for _, rec := range eventstore.Drain(sub, rec, cap(batch)) {
			ev, err := Decode(rec)
			if err != nil {
				r.apply(batch)
				batch = batch[:0]
				r.poison(nil, rec.Position, err)
				continue
			}
			batch = append(batch, ev)
		}
		r.apply(batch)
	}
}

// catchUpGap is how far behind the head the runner may be when it switches
// to the subscription, which delivers events one by one.
const catchUpGap = chunkSize

// catchUp applies the log up to the head in chunks, again while the head
// moved on by more than catchUpGap meanwhile, and returns the position to
// subscribe from.
func (r *Runner) catchUp(ctx context.Context) (eventstore.Position, error) {
	from := r.lowest()
	for {
		head, err := r.store.Head(ctx)
		if err != nil {
			return from, err
		}
		if head <= from+catchUpGap {
			return from, nil
		}
		st := startStages(len(r.projs), func(i int, batch []Event) error {
			r.applyTo(r.projs[i], batch)
			return nil
		}, r.applied1)
		last, err := catchUp(ctx, r.store, from, head, st.send)
		_ = st.close()
		var bad *DecodeError
		if errors.As(err, &bad) {
			r.poison(nil, bad.Position, bad.Err)
		}
		if err != nil {
			return last, err
		}
		from = last
	}
}

// apply hands a batch to every healthy projection in turn, retrying a
// failing one a bounded number of times before stopping it.
func (r *Runner) apply(batch []Event) {
	if len(batch) == 0 {
		return
	}
	for _, p := range r.projs {
		r.applyTo(p, batch)
	}
	r.applied1(batch)
}

// applyTo applies a batch to one projection unless it is stopped.
func (r *Runner) applyTo(p *fed, batch []Event) {
	if p.failed.Load() != nil {
		return
	}
	var err error
	for attempt := 0; attempt <= r.opts.MaxRetries; attempt++ {
		if err = p.Apply(batch); err == nil {
			break
		}
	}
	if err != nil {
		r.poison(p, p.Position()+1, err)
		return
	}
	r.applied.WithLabelValues(p.Name()).Add(float64(len(batch)))
	r.position.WithLabelValues(p.Name()).Set(float64(p.Position()))
}

// applied1 runs once every projection had a batch: it moves Reached and
// asks for snapshots when enough events passed since the last ones.
func (r *Runner) applied1([]Event) {
	r.advance()
	if r.opts.SnapshotDir != "" && int(r.Reached()-r.savedLowest()) >= r.opts.SnapshotEvery {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// poison stops a projection (every projection when p is nil, for an event
// nothing can decode) and reports the event's position. It never skips the
// event: the projection stays stopped until the cause is fixed and it is
// rebuilt.
func (r *Runner) poison(p *fed, pos eventstore.Position, cause error) {
	targets := r.projs
	if p != nil {
		targets = []*fed{p}
	}
	for _, t := range targets {
		err := fmt.Errorf("projection %s stopped at position %d: %w", t.Name(), pos, cause)
		t.failed.CompareAndSwap(nil, &err)
		r.opts.Logger.Error().Err(err).Msg("projection stopped")
	}
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// advance moves Reached to the lowest checkpoint. A stopped projection
// holds it back, so that no one is told that an event past the one it
// stopped at is visible.
func (r *Runner) advance() {
	low := r.lowest()
	r.mu.Lock()
	defer r.mu.Unlock()
	if low > r.reached {
		r.reached = low
		close(r.changed)
		r.changed = make(chan struct{})
	}
}

// Rebuild applies the whole log from Start to the projections, which must
// be empty, reading and decoding in parallel chunks rather than through a
// subscription. It reports progress after every chunk and returns the
// number of events. until, when not 0, is the last position to apply.
func Rebuild(ctx context.Context, store eventstore.Store, until eventstore.Position, progress func(done eventstore.Position), projs ...Projection) (int, error) {
	n := 0
	from := eventstore.Start
	for {
		end, err := store.Head(ctx)
		if err != nil {
			return n, err
		}
		if until != 0 {
			end = min(end, until)
		}
		if end <= from {
			return n, nil
		}
		st := startStages(len(projs), func(i int, batch []Event) error {
			if err := projs[i].Apply(batch); err != nil {
				return fmt.Errorf("rebuild %s: %w", projs[i].Name(), err)
			}
			return nil
		}, func(batch []Event) {
			n += len(batch)
			if progress != nil {
				progress(batch[len(batch)-1].Position)
			}
		})
		last, err := catchUp(ctx, store, from, end, st.send)
		if serr := st.close(); serr != nil {
			return n, serr
		}
		var bad *DecodeError
		if errors.As(err, &bad) {
			return n, bad.Err
		}
		if err != nil || until != 0 || last == from {
			return n, err
		}
		// Events appended meanwhile are part of the log too.
		from = last
	}
}

// waitTimeout bounds WaitFor when the caller gives no deadline.
const waitTimeout = 5 * time.Second

// WaitForDefault is WaitFor with the default bound.
func (r *Runner) WaitForDefault(ctx context.Context, pos eventstore.Position) error {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	return r.WaitFor(ctx, pos)
}
