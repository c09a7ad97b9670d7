package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/projections"
)

// committer is a Redis projection as the projector drives it.
type committer interface {
	Name() string
	checkpoint(ctx context.Context) (eventstore.Position, string, error)
	commit(ctx context.Context, token string, from eventstore.Position, events []projections.Event) error
	leaseOf() *lease.Lease
	meta() string
	holding() *atomic.Bool
	key(parts ...string) string
}

func (rm *ReadModels) committers() []committer { return []committer{rm.Members, rm.Matches} }

// Holder returns the token of the lease holder of a projection ("" when
// none), for operators and tests.
func (rm *ReadModels) Holder(ctx context.Context, projection string) (string, error) {
	for _, p := range rm.committers() {
		if p.Name() == projection {
			return p.leaseOf().Holder(ctx)
		}
	}
	return "", fmt.Errorf("no projection %q", projection)
}

// RunOptions tune Run.
type RunOptions struct {
	// Project makes this instance compete for the projections' leases
	// and apply events while it holds them. An instance that does not
	// project only reads and follows.
	Project bool
	// Feed are projections given, in order, every event once the shared
	// read models have applied it; the subscription hub is one, so that
	// a subscriber told of a change finds it in the read models.
	Feed []projections.Projection
}

// Run keeps the read models up to date and this instance informed until
// ctx ends.
func (rm *ReadModels) Run(ctx context.Context, store eventstore.Store, opts RunOptions) error {
	var wg sync.WaitGroup
	if opts.Project {
		for _, p := range rm.committers() {
			wg.Go(func() { rm.project(ctx, store, p) })
		}
	}
	wg.Go(func() { rm.follow(ctx, store, opts.Feed) })
	wg.Wait()
	return nil
}

// project competes for a projection's lease for as long as ctx lasts and
// applies events while it holds it. A failure (Redis or the store out of
// reach) pauses before the next try, rather than spin on it.
func (rm *ReadModels) project(ctx context.Context, store eventstore.Store, p committer) {
	_ = p.leaseOf().Run(ctx, func(hctx context.Context, tok string) error {
		p.holding().Store(true)
		defer p.holding().Store(false)
		err := rm.apply(hctx, store, p, tok)
		if err != nil && hctx.Err() == nil && !errors.Is(err, ErrFenced) && !errors.Is(err, errMoved) {
			rm.opts.Logger.Warn().Err(err).Str("projection", p.Name()).Msg("projecting failed; trying again")
			return err
		}
		return nil
	})
}

// batchSize is how many events one commit takes at most: as many as the
// log-following runtime hands over at once while it catches up, so that a
// rebuild commits each chunk it reads in one script, where writes to the
// same view and the same set are merged.
const batchSize = 4096

// attempts is how often a commit, or the decoding of an event, is tried
// before the projection stops on the event.
const attempts = 3

// apply feeds a projection from its stored checkpoint while ctx lasts,
// through the log-following runtime. An event that does not decode, or
// that no commit can apply, stops the projection at its position: never
// skipped, recorded in Redis for every instance's /readyz, and nothing
// after it applied.
func (rm *ReadModels) apply(ctx context.Context, store eventstore.Store, p committer, tok string) error {
	l := &leased{rm: rm, p: p, tok: tok, ctx: ctx}
	r := follow.NewRunner(store, follow.Options{MaxRetries: attempts - 1, RetryWait: 100 * time.Millisecond, Logger: rm.opts.Logger}, l)
	err := r.Run(ctx)
	return err
}

// leased is a Redis projection fed while this instance holds its lease.
// Its commits are transactions checked against the lease's token, so that
// a failed one writes nothing: the runtime may retry a batch that
// panicked and find the event at fault.
type leased struct {
	rm  *ReadModels
	p   committer
	tok string
	ctx context.Context
	pos eventstore.Position
}

func (l *leased) Name() string                  { return l.p.Name() }
func (l *leased) Position() eventstore.Position { return l.pos }
func (l *leased) AtomicApply()                  {}

// Open reads the checkpoint; a projection an earlier holder stopped stays
// stopped, and holding its lease keeps the other instances from repeating
// the failure.
func (l *leased) Open(ctx context.Context) error {
	from, failed, err := l.p.checkpoint(ctx)
	if err != nil {
		return err
	}
	l.pos = from
	if failed != "" {
		return &follow.PoisonError{Follower: l.p.Name(), Position: from + 1, Err: errors.New(failed)}
	}
	return nil
}

// Apply commits the events after the checkpoint, batchSize at a time, and
// tells the other instances how far it got. A panic (an event the
// evolution cannot apply, or a stored view that cannot be read) goes back
// to the runtime, which retries and then stops the projection; a Redis
// failure is tried again after a pause, and a lost lease, a moved
// checkpoint or a failure that persists end the holding, so that this or
// another instance starts again later from the stored checkpoint.
func (l *leased) Apply(events []projections.Event) error {
	i, _ := slices.BinarySearchFunc(events, l.pos, func(ev projections.Event, pos eventstore.Position) int {
		return cmp.Compare(ev.Position, pos+1)
	})
	for rest := events[i:]; len(rest) > 0; {
		n := min(len(rest), batchSize)
		if err := l.rm.commitRetrying(l.ctx, l.p, l.tok, l.pos, rest[:n]); err != nil {
			if follow.Unapplied(err) {
				return err
			}
			return follow.Halt(err)
		}
		l.pos = rest[n-1].Position
		rest = rest[n:]
		l.rm.note(l.p.Name(), l.pos, "")
		if err := l.rm.c.Publish(l.ctx, l.rm.channel(), l.p.Name()+" "+strconv.FormatUint(uint64(l.pos), 10)).Err(); err != nil && l.ctx.Err() == nil {
			l.rm.opts.Logger.Warn().Err(err).Msg("publish checkpoint")
		}
	}
	return nil
}

// Stopped records the stop in Redis, where every instance's /readyz reads
// it.
func (l *leased) Stopped(ctx context.Context, pe *follow.PoisonError) error {
	l.rm.note(l.p.Name(), l.pos, pe.Error())
	return l.rm.c.HSet(ctx, l.p.meta(), "failed", pe.Error()).Err()
}

// commitRetrying commits a batch, trying a failure twice more after a
// pause unless the lease was lost, the checkpoint moved or the evolution
// panicked (which the runtime retries and pins down).
func (rm *ReadModels) commitRetrying(ctx context.Context, p committer, tok string, from eventstore.Position, events []projections.Event) error {
	var err error
	for attempt := range attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 100 * time.Millisecond):
			}
		}
		err = commitOnce(ctx, p, tok, from, events)
		if err == nil || errors.Is(err, ErrFenced) || errors.Is(err, errMoved) || follow.Unapplied(err) || ctx.Err() != nil {
			return err
		}
		rm.opts.Logger.Warn().Err(err).Str("projection", p.Name()).Uint64("from", uint64(from)).Int("attempt", attempt+1).Msg("commit failed")
	}
	return err
}

// commitOnce commits a batch, turning a panic of the evolution or of
// reading a stored view into a *follow.PanicError.
func commitOnce(ctx context.Context, p committer, tok string, from eventstore.Position, events []projections.Event) (err error) {
	defer follow.RecoverTo(&err)
	return p.commit(ctx, tok, from, events)
}

// follower is what an instance knows of the shared read models.
type follower struct {
	mu      sync.Mutex
	reached map[string]eventstore.Position
	failed  map[string]string
	readErr error
	low     eventstore.Position // every projection has applied up to here
	changed chan struct{}       // closed and replaced whenever low moves
}

func (rm *ReadModels) followerState() *follower {
	rm.once.Do(func() {
		rm.f = &follower{reached: map[string]eventstore.Position{}, failed: map[string]string{}, changed: make(chan struct{})}
	})
	return rm.f
}

// note records a projection's checkpoint as heard (it only moves
// forward: messages may arrive out of order) and moves the common
// position.
func (rm *ReadModels) note(name string, pos eventstore.Position, failed string) {
	rm.record(name, pos, failed, false)
}

// record stores a checkpoint. A checkpoint read from Redis is the truth
// even when it is lower than the last one heard: Redis lost its data and
// the read models are being rebuilt, so read-your-writes waits again.
func (rm *ReadModels) record(name string, pos eventstore.Position, failed string, read bool) {
	f := rm.followerState()
	f.mu.Lock()
	defer f.mu.Unlock()
	if pos > f.reached[name] || read {
		f.reached[name] = pos
	}
	if failed != "" {
		f.failed[name] = failed
	} else if read {
		delete(f.failed, name)
	}
	low, first := eventstore.Position(0), true
	for _, p := range rm.committers() {
		if r := f.reached[p.Name()]; first || r < low {
			low, first = r, false
		}
	}
	if low != f.low || failed != "" {
		f.low = low
		close(f.changed)
		f.changed = make(chan struct{})
	}
}

// refresh reads every checkpoint from Redis.
func (rm *ReadModels) refresh(ctx context.Context) error {
	for _, p := range rm.committers() {
		pos, failed, err := p.checkpoint(ctx)
		if err != nil {
			f := rm.followerState()
			f.mu.Lock()
			f.readErr = err
			f.mu.Unlock()
			return err
		}
		rm.record(p.Name(), pos, failed, true)
	}
	f := rm.followerState()
	f.mu.Lock()
	f.readErr = nil
	f.mu.Unlock()
	return nil
}

// Reached is the position every Redis projection has applied, as this
// instance last heard.
func (rm *ReadModels) Reached() eventstore.Position {
	f := rm.followerState()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.low
}

// firstFailure is why the first stopped projection stopped, in order, or
// nil; the caller holds the follower's lock.
func (rm *ReadModels) firstFailure() error {
	for _, p := range rm.committers() {
		if msg := rm.f.failed[p.Name()]; msg != "" {
			return errors.New(msg)
		}
	}
	return nil
}

// Healthy reports a projection stopped on a poison event, or Redis out of
// reach at the last look.
func (rm *ReadModels) Healthy() error {
	f := rm.followerState()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := rm.firstFailure(); err != nil {
		return err
	}
	if f.readErr != nil {
		return fmt.Errorf("redis read models: %w", f.readErr)
	}
	return nil
}

// WaitFor returns once every Redis projection has applied the event at
// pos, or with the context's error; a stopped projection makes it fail at
// once.
func (rm *ReadModels) WaitFor(ctx context.Context, pos eventstore.Position) error {
	f := rm.followerState()
	for {
		f.mu.Lock()
		low, changed := f.low, f.changed
		failed := rm.firstFailure()
		f.mu.Unlock()
		if low >= pos {
			return nil
		}
		if failed != nil {
			return failed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for read models to reach position %d (at %d): %w", pos, low, ctx.Err())
		}
	}
}

// follow listens for checkpoints on pub/sub, and reads them from Redis
// every poll as well, so that a lost message only delays; whenever every
// projection has moved on, it hands the new events to feed. The events
// come from the store, not from the message, so a gap is re-read rather
// than lost.
func (rm *ReadModels) follow(ctx context.Context, store eventstore.Store, feed []projections.Projection) {
	ps := rm.c.Subscribe(ctx, rm.channel())
	defer ps.Close()
	msgs := ps.Channel()
	poll := time.NewTicker(max(rm.opts.LeaseTTL/10, 50*time.Millisecond))
	defer poll.Stop()
	// Subscribers hear of changes from now on: wait for the first look at
	// the checkpoints rather than replay history to them.
	for rm.refresh(ctx) != nil {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
	}
	fed := rm.Reached()
	for {
		f := rm.followerState()
		f.mu.Lock()
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if name, pos, ok := strings.Cut(m.Payload, " "); ok {
				if n, err := strconv.ParseUint(pos, 10, 64); err == nil {
					rm.note(name, eventstore.Position(n), "")
				}
			}
		case <-poll.C:
			if err := rm.refresh(ctx); err != nil && ctx.Err() == nil {
				rm.opts.Logger.Warn().Err(err).Msg("read checkpoints")
			}
		case <-changed:
		}
		if low := rm.Reached(); low > fed && len(feed) > 0 {
			if err := rm.feed(ctx, store, fed, low, feed); err != nil {
				if ctx.Err() == nil {
					rm.opts.Logger.Warn().Err(err).Msg("feed subscribers")
				}
				continue
			}
			fed = low
		} else if low > fed {
			fed = low
		}
	}
}

// feed reads the events after from up to to and hands them to feed.
func (rm *ReadModels) feed(ctx context.Context, store eventstore.Store, from, to eventstore.Position, feed []projections.Projection) error {
	_, err := follow.Read(ctx, store, from, to, nil, func(events []follow.Event) error {
		for _, p := range feed {
			if err := follow.ApplySafely(p, events); err != nil {
				return fmt.Errorf("feed %s: %w", p.Name(), err)
			}
		}
		return nil
	})
	return err
}

// Apply applies events directly, holding each projection's lease while it
// does: it is how an offline rebuild fills Redis, and it refuses while an
// instance projects. Events at or before a projection's checkpoint are
// skipped.
func (rm *ReadModels) Apply(ctx context.Context, events []projections.Event) error {
	for _, p := range rm.committers() {
		if err := rm.applyHeld(ctx, p, events); err != nil {
			return err
		}
	}
	return nil
}

func (rm *ReadModels) applyHeld(ctx context.Context, p committer, events []projections.Event) error {
	tok, err := p.leaseOf().Acquire(ctx)
	if errors.Is(err, lease.ErrHeld) {
		return fmt.Errorf("projection %s: another instance holds its lease", p.Name())
	}
	if err != nil {
		return fmt.Errorf("lease of %s: %w", p.Name(), err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = p.leaseOf().Release(rctx, tok)
	}()
	l := &leased{rm: rm, p: p, tok: tok, ctx: ctx}
	if err := l.Open(ctx); err != nil {
		return err
	}
	err = l.Apply(events)
	if follow.Unapplied(err) {
		// Commit one event at a time to name the one at fault.
		for i := range events {
			if events[i].Position <= l.pos {
				continue
			}
			if err = l.Apply(events[i : i+1]); err != nil {
				err = &follow.PoisonError{Follower: p.Name(), Position: events[i].Position, Err: err}
				break
			}
		}
	}
	rm.note(p.Name(), l.pos, "")
	return err
}
