package graph

import (
	"context"
	"errors"
	"strconv"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/graph/model"
)

// matchEventsBuffer is how many status changes a matchEvents subscriber
// may fall behind the hub before the hub drops it. A dropped subscriber
// reads what it missed from the log and joins again, so a slow dashboard
// never holds the hub up and still misses nothing.
const matchEventsBuffer = 256

// matchEvents streams the status changes of every match after since, or
// from the hub's position when since is nil. It opens no subscription on
// the store: the hub is the one follower of the log, and a subscriber
// behind it reads the log in bounded pages up to the hub's position, then
// takes the hub's changes after it.
func (r *Resolver) matchEvents(ctx context.Context, since *eventstore.Position) (<-chan *model.MatchStatusEvent, error) {
	f := &statusFollower{r: r, out: make(chan *model.MatchStatusEvent, 64)}
	target, err := f.join(ctx)
	if err != nil {
		return nil, err
	}
	last := target
	if since != nil {
		last = *since
	}
	go f.run(ctx, last, target)
	return f.out, nil
}

// statusFollower is one matchEvents subscriber.
type statusFollower struct {
	r   *Resolver
	out chan *model.MatchStatusEvent
	// sub and live are the current registration with the hub and the
	// changes it delivers; live is closed when the hub drops sub.
	sub  *HubSubscription
	live chan Change
}

func isStatusChange(c Change) bool { return c.Status != "" }

// join registers with the hub and returns the position up to which the
// log must be read before the hub's changes follow. That is the hub's
// position, or the log's head when the hub has followed nothing yet: on
// the shared read models it starts from what they show when the server
// starts, not from the log's start, and tells of nothing before.
func (f *statusFollower) join(ctx context.Context) (eventstore.Position, error) {
	live := make(chan Change, matchEventsBuffer)
	sub, pos := f.r.Hub.Join(isStatusChange, func(c Change) bool {
		select {
		case live <- c:
			return true
		default:
			return false
		}
	}, func() { close(live) })
	f.sub, f.live = sub, live
	if pos == 0 {
		head, err := f.r.Store.Head(ctx)
		if err != nil {
			sub.Close()
			return 0, err
		}
		pos = head
	}
	return pos, nil
}

// run delivers the changes after last: from the log up to target, then
// from the hub, until ctx ends or delivering fails.
func (f *statusFollower) run(ctx context.Context, last, target eventstore.Position) {
	defer close(f.out)
	defer func() { f.sub.Close() }()
	for {
		var ok bool
		if last, ok = f.catchUp(ctx, last, target); !ok {
			return
		}
		if last, ok = f.follow(ctx, last); !ok {
			return
		}
		// The hub dropped the subscriber for falling behind: read what
		// it missed from the log, and join again.
		var err error
		if target, err = f.join(ctx); err != nil {
			if ctx.Err() == nil {
				logFor(ctx, f.r.Log).Warn().Err(err).Msg("matchEvents subscription ended")
			}
			return
		}
	}
}

// catchUp delivers the status changes the log holds after from up to and
// including to, and returns the position delivered up to.
func (f *statusFollower) catchUp(ctx context.Context, from, to eventstore.Position) (eventstore.Position, bool) {
	errStopped := errors.New("matchEvents subscriber gone")
	at, err := follow.Read(ctx, f.r.Store, from, to, domain.Is[domain.StatusEvent], func(batch []follow.Event) error {
		for i := range batch {
			if c, ok := f.r.Hub.changeOf(&batch[i]); ok && !f.emit(ctx, c) {
				return errStopped
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, errStopped) {
			logFor(ctx, f.r.Log).Warn().Err(err).Uint64("position", uint64(at)).Msg("matchEvents subscription ended")
		}
		return at, false
	}
	return at, true
}

// follow delivers the hub's changes after last until the hub drops the
// subscriber (true) or ctx ends or delivering fails (false), and returns
// the position delivered up to.
func (f *statusFollower) follow(ctx context.Context, last eventstore.Position) (eventstore.Position, bool) {
	for {
		select {
		case <-ctx.Done():
			return last, false
		case c, ok := <-f.live:
			if !ok {
				return last, ctx.Err() == nil
			}
			if c.Position <= last {
				continue
			}
			if !f.emit(ctx, c) {
				return last, false
			}
			last = c.Position
		}
	}
}

// emit hands the client one change, waiting for it as long as it stays.
func (f *statusFollower) emit(ctx context.Context, c Change) bool {
	ev := &model.MatchStatusEvent{ID: "matchStatusEvent:" + strconv.FormatUint(uint64(c.Position), 10), Position: c.Position, Type: c.Type,
		MatchID: model.GlobalID(model.KindMatch, c.MatchID), Status: model.MatchStatus(c.Status), OccurredAt: c.OccurredAt}
	select {
	case f.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
