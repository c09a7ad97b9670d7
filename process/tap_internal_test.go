package process

import (
	"context"
	"sync"

	"github.com/mentorship/mentorship/eventstore"
)

// tapped is a subscription whose events pass through fn on their way,
// for tests that count or garble what the runner reads live.
type tapped struct {
	eventstore.Subscription
	ch   chan eventstore.RecordedEvent
	done chan struct{}
	stop chan struct{}
	once sync.Once
}

// tap returns sub with fn applied to every event it delivers.
func tap(ctx context.Context, sub eventstore.Subscription, fn func(*eventstore.RecordedEvent)) eventstore.Subscription {
	t := &tapped{Subscription: sub, ch: make(chan eventstore.RecordedEvent), done: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		defer close(t.done)
		defer close(t.ch)
		for r := range sub.Events() {
			fn(&r)
			select {
			case t.ch <- r:
			case <-ctx.Done():
				return
			case <-t.stop:
				return
			}
		}
	}()
	return t
}

func (t *tapped) Events() <-chan eventstore.RecordedEvent { return t.ch }

func (t *tapped) Close() {
	t.once.Do(func() { close(t.stop) })
	t.Subscription.Close()
	<-t.done
}

// Tap is tap for the external tests.
var Tap = tap
