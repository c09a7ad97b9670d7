// Package process runs the program's time-driven rules and finishes the
// two-step commands that a crash cut short. A Manager follows the event log
// and keeps, for every open match, when each rule falls due:
//
//   - the response window: 14 days after a request that is still pending,
//     the window is marked elapsed (command.Service.MarkResponseWindowElapsed);
//   - the first meeting: 21 days after the acceptance, when neither partner
//     logged a session, both are reminded (RemindFirstMeeting);
//   - the term: at program.TermEnd of the acceptance the match ends with
//     TERM_COMPLETED (CompleteTerm);
//   - the profile review: once a match ended, for whatever reason, both
//     partners are asked to review their profiles (RequestProfileReview);
//   - the retention rule, when the program sets RetentionYears: a mentee
//     or mentor with no open match is erased that many years after their
//     registration, last sign-in or last match, whichever is latest
//     (EraseUnderRetention; see retention.go).
//
// Every rule fires once. What was done is read back from the log (the
// marks the rules append), so a restart or a replay fires nothing twice;
// the command side derives the rules' command IDs from the match and the
// domain decides nothing when a mark exists, so two managers racing, or a
// manager racing a restart of itself, append each mark once too.
//
// The manager also calls command.Service.Reconcile for the events that
// start or end a two-step command (RequestSlotTaken, CapacitySlotReserved,
// and the events that end a pending or active match) when, a grace period
// later, the log does not show the second step done. Reconcile is
// idempotent; the manager keeps in its StateStore (process.db in the data
// directory, or process/redis, shared by instances that run the manager in
// turn under a fenced lease) the position up to which this is settled, so
// a restart does not look at the whole history again. It also saves there
// what it learnt of the open matches, with the last event that reflects,
// so a restart reads only the log after that event (state.go). Losing that
// state costs time, not correctness.
//
// An event the manager cannot learn (a relevant event that does not decode,
// even when read again a few times) stops it at that event's position: it
// is never skipped, since skipping it could drop a time rule. A stopped
// manager applies and runs nothing more, and Healthy reports the position,
// until the cause is fixed and the server restarted.
//
// Time comes from the injected clock only. Tick and RunDue run what is due
// at a given time, for tests on a fake clock; Run sleeps on a timer until
// the next due time in production, and the clock still tells the time.
package process

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/internal/statecodec"
	"github.com/mentorship/mentorship/refusal"
)

// Commands is what the manager asks of the command side;
// *command.Service implements it.
type Commands interface {
	// Program returns the settings whose time rules the manager applies.
	Program() domain.Program
	// MarkResponseWindowElapsed marks a pending match's window elapsed.
	MarkResponseWindowElapsed(ctx context.Context, matchID uuid.UUID) (command.Result, error)
	// RemindFirstMeeting records that an active match's first-meeting
	// reminder is due.
	RemindFirstMeeting(ctx context.Context, matchID uuid.UUID) (command.Result, error)
	// CompleteTerm ends an active match at the end of its term.
	CompleteTerm(ctx context.Context, matchID uuid.UUID) (command.Result, error)
	// RequestProfileReview asks both partners of an ended match to review
	// their profiles.
	RequestProfileReview(ctx context.Context, matchID uuid.UUID) (command.Result, error)
	// EraseUnderRetention erases a member whom the retention rule makes
	// due; the member's stream refuses one who is not.
	EraseUnderRetention(ctx context.Context, memberID uuid.UUID) (command.Result, error)
	// Reconcile finishes or compensates what a crash cut short after rec.
	Reconcile(ctx context.Context, rec eventstore.RecordedEvent) error
}

// FileName is the manager's file inside the data directory.
const FileName = "process.db"

// Options tune a Manager.
type Options struct {
	// Logger receives what the manager does and what failed.
	Logger zerolog.Logger
	// ReconcileAfter is how long after an event the manager checks that
	// its command finished (10 s when 0). A command finishes within
	// milliseconds, so only a crash leaves work for Reconcile.
	ReconcileAfter time.Duration
	// RetryAfter is how long a failed step waits before it is tried again
	// (1 min when 0).
	RetryAfter time.Duration
	// Resolution is the least time between two runs of Run's loop, which
	// batches the work that falls due close together (1 s when 0).
	Resolution time.Duration
	// DecodeRetries is how often an event that does not decode is read
	// again before the manager stops on it (3 when 0).
	DecodeRetries int
	// DecodeRetryWait is the pause before the first read again; each
	// further one waits twice as long (100 ms when 0).
	DecodeRetryWait time.Duration
}

// rule is one of the time rules.
type rule uint8

const (
	ruleWindow rule = iota
	ruleReminder
	ruleTerm
	ruleReview
	// ruleCount counts the rules of a match, above.
	ruleCount
	// ruleRetention is the members' rule: its timers name a member.
	ruleRetention = ruleCount
)

// String names the rule in logs and errors.
func (r rule) String() string {
	return [...]string{"response window", "first-meeting reminder", "term", "profile review", "retention"}[r]
}

// match is what the manager knows of one match.
type match struct {
	mentee, mentor uuid.UUID
	status         domain.MatchStatus
	requestedAt    time.Time
	acceptedAt     time.Time
	endedAt        time.Time
	windowMarked   bool
	reminded       bool
	hasSession     bool
	reviewed       bool
	// fired marks rules this manager ran successfully whose mark it has
	// not read yet (or that decided nothing); retryAt delays a rule after
	// a failure.
	fired   [ruleCount]bool
	retryAt [ruleCount]time.Time
	// slots holds the slots members hold for the match: the partners',
	// so rarely more than two, which a slice keeps in a fraction of a
	// map's memory.
	slots []slot
}

// slot is the state of a member's slot for a match.
type slot struct {
	member uuid.UUID
	state  domain.SlotState
}

// slotOf returns the state of member's slot for the match, empty when the
// manager saw none.
func (m *match) slotOf(member uuid.UUID) domain.SlotState {
	for _, s := range m.slots {
		if s.member == member {
			return s.state
		}
	}
	return ""
}

// setSlot records the state of member's slot for the match.
func (m *match) setSlot(member uuid.UUID, state domain.SlotState) {
	for i := range m.slots {
		if m.slots[i].member == member {
			m.slots[i].state = state
			return
		}
	}
	m.slots = append(m.slots, slot{member: member, state: state})
}

// due returns when rule r of the match falls due, and false when it does
// not apply (any more).
func (m *match) due(p domain.Program, r rule) (time.Time, bool) {
	if m.fired[r] {
		return time.Time{}, false
	}
	var at time.Time
	switch {
	case r == ruleWindow && m.status == domain.StatusPending && !m.windowMarked:
		at = p.ResponseDeadline(m.requestedAt)
	case r == ruleReminder && m.status == domain.StatusActive && !m.reminded && !m.hasSession:
		at = p.FirstMeetingReminderAt(m.acceptedAt)
	case r == ruleTerm && m.status == domain.StatusActive:
		at = p.TermEnd(m.acceptedAt)
	case r == ruleReview && m.status == domain.StatusEnded && !m.reviewed:
		at = m.endedAt
	default:
		return time.Time{}, false
	}
	if at.Before(m.retryAt[r]) {
		at = m.retryAt[r]
	}
	return at, true
}

// held reports whether a partner still holds a slot for the match.
func (m *match) held() bool {
	for _, s := range m.slots {
		if s.state != domain.SlotReleased {
			return true
		}
	}
	return false
}

// idle reports whether nothing about the match can fall due any more, so
// the manager may forget it.
func (m *match) idle() bool {
	if m.held() {
		return false
	}
	switch m.status {
	case domain.StatusDeclined, domain.StatusCancelled:
		return true
	case domain.StatusEnded:
		return m.reviewed || m.fired[ruleReview]
	case "":
		// Slot events of a match the manager already forgot.
		return true
	}
	return false
}

// timer is a rule's due time in the schedule. id names the match, or the
// member for ruleRetention.
type timer struct {
	at   time.Time
	id   uuid.UUID
	rule rule
}

// schedule is a min-heap of due times. Entries may be stale: the manager
// checks the match's current due time when one comes up.
type schedule []timer

// Len, Less, Swap, Push and Pop make the schedule a container/heap with
// the earliest due time on top.
func (s schedule) Len() int { return len(s) }

// Less orders timers by due time.
func (s schedule) Less(i, j int) bool { return s[i].at.Before(s[j].at) }

// Swap swaps two timers.
func (s schedule) Swap(i, j int) { s[i], s[j] = s[j], s[i] }

// Push adds a timer; use heap.Push.
func (s *schedule) Push(x any) { *s = append(*s, x.(timer)) }

// Pop removes the last timer; use heap.Pop.
func (s *schedule) Pop() any {
	old := *s
	t := old[len(old)-1]
	*s = old[:len(old)-1]
	return t
}

// followUp is an event whose second step the manager checks once due.
type followUp struct {
	position eventstore.Position
	typ      string
	matchID  uuid.UUID
	memberID uuid.UUID
	at       time.Time
	attempts int
	retryAt  time.Time
}

// Manager runs the time rules and the reconciliation. Its methods are safe
// for concurrent use.
type Manager struct {
	store   eventstore.Store
	cmds    Commands
	clock   clock.Clock
	program domain.Program
	opts    Options
	log     zerolog.Logger
	st      StateStore

	mu       sync.Mutex
	read     statecodec.Checkpoint // the last event applied
	settled  eventstore.Position   // follow-ups up to here are done
	saved    eventstore.Position   // the settled position process.db holds
	matches  map[uuid.UUID]*match
	timers   schedule
	followUp []followUp        // in log order
	waiting  map[uuid.UUID]int // follow-ups per match
	// members holds the mentees and mentors for the retention rule; nil
	// while the rule is off, which spares the memory.
	members map[uuid.UUID]*member
	// loaded reports whether the saved state was looked for; stateAt is
	// the position of the state process.db holds, and saveEvery the least
	// number of events between two saves.
	loaded    bool
	stateAt   eventstore.Position
	saveEvery int

	// runner feeds the manager the log: catch-up, live delivery and the
	// poison policy. learnt wakes Run's timer when events were learnt.
	runner *follow.Runner
	learnt chan struct{}
	// position mirrors read.Pos for Position, which must not wait for a
	// step holding mu.
	position atomic.Uint64
}

// Open opens (creating when missing) the manager's file in dir, the data
// directory, and returns a manager over store that acts through cmds; see
// New.
func Open(dir string, store eventstore.Store, cmds Commands, clk clock.Clock, opts Options) (*Manager, error) {
	if err := cmds.Program().Validate(); err != nil {
		return nil, fmt.Errorf("process: %w", err)
	}
	f, err := OpenFile(dir)
	if err != nil {
		return nil, err
	}
	m, err := New(f, store, cmds, clk, opts)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return m, nil
}

// New returns a manager that keeps its state in st, over store, acting
// through cmds. It reads nothing of the log yet, not even its saved state,
// so that starting stays quick: Tick, RunDue and Run catch up with the log
// first. Close closes st.
func New(st StateStore, store eventstore.Store, cmds Commands, clk clock.Clock, opts Options) (*Manager, error) {
	program := cmds.Program()
	if err := program.Validate(); err != nil {
		return nil, fmt.Errorf("process: %w", err)
	}
	if opts.ReconcileAfter <= 0 {
		opts.ReconcileAfter = 10 * time.Second
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Minute
	}
	if opts.Resolution <= 0 {
		opts.Resolution = time.Second
	}
	if opts.DecodeRetries <= 0 {
		opts.DecodeRetries = 3
	}
	if opts.DecodeRetryWait <= 0 {
		opts.DecodeRetryWait = 100 * time.Millisecond
	}
	settled, err := st.Settled()
	if err != nil {
		return nil, fmt.Errorf("process: %w", err)
	}
	m := &Manager{
		store: store, cmds: cmds, clock: clk, program: program, opts: opts, st: st,
		log:     opts.Logger.With().Str("component", "process").Logger(),
		settled: settled, saved: settled, saveEvery: saveEvery,
		matches: make(map[uuid.UUID]*match), waiting: make(map[uuid.UUID]int),
	}
	if program.RetentionYears > 0 {
		m.members = make(map[uuid.UUID]*member)
	}
	m.learnt = make(chan struct{}, 1)
	m.runner = follow.NewRunner(store, follow.Options{Name: "process_manager", MaxRetries: opts.DecodeRetries, RetryWait: opts.DecodeRetryWait, Logger: m.log}, m)
	return m, nil
}

// Close records how far reconciliation is settled, saves what the
// manager learnt when that moved, and closes its store. Stop Run first.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var err error
	if m.read.Pos > m.stateAt && m.Healthy() == nil {
		err = m.saveState()
	}
	return errors.Join(err, m.save(), m.st.Close())
}

// save writes the settled position when it moved.
func (m *Manager) save() error {
	if m.settled <= m.saved {
		return nil
	}
	pos := m.settled
	if err := m.st.SaveSettled(pos); err != nil {
		return err
	}
	m.saved = pos
	return nil
}

// relevant reports whether events of type typ concern the manager: those
// of the program's time rules, and the slots of two-step commands.
func relevant(typ string) bool {
	return domain.Is[domain.TimeRuleEvent](typ) || domain.Is[domain.SlotEvent](typ)
}

// needsFollowUp reports whether an event of type typ starts or ends a
// two-step command that Reconcile may have to finish: a slot taken or
// reserved starts one (the match's own event follows), and the mentor's
// answer and the end of a match end one (the slots follow).
func needsFollowUp(typ string) bool {
	switch e, _ := domain.ZeroEvent(typ); e := e.(type) {
	case domain.SlotEvent:
		return e.SlotState() == domain.SlotPending || e.SlotState() == domain.SlotReserved
	case domain.StatusEvent:
		return e.MatchStatus() != domain.StatusPending
	}
	return false
}

// get returns the match, creating it.
func (m *Manager) get(id uuid.UUID) *match {
	mt, ok := m.matches[id]
	if !ok {
		mt = &match{}
		m.matches[id] = mt
	}
	return mt
}

// slot records a slot state of a match the manager knows; a release of a
// forgotten match's slot changes nothing.
func (m *Manager) slot(matchID, memberID uuid.UUID, state domain.SlotState, create bool) {
	mt, ok := m.matches[matchID]
	if !ok && !create {
		return
	}
	if !ok {
		mt = m.get(matchID)
	}
	mt.setSlot(memberID, state)
}

// Position is the global position of the last event the manager applied;
// 0 before its first catch-up. It never waits.
func (m *Manager) Position() eventstore.Position {
	return eventstore.Position(m.position.Load())
}

// Healthy reports the event the manager stopped on, as a
// *follow.PoisonError: one that does not decode even when read again, or
// that learning panicked on. It is nil while the manager runs.
func (m *Manager) Healthy() error {
	return m.runner.Healthy()
}

// Name identifies the manager among the followers of the log.
func (m *Manager) Name() string { return "process_manager" }

// Open loads the manager's saved state, once; the runner calls it before
// feeding the manager.
func (m *Manager) Open(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loaded {
		return nil
	}
	return m.load(ctx)
}

// Apply learns a batch of decoded events, for the runner. Events at or
// before the last applied one are skipped, so a batch delivered twice
// changes nothing. A panic while learning leaves part of an event learnt,
// so the runner stops the manager at that event rather than retry it.
func (m *Manager) Apply(events []follow.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ev := range events {
		if ev.Position <= m.read.Pos {
			continue
		}
		rec := recordOf(ev)
		if ev.Data == nil || (!relevant(ev.Type) && (m.members == nil || !retentionRelevant(ev.Type))) {
			m.advance(rec)
			continue
		}
		m.learn(rec, ev.Data)
	}
	m.saveIfDue()
	select {
	case m.learnt <- struct{}{}:
	default:
	}
	return nil
}

// recordOf is the stored event that ev was decoded from, without its data.
func recordOf(ev follow.Event) eventstore.RecordedEvent {
	return eventstore.RecordedEvent{ID: ev.ID, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Type: ev.Type, Metadata: ev.Meta}
}

// learn updates what the manager knows of the matches with a decoded
// event, schedules its rules and notes a follow-up.
func (m *Manager) learn(rec eventstore.RecordedEvent, ev domain.Event) {
	// Before the matches change: it looks at a match's status before the
	// event.
	m.learnMember(ev)
	var matchID, memberID uuid.UUID
	switch e := ev.(type) {
	case domain.MatchRequested:
		mt := m.get(e.MatchID)
		mt.mentee, mt.mentor, mt.status, mt.requestedAt = e.MenteeID, e.MentorID, domain.StatusPending, e.At
		m.schedule(e.MatchID, mt, ruleWindow)
		matchID = e.MatchID
	case domain.MatchAccepted:
		mt := m.get(e.MatchID)
		mt.mentee, mt.mentor, mt.status, mt.acceptedAt = e.MenteeID, e.MentorID, domain.StatusActive, e.At
		m.schedule(e.MatchID, mt, ruleReminder, ruleTerm)
		matchID = e.MatchID
	case domain.MatchDeclined:
		m.close(e.MatchID, e.MenteeID, e.MentorID, domain.StatusDeclined, e.At)
		matchID = e.MatchID
	case domain.MatchCancelled:
		m.close(e.MatchID, e.MenteeID, e.MentorID, domain.StatusCancelled, e.At)
		matchID = e.MatchID
	case domain.MatchEnded:
		mt := m.close(e.MatchID, e.MenteeID, e.MentorID, domain.StatusEnded, e.At)
		m.schedule(e.MatchID, mt, ruleReview)
		matchID = e.MatchID
	case domain.ResponseWindowElapsed:
		if mt, ok := m.matches[e.MatchID]; ok {
			mt.windowMarked = true
		}
	case domain.FirstMeetingReminderDue:
		if mt, ok := m.matches[e.MatchID]; ok {
			mt.reminded = true
		}
	case domain.ProfileReviewRequested:
		if mt, ok := m.matches[e.MatchID]; ok {
			mt.reviewed = true
		}
		matchID = e.MatchID
	case domain.SessionLogged:
		if mt, ok := m.matches[e.MatchID]; ok {
			mt.hasSession = true
		}
	case domain.RequestSlotTaken:
		m.slot(e.MatchID, e.MemberID, domain.SlotPending, true)
		matchID, memberID = e.MatchID, e.MemberID
	case domain.RequestSlotActivated:
		m.slot(e.MatchID, e.MemberID, domain.SlotActive, false)
	case domain.RequestSlotReleased:
		m.slot(e.MatchID, e.MemberID, domain.SlotReleased, false)
		matchID = e.MatchID
	case domain.CapacitySlotReserved:
		m.slot(e.MatchID, e.MemberID, domain.SlotReserved, true)
		matchID, memberID = e.MatchID, e.MemberID
	case domain.CapacitySlotReleased:
		m.slot(e.MatchID, e.MemberID, domain.SlotReleased, false)
		matchID = e.MatchID
	}
	if needsFollowUp(rec.Type) && rec.Position > m.settled {
		m.followUp = append(m.followUp, followUp{
			position: rec.Position, typ: rec.Type, matchID: matchID, memberID: memberID,
			at: rec.Metadata.OccurredAt.Add(m.opts.ReconcileAfter),
		})
		m.waiting[matchID]++
	}
	m.advance(rec)
	m.tidy(matchID)
}

// close records the end of a pending or active match.
func (m *Manager) close(id, mentee, mentor uuid.UUID, status domain.MatchStatus, at time.Time) *match {
	mt := m.get(id)
	mt.mentee, mt.mentor, mt.status, mt.endedAt = mentee, mentor, status, at
	return mt
}

// advance moves the read position to rec, and the settled one when no
// follow-up waits.
func (m *Manager) advance(rec eventstore.RecordedEvent) {
	m.read = statecodec.CheckpointOf(rec)
	m.position.Store(uint64(rec.Position))
	if len(m.followUp) == 0 {
		m.settled = max(m.settled, rec.Position)
	}
}

// tidy forgets a match once nothing about it can fall due, unless a
// follow-up still looks at it.
func (m *Manager) tidy(id uuid.UUID) {
	mt, ok := m.matches[id]
	if !ok || !mt.idle() || m.waiting[id] > 0 {
		return
	}
	delete(m.matches, id)
}

// schedule puts the due times of rules of a match on the schedule.
func (m *Manager) schedule(id uuid.UUID, mt *match, rules ...rule) {
	for _, r := range rules {
		if at, ok := mt.due(m.program, r); ok {
			heap.Push(&m.timers, timer{at: at, id: id, rule: r})
		}
	}
}

// CatchUp feeds the manager the log up to its head as it is now, through
// the runner that Run uses. The first call loads what the manager saved of
// the open matches and reads the log after it; without a usable saved
// state it reads the whole log, to learn every open match. Once the
// manager stopped at an event, it returns the error of Healthy.
func (m *Manager) CatchUp(ctx context.Context) error {
	return m.runner.CatchUp(ctx)
}

// RunDue runs everything due at now among the events applied so far: the
// follow-ups whose grace period is over, then the time rules. It returns
// how many steps ran and the failures, each of which is tried again after
// RetryAfter. A stopped manager runs nothing: what it knows ends before the
// event it stopped on, which may have changed what is due.
func (m *Manager) RunDue(ctx context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runDue(ctx, now)
}

func (m *Manager) runDue(ctx context.Context, now time.Time) (int, error) {
	if err := m.Healthy(); err != nil {
		return 0, err
	}
	n1, err1 := m.runFollowUps(ctx, now)
	n2, err2 := m.runRules(ctx, now)
	return n1 + n2, errors.Join(err1, err2, m.save())
}

// Tick catches up with the log and runs what is due at the clock's time,
// again and again while a step's events make more work due at once (the
// end of a term makes the profile review due). It stops after a few
// rounds, so that a rule that keeps failing cannot hold it.
func (m *Manager) Tick(ctx context.Context) error {
	var errs []error
	for range 8 {
		if err := m.CatchUp(ctx); err != nil {
			return errors.Join(append(errs, err)...)
		}
		n, err := m.RunDue(ctx, m.clock.Now())
		if err != nil {
			errs = append(errs, err)
		}
		if n == 0 || err != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// runRules runs the time rules due at now.
func (m *Manager) runRules(ctx context.Context, now time.Time) (int, error) {
	ran, erasures := 0, 0
	var errs []error
	// Retention timers past the batch go back once the run is over.
	var deferred []timer
	defer func() {
		for _, t := range deferred {
			heap.Push(&m.timers, t)
		}
	}()
	for m.timers.Len() > 0 && !m.timers[0].at.After(now) {
		t := heap.Pop(&m.timers).(timer)
		if t.rule == ruleRetention {
			if !m.memberDue(t, now) {
				continue
			}
			if erasures == retentionBatch {
				deferred = append(deferred, t)
				continue
			}
			if err := ctx.Err(); err != nil {
				heap.Push(&m.timers, t)
				return ran, err
			}
			ran++
			erasures++
			if err := m.retain(ctx, now, t.id); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		mt, ok := m.matches[t.id]
		if !ok {
			continue
		}
		at, ok := mt.due(m.program, t.rule)
		if !ok {
			continue
		}
		if at.After(now) {
			heap.Push(&m.timers, timer{at: at, id: t.id, rule: t.rule})
			continue
		}
		if err := ctx.Err(); err != nil {
			heap.Push(&m.timers, t)
			return ran, err
		}
		ran++
		err := m.fire(ctx, t.id, t.rule)
		log := m.log.With().Str("match_id", t.id.String()).Str("rule", t.rule.String()).Logger()
		if err != nil {
			mt.retryAt[t.rule] = now.Add(m.opts.RetryAfter)
			heap.Push(&m.timers, timer{at: mt.retryAt[t.rule], id: t.id, rule: t.rule})
			log.Warn().Err(err).Time("retry_at", mt.retryAt[t.rule]).Msg("time rule failed; will retry")
			errs = append(errs, fmt.Errorf("%s of match %s: %w", t.rule, t.id, err))
			continue
		}
		mt.fired[t.rule] = true
		log.Info().Msg("time rule ran")
		m.tidy(t.id)
	}
	return ran, errors.Join(errs...)
}

func (m *Manager) fire(ctx context.Context, id uuid.UUID, r rule) error {
	var err error
	switch r {
	case ruleWindow:
		_, err = m.cmds.MarkResponseWindowElapsed(ctx, id)
	case ruleReminder:
		_, err = m.cmds.RemindFirstMeeting(ctx, id)
	case ruleTerm:
		_, err = m.cmds.CompleteTerm(ctx, id)
	case ruleReview:
		_, err = m.cmds.RequestProfileReview(ctx, id)
	}
	return err
}

// finished reports whether the log, as applied so far, shows the second
// step of f done. When unsure it says no: Reconcile is idempotent, so an
// unneeded call costs a few reads, while a wrong yes would leave a slot
// held for ever.
func (m *Manager) finished(f followUp) bool {
	mt, ok := m.matches[f.matchID]
	if !ok {
		// Forgotten: the match was over and its slots released.
		return true
	}
	switch e, _ := domain.ZeroEvent(f.typ); e.(type) {
	case domain.RequestSlotTaken:
		return mt.status != "" && mt.mentee == f.memberID
	case domain.CapacitySlotReserved:
		return mt.status == domain.StatusActive || mt.slotOf(f.memberID) == domain.SlotReleased
	case domain.MatchAccepted:
		return mt.slotOf(mt.mentee) != domain.SlotPending
	default:
		return !mt.held()
	}
}

// runFollowUps checks the follow-ups due at now and calls Reconcile for
// those the log does not show finished.
func (m *Manager) runFollowUps(ctx context.Context, now time.Time) (int, error) {
	ran := 0
	var errs []error
	kept := m.followUp[:0]
	var done []uuid.UUID
	for i, f := range m.followUp {
		if f.at.After(now) || f.retryAt.After(now) {
			kept = append(kept, f)
			continue
		}
		if err := ctx.Err(); err != nil {
			kept = append(kept, m.followUp[i:]...)
			break
		}
		if !m.finished(f) {
			ran++
			if err := m.reconcileLogged(ctx, f); err != nil {
				f.attempts++
				f.retryAt = now.Add(m.opts.RetryAfter)
				kept = append(kept, f)
				errs = append(errs, err)
				continue
			}
		}
		done = append(done, f.matchID)
	}
	clear(m.followUp[len(kept):])
	m.followUp = kept
	m.settled = m.read.Pos
	if len(kept) > 0 {
		m.settled = kept[0].position - 1
	}
	for _, id := range done {
		if m.waiting[id]--; m.waiting[id] <= 0 {
			delete(m.waiting, id)
			m.tidy(id)
		}
	}
	return ran, errors.Join(append(errs, ctx.Err())...)
}

// reconcileLogged calls Reconcile for f and logs the outcome. It returns
// an error only when trying again later may help.
func (m *Manager) reconcileLogged(ctx context.Context, f followUp) error {
	log := m.log.With().Str("match_id", f.matchID.String()).Str("event", f.typ).Uint64("position", uint64(f.position)).Logger()
	err := m.reconcile(ctx, f)
	switch {
	case err == nil:
		log.Info().Msg("unfinished command reconciled")
		return nil
	case refusal.CodeOf(err) != "":
		// The domain refuses the second step for good (the match ID
		// belongs to another request): nothing more can be done.
		log.Warn().Err(err).Msg("unfinished command refused; left as it is")
		return nil
	default:
		log.Warn().Err(err).Int("attempts", f.attempts+1).Msg("reconcile failed; will retry")
		return fmt.Errorf("reconcile %s at %d: %w", f.typ, f.position, err)
	}
}

// reconcile reads the event of f back from the log and hands it to
// Reconcile.
func (m *Manager) reconcile(ctx context.Context, f followUp) error {
	recs, err := m.store.ReadAll(ctx, f.position-1, 1)
	if err != nil {
		return err
	}
	if len(recs) == 0 || recs[0].Position != f.position {
		return fmt.Errorf("event at position %d not found", f.position)
	}
	return m.cmds.Reconcile(ctx, recs[0])
}

// next returns when something falls due next, and false when nothing
// waits.
func (m *Manager) next() (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var at time.Time
	ok := false
	if m.timers.Len() > 0 {
		at, ok = m.timers[0].at, true
	}
	for _, f := range m.followUp {
		due := f.at
		if f.retryAt.After(due) {
			due = f.retryAt
		}
		if !ok || due.Before(at) {
			at, ok = due, true
		}
	}
	return at, ok
}

// maxSleep bounds how long Run sleeps without looking at the clock again,
// so that a clock that jumps (an operator's offset, a corrected wall clock)
// is noticed.
const maxSleep = time.Minute

// Run applies the log as it grows and runs what falls due, until ctx ends:
// the runner feeds it the log (catching up, then live), and a timer wakes
// it for the next due time, at most maxSleep and at least Resolution after
// the last run. A failure of the store is logged and both start over after
// a pause. An event the manager cannot learn stops it: Run then waits for
// ctx to end, and Healthy says where it stopped.
func (m *Manager) Run(ctx context.Context) error {
	return m.runner.RunWith(ctx, func(ctx context.Context) error {
		m.runLoop(ctx)
		return nil
	})
}

// runLoop runs what falls due until ctx ends. The timer only paces the
// loop; the clock tells the program's time. After a run the loop cools
// down for Resolution, so that work falling due close together runs in
// one batch.
func (m *Manager) runLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	cooling := false
	wait := func() time.Duration {
		if at, ok := m.next(); ok {
			return min(max(at.Sub(m.clock.Now()), 0), maxSleep)
		}
		return maxSleep
	}
	reset := func(d time.Duration) {
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(d)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.learnt:
			if !cooling {
				reset(wait())
			}
		case <-t.C:
			if cooling {
				cooling = false
				if d := wait(); d > 0 {
					reset(d)
					continue
				}
			}
			if _, err := m.RunDue(ctx, m.clock.Now()); err != nil && ctx.Err() == nil {
				m.log.Debug().Err(err).Msg("some due steps failed")
			}
			cooling = true
			reset(m.opts.Resolution)
		}
	}
}

// CopyFile writes a consistent copy of the manager's file, as of one read
