package bolt

import (
	"context"
	"errors"

	"github.com/mentorship/mentorship/eventstore"
)

// SubscribeAll implements eventstore.Store. The subscription reads pages from
// the file until it reaches the head, then waits for the writer to announce
// a commit and reads again, so the switch from catch-up to live neither
// skips nor repeats an event.
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{events: make(chan eventstore.RecordedEvent, s.opts.ReadBatch), cancel: cancel, done: make(chan struct{})}
	go sub.run(ctx, s, from)
	return sub, nil
}

type subscription struct {
	events chan eventstore.RecordedEvent
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func (sub *subscription) Events() <-chan eventstore.RecordedEvent { return sub.events }

func (sub *subscription) Err() error {
	<-sub.done
	return sub.err
}

func (sub *subscription) Close() {
	sub.cancel()
	<-sub.done
}

func (sub *subscription) run(ctx context.Context, s *Store, pos eventstore.Position) {
	defer close(sub.done)
	defer close(sub.events)
	for {
		// Take the wake-up channel before reading, so that a commit
		// after the read still wakes us.
		wake := *s.notify.Load()
		var batch []eventstore.RecordedEvent
		var err error
		if uint64(pos) < s.head.Load() {
			batch, err = s.ReadAll(ctx, pos, s.opts.ReadBatch)
		}
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, eventstore.ErrClosed):
			sub.err = eventstore.ErrClosed
			return
		case err != nil:
			sub.err = err
			return
		}
		if len(batch) == 0 {
			select {
			case <-wake:
			case <-ctx.Done():
				return
			case <-s.quit:
				sub.err = eventstore.ErrClosed
				return
			}
			continue
		}
		for _, ev := range batch {
			select {
			case sub.events <- ev:
			case <-ctx.Done():
				return
			case <-s.quit:
				sub.err = eventstore.ErrClosed
				return
			}
		}
		pos = batch[len(batch)-1].Position
	}
}
