package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/auth"
)

const (
	// subscribeTimeout bounds waiting for Redis to confirm a subscription
	// in NewRevocations.
	subscribeTimeout = 10 * time.Second
	// healthInterval is how long the subscription may stay silent before
	// it is pinged, and then how long the ping may go unanswered before
	// the link counts as lost. A half-open connection shows no error of
	// its own.
	healthInterval = 30 * time.Second
	// minBackoff and maxBackoff bound the pause between attempts to
	// subscribe again after the link was lost.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Revocations tells the instances of the service about each other's
// revocations over one Redis pub/sub channel, {<prefix>:auth}:revocations.
// Pub/sub delivers at most once: a message published while a subscriber's
// connection is down never reaches it. Revocations therefore subscribes
// again by itself after losing the link and then reports that revocations
// may have been missed, so that the service checks its live sessions
// against the store. It is safe for concurrent use.
type Revocations struct {
	client  goredis.UniversalClient
	channel string
	log     zerolog.Logger

	// mu guards handlers and is held while they run, so that an
	// unsubscribe waits for a call in progress.
	mu       sync.Mutex
	handlers map[*handler]struct{}

	// psMu guards ps, which the receiving goroutine replaces when it
	// subscribes again and Close closes to interrupt it.
	psMu sync.Mutex
	ps   *goredis.PubSub

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// handler is one subscriber's pair of functions.
type handler struct {
	revoked func(auth.Revocation)
	missed  func()
}

var _ auth.Revocations = (*Revocations)(nil)

// NewRevocations subscribes to the revocations channel under opts.Prefix
// and returns once Redis has confirmed the subscription (or ctx ended), so
// that every revocation published after it returns is received. It uses
// opts.Prefix and opts.Logger. The caller owns client; Close the
// Revocations before closing client.
func NewRevocations(ctx context.Context, client goredis.UniversalClient, opts Options) (*Revocations, error) {
	if client == nil {
		return nil, errors.New("revocations: a client is required")
	}
	k, err := newKeys(opts.Prefix)
	if err != nil {
		return nil, fmt.Errorf("revocations: %w", err)
	}
	channel := k.revocations()
	ps := client.Subscribe(ctx, channel)
	if err := confirm(ctx, ps); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("revocations: subscribe: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	r := &Revocations{
		client:   client,
		channel:  channel,
		log:      opts.Logger,
		handlers: map[*handler]struct{}{},
		ps:       ps,
		stop:     stop,
		done:     make(chan struct{}),
	}
	go r.run(runCtx)
	return r, nil
}

// confirm waits for Redis to confirm the subscription of ps. The read
// stops at ctx's deadline, which the client honours where it would ignore
// a bare cancellation.
func confirm(ctx context.Context, ps *goredis.PubSub) error {
	ctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return err
		}
		if _, ok := msg.(*goredis.Subscription); ok {
			return nil
		}
	}
}

// Publish sends r to every subscribed instance, this one included.
func (r *Revocations) Publish(ctx context.Context, rev auth.Revocation) error {
	data, err := json.Marshal(wireOf(rev))
	if err != nil {
		return fmt.Errorf("publish revocation: %w", err)
	}
	if err := r.client.Publish(ctx, r.channel, data).Err(); err != nil {
		return fmt.Errorf("publish revocation: %w", err)
	}
	return nil
}

// Subscribe calls revoked with every revocation received from now on, and
// missed after the link to Redis was lost and found again or when a
// message could not be read. A nil function is not called.
func (r *Revocations) Subscribe(revoked func(auth.Revocation), missed func()) (unsubscribe func()) {
	h := &handler{revoked: revoked, missed: missed}
	r.mu.Lock()
	r.handlers[h] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.handlers, h)
		r.mu.Unlock()
	}
}

// Close ends the subscription and waits for the receiving goroutine. It
// does not close the client.
func (r *Revocations) Close() error {
	r.closeOnce.Do(func() {
		r.stop()
		r.psMu.Lock()
		_ = r.ps.Close()
		r.psMu.Unlock()
		<-r.done
	})
	return nil
}

// run receives messages until Close. It pings a silent subscription, and
// after an error, or a ping left unanswered, subscribes again on a fresh
// connection with a growing pause; the confirmation of that subscription
// reports revocations missed.
func (r *Revocations) run(ctx context.Context) {
	defer close(r.done)
	r.psMu.Lock()
	ps := r.ps
	r.psMu.Unlock()
	pinged, lost := false, false
	backoff := minBackoff
	for {
		msg, err := ps.ReceiveTimeout(ctx, healthInterval)
		if ctx.Err() != nil {
			return
		}
		var netErr net.Error
		if err == nil {
			pinged = false
			backoff = minBackoff
			switch m := msg.(type) {
			case *goredis.Message:
				r.deliver(m.Payload)
			case *goredis.Subscription:
				if lost {
					lost = false
					r.log.Info().Msg("revocations: subscribed again; checking live sessions")
					r.notifyMissed()
				}
			}
			continue
		}
		if errors.As(err, &netErr) && netErr.Timeout() && !pinged {
			pinged = true
			if err = ps.Ping(ctx); err == nil {
				continue
			}
		}
		if !lost {
			r.log.Warn().Err(err).Msg("revocations: lost the link to redis; subscribing again")
		}
		lost, pinged = true, false
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, maxBackoff)
		r.psMu.Lock()
		if ctx.Err() != nil {
			r.psMu.Unlock()
			return
		}
		_ = ps.Close()
		ps = r.client.Subscribe(ctx, r.channel)
		r.ps = ps
		r.psMu.Unlock()
	}
}

// deliver hands the revocation in payload to every handler. A payload it
// cannot read may have been a revocation, so it reports revocations
// missed instead.
func (r *Revocations) deliver(payload string) {
	var w wireRevocation
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		r.log.Warn().Err(err).Msg("revocations: unreadable message; checking live sessions")
		r.notifyMissed()
		return
	}
	rev := w.revocation()
	r.mu.Lock()
	defer r.mu.Unlock()
	for h := range r.handlers {
		if h.revoked != nil {
			h.revoked(rev)
		}
	}
}

func (r *Revocations) notifyMissed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for h := range r.handlers {
		if h.missed != nil {
			h.missed()
		}
	}
}

// wireRevocation is a revocation as published: JSON with the token hash in
// hex and the fields that do not apply left out.
type wireRevocation struct {
	Reason     auth.RevocationReason `json:"reason"`
	Session    *auth.TokenHash       `json:"session,omitempty"`
	Member     *uuid.UUID            `json:"member,omitempty"`
	Generation uint64                `json:"generation,omitempty"`
}

func wireOf(r auth.Revocation) wireRevocation {
	w := wireRevocation{Reason: r.Reason, Generation: r.Generation}
	if r.Session != (auth.TokenHash{}) {
		w.Session = &r.Session
	}
	if r.Member != uuid.Nil {
		w.Member = &r.Member
	}
	return w
}

func (w wireRevocation) revocation() auth.Revocation {
	r := auth.Revocation{Reason: w.Reason, Generation: w.Generation}
	if w.Session != nil {
		r.Session = *w.Session
	}
	if w.Member != nil {
		r.Member = *w.Member
	}
	return r
}
