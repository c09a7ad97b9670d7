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
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/tracing"
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
	// MaxRetries is how often a batch a projection failed on is applied
	// again, and an event that did not decode read again, before the
	// projection stops (3 when 0). A panic is not retried: see applyTo.
	MaxRetries int
	// RetryWait is the pause before the first retry; each further one
	// waits twice as long as the one before (100 ms when 0).
	RetryWait time.Duration
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

// PoisonError is why a projection stopped: the event at Position could not
// be decoded or applied, even after the bounded retries. The projection
// applies nothing after it until the cause is fixed and it is rebuilt.
type PoisonError struct {
	Projection string
	Position   eventstore.Position
	Err        error
}

func (e *PoisonError) Error() string {
	return fmt.Sprintf("projection %s stopped at position %d: %v", e.Projection, e.Position, e.Err)
}

func (e *PoisonError) Unwrap() error { return e.Err }

// PanicError is a panic raised while a projection applied events, turned
// into an error so that it stops that projection rather than the process.
type PanicError struct {
	Value any
	// Stack is where the panic was raised, for the log.
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic's value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// RecoverTo turns a panic into a *PanicError stored in *err. Defer it
// directly (defer projections.RecoverTo(&err)) where a projection applies
// events.
func RecoverTo(err *error) {
	if v := recover(); v != nil {
		*err = &PanicError{Value: v, Stack: debug.Stack()}
	}
}

// ApplySafely applies a batch to a projection, turning a panic into a
// *PanicError.
func ApplySafely(p Projection, batch []Event) (err error) {
	defer RecoverTo(&err)
	return p.Apply(batch)
}

// failingAt is the position of the event a projection at pos failed on:
// the first of the batch it has not applied, since a projection applies
// events in order and moves its position with its state.
func failingAt(batch []Event, pos eventstore.Position) eventstore.Position {
	for i := range batch {
		if batch[i].Position > pos {
			return batch[i].Position
		}
	}
	return batch[len(batch)-1].Position
}

// RetryDecode reads the event at pos from store again and decodes it, up to
// retries times, pausing before each try for wait and then twice as long
// each time. A decode failure may come from a bad read rather than from
// the stored event, so it is worth a few tries before a projection stops
// on it. It returns the event, or the last decode failure (err when no try
// decoded anything); a read that fails counts as a failed try.
func RetryDecode(ctx context.Context, store eventstore.Store, pos eventstore.Position, err error, retries int, wait time.Duration) (Event, error) {
	for range retries {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Event{}, ctx.Err()
		case <-t.C:
		}
		wait *= 2
		recs, rerr := store.ReadAll(ctx, pos-1, 1)
		if rerr != nil || len(recs) == 0 || recs[0].Position != pos {
			continue
		}
		ev, derr := Decode(recs[0])
		if derr == nil {
			return ev, nil
		}
		err = derr
	}
	return Event{}, err
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

	// saved is the position of each projection's last snapshot; kick
	// asks for snapshots early once enough events passed.
	saving sync.Mutex
	saved  []eventstore.Position
	kick   chan struct{}

	// quit is Run's ctx.Done(): it ends a retry's pause when the runner
	// stops, and nothing is applied after it.
	quit <-chan struct{}
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
	if opts.RetryWait <= 0 {
		opts.RetryWait = 100 * time.Millisecond
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
// projection that has not yet seen it. An event that does not decode, even
// when read again, stops every projection at its position; Run then waits
// for ctx to end, so that the server stays up and /readyz says where.
func (r *Runner) Run(ctx context.Context) error {
	r.quit = ctx.Done()
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
				if ev, err = r.decodeAgain(ctx, rec.Position, err); err != nil {
					if ctx.Err() == nil {
						r.poison(nil, rec.Position, err)
						sub.Close()
						<-ctx.Done()
					}
					return nil
				}
			}
			batch = append(batch, ev)
		}
		r.apply(batch)
	}
}

// decodeAgain reads the event at pos again and decodes it, with the
// runner's bounded retries.
func (r *Runner) decodeAgain(ctx context.Context, pos eventstore.Position, err error) (Event, error) {
	r.opts.Logger.Warn().Err(err).Uint64("position", uint64(pos)).Int("retries", r.opts.MaxRetries).Msg("event does not decode; reading it again")
	return RetryDecode(ctx, r.store, pos, err, r.opts.MaxRetries, r.opts.RetryWait)
}

// catchUpGap is how far behind the head the runner may be when it switches
// to the subscription, which delivers events one by one.
const catchUpGap = chunkSize

// catchUp applies the log up to the head in chunks, again while the head
// moved on by more than catchUpGap meanwhile, and returns the position to
// subscribe from. An event that does not decode is read again; when it
// still does not, every projection stops at it and catchUp returns its
// *DecodeError.
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
			ev, derr := r.decodeAgain(ctx, bad.Position, bad.Err)
			if derr != nil {
				if ctx.Err() != nil {
					return last, ctx.Err()
				}
				r.poison(nil, bad.Position, derr)
				return last, &DecodeError{Position: bad.Position, Err: derr}
			}
			r.apply([]Event{ev})
			last, err = ev.Position, nil
		}
		if err != nil {
			return last, err
		}
		from = last
	}
}

// apply hands a batch to every healthy projection in turn.
func (r *Runner) apply(batch []Event) {
	if len(batch) == 0 {
		return
	}
	_, span := tracing.Batch(context.Background(), "read_models", uint64(batch[0].Position), uint64(batch[len(batch)-1].Position), len(batch))
	defer span.End()
	for _, p := range r.projs {
		r.applyTo(p, batch)
	}
	r.applied1(batch)
}

// applyTo applies a batch to one projection unless it is stopped. A
// failing batch is applied again up to MaxRetries times, after growing
// pauses, since Apply changes nothing when it returns an error; then the
// projection stops at the event it could not get past. A panic stops it at
// once: the panic may have left part of the event applied to the state,
// which neither a retry nor a snapshot may build on.
func (r *Runner) applyTo(p *fed, batch []Event) {
	if p.failed.Load() != nil || r.quitting() {
		return
	}
	wait := r.opts.RetryWait
	for attempt := 0; ; attempt++ {
		err := ApplySafely(p.Projection, batch)
		if err == nil {
			break
		}
		pos := failingAt(batch, p.Position())
		if errors.As(err, new(*PanicError)) || attempt == r.opts.MaxRetries {
			r.poison(p, pos, err)
			return
		}
		r.opts.Logger.Warn().Err(err).Str("projection", p.Name()).Uint64("position", uint64(pos)).
			Int("attempt", attempt+1).Dur("retry_in", wait).Msg("projection failed on an event; retrying")
		if !r.pause(wait) {
			return
		}
		wait *= 2
	}
	r.applied.WithLabelValues(p.Name()).Add(float64(len(batch)))
	r.position.WithLabelValues(p.Name()).Set(float64(p.Position()))
}

// quitting reports whether Run's context ended.
func (r *Runner) quitting() bool {
	select {
	case <-r.quit:
		return true
	default:
		return false
	}
}

// pause waits for d, or returns false at once when Run's context ends.
func (r *Runner) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.quit:
		return false
	case <-t.C:
		return true
	}
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
		var err error = &PoisonError{Projection: t.Name(), Position: pos, Err: cause}
		t.failed.CompareAndSwap(nil, &err)
		log := r.opts.Logger.Error().Err(err).Str("projection", t.Name()).Uint64("position", uint64(pos))
		if pe := (*PanicError)(nil); errors.As(cause, &pe) {
			log = log.Bytes("stack", pe.Stack)
		}
		log.Msg("projection stopped")
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
			if err := ApplySafely(projs[i], batch); err != nil {
				return &PoisonError{Projection: projs[i].Name(), Position: failingAt(batch, projs[i].Position()), Err: err}
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
