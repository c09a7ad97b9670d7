package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/google/uuid"
	"github.com/mentorship/mentorship/clock"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/internal/statecodec"
	mailport "github.com/mentorship/mentorship/mail"
)

// Settings are what the emails say about the program.
type Settings struct {
	// ProgramName is the program's name, as emails sign off ("Mentorship"
	// when empty).
	ProgramName string
	// StaffEmail is the staff's contact address, which emails offer for
	// questions and which hears of mentees' nudge requests. Without it,
	// emails offer no address and nudge requests send nothing.
	StaffEmail string
	// FrontendURL is the frontend's base URL, which every link starts with,
	// such as https://mentoring.example.org; it is required.
	FrontendURL string
	// Program holds the time rules that emails quote (domain.DefaultProgram
	// when its ResponseWindow is zero).
	Program domain.Program
}

func (s Settings) normalized() (Settings, error) {
	if s.ProgramName == "" {
		s.ProgramName = "Mentorship"
	}
	if s.Program.ResponseWindow == 0 {
		s.Program = domain.DefaultProgram()
	}
	if err := s.Program.Validate(); err != nil {
		return s, err
	}
	s.FrontendURL = strings.TrimRight(s.FrontendURL, "/")
	u, err := url.Parse(s.FrontendURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, fmt.Errorf("frontend URL %q: want an http or https URL", s.FrontendURL)
	}
	if s.StaffEmail != "" {
		if a, err := mail.ParseAddress(s.StaffEmail); err != nil || a.Address != s.StaffEmail {
			return s, fmt.Errorf("staff email %q: want one address such as staff@example.org", s.StaffEmail)
		}
	}
	return s, nil
}

// link returns the frontend URL of the path made of parts.
func (s Settings) link(parts ...string) string {
	escaped := make([]string, len(parts))
	for i, p := range parts {
		escaped[i] = url.PathEscape(p)
	}
	return s.FrontendURL + "/" + strings.Join(escaped, "/")
}

// day writes the calendar day of t in the program's time zone.
func (s Settings) day(t time.Time) string {
	return t.In(s.Program.Location).Format("Monday 2 January 2006")
}

// Options tune a Notifier.
type Options struct {
	// Settings are what the emails say.
	Settings Settings
	// Logger receives a line for every email sent or failed.
	Logger zerolog.Logger
	// RetryAfter is the wait after a first failed attempt, doubling with
	// each further failure (30 s when 0).
	RetryAfter time.Duration
	// MaxRetryAfter caps the wait between attempts (1 h when 0).
	MaxRetryAfter time.Duration
	// GiveUpAfter is how long after it was composed an email that keeps
	// failing is given up (72 h when 0).
	GiveUpAfter time.Duration
	// MaxRetries is how often an event that does not decode is read
	// again, or a batch that panicked applied again, before the notifier
	// stops composing at it (3 when 0).
	MaxRetries int
	// RetryWait is the pause before the first of those retries; each
	// further one waits twice as long (100 ms when 0).
	RetryWait time.Duration
}

// Notifier turns the program's events into emails: it follows the event
// log in order, composes the emails of each event into the outbox, and
// delivers the outbox through a mail.Sender, retrying with exponential
// backoff while the relay is down. Emails are delivered at least once and
// composed at most once per event and recipient, however often the log is
// replayed.
type Notifier struct {
	store  eventstore.Store
	sender mailport.Sender
	clock  clock.Clock
	opts   Options
	log    zerolog.Logger
	outbox OutboxStore

	mu       sync.Mutex
	composer *composer
	read     statecodec.Checkpoint // the last event the notifier is done with
	composed eventstore.Position   // events after this one still need their emails
	saved    eventstore.Position   // the position the outbox holds
	// learnt is the last event the composer learnt. It runs ahead of read
	// only while a batch whose emails the outbox refused waits to be
	// applied again; the composer's state is not saved meanwhile, since
	// it does not match read.
	learnt eventstore.Position
	// loaded reports whether the saved state was looked for; stateAt is
	// the position of the state the file holds, and saveEvery the least
	// number of events between two saves.
	loaded    bool
	stateAt   eventstore.Position
	saveEvery int
	// holdUntil pauses delivery after an attempt failed for a reason
	// that every other email would meet too (the relay is down); streak
	// counts such failures in a row, so the pause doubles like a single
	// email's wait does.
	holdUntil time.Time
	streak    int
	// runner feeds the notifier the log: catch-up, live delivery and the
	// poison policy (an event that does not decode stops composing at its
	// position, never skipped; delivery goes on).
	runner *follow.Runner
	// composedSome wakes delivery when new emails entered the outbox.
	composedSome chan struct{}
	// position mirrors read.Pos for Position, which must not wait for a
	// catch-up holding mu.
	position atomic.Uint64
}

// Open opens the outbox in dir (the data directory) and returns a notifier
// that composes from store and delivers through sender; see New.
func Open(dir string, store eventstore.Store, sender mailport.Sender, clk clock.Clock, opts Options) (*Notifier, error) {
	outbox, err := OpenOutbox(dir)
	if err != nil {
		return nil, err
	}
	n, err := New(outbox, store, sender, clk, opts)
	if err != nil {
		_ = outbox.Close()
		return nil, err
	}
	return n, nil
}

// New returns a notifier that keeps its emails and its directory in
// outbox, composes from store and delivers through sender. A new outbox
// starts at the log's head: emails are for what happens from now on, not
// for a history that predates them. The saved directory is loaded by the
// first catch-up rather than here, so that starting stays quick. Close
// closes outbox.
func New(outbox OutboxStore, store eventstore.Store, sender mailport.Sender, clk clock.Clock, opts Options) (*Notifier, error) {
	settings, err := opts.Settings.normalized()
	if err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	opts.Settings = settings
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 30 * time.Second
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = time.Hour
	}
	if opts.GiveUpAfter <= 0 {
		opts.GiveUpAfter = 72 * time.Hour
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 3
	}
	pos, ok, err := outbox.Position()
	if err == nil && !ok {
		if pos, err = store.Head(context.Background()); err == nil {
			_, err = outbox.Add(pos, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	n := &Notifier{
		store: store, sender: sender, clock: clk, opts: opts,
		log:    opts.Logger.With().Str("component", "notifier").Logger(),
		outbox: outbox, composer: newComposer(settings),
		composed: pos, saved: pos, saveEvery: saveEvery,
		composedSome: make(chan struct{}, 1),
	}
	n.runner = follow.NewRunner(store, follow.Options{Name: "notifier", MaxRetries: opts.MaxRetries, RetryWait: opts.RetryWait, Logger: n.log}, n)
	return n, nil
}

// Name identifies the notifier among the followers of the log.
func (n *Notifier) Name() string { return "notifier" }

// Outbox returns the notifier's outbox, where staff see how the emails of
// a match fared.
func (n *Notifier) Outbox() OutboxStore { return n.outbox }

// Close records how far the notifier composed, saves what it learnt when
// that moved, and closes the outbox. Stop Run first.
func (n *Notifier) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var err error
	switch {
	case n.read.Pos > n.stateAt && n.learnt <= n.read.Pos:
		err = n.saveState()
	case n.composed > n.saved:
		_, err = n.outbox.Add(n.composed, nil)
	}
	return errors.Join(err, n.outbox.Close())
}

// Position is the global position of the last event the notifier
// composed the emails of; 0 before its first catch-up. It never waits.
func (n *Notifier) Position() eventstore.Position {
	return eventstore.Position(n.position.Load())
}

// Healthy reports why the notifier stopped composing emails: an event
// that does not decode, or that composing panicked on, named by its global
// position. It is nil while the notifier composes.
func (n *Notifier) Healthy() error {
	return n.runner.Healthy()
}

// CatchUp feeds the notifier the log up to its head as it is now, through
// the runner that Run uses, and returns once the emails of every event
// up to there are in the outbox. The first call loads the members' names
// and addresses that the outbox saved, and reads the log after them;
// without a usable saved state it reads the whole log. Once the notifier
// stopped at an event, it returns the error of Healthy.
func (n *Notifier) CatchUp(ctx context.Context) error {
	return n.runner.CatchUp(ctx)
}

// Open loads the composer and its checkpoint that the outbox saved, once;
// the runner calls it before feeding the notifier.
func (n *Notifier) Open(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.loaded {
		return nil
	}
	return n.load(ctx)
}

// load restores the composer and its checkpoint from the outbox file. A
// state that is missing, unreadable, of another format or of another log
// is logged and left aside: the notifier then learns from the whole log,
// which costs time, not correctness. It fails only when ctx ends, and the
// next call looks again.
func (n *Notifier) load(ctx context.Context) error {
	started := time.Now()
	var c *composer
	var cp statecodec.Checkpoint
	found, err := n.outbox.LoadState(func(b []byte) error {
		var err error
		c, cp, err = decodeState(b, n.opts.Settings)
		return err
	})
	if err == nil && found && cp.Pos > n.composed {
		// Saving moves the outbox position with the state, so this file
		// was not written by a notifier: the emails of the events in
		// between might be lost.
		err = fmt.Errorf("its position %d is past the outbox position %d", cp.Pos, n.composed)
	}
	if err == nil && found {
		err = cp.Verify(ctx, n.store)
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case !found && err == nil:
		n.log.Info().Msg("no saved directory; learning it from the whole log")
	case err != nil:
		n.log.Warn().Err(err).Msg("saved directory not used; learning it from the whole log")
	default:
		n.composer, n.read, n.learnt, n.stateAt = c, cp, cp.Pos, cp.Pos
		n.position.Store(uint64(cp.Pos))
		n.log.Info().Int("members", len(c.members)).Int("matches", len(c.matches)).
			Uint64("position", uint64(cp.Pos)).Dur("took", time.Since(started)).Msg("directory restored")
	}
	n.loaded = true
	return nil
}

// EraseMember removes an erased member from what the notifier keeps, once
// it has read the log up to upTo (where the erasure is recorded): the
// member leaves the saved directory, the emails to the member leave the
// outbox, and the emails about their matches lose the subject and bodies
// that quote them. The outbox file is then compacted.
func (n *Notifier) EraseMember(ctx context.Context, member uuid.UUID, matches []uuid.UUID, upTo eventstore.Position) error {
	for n.Position() < upTo && n.Healthy() == nil {
		select {
		case <-ctx.Done():
			return fmt.Errorf("notifier: erase member: waiting for the log: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	n.mu.Lock()
	delete(n.composer.members, member)
	err := n.saveState()
	n.mu.Unlock()
	if err != nil {
		return err
	}
	return n.outbox.EraseMember(member, matches)
}

// saveIfDue saves the composer's state once enough events passed since
// the last save. A failed save is logged only: the notifier goes on, and
// a restart reads more of the log.
func (n *Notifier) saveIfDue() {
	size := (len(n.composer.members) + len(n.composer.matches)) / 2
	if n.learnt > n.read.Pos || n.read.Pos-n.stateAt < eventstore.Position(max(n.saveEvery, size)) {
		return
	}
	if err := n.saveState(); err != nil {
		n.log.Warn().Err(err).Msg("directory not saved")
	}
}

// saveState writes the composer's state at the read position, together
// with the composed position.
func (n *Notifier) saveState() error {
	if err := n.outbox.SaveState(encodeState(n.composer, n.read), n.composed); err != nil {
		return fmt.Errorf("notifier: %w", err)
	}
	n.stateAt, n.saved = n.read.Pos, max(n.saved, n.composed)
	return nil
}

// Apply learns and composes a batch of events in log order and adds their
// emails to the outbox in one step, for the runner. When the outbox
// refuses (it is out of reach, or its lease was lost) nothing moves, and
// the error halts the runner: Run starts over after a pause and applies
// the batch again.
func (n *Notifier) Apply(events []follow.Event) error {
	n.mu.Lock()
	err := n.apply(events)
	if err == nil {
		n.saveIfDue()
	}
	n.mu.Unlock()
	if err != nil {
		return follow.Halt(err)
	}
	return nil
}

// apply learns and composes a batch of events in log order and adds the
// emails to the outbox in one transaction. When that fails nothing moves,
// so the batch can be applied again; learning an event twice changes
// nothing.
func (n *Notifier) apply(events []follow.Event) error {
	var entries []Entry
	var erased []uuid.UUID
	now := n.clock.Now()
	for _, ev := range events {
		if ev.Position <= n.read.Pos || !relevant(ev.Type) || ev.Data == nil {
			continue
		}
		if ev.Position > n.composed {
			es, errs := n.composer.compose(eventstore.RecordedEvent{ID: ev.ID, Position: ev.Position}, ev.Data, now)
			for _, err := range errs {
				n.log.Error().Err(err).Uint64("position", uint64(ev.Position)).Msg("email left out")
			}
			entries = append(entries, es...)
		}
		n.composer.learn(ev.Data)
		if e, ok := ev.Data.(domain.MemberErased); ok {
			erased = append(erased, e.MemberID)
		}
	}
	if len(events) == 0 {
		return nil
	}
	lastEvent := events[len(events)-1]
	last := lastEvent.Position
	n.learnt = max(n.learnt, last)
	if len(entries) > 0 {
		added, err := n.outbox.Add(last, entries)
		if err != nil {
			// n.read stays, so the batch is applied again.
			return fmt.Errorf("notifier: %w", err)
		}
		n.saved = max(n.saved, last)
		if added > 0 {
			n.log.Debug().Int("emails", added).Uint64("position", uint64(last)).Msg("emails composed")
			select {
			case n.composedSome <- struct{}{}:
			default:
			}
		}
	}
	if last > n.read.Pos {
		n.read = statecodec.Checkpoint{Pos: last, ID: lastEvent.ID, Stream: lastEvent.Stream, Revision: lastEvent.Revision}
		n.position.Store(uint64(n.read.Pos))
	}
	n.composed = max(n.composed, last)
	// Whichever instance erased the member, the one that keeps the
	// outbox removes what it holds of them.
	if len(erased) > 0 {
		if err := n.saveState(); err != nil {
			return err
		}
		if err := n.outbox.EraseMembers(erased); err != nil {
			return fmt.Errorf("notifier: %w", err)
		}
	}
	return nil
}

// DeliverDue sends every email due at now, oldest first. A failed attempt
// is tried again after a doubling wait; an email refused for good, or still
// failing GiveUpAfter after it was composed, is given up. An attempt that
// fails for a reason every email would meet (the relay is down or busy)
// ends the round, so that a dead relay costs one attempt per round rather
// than one per email. It returns the first error of the outbox itself;
// delivery failures are recorded in the entries and logged.
func (n *Notifier) DeliverDue(ctx context.Context, now time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Before(n.holdUntil) {
		return nil
	}
	for {
		due, err := n.outbox.Due(now, 64)
		if err != nil || len(due) == 0 {
			return err
		}
		for _, e := range due {
			if err := ctx.Err(); err != nil {
				return err
			}
			stop, err := n.deliver(ctx, e, now)
			if err != nil || stop {
				return err
			}
		}
	}
}

// deliver makes one attempt at e. It reports whether the round should stop.
func (n *Notifier) deliver(ctx context.Context, e Entry, now time.Time) (bool, error) {
	log := n.log.With().Str("message_id", e.ID).Str("kind", string(e.Kind)).
		Str("match_id", e.MatchID.String()).Str("recipient_id", e.RecipientID.String()).Logger()
	// The claim is the last word of the store before the relay: a
	// notifier that lost its lease, or an email settled or erased since
	// Due read it, sends nothing.
	e, ok, err := n.outbox.Claim(e.ID)
	if err != nil {
		return true, err
	}
	if !ok {
		return false, nil
	}
	if e.InDoubt {
		log.Warn().Int("attempts", e.Attempts).Msg("email sent again after an attempt that was cut short; it keeps its Message-ID")
	}
	err = n.sender.Send(ctx, mailport.Message{To: e.To, Subject: e.Subject, Text: e.Text, HTML: e.HTML, ID: e.ID})
	if err == nil {
		sent, err := n.outbox.MarkSent(e.ID, n.clock.Now())
		if err != nil {
			return true, err
		}
		log.Info().Int("attempts", sent.Attempts).Msg("email sent")
		n.streak = 0
		return false, nil
	}
	if ctx.Err() != nil {
		return true, ctx.Err()
	}
	permanent := errors.Is(err, mailport.ErrInvalidMessage) || errors.Is(err, mailport.ErrRejected)
	giveUp := permanent || now.Sub(e.CreatedAt) >= n.opts.GiveUpAfter
	next := now.Add(n.backoff(e.Attempts + 1))
	failed, markErr := n.outbox.MarkFailed(e.ID, now, err, next, giveUp)
	if markErr != nil {
		return true, markErr
	}
	if giveUp {
		log.Error().Err(err).Int("attempts", failed.Attempts).Msg("email given up")
	} else {
		log.Warn().Err(err).Int("attempts", failed.Attempts).Time("next_attempt_at", next).Msg("email not sent; will retry")
	}
	if permanent {
		return false, nil
	}
	n.streak++
	n.holdUntil = now.Add(n.backoff(n.streak))
	return true, nil
}

// backoff returns the wait after the attempts-th failed attempt.
func (n *Notifier) backoff(attempts int) time.Duration {
	return backoff(n.opts.RetryAfter, n.opts.MaxRetryAfter, attempts)
}

// backoff returns the wait after the attempts-th failed attempt: first,
// doubling with each further failure, at most most.
func backoff(first, most time.Duration, attempts int) time.Duration {
	d := first
	for i := 1; i < attempts && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// Tick composes what the log holds and delivers what is due at the
// clock's time, even when composing failed, since the emails already in
// the outbox do not depend on the log. Tests drive the notifier with it
// on a fake clock.
func (n *Notifier) Tick(ctx context.Context) error {
	err := n.CatchUp(ctx)
	return errors.Join(err, n.DeliverDue(ctx, n.clock.Now()))
}

// nextWake returns when delivery should run next, and false when nothing
// waits.
func (n *Notifier) nextWake() (time.Time, bool, error) {
	at, ok, err := n.outbox.NextAttempt()
	if err != nil || !ok {
		return at, ok, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if at.Before(n.holdUntil) {
		at = n.holdUntil
	}
	return at, true, nil
}

// maxSleep bounds how long Run sleeps without looking at the clock again,
// so that a clock that jumps (an operator's offset, a corrected wall clock)
// is noticed.
const maxSleep = time.Minute

// Run composes and delivers until ctx ends: the runner feeds it the log
// (catching up, then live), and delivery wakes for the next attempt due
// or for new emails. The clock tells the time; the timer only wakes the
// loop. A failure (the store, the outbox) is logged and both start over
// after a pause. Once composing stopped at an event (see Healthy),
// delivery goes on with what the outbox holds.
func (n *Notifier) Run(ctx context.Context) error {
	return n.runner.RunWith(ctx, n.deliverLoop)
}

// deliverLoop delivers what falls due until ctx ends or the outbox fails.
func (n *Notifier) deliverLoop(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-n.composedSome:
		case <-timer.C:
		}
		if err := n.DeliverDue(ctx, n.clock.Now()); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		at, ok, err := n.nextWake()
		if err != nil {
			return err
		}
		wait := maxSleep
		if ok {
			wait = min(max(at.Sub(n.clock.Now()), 0), maxSleep)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}
