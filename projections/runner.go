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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Event is a stored event decoded once for every projection.
type Event struct {
	Position eventstore.Position
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
	ev := Event{Position: rec.Position, Stream: rec.Stream, Revision: rec.Revision, Type: rec.Type, Meta: rec.Metadata}
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
}

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
	r := &Runner{store: store, opts: opts, changed: make(chan struct{})}
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
		lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_projection_lag_events", Help: "How far the slowest projection is behind the log head.",
		}, func() float64 {
			head, err := store.Head(context.Background())
			if err != nil {
				return 0
			}
			return float64(head) - float64(r.Reached())
		})
		opts.Registerer.MustRegister(r.position, r.applied, lag)
	}
	r.reached = r.lowest()
	return r
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

// Run feeds the projections until ctx ends. It subscribes from the lowest
// checkpoint, decodes each event once, and hands batches to every
// projection that has not yet seen them.
func (r *Runner) Run(ctx context.Context) error {
	from := r.lowest()
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
		batch = batch[:0]
		ev, err := Decode(rec)
		if err != nil {
			r.poison(nil, rec.Position, err)
			continue
		}
		batch = append(batch, ev)
		// Take whatever else is already waiting, so that projections
		// apply many events per lock.
	more:
		for len(batch) < cap(batch) {
			select {
			case rec, ok := <-sub.Events():
				if !ok {
					break more
				}
				ev, err := Decode(rec)
				if err != nil {
					r.apply(batch)
					batch = batch[:0]
					r.poison(nil, rec.Position, err)
					continue
				}
				batch = append(batch, ev)
			default:
				break more
			}
		}
		r.apply(batch)
	}
}

// apply hands a batch to every healthy projection, retrying a failing one
// a bounded number of times before stopping it.
func (r *Runner) apply(batch []Event) {
	if len(batch) == 0 {
		return
	}
	for _, p := range r.projs {
		if p.failed.Load() != nil {
			continue
		}
		var err error
		for attempt := 0; attempt <= r.opts.MaxRetries; attempt++ {
			if err = p.Apply(batch); err == nil {
				break
			}
		}
		if err != nil {
			r.poison(p, p.Position()+1, err)
			continue
		}
		r.applied.WithLabelValues(p.Name()).Add(float64(len(batch)))
		r.position.WithLabelValues(p.Name()).Set(float64(p.Position()))
	}
	r.advance(batch[len(batch)-1].Position)
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

func (r *Runner) advance(pos eventstore.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pos > r.reached {
		r.reached = pos
		close(r.changed)
		r.changed = make(chan struct{})
	}
}

// Rebuild applies the whole log from Start to the projections, which must
// be empty, reading pages directly rather than through a subscription. It
// reports progress after every page and returns the number of events.
func Rebuild(ctx context.Context, store eventstore.Store, until eventstore.Position, progress func(done eventstore.Position), projs ...Projection) (int, error) {
	from := eventstore.Start
	n := 0
	for {
		recs, err := store.ReadAll(ctx, from, 4096)
		if err != nil {
			return n, err
		}
		if len(recs) == 0 {
			return n, nil
		}
		batch := make([]Event, 0, len(recs))
		for _, rec := range recs {
			if until != 0 && rec.Position > until {
				break
			}
			ev, err := Decode(rec)
			if err != nil {
				return n, err
			}
			batch = append(batch, ev)
		}
		for _, p := range projs {
			if err := p.Apply(batch); err != nil {
				return n, fmt.Errorf("rebuild %s: %w", p.Name(), err)
			}
		}
		n += len(batch)
		from = recs[len(recs)-1].Position
		if progress != nil {
			progress(from)
		}
		if len(batch) < len(recs) {
			return n, nil
		}
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
