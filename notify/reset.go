package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	mailport "github.com/mentorship/mentorship/mail"
)

// PasswordReset is a password reset email as the accounts service asks for
// it.
type PasswordReset struct {
	// ID is the idempotency key and the Message-ID's local part. The
	// accounts service derives it from the token's hash, so it names the
	// email in logs without revealing the token.
	ID string
	// To is the account's email address.
	To string
	// Role is the account's role, which the email names: mentee and mentor
	// accounts are separate.
	Role domain.Role
	// Link is the frontend's reset page with the token. It is a
	// credential: it is never logged or written to disk here.
	Link string
	// ValidFor is the link's lifetime, as the email states it.
	ValidFor time.Duration
	// ExpiresAt is when the link stops working. Resets gives the email up
	// then, since a dead link is not worth delivering.
	ExpiresAt time.Time
}

// ComposePasswordReset renders the password reset email r from the
// embedded templates (password-reset.txt and .html inside the layouts),
// with the program's name and staff contact address from s.
func ComposePasswordReset(s Settings, r PasswordReset) (mailport.Message, error) {
	s, err := s.normalized()
	if err != nil {
		return mailport.Message{}, fmt.Errorf("password reset email: %w", err)
	}
	out, err := render(KindPasswordReset, view{
		Program:    s.ProgramName,
		StaffEmail: s.StaffEmail,
		Link:       r.Link,
		Role:       strings.ToLower(string(r.Role)),
		Account:    r.To,
		ValidFor:   duration(r.ValidFor),
	})
	if err != nil {
		return mailport.Message{}, fmt.Errorf("password reset email: %w", err)
	}
	return mailport.Message{To: r.To, Subject: out.subject, Text: out.text, HTML: out.html, ID: r.ID}, nil
}

// ResetOptions tune Resets.
type ResetOptions struct {
	// Settings are what the emails say: the program's name and the staff
	// contact address. FrontendURL is required, as for a Notifier.
	Settings Settings
	// Logger receives a line for every email sent, failed or given up,
	// named by its ID and never with its link.
	Logger zerolog.Logger
	// RetryAfter is the wait after a first failed attempt, doubling with
	// each further failure (5 s when 0): a member is waiting for the
	// email, so the waits are shorter than the outbox's.
	RetryAfter time.Duration
	// MaxRetryAfter caps the wait between attempts (1 min when 0).
	MaxRetryAfter time.Duration
	// GiveUpAfter is how long Send keeps a message that keeps failing (30
	// min when 0). SendPasswordReset keeps an email until its link
	// expires instead.
	GiveUpAfter time.Duration
}

// ErrResetsClosed is returned for emails handed to Resets after Close.
var ErrResetsClosed = errors.New("notify: password reset emails are closed")

// closeGrace bounds the last delivery round of Close.
const closeGrace = 10 * time.Second

// Resets delivers password reset emails: it renders each from the
// templates, and sends it through a mail.Sender with its ID as the
// idempotency key, retrying with exponential backoff while the relay is
// down, until the relay accepts it or its link expires. The accounts
// service hands it every reset email (see auth.ResetMailer).
//
// Resets keeps its emails in memory only, unlike the outbox, because a
// reset email carries a live credential. The outbox file is a bbolt file,
// which is copy-on-write: a body deleted after delivery stays in the
// file's free pages until they happen to be reused, so writing the link
// there would leave it on disk long after it was sent. In memory the
// clear token lives from the request until the relay accepts the email
// (or the link expires, at most ResetTokenTTL later), and nowhere else
// but in the delivered email. What a restart loses is a reset email still
// waiting for the relay, which costs the member one more request; its
// link would have expired within the half hour anyway, and the answer to
// the request never said whether an email went out. Only accounts that
// exist get emails, under the accounts service's rate limits, which bounds
// what waits here.
//
// Resets is also a mail.Sender, so that it stands where the accounts
// service takes one: Send queues a message already composed, the same
// way, and keeps it for GiveUpAfter. It is safe for concurrent use;
// create it with NewResets and stop it with Close.
type Resets struct {
	sender mailport.Sender
	clock  clock.Clock
	opts   ResetOptions
	log    zerolog.Logger

	round sync.Mutex // one delivery round at a time

	mu      sync.Mutex // guards pending and closed
	pending map[string]*queued
	closed  bool

	kick    chan struct{}
	cancel  context.CancelFunc // ends the worker's round in flight
	stopped chan struct{}
}

var _ mailport.Sender = (*Resets)(nil)

// queued is one email waiting for the relay.
type queued struct {
	msg      mailport.Message
	kind     Kind
	giveUpAt time.Time
	attempts int
	next     time.Time
}

// NewResets returns a running Resets that delivers through sender. Its
// worker tries each email as soon as it arrives.
func NewResets(sender mailport.Sender, clk clock.Clock, opts ResetOptions) (*Resets, error) {
	if sender == nil || clk == nil {
		return nil, errors.New("notify: resets: sender and clock are required")
	}
	settings, err := opts.Settings.normalized()
	if err != nil {
		return nil, fmt.Errorf("notify: resets: %w", err)
	}
	opts.Settings = settings
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 5 * time.Second
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = time.Minute
	}
	if opts.GiveUpAfter <= 0 {
		opts.GiveUpAfter = 30 * time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Resets{
		sender: sender, clock: clk, opts: opts,
		log:     opts.Logger.With().Str("component", "password_resets").Logger(),
		pending: make(map[string]*queued),
		kick:    make(chan struct{}, 1),
		cancel:  cancel,
		stopped: make(chan struct{}),
	}
	go q.run(ctx)
	return q, nil
}

// SendPasswordReset composes the email of r and queues it for delivery
// until r.ExpiresAt. It returns once the email is queued; a second email
// with the same ID while the first waits is ignored.
func (q *Resets) SendPasswordReset(_ context.Context, r PasswordReset) error {
	if r.ExpiresAt.IsZero() {
		return fmt.Errorf("password reset email %s: %w: no expiry", r.ID, mailport.ErrInvalidMessage)
	}
	msg, err := ComposePasswordReset(q.opts.Settings, r)
	if err != nil {
		return err
	}
	return q.add(msg, KindPasswordReset, r.ExpiresAt)
}

// Send queues m for delivery for GiveUpAfter. It implements mail.Sender.
func (q *Resets) Send(_ context.Context, m mailport.Message) error {
	return q.add(m, "", q.clock.Now().Add(q.opts.GiveUpAfter))
}

func (q *Resets) add(m mailport.Message, kind Kind, giveUpAt time.Time) error {
	if err := m.Validate(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrResetsClosed
	}
	if _, ok := q.pending[m.ID]; !ok {
		q.pending[m.ID] = &queued{msg: m, kind: kind, giveUpAt: giveUpAt, next: q.clock.Now()}
	}
	select {
	case q.kick <- struct{}{}:
	default:
	}
	return nil
}

// Pending counts the emails waiting for the relay.
func (q *Resets) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// DeliverDue makes one attempt at every email due at now. An email the
// relay refuses for good, or whose link expired, is given up; another
// failure is tried again after a doubling wait. It returns only the
// context's error. The worker calls it; tests call it on a fake clock.
func (q *Resets) DeliverDue(ctx context.Context, now time.Time) error {
	q.round.Lock()
	defer q.round.Unlock()
	for _, e := range q.due(now) {
		if err := ctx.Err(); err != nil {
			return err
		}
		q.attempt(ctx, e, now)
	}
	return nil
}

// due returns the emails whose next attempt is at or before now.
func (q *Resets) due(now time.Time) []*queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*queued
	for _, e := range q.pending {
		if !e.next.After(now) {
			out = append(out, e)
		}
	}
	return out
}

// attempt tries e once and records the outcome. Only the round that holds
// q.round changes an email, so reading e without q.mu is safe.
func (q *Resets) attempt(ctx context.Context, e *queued, now time.Time) {
	log := q.log.With().Str("message_id", e.msg.ID).Logger()
	if e.kind != "" {
		log = log.With().Str("kind", string(e.kind)).Logger()
	}
	if !now.Before(e.giveUpAt) {
		q.drop(e)
		log.Error().Int("attempts", e.attempts).Msg("email given up: it expired before the relay took it")
		return
	}
	err := q.sender.Send(ctx, e.msg)
	q.mu.Lock()
	e.attempts++
	attempts := e.attempts
	q.mu.Unlock()
	if err == nil {
		q.drop(e)
		log.Info().Int("attempts", attempts).Msg("email sent")
		return
	}
	if ctx.Err() != nil {
		return
	}
	if errors.Is(err, mailport.ErrInvalidMessage) || errors.Is(err, mailport.ErrRejected) {
		q.drop(e)
		log.Error().Err(err).Int("attempts", attempts).Msg("email given up")
		return
	}
	next := now.Add(backoff(q.opts.RetryAfter, q.opts.MaxRetryAfter, attempts))
	q.mu.Lock()
	e.next = next
	q.mu.Unlock()
	log.Warn().Err(err).Int("attempts", attempts).Time("next_attempt_at", next).Msg("email not sent; will retry")
}

func (q *Resets) drop(e *queued) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pending[e.msg.ID] == e {
		delete(q.pending, e.msg.ID)
	}
}

// nextAttempt returns the earliest next attempt, and false when nothing
// waits.
func (q *Resets) nextAttempt() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var at time.Time
	for _, e := range q.pending {
		if at.IsZero() || e.next.Before(at) {
			at = e.next
		}
	}
	return at, !at.IsZero()
}

// run is the worker: it delivers what is due whenever an email arrives
// and at the next attempt due. The clock tells the time; the timer only
// wakes the loop, at least every maxSleep so that a clock that jumps is
// noticed.
func (q *Resets) run(ctx context.Context) {
	defer close(q.stopped)
	timer := time.NewTimer(maxSleep)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.kick:
		case <-timer.C:
		}
		if q.DeliverDue(ctx, q.clock.Now()) != nil {
			return
		}
		wait := maxSleep
		if at, ok := q.nextAttempt(); ok {
			wait = min(max(at.Sub(q.clock.Now()), 0), maxSleep)
		}
		timer.Reset(wait)
	}
}

// Close refuses new emails, stops the worker, and makes a last attempt,
// bounded by a few seconds, at the emails due, such as those handed over
// while the accounts service closed. What still waits after it is dropped
// and logged by ID.
func (q *Resets) Close() error {
	q.mu.Lock()
	first := !q.closed
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	<-q.stopped
	if !first {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	_ = q.DeliverDue(ctx, q.clock.Now())
	q.mu.Lock()
	defer q.mu.Unlock()
	for id, e := range q.pending {
		q.log.Warn().Str("message_id", id).Int("attempts", e.attempts).Msg("email dropped: the server stopped before the relay took it")
	}
	clear(q.pending)
	return nil
}
