package follow

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/tracing"
)

// Follower is a state built from the log: an evolve function over decoded
// events that keeps the position of the last event it applied with its
// state.
type Follower interface {
	// Name identifies the follower in metrics, logs and saved states.
	Name() string
	// Position is the global position of the last event applied. The
	// runner reads it from other goroutines while Apply runs, so it must
	// be safe for concurrent use.
	Position() eventstore.Position
	// Apply applies events in order. Events at or before Position are
	// skipped, so a batch delivered twice changes nothing. The state and
	// the new position change together; an error changes neither. The
	// slice is the runner's, which fills it again with later events once
	// every follower applied it: Apply may keep events, not the slice.
	Apply(events []Event) error
}

// Opener is a follower that must learn where it stands before it is fed,
// such as one whose checkpoint lives in a shared store. Run calls Open
// first; a *PoisonError from it marks the follower stopped where an
// earlier run stopped it, and any other error ends Run.
type Opener interface {
	Open(ctx context.Context) error
}

// Atomic is a follower whose Apply changes nothing when it fails, even on
// a panic (a transaction that is only committed whole). The runner then
// retries a batch that panicked, and finds the exact event at fault by
// applying the batch one event at a time.
type Atomic interface {
	AtomicApply()
}

// Recorder is a follower that records its own stop where others see it
// (every instance's /readyz, when the follower is shared).
type Recorder interface {
	Stopped(ctx context.Context, err *PoisonError) error
}

// Options tune a Runner.
type Options struct {
	// Name names the runner in logs, errors and traces.
	Name string
	// MaxRetries is how often a batch a follower failed on is applied
	// again, and an event that did not decode read again, before the
	// follower stops (3 when 0). A panic is retried only by an Atomic
	// follower.
	MaxRetries int
	// RetryWait is the pause before the first retry; each further one
	// waits twice as long as the one before (100 ms when 0).
	RetryWait time.Duration
	// Logger receives the runner's reports.
	Logger zerolog.Logger
	// SaveEvery is how many events may pass between two saves of the
	// Saver followers (DefaultSaveEvery when 0); SaveInterval is the
	// longest time between them while events arrive
	// (DefaultSaveInterval when 0). Run saves once more when it stops.
	SaveEvery    int
	SaveInterval time.Duration
	// RestartPause is how long RunWith waits before it starts again
	// after a failure (5 s when 0).
	RestartPause time.Duration
}

// Save defaults: at 1,000,000 events a second, a restart replays at most a
// tenth of a second of log after the last save, or five minutes of
// traffic.
const (
	DefaultSaveEvery    = 100_000
	DefaultSaveInterval = 5 * time.Minute
)

// PoisonError is why a follower stopped: the event at Position could not
// be decoded or applied, even after the bounded retries. The follower
// applies nothing after it until the cause is fixed and it is rebuilt.
type PoisonError struct {
	Follower string
	Position eventstore.Position
	Err      error
}

func (e *PoisonError) Error() string {
	return fmt.Sprintf("follower %s stopped at position %d: %v", e.Follower, e.Position, e.Err)
}

func (e *PoisonError) Unwrap() error { return e.Err }

// PanicError is a panic raised while a follower applied events, turned
// into an error so that it stops that follower rather than the process.
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
// directly (defer follow.RecoverTo(&err)).
func RecoverTo(err *error) {
	if v := recover(); v != nil {
		*err = &PanicError{Value: v, Stack: debug.Stack()}
	}
}

// ApplySafely applies a batch to a follower, turning a panic into a
// *PanicError.
func ApplySafely(f Follower, batch []Event) (err error) {
	defer RecoverTo(&err)
	return f.Apply(batch)
}

// Unappliable is an error a follower's Apply returns when an event itself
// cannot be applied (a state it needs does not read), so that trying again
// cannot help: the runner treats it as it treats a panic.
type Unappliable struct{ Err error }

func (e *Unappliable) Error() string { return e.Err.Error() }

func (e *Unappliable) Unwrap() error { return e.Err }

// Unapplied reports a panic or an Unappliable error: a failure of the
// event rather than of something that may come back.
func Unapplied(err error) bool {
	return errors.As(err, new(*PanicError)) || errors.As(err, new(*Unappliable))
}

// errHalt marks an error that ends Run rather than stop a follower.
type errHalt struct{ error }

func (e errHalt) Unwrap() error { return e.error }

// Halt wraps an error a follower's Apply returns when it may not go on at
// all, such as a lost lease: Run returns it at once, stopping no follower
// and retrying nothing, and the caller decides when to run again.
func Halt(err error) error { return errHalt{err} }

func halted(err error) bool { return errors.As(err, new(errHalt)) }

// failingAt is the position of the event a follower at pos failed on: the
// first of the batch it has not applied, since a follower applies events
// in order and moves its position with its state.
func failingAt(batch []Event, pos eventstore.Position) eventstore.Position {
	for i := range batch {
		if batch[i].Position > pos {
			return batch[i].Position
		}
	}
	return batch[len(batch)-1].Position
}

// retryDecode reads the event at pos from store again and decodes it, up to
// retries times, pausing before each try for wait and then twice as long
// each time. A decode failure may come from a bad read rather than from
// the stored event, so it is worth a few tries before a follower stops on
// it. It returns the event, or the last decode failure (err when no try
// decoded anything); a read that fails counts as a failed try.
func retryDecode(ctx context.Context, store eventstore.Store, pos eventstore.Position, err error, retries int, wait time.Duration) (Event, error) {
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

// Runner feeds followers from the log.
type Runner struct {
	store     eventstore.Store
	followers []*fed
	opts      Options

	mu      sync.Mutex
	reached eventstore.Position // every healthy follower has applied up to here
	// waiters are the WaitFor calls waiting for a position past reached,
	// lowest first: moving reached wakes only the ones it passes, not
	// every waiter on every batch.
	waiters waitHeap
	// stopped is closed and replaced whenever a follower stops, which
	// wakes every waiter to report it.
	stopped chan struct{}

	// saved is the position of each follower's last save; kick asks for
	// saves early once enough events passed.
	saving sync.Mutex
	saved  []eventstore.Position
	kick   chan struct{}

	// quit is Run's ctx.Done(): it ends a retry's pause when the runner
	// stops, and nothing is applied after it.
	quit <-chan struct{}
	// running refuses a second Run while one feeds the followers, which
	// would hand them every batch twice.
	running atomic.Bool
}

// ErrRunning is Run's answer while another Run of the same runner feeds
// its followers.
var ErrRunning = errors.New("follow: the runner is already running")

type fed struct {
	Follower
	failed atomic.Pointer[error]
}

// NewRunner returns a runner for the followers, which it feeds in the
// order given: a batch reaches a follower only after the ones before it
// applied it (the subscription hub comes after the read models it tells
// subscribers to read).
func NewRunner(store eventstore.Store, opts Options, followers ...Follower) *Runner {
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 3
	}
	if opts.RetryWait <= 0 {
		opts.RetryWait = 100 * time.Millisecond
	}
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = DefaultSaveEvery
	}
	if opts.SaveInterval <= 0 {
		opts.SaveInterval = DefaultSaveInterval
	}
	if opts.RestartPause <= 0 {
		opts.RestartPause = 5 * time.Second
	}
	r := &Runner{store: store, opts: opts, stopped: make(chan struct{}), saved: make([]eventstore.Position, len(followers)), kick: make(chan struct{}, 1)}
	for _, f := range followers {
		r.followers = append(r.followers, &fed{Follower: f})
	}
	r.reached = r.lowest()
	return r
}

// Register adds the metrics of one follower of the log to reg: its
// position, how far it is behind the head, and whether it stopped at an
// event it cannot handle. Every follower reports under the same names,
// with its own follower label, so that one alert covers them all.
func Register(reg prometheus.Registerer, name string, store eventstore.Store, position func() eventstore.Position, healthy func() error) {
	labels := prometheus.Labels{"follower": name}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_follower_position", ConstLabels: labels,
			Help: "Global position of the last event a follower of the log handled.",
		}, func() float64 { return float64(position()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_follower_lag_events", ConstLabels: labels,
			Help: "How many events a follower of the log is behind its head.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			head, err := store.Head(ctx)
			if err != nil {
				return 0
			}
			return float64(max(head, position()) - position())
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_follower_stopped", ConstLabels: labels,
			Help: "1 when a follower of the log stopped at an event it cannot handle (see /readyz), 0 while it runs.",
		}, func() float64 {
			if healthy() != nil {
				return 1
			}
			return 0
		}),
	)
}

// lowest is the smallest position of the followers.
func (r *Runner) lowest() eventstore.Position {
	var low eventstore.Position
	for i, f := range r.followers {
		if pos := f.Position(); i == 0 || pos < low {
			low = pos
		}
	}
	return low
}

// Reached is the position every follower has applied.
func (r *Runner) Reached() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reached
}

// Healthy reports the first follower that stopped on a poison event.
func (r *Runner) Healthy() error {
	for _, f := range r.followers {
		if err := f.failed.Load(); err != nil {
			return *err
		}
	}
	return nil
}

// WaitFor returns once every follower has applied the event at pos, or
// with the context's error; a stopped follower makes it fail at once.
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position) error {
	for {
		r.mu.Lock()
		reached, stopped := r.reached, r.stopped
		if reached >= pos {
			r.mu.Unlock()
			return nil
		}
		w := &waiter{pos: pos, done: make(chan struct{})}
		heap.Push(&r.waiters, w)
		r.mu.Unlock()
		// A follower that stops after this check closes stopped.
		if err := r.Healthy(); err != nil {
			r.forget(w)
			return err
		}
		select {
		case <-w.done:
			return nil
		case <-stopped:
			r.forget(w)
		case <-ctx.Done():
			r.forget(w)
			return fmt.Errorf("waiting for read models to reach position %d (at %d): %w", pos, reached, ctx.Err())
		}
	}
}

// forget removes a waiter that stops waiting, unless advance released it
// already.
func (r *Runner) forget(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w.index >= 0 {
		heap.Remove(&r.waiters, w.index)
	}
}

// waiter is a WaitFor call: done is closed once reached passes pos.
type waiter struct {
	pos   eventstore.Position
	done  chan struct{}
	index int // in the heap; -1 once released or removed
}

// waitHeap is a min-heap of waiters by position (container/heap).
type waitHeap []*waiter

func (h waitHeap) Len() int           { return len(h) }
func (h waitHeap) Less(i, j int) bool { return h[i].pos < h[j].pos }
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}

func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}

// waitTimeout bounds WaitFor when the caller gives no deadline.
const waitTimeout = 5 * time.Second

// WaitForDefault is WaitFor with the default bound.
func (r *Runner) WaitForDefault(ctx context.Context, pos eventstore.Position) error {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	return r.WaitFor(ctx, pos)
}

// Run feeds the followers until ctx ends. It first catches up from the
// lowest position by reading the log in chunks, decoding on every core;
// once near the head it subscribes and hands each live batch to every
// follower that has not yet seen it. An event that does not decode, even
// when read again, stops every follower at its position; Run then waits
// for ctx to end, so that the server stays up and /readyz says where. A
// follower's Apply that returns a Halt error ends Run with that error.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer r.running.Store(false)
	if err := r.open(ctx); err != nil {
		return err
	}
	if r.allStopped() {
		// An earlier run stopped every follower: there is nothing to
		// feed until the cause is fixed.
		<-ctx.Done()
		return nil
	}
	if r.savers() {
		saveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); r.saveLoop(saveCtx) }()
		defer func() { stop(); <-done }()
	}
	hctx, halt := context.WithCancelCause(ctx)
	defer halt(nil)
	r.quit = hctx.Done()
	stopped := func() error {
		if cause := context.Cause(hctx); halted(cause) {
			return cause
		}
		return nil
	}
	from, err := r.catchUp(hctx, halt)
	switch {
	case hctx.Err() != nil:
		return stopped()
	case errors.As(err, new(*DecodeError)):
		// Every follower is stopped at the event; there is nothing
		// left to feed.
		<-hctx.Done()
		return stopped()
	case err != nil:
		return fmt.Errorf("%s: %w", r.label(), err)
	}
	sub, err := r.store.SubscribeAll(hctx, from)
	if err != nil {
		return fmt.Errorf("%s: %w", r.label(), err)
	}
	defer sub.Close()
	batch := make([]Event, 0, 1024)
	for {
		rec, ok := <-sub.Events()
		if !ok {
			if err := stopped(); err != nil {
				return err
			}
			if err := sub.Err(); err != nil && hctx.Err() == nil {
				return fmt.Errorf("%s: subscription: %w", r.label(), err)
			}
			return nil
		}
		// Take whatever else is already waiting, so that followers
		// apply many events per lock.
		batch = batch[:0]
		for _, rec := range eventstore.Drain(sub, rec, cap(batch)) {
			ev, err := Decode(rec)
			if err != nil {
				r.apply(batch, halt)
				batch = batch[:0]
				if ev, err = r.decodeAgain(hctx, rec.Position, err); err != nil {
					if hctx.Err() == nil {
						r.poison(hctx, nil, rec.Position, err)
						sub.Close()
						<-hctx.Done()
					}
					return stopped()
				}
			}
			batch = append(batch, ev)
		}
		r.apply(batch, halt)
	}
}

// RunWith runs the runner and, beside it, effect, the side of a follower
// that acts on what it learnt (sending the emails it composed, firing the
// rules that fall due), until ctx ends. Both stop as soon as either ends;
// when that happens while ctx lives (the store or the follower's own store
// failed), the failure is logged and both start over after RestartPause,
// so that a transient failure pauses a worker instead of ending it. It
// returns nil once ctx ends.
func (r *Runner) RunWith(ctx context.Context, effect func(context.Context) error) error {
	for {
		err := r.runOnceWith(ctx, effect)
		if ctx.Err() != nil {
			return nil
		}
		r.opts.Logger.Error().Err(err).Str("follower", r.label()).Msg("interrupted; starting over")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.opts.RestartPause):
		}
	}
}

func (r *Runner) runOnceWith(ctx context.Context, effect func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fed := make(chan error, 1)
	go func() {
		err := r.Run(ctx)
		cancel()
		fed <- err
	}()
	err := effect(ctx)
	cancel()
	return errors.Join(<-fed, err)
}

// CatchUp feeds the followers the log up to its head as it is now, as Run
// would, and returns once every follower reached it: the way a worker
// driven by its own clock, or a test, brings its followers up to date
// without a Run of its own. It returns Healthy's error once a follower
// stopped at an event, and the error that ended the feeding otherwise.
// Opener followers are opened first, and may be opened again by a later
// Run or CatchUp: Open must be idempotent.
func (r *Runner) CatchUp(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	head, err := r.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", r.label(), err)
	}
	if err := r.Healthy(); err != nil || r.Reached() >= head {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(rctx) }()
	reached := make(chan error, 1)
	go func() { reached <- r.WaitFor(rctx, head) }()
	select {
	case err = <-reached:
		cancel()
		<-ran
	case err = <-ran:
		// Run ended before the head: a follower halted it.
		cancel()
		<-reached
		if err == nil {
			err = ctx.Err()
		}
	}
	if herr := r.Healthy(); herr != nil {
		return herr
	}
	return err
}

func (r *Runner) label() string {
	if r.opts.Name == "" {
		return "follower"
	}
	return r.opts.Name
}

// open lets every Opener learn where it stands.
func (r *Runner) open(ctx context.Context) error {
	for _, f := range r.followers {
		o, ok := f.Follower.(Opener)
		if !ok {
			continue
		}
		err := o.Open(ctx)
		var pe *PoisonError
		switch {
		case errors.As(err, &pe):
			var e error = pe
			f.failed.Store(&e)
		case err != nil:
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
	}
	r.advance()
	return nil
}

func (r *Runner) allStopped() bool {
	for _, f := range r.followers {
		if f.failed.Load() == nil {
			return false
		}
	}
	return len(r.followers) > 0
}

// decodeAgain reads the event at pos again and decodes it, with the
// runner's bounded retries.
func (r *Runner) decodeAgain(ctx context.Context, pos eventstore.Position, err error) (Event, error) {
	r.opts.Logger.Warn().Err(err).Uint64("position", uint64(pos)).Int("retries", r.opts.MaxRetries).Msg("event does not decode; reading it again")
	return retryDecode(ctx, r.store, pos, err, r.opts.MaxRetries, r.opts.RetryWait)
}

// catchUpGap is how far behind the head the runner may be when it switches
// to the subscription, which delivers events one by one.
const catchUpGap = chunkSize

// catchUp applies the log up to the head in chunks, again while the head
// moved on by more than catchUpGap meanwhile, and returns the position to
// subscribe from. An event that does not decode is read again; when it
// still does not, every follower stops at it and catchUp returns its
// *DecodeError.
func (r *Runner) catchUp(ctx context.Context, halt context.CancelCauseFunc) (eventstore.Position, error) {
	from := r.lowest()
	for {
		head, err := r.store.Head(ctx)
		if err != nil {
			return from, err
		}
		if head <= from+catchUpGap {
			return from, nil
		}
		slabs := newSlabs()
		st := startStages(len(r.followers), slabs, func(i int, batch []Event) error {
			r.applyTo(r.followers[i], batch, halt)
			return nil
		}, r.applied1)
		last, err := catchUp(ctx, r.store, from, head, slabs, st.send)
		_ = st.close()
		var bad *DecodeError
		if errors.As(err, &bad) {
			ev, derr := r.decodeAgain(ctx, bad.Position, bad.Err)
			if derr != nil {
				if ctx.Err() != nil {
					return last, ctx.Err()
				}
				r.poison(ctx, nil, bad.Position, derr)
				return last, &DecodeError{Position: bad.Position, Err: derr}
			}
			r.apply([]Event{ev}, halt)
			last, err = ev.Position, nil
		}
		if err != nil {
			return last, err
		}
		from = last
	}
}

// apply hands a batch to every healthy follower in turn.
func (r *Runner) apply(batch []Event, halt context.CancelCauseFunc) {
	if len(batch) == 0 {
		return
	}
	_, span := tracing.Batch(context.Background(), r.label(), uint64(batch[0].Position), uint64(batch[len(batch)-1].Position), len(batch))
	defer span.End()
	for _, f := range r.followers {
		r.applyTo(f, batch, halt)
	}
	r.applied1(batch)
}

// applyTo applies a batch to one follower unless it is stopped. A failing
// batch is applied again up to MaxRetries times, after growing pauses,
// since Apply changes nothing when it returns an error; then the follower
// stops at the event it could not get past. An Unappliable error stops it
// at once; so does a panic, unless the follower is Atomic: the panic may
// have left part of the event applied to the state, which neither a retry
// nor a save may build on. An Atomic follower that still fails on a batch
// of several events is given them one at a time, so that it stops at the
// exact event at fault.
func (r *Runner) applyTo(f *fed, batch []Event, halt context.CancelCauseFunc) {
	if f.failed.Load() != nil || r.quitting() {
		return
	}
	_, atomicApply := f.Follower.(Atomic)
	wait := r.opts.RetryWait
	for attempt := 0; ; attempt++ {
		err := ApplySafely(f.Follower, batch)
		if err == nil {
			break
		}
		if halted(err) {
			halt(err)
			return
		}
		pos := failingAt(batch, f.Position())
		permanent := errors.As(err, new(*Unappliable))
		panicked := errors.As(err, new(*PanicError))
		if permanent || (panicked && !atomicApply) || attempt == r.opts.MaxRetries {
			if atomicApply && len(batch) > 1 {
				r.bisect(f, batch, halt)
				return
			}
			r.poison(context.Background(), f, pos, err)
			return
		}
		r.opts.Logger.Warn().Err(err).Str("follower", f.Name()).Uint64("position", uint64(pos)).
			Int("attempt", attempt+1).Dur("retry_in", wait).Msg("follower failed on an event; retrying")
		if !r.pause(wait) {
			return
		}
		wait *= 2
	}
}

// bisect gives an Atomic follower a batch it keeps failing on one event at
// a time, with the usual retries for each, so that the events before the
// one at fault are applied and the follower stops at that one.
func (r *Runner) bisect(f *fed, batch []Event, halt context.CancelCauseFunc) {
	for i := range batch {
		if batch[i].Position <= f.Position() {
			continue
		}
		r.applyTo(f, batch[i:i+1], halt)
		if f.failed.Load() != nil || r.quitting() {
			return
		}
	}
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

// applied1 runs once every follower had a batch: it moves Reached and asks
// for saves when enough events passed since the last ones.
func (r *Runner) applied1([]Event) {
	r.advance()
	if r.savers() && int(r.Reached()-r.savedLowest()) >= r.opts.SaveEvery {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// poison stops a follower (every follower when f is nil, for an event
// nothing can decode) and reports the event's position. It never skips the
// event: the follower stays stopped until the cause is fixed and it is
// rebuilt.
func (r *Runner) poison(ctx context.Context, f *fed, pos eventstore.Position, cause error) {
	targets := r.followers
	if f != nil {
		targets = []*fed{f}
	}
	for _, t := range targets {
		pe := &PoisonError{Follower: t.Name(), Position: pos, Err: cause}
		var err error = pe
		t.failed.CompareAndSwap(nil, &err)
		log := r.opts.Logger.Error().Err(err).Str("follower", t.Name()).Uint64("position", uint64(pos))
		if panicked := (*PanicError)(nil); errors.As(cause, &panicked) {
			log = log.Bytes("stack", panicked.Stack)
		}
		log.Msg("follower stopped")
		if rec, ok := t.Follower.(Recorder); ok {
			if rerr := rec.Stopped(context.WithoutCancel(ctx), pe); rerr != nil {
				r.opts.Logger.Error().Err(rerr).Str("follower", t.Name()).Msg("recording the stop failed")
			}
		}
	}
	r.mu.Lock()
	close(r.stopped)
	r.stopped = make(chan struct{})
	r.mu.Unlock()
}

// advance moves Reached to the lowest position. A stopped follower holds
// it back, so that no one is told that an event past the one it stopped at
// is visible.
func (r *Runner) advance() {
	low := r.lowest()
	r.mu.Lock()
	defer r.mu.Unlock()
	if low > r.reached {
		r.reached = low
		for len(r.waiters) > 0 && r.waiters[0].pos <= low {
			close(heap.Pop(&r.waiters).(*waiter).done)
		}
	}
}

// Rebuild applies the whole log from Start to the followers, which must
// be empty, reading and decoding in parallel chunks rather than through a
// subscription. It reports progress after every chunk and returns the
// number of events. until, when not 0, is the last position to apply.
func Rebuild(ctx context.Context, store eventstore.Store, until eventstore.Position, progress func(done eventstore.Position), followers ...Follower) (int, error) {
	// A rebuild builds the read models' whole heap from nothing, as a
	// load of saved states does: let it grow in fewer steps.
	defer relaxGC()()
	n := 0
	from := eventstore.Start
	slabs := newSlabs()
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
		st := startStages(len(followers), slabs, func(i int, batch []Event) error {
			if err := ApplySafely(followers[i], batch); err != nil {
				return &PoisonError{Follower: followers[i].Name(), Position: failingAt(batch, followers[i].Position()), Err: err}
			}
			return nil
		}, func(batch []Event) {
			n += len(batch)
			if progress != nil {
				progress(batch[len(batch)-1].Position)
			}
		})
		last, err := catchUp(ctx, store, from, end, slabs, st.send)
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
