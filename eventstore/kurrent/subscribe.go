package kurrent

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mentorship/mentorship/eventstore"
)

// subscriptionBuffer is how many events a subscription holds for a
// consumer that is busy.
const subscriptionBuffer = 256

// SubscribeAll implements eventstore.Store on a KurrentDB catch-up
// subscription to $all, filtered on the server (by namespace prefix, or
// else by excluding '$' event types) and again here.
//
// The client library does not resubscribe after a drop, so the engine
// does: it subscribes again from the last position it delivered, which the
// server treats as exclusive, waiting longer after each drop in a row. It
// also skips any event at or before that position, so the consumer sees
// neither a gap nor a duplicate.
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	sctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.quit, cancel)
	sub := &subscription{
		events: make(chan eventstore.RecordedEvent, subscriptionBuffer),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go func() {
		defer stop()
		sub.run(sctx, ctx, s, from)
	}()
	return sub, nil
}

// subscription implements eventstore.Subscription.
type subscription struct {
	events   chan eventstore.RecordedEvent
	cancel   context.CancelFunc
	done     chan struct{}
	err      error
	byCaller atomic.Bool // Close was called
}

// Events yields the events in global order until the subscription ends.
func (sub *subscription) Events() <-chan eventstore.RecordedEvent { return sub.events }

// Err tells why the subscription ended: nil when its context was cancelled
// or Close was called, eventstore.ErrClosed when the store was closed.
func (sub *subscription) Err() error {
	<-sub.done
	return sub.err
}

// Close ends the subscription and waits for its goroutine.
func (sub *subscription) Close() {
	sub.byCaller.Store(true)
	sub.cancel()
	<-sub.done
}

// run subscribes and resubscribes until the subscription ends. ctx is the
// subscription's own context; parent is the caller's.
func (sub *subscription) run(ctx, parent context.Context, s *Store, from eventstore.Position) {
	defer close(sub.done)
	defer close(sub.events)
	last := from
	drops := 0
	for {
		delivered, err := sub.follow(ctx, s, &last)
		if delivered {
			drops = 0
		}
		switch {
		case ctx.Err() != nil:
			if s.closed.Load() && parent.Err() == nil && !sub.byCaller.Load() {
				sub.err = eventstore.ErrClosed
			}
			return
		case !resumable(err):
			sub.err = fmt.Errorf("subscribe to all: %w", err)
			return
		}
		drops++
		if drops > s.opts.Resubscribes {
			sub.err = fmt.Errorf("subscribe to all: dropped %d times in a row: %w", drops, err)
			return
		}
		// A cancelled context ends the wait; the next round reports it.
		_ = sleep(ctx, backoff(drops, 50*time.Millisecond, 5*time.Second))
	}
}

// follow runs one server subscription from *last until it drops, delivering
// events and advancing *last. It reports whether it delivered anything and
// why it stopped.
func (sub *subscription) follow(ctx context.Context, s *Store, last *eventstore.Position) (bool, error) {
	filter := esdb.ExcludeSystemEventsFilter()
	if s.opts.Namespace != "" {
		filter = &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{s.opts.Namespace}}
	}
	// The server subscription lives on sctx, so the call that starts it
	// gets no deadline of its own; a timer ends a call that takes too long,
	// as one blocked inside the library would.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(s.opts.Timeout, cancel)
	es, err := call(s, sctx, func(ctx context.Context, c *esdb.Client) (*esdb.Subscription, error) {
		return c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: allPosition(*last), Filter: filter})
	})
	if !timer.Stop() && ctx.Err() == nil {
		if err == nil {
			_ = es.Close()
		}
		return false, fmt.Errorf("subscribing took over %v: %w", s.opts.Timeout, context.DeadlineExceeded)
	}
	if err != nil {
		return false, err
	}
	defer es.Close()
	delivered := false
	for {
		msg := es.Recv()
		if msg.SubscriptionDropped != nil {
			return delivered, msg.SubscriptionDropped.Error
		}
		if msg.EventAppeared == nil {
			// Checkpoints and caught-up or fell-behind notices carry no
			// event; resuming from the last delivered event stays exact.
			continue
		}
		e := msg.EventAppeared.OriginalEvent()
		if e.Position.Commit <= uint64(*last) {
			continue
		}
		stream, ok := s.ownStream(e.StreamID, e.EventType)
		if !ok {
			continue
		}
		rec, err := decode(e, stream)
		if err != nil {
			return delivered, &fatal{err}
		}
		select {
		case sub.events <- rec:
			*last, delivered = rec.Position, true
		case <-ctx.Done():
			return delivered, ctx.Err()
		}
	}
}

// fatal marks an error that resubscribing cannot cure.
type fatal struct{ err error }

// Error is the cause's message.
func (f *fatal) Error() string { return f.err.Error() }

// Unwrap returns the cause.
func (f *fatal) Unwrap() error { return f.err }

// resumable reports whether a subscription that stopped with err should
// subscribe again: not for refused credentials or requests, nor for events
// the engine cannot decode, but for everything a restart, a leader change
// or a slow consumer causes.
func resumable(err error) bool {
	var f *fatal
	if errors.As(err, &f) {
		return false
	}
	switch code(err) {
	case esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnsupportedFeature:
		return false
	}
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.Unimplemented, codes.InvalidArgument:
		return false
	}
	return true
}
