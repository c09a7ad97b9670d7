// Package lease gives a worker that several instances could run a fenced
// lease on Redis, so that at most one of them acts at a time and a holder
// that lost its lease cannot write any more.
//
// A lease is two keys sharing one hash tag, so that they live on one
// Redis Cluster node and one script may touch both:
//
//	{<name>}:lease   "<owner>#<fence>", with the lease's time to live
//	{<name>}:fence   a counter, incremented by each acquisition
//
// The token is the lease key's value. Its fence number grows with every
// acquisition, so two holdings never share a token, even by the same
// owner. A worker keeps its data under the same hash tag (Lease.Key) and
// writes it with a Script, which checks in the same atomic step that the
// lease key still holds the writer's token: a holder whose lease lapsed,
// or was taken over, is refused with ErrLost and nothing is written.
//
// Hold renews a lease every third of its time to live and ends the
// holding (Holding.Lost) when a renewal finds another token, or when
// renewals keep failing until the lease is about to lapse; Release frees
// it at once on a clean stop. Run puts these together: it competes for
// the lease and runs a function for as long as it holds it.
package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// ErrHeld is returned by Acquire while another holder has the lease.
var ErrHeld = errors.New("lease: held by another instance")

// ErrLost is returned by Renew, and by a Script's writes, when the lease
// no longer holds the caller's token: it lapsed or another instance took
// it. Nothing was written.
var ErrLost = errors.New("lease: lost")

// Options configure a Lease.
type Options struct {
	// Owner names this instance in tokens (host name and process ID when
	// empty), so that an operator can tell who holds the lease.
	Owner string
	// TTL is how long the lease outlives its holder's last renewal (5 s
	// when 0): another instance takes over within about this long after
	// the holder dies.
	TTL time.Duration
	// Logger receives the lease's changes and failures.
	Logger zerolog.Logger
}

// Lease is one named lease in Redis. It is safe for concurrent use; each
// acquisition yields its own token.
type Lease struct {
	c    goredis.UniversalClient
	name string
	opts Options
}

// New returns the lease called name (such as "mentorship:notifier") in c.
// The name becomes the hash tag of the lease's keys and of every key made
// with Key, so it must not contain braces.
func New(c goredis.UniversalClient, name string, opts Options) (*Lease, error) {
	if name == "" || strings.ContainsAny(name, "{}") {
		return nil, fmt.Errorf("lease: name %q: want a non-empty name without braces", name)
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	if strings.Contains(opts.Owner, "#") {
		return nil, fmt.Errorf("lease: owner %q: must not contain #", opts.Owner)
	}
	if opts.TTL < 0 {
		return nil, fmt.Errorf("lease: TTL %s: must not be negative", opts.TTL)
	}
	if opts.TTL == 0 {
		opts.TTL = 5 * time.Second
	}
	if opts.TTL < 30*time.Millisecond {
		return nil, fmt.Errorf("lease: TTL %s: want at least 30ms", opts.TTL)
	}
	return &Lease{c: c, name: name, opts: opts}, nil
}

// Name returns the lease's name.
func (l *Lease) Name() string { return l.name }

// TTL returns how long the lease outlives its holder's last renewal.
func (l *Lease) TTL() time.Duration { return l.opts.TTL }

// Owner returns the name this instance puts in its tokens.
func (l *Lease) Owner() string { return l.opts.Owner }

// Key returns the key made of parts under the lease's hash tag:
// "{name}:part1:part2". Keys made so share the lease key's Redis Cluster
// slot, which a Script needs.
func (l *Lease) Key(parts ...string) string {
	return "{" + l.name + "}:" + strings.Join(parts, ":")
}

func (l *Lease) key() string   { return l.Key("lease") }
func (l *Lease) fence() string { return l.Key("fence") }

// acquireScript takes a free lease: KEYS[1] is the lease, KEYS[2] the
// fencing counter; ARGV[1] the owner, ARGV[2] the TTL in milliseconds. It
// returns the token, or nil when the lease is held.
var acquireScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return false
end
local token = ARGV[1] .. '#' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
`)

// renewScript extends the lease while ARGV[1] holds it; 0 means lost.
var renewScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript frees the lease if ARGV[1] still holds it.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Acquire takes the lease if it is free and returns its token; ErrHeld
// says another holder has it.
func (l *Lease) Acquire(ctx context.Context) (string, error) {
	tok, err := acquireScript.Run(ctx, l.c, []string{l.key(), l.fence()}, l.opts.Owner, l.opts.TTL.Milliseconds()).Text()
	if errors.Is(err, goredis.Nil) {
		return "", ErrHeld
	}
	if err != nil {
		return "", fmt.Errorf("lease %s: acquire: %w", l.name, err)
	}
	return tok, nil
}

// Renew extends the lease by its TTL while tok holds it; ErrLost says it
// does not any more.
func (l *Lease) Renew(ctx context.Context, tok string) error {
	n, err := renewScript.Run(ctx, l.c, []string{l.key()}, tok, l.opts.TTL.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("lease %s: renew: %w", l.name, err)
	}
	if n != 1 {
		return ErrLost
	}
	return nil
}

// Release frees the lease if tok still holds it, so that another instance
// takes over at once rather than after the TTL. It runs even when ctx has
// ended, for a second at most.
func (l *Lease) Release(ctx context.Context, tok string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := releaseScript.Run(rctx, l.c, []string{l.key()}, tok).Err(); err != nil {
		return fmt.Errorf("lease %s: release: %w", l.name, err)
	}
	return nil
}

// Holder returns the token of the current holder, "" when the lease is
// free.
func (l *Lease) Holder(ctx context.Context) (string, error) {
	tok, err := l.c.Get(ctx, l.key()).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lease %s: holder: %w", l.name, err)
	}
	return tok, nil
}

// Fence returns the fencing number of a token, which grows with every
// acquisition of a lease, and false when tok is not a token.
func Fence(tok string) (uint64, bool) {
	i := strings.LastIndexByte(tok, '#')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(tok[i+1:], 10, 64)
	return n, err == nil
}

// OwnerOf returns the owner part of a token.
func OwnerOf(tok string) string {
	owner, _, _ := strings.Cut(tok, "#")
	return owner
}

// Holding is one acquisition of a lease, renewed in the background until
// it is lost or released.
type Holding struct {
	l      *Lease
	tok    string
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}
	once   sync.Once
}

// Hold renews the lease that tok holds every third of its TTL until ctx
// ends, the holding is released, or the lease is lost: a renewal finds
// another token, or renewals fail (Redis out of reach) until less than a
// third of the TTL would be left. The holding's Context ends then, with
// ErrLost as its cause when the lease was lost.
func (l *Lease) Hold(ctx context.Context, tok string) *Holding {
	hctx, cancel := context.WithCancelCause(ctx)
	h := &Holding{l: l, tok: tok, ctx: hctx, cancel: cancel, done: make(chan struct{})}
	go h.renew()
	return h
}

func (h *Holding) renew() {
	defer close(h.done)
	ttl := h.l.opts.TTL
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(h.ctx, ttl/3)
		err := h.l.Renew(rctx, h.tok)
		cancel()
		switch {
		case err == nil:
			renewed = time.Now()
		case h.ctx.Err() != nil:
			return
		case errors.Is(err, ErrLost) || time.Since(renewed) > ttl-ttl/3:
			h.l.opts.Logger.Warn().Err(err).Str("lease", h.l.name).Str("token", h.tok).Msg("lease lost")
			h.cancel(ErrLost)
			return
		default:
			h.l.opts.Logger.Warn().Err(err).Str("lease", h.l.name).Msg("lease not renewed; trying again")
		}
	}
}

// Token returns the holding's token, which fenced writes carry.
func (h *Holding) Token() string { return h.tok }

// Context ends when the holding does: lost, released, or its parent
// context ended.
func (h *Holding) Context() context.Context { return h.ctx }

// Lost is closed when the holding ends for whatever reason; Err says why.
func (h *Holding) Lost() <-chan struct{} { return h.ctx.Done() }

// Err returns ErrLost once the lease was lost, the parent context's error
// once that ended, and nil while the holding lasts or after Release.
func (h *Holding) Err() error {
	if cause := context.Cause(h.ctx); errors.Is(cause, ErrLost) {
		return ErrLost
	}
	if cause := context.Cause(h.ctx); cause != nil && !errors.Is(cause, errReleased) {
		return cause
	}
	return nil
}

// Release stops the renewals and frees the lease if it is still held.
func (h *Holding) Release() error {
	var err error
	h.once.Do(func() {
		lost := errors.Is(context.Cause(h.ctx), ErrLost)
		h.cancel(errReleased)
		<-h.done
		if !lost {
			err = h.l.Release(h.ctx, h.tok)
		}
	})
	return err
}

var errReleased = errors.New("lease: released")

// Run competes for the lease until ctx ends, polling every third of its
// TTL while another instance holds it, and calls fn each time it takes it,
// with a context that ends when the lease is lost. fn returning ends the
// holding: the lease is released, and Run competes again (after a third of
// the TTL when fn failed, so that a failure does not spin). Run returns
// nil once ctx ends.
func (l *Lease) Run(ctx context.Context, fn func(ctx context.Context, tok string) error) error {
	log := l.opts.Logger.With().Str("lease", l.name).Logger()
	poll := l.opts.TTL / 3
	for ctx.Err() == nil {
		tok, err := l.Acquire(ctx)
		switch {
		case err == nil:
			log.Info().Str("token", tok).Msg("took the lease")
			h := l.Hold(ctx, tok)
			ferr := fn(h.Context(), tok)
			lost := h.Err()
			if err := h.Release(); err != nil {
				log.Warn().Err(err).Msg("lease not released; it lapses after its TTL")
			}
			log.Info().Str("token", tok).AnErr("lost", lost).AnErr("error", ferr).Msg("left the lease")
			if ferr == nil || lost != nil || ctx.Err() != nil {
				continue
			}
		case errors.Is(err, ErrHeld):
		case ctx.Err() == nil:
			log.Warn().Err(err).Msg("lease not acquired")
		}
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
	return nil
}

// Script is a Lua script that writes under a lease: it runs only while
// the lease holds the caller's token, in the same atomic step. Its body
// sees the lease key as KEYS[1] and the token as ARGV[1]; its own keys
// start at KEYS[2] and its own arguments at ARGV[2]. Every key must carry
// the lease's hash tag (see Lease.Key).
type Script struct {
	s *goredis.Script
}

// NewScript returns the fenced script with the Lua body.
func NewScript(body string) *Script {
	return &Script{s: goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED the lease is not held by this token')
end
` + body)}
}

// Run runs the script for the holder of tok with keys and args, and
// returns its reply; ErrLost when the lease does not hold tok, in which
// case the script did nothing.
func (s *Script) Run(ctx context.Context, l *Lease, tok string, keys []string, args ...any) (any, error) {
	v, err := s.s.Run(ctx, l.c, append([]string{l.key()}, keys...), append([]any{tok}, args...)...).Result()
	if err != nil {
		if strings.HasPrefix(err.Error(), "FENCED") {
			return nil, ErrLost
		}
		if errors.Is(err, goredis.Nil) {
			return nil, nil
		}
		return nil, err
	}
	return v, nil
}

// Writer writes a worker's state under the lease this instance holds: its
// writes carry the token given to Hold, and a write that finds the lease
// taken calls the lost function given with it, so that the worker stops.
// The zero Writer of a lease (see NewWriter) holds nothing and refuses
// every write with ErrLost. It is safe for concurrent use.
type Writer struct {
	l *Lease

	mu   sync.Mutex
	tok  string
	lost func()
}

// NewWriter returns a writer under l, holding nothing yet.
func NewWriter(l *Lease) *Writer { return &Writer{l: l} }

// Lease returns the lease the writer writes under.
func (w *Writer) Lease() *Lease { return w.l }

// Hold makes the writer write under tok, the token of the lease this
// instance holds ("" to stop writing); lost is called when a write finds
// the lease taken (nil to ignore).
func (w *Writer) Hold(tok string, lost func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tok, w.lost = tok, lost
}

// Token returns the token writes carry; "" when not holding.
func (w *Writer) Token() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tok
}

// Run runs a fenced script under the held token: ErrLost, with nothing
// written, when the writer holds nothing or the lease no longer holds its
// token, in which case the lost function is called.
func (w *Writer) Run(ctx context.Context, s *Script, keys []string, args ...any) (any, error) {
	w.mu.Lock()
	tok, lost := w.tok, w.lost
	w.mu.Unlock()
	if tok == "" {
		return nil, ErrLost
	}
	v, err := s.Run(ctx, w.l, tok, keys, args...)
	if errors.Is(err, ErrLost) && lost != nil {
		lost()
	}
	return v, err
}
