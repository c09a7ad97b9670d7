package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/mail"
)

// Registrar records accounts on the event log: their registration, and
// their sign-ins for the program's retention rule. *command.Service
// implements it.
type Registrar interface {
	RegisterMember(ctx context.Context, req command.Request, id uuid.UUID, role domain.Role, name, email string) (command.Result, error)
	// RecordSignIn records that the member signed in; the member's
	// stream keeps the first sign-in of each day only.
	RecordSignIn(ctx context.Context, actor domain.Actor) (command.Result, error)
}

// Options tune a Service. Only ResetURL is required; zero values take the
// defaults named on each field.
type Options struct {
	// ResetURL is the frontend page that completes a password reset, such
	// as https://mentorship.example.org/reset-password. The reset email
	// links to it with the reset token in the "token" query parameter.
	ResetURL string
	// ProgramName names the program in emails ("Mentorship").
	ProgramName string
	// Params are the argon2id settings (DefaultParams). Settings below
	// DefaultParams are refused.
	Params Params
	// IdleTimeout ends a session that goes unused this long (7 days).
	IdleTimeout time.Duration
	// MaxSessionAge ends a session this long after sign-in however much
	// it is used (30 days).
	MaxSessionAge time.Duration
	// ResetTokenTTL is how long a password reset link works (30 minutes).
	ResetTokenTTL time.Duration
	// LoginLimits limit failed sign-ins and wrong current passwords
	// (DefaultLoginLimits); see Limits for how they apply. A zero Rate
	// takes its default.
	LoginLimits Limits
	// ResetLimits limit password reset requests (DefaultResetLimits).
	ResetLimits Limits
	// SignupsPerAddress limits sign-ups from one client address, each
	// attempt counted (the login limits' per-address rate when zero).
	// Raise it where many members sign up from one address, such as a
	// registration day behind one office gateway.
	SignupsPerAddress Rate
	// NoSignupLimit turns the sign-up limit off, for load tests and for
	// deployments that limit sign-ups in front of the server.
	NoSignupLimit bool
	// ResetQueue is how many reset requests may wait for delivery (256);
	// beyond it, requests wait for room.
	ResetQueue int
	// SweepInterval is how often expired sessions, reset tokens and rate
	// states are deleted (1 hour); negative turns sweeping off.
	SweepInterval time.Duration
	// Logger receives the service's log lines (none when zero). No line
	// ever holds a password or a token.
	Logger zerolog.Logger
	// Revocations links the instances that share the Store, so that a
	// sign-out or a password change through one ends the Watch contexts
	// of the session on all of them (auth/redis provides one). Nil keeps
	// revocations to this instance, which is all a single instance needs.
	// The service subscribes in New and unsubscribes in Close; the caller
	// owns the value and closes it after the service.
	Revocations Revocations
	// SessionCacheTTL is how long a session found valid is trusted
	// without reading the store again (1 s when 0; negative turns the
	// cache off). A revocation made through this instance, or heard from
	// another through Revocations, ends it at once; the time to live
	// bounds what a lost revocation message could leave behind.
	SessionCacheTTL time.Duration

	// anyParams lets the package's own tests hash cheaply.
	anyParams bool
}

// Service is the accounts and sign-in core: registration, sessions,
// password changes and resets. It is safe for concurrent use. Create it
// with New and stop it with Close.
type Service struct {
	store     Store
	registrar Registrar
	sender    mail.Sender
	clock     clock.Clock
	log       zerolog.Logger
	opts      Options
	resetURL  *url.URL
	reset     *limiter
	hashing   chan struct{}
	dummyHash string
	touch     time.Duration
	hub       *hub
	sessions  *sessionCache
	refusals  *prometheus.CounterVec
	// unsubscribe ends the subscription to Options.Revocations; nil
	// without one.
	unsubscribe func()

	mu      sync.RWMutex // guards closed against sends on jobs
	closed  bool
	jobs    chan job
	stop    chan struct{}
	stopped chan struct{}
}

// job is a unit of background work: a reset request to deliver, or a
// marker that Flush waits for.
type job struct {
	role     domain.Role
	emailKey string
	flushed  chan struct{}
}

// New returns a running Service. It computes one argon2id hash to time
// sign-ins for unknown accounts like those for known ones, and starts the
// worker that delivers reset emails and sweeps expired records.
func New(store Store, registrar Registrar, sender mail.Sender, clk clock.Clock, opts Options) (*Service, error) {
	if store == nil || registrar == nil || sender == nil || clk == nil {
		return nil, errors.New("auth: store, registrar, sender and clock are required")
	}
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams()
	}
	if err := opts.Params.Validate(); err != nil && !opts.anyParams {
		return nil, fmt.Errorf("auth: %w", err)
	}
	u, err := url.Parse(opts.ResetURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return nil, fmt.Errorf("auth: reset URL %q must be an absolute http(s) URL without a fragment", opts.ResetURL)
	}
	if opts.ProgramName == "" {
		opts.ProgramName = "Mentorship"
	}
	opts.IdleTimeout = positiveOr(opts.IdleTimeout, 7*24*time.Hour)
	opts.MaxSessionAge = positiveOr(opts.MaxSessionAge, 30*24*time.Hour)
	opts.ResetTokenTTL = positiveOr(opts.ResetTokenTTL, 30*time.Minute)
	opts.SweepInterval = positiveOr(opts.SweepInterval, time.Hour)
	if opts.IdleTimeout < 0 || opts.MaxSessionAge < 0 || opts.ResetTokenTTL < 0 {
		return nil, errors.New("auth: session and reset token lifetimes must be positive")
	}
	opts.LoginLimits = opts.LoginLimits.withDefaults(DefaultLoginLimits())
	opts.ResetLimits = opts.ResetLimits.withDefaults(DefaultResetLimits())
	if opts.SignupsPerAddress.Attempts <= 0 || opts.SignupsPerAddress.Per <= 0 {
		opts.SignupsPerAddress = opts.LoginLimits.PerAddress
	}
	if opts.ResetQueue <= 0 {
		opts.ResetQueue = 256
	}
	s := &Service{
		store:     store,
		registrar: registrar,
		sender:    sender,
		clock:     clk,
		log:       opts.Logger,
		opts:      opts,
		resetURL:  u,
		reset:     &limiter{kind: "reset", limits: opts.ResetLimits, store: store},
		hashing:   make(chan struct{}, hashSlots()),
		dummyHash: hashPassword(opts.Params, base64.RawURLEncoding.EncodeToString(randomBytes(32))),
		touch:     min(time.Minute, opts.IdleTimeout/10),
		hub:       newHub(),
		sessions:  newSessionCache(cacheTTL(opts.SessionCacheTTL)),
		refusals:  newRefusals(),
		jobs:      make(chan job, opts.ResetQueue),
		stop:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	if opts.Revocations != nil {
		s.unsubscribe = opts.Revocations.Subscribe(s.applyRevocation, s.recheck)
	}
	go s.run()
	return s, nil
}

// positiveOr returns d, or def when d is zero. A negative d stays as it is
// for the settings where it means "off".
func positiveOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// run is the background worker: it delivers reset requests in order and
// sweeps on a timer. After Close it finishes the requests already
// accepted, then returns.
func (s *Service) run() {
	defer close(s.stopped)
	var sweep <-chan time.Time
	if s.opts.SweepInterval > 0 {
		t := time.NewTicker(s.opts.SweepInterval)
		defer t.Stop()
		sweep = t.C
	}
	for {
		select {
		case j := <-s.jobs:
			s.handle(j)
		case <-sweep:
			if _, err := s.Sweep(context.Background()); err != nil {
				s.log.Error().Err(err).Msg("sweeping expired sign-in records")
			}
		case <-s.stop:
			for {
				select {
				case j := <-s.jobs:
					s.handle(j)
				default:
					return
				}
			}
		}
	}
}

func (s *Service) handle(j job) {
	if j.flushed != nil {
		close(j.flushed)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.deliverReset(ctx, j.role, j.emailKey)
}

// enqueue hands j to the worker, waiting for room in the queue.
func (s *Service) enqueue(ctx context.Context, j job) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush waits until every password reset request accepted before the call
// has been handed to the mail sender (or found to have no account). With
// the server's retrying queue (notify.Resets) that means queued, not yet
// delivered. One-shot commands call it before exiting, and tests before
// reading the mailbox.
func (s *Service) Flush(ctx context.Context) error {
	done := make(chan struct{})
	if err := s.enqueue(ctx, job{flushed: done}); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the service: it refuses new reset requests, delivers those
// already accepted, stops the worker and ends the subscription to
// Options.Revocations, waiting at most until ctx ends for the worker. It
// does not close the store, the sender or the revocations, which the
// caller owns.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closed
	if first {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	if first && s.unsubscribe != nil {
		s.unsubscribe()
	}
	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sweep deletes the expired sessions, reset tokens and rate states now,
// and returns how many records went. The worker runs it every
// SweepInterval.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	n, err := s.store.Sweep(ctx, s.clock.Now())
	if err != nil {
		return n, fmt.Errorf("sweep: %w", err)
	}
	return n, nil
}
