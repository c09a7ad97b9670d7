package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Options size a generated program.
type Options struct {
	// Mentors and Mentees count the members to register.
	Mentors int
	Mentees int
	// Events is the size of the log to aim for. Members' registrations
	// and profiles come first; matches are then planned until their
	// events bring the log to Events by the last simulated day. The log
	// may end a little short of Events when every mentee is busy, and it
	// holds at least the members' events.
	Events int
	// Seed drives every random draw: the same options give the same
	// program, stream for stream and event for event.
	Seed uint64
	// Days is how many days of history are simulated (730 when 0).
	Days int
	// End is the simulated present: the history runs until the day before
	// it. Required, so that a seed alone fixes every event.
	End time.Time
	// Workers is how many commands run at once (8 when 0). Streams are
	// the same for any number of workers; only how they interleave in
	// the global log differs.
	Workers int
	// Progress, when set, is called after each simulated day with the
	// number of events written so far.
	Progress func(written int)
}

// Stats tell what Generate wrote.
type Stats struct {
	// Mentors and Mentees count the registered members.
	Mentors, Mentees int
	// Matches counts the matches by their status at the end.
	Matches map[domain.MatchStatus]int
	// EndReasons counts the ended matches by reason.
	EndReasons map[string]int
	// Sessions counts the meeting logs.
	Sessions int
	// Events counts the events written.
	Events int
	// Staff is the member ID of the staff member who nudges mentors and
	// ends matches.
	Staff uuid.UUID
}

// Generate simulates a program over opts.Days days and writes it to store
// through command.Service, so that every event is decided by the
// program's rules: members join and fill their profiles, mentees request
// mentors who accept, decline or let the window elapse, mentees cancel,
// partners log sessions, staff nudge and end matches with each reason, and
// terms complete. Each command runs with the simulated time of its step.
// Commands of one simulated day run on opts.Workers goroutines at once,
// in waves in which no two actions append to the same member's stream; the
// plan never lets two of them contend for a rule (a capacity, a pending
// slot), so any interleaving writes the same streams.
//
// No member gets an account: bulk members cannot sign in.
func Generate(ctx context.Context, store eventstore.Store, program domain.Program, opts Options) (Stats, error) {
	if opts.Mentors < 0 || opts.Mentees < 0 || opts.Events < 0 {
		return Stats{}, errors.New("generate: counts must not be negative")
	}
	if opts.End.IsZero() {
		return Stats{}, errors.New("generate: the end time is required")
	}
	if opts.Days <= 0 {
		opts.Days = 730
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if err := program.Validate(); err != nil {
		return Stats{}, fmt.Errorf("generate: %w", err)
	}
	pl := newPlanner(program, opts)
	ex, err := newExecutor(ctx, store, program, pl, opts.Workers)
	if err != nil {
		return Stats{}, err
	}
	defer ex.stop()
	if err := ex.runOne(action{kind: kindStaff, at: pl.dayStart(0)}); err != nil {
		return Stats{}, fmt.Errorf("generate: %w", err)
	}
	for d := range opts.Days {
		pl.plan(d)
		for _, phase := range pl.buckets[d] {
			for _, wave := range pl.waves(phase) {
				if err := ex.run(wave); err != nil {
					return Stats{}, fmt.Errorf("generate: day %d: %w", d, err)
				}
			}
		}
		pl.buckets[d] = [2][]action{}
		if opts.Progress != nil {
			opts.Progress(ex.written())
		}
	}
	st := pl.stats()
	st.Events = ex.written()
	return st, nil
}

// kind names what an action does.
type kind uint8

const (
	kindStaff kind = iota
	kindMentor
	kindMentee
	kindRequest
	kindWindow
	kindNudgeRequest
	kindNudge
	kindAccept
	kindDecline
	kindCancel
	kindSession
	kindReminder
	kindEnd
	kindTerm
	kindProfile
)

// events is how many events an action appends; an action that appends a
// different number is a planning error.
func (t action) events(pl *planner) int {
	switch t.kind {
	case kindStaff, kindWindow, kindNudgeRequest, kindNudge, kindReminder, kindProfile:
		return 1
	case kindMentor:
		m := pl.mentors[t.member]
		n := 2
		if int(m.capacity) != pl.program.DefaultMentorCapacity {
			n++
		}
		if !m.accepting {
			n++
		}
		return n
	case kindMentee, kindRequest, kindDecline, kindCancel:
		return 2
	case kindAccept:
		return 3
	case kindSession:
		return popcount(t.arg)
	case kindEnd, kindTerm:
		return 4
	}
	return 0
}

func popcount(v int32) int {
	n := 0
	for ; v != 0; v &= v - 1 {
		n++
	}
	return n
}

// Session authors, as bits of a session action's arg.
const (
	byMentee = 1 << iota
	byMentor
)

// action is one step of the simulation: one or a few commands of one actor.
type action struct {
	kind   kind
	at     time.Time
	member int32 // the member of a registration or profile action
	match  int32 // the match of a match action
	arg    int32 // what else the action needs: authors, a reason, a count
}

// mentorState is what the planner tracks of a mentor.
type mentorState struct {
	discipline uint8
	specialty  uint8
	capacity   uint8
	accepting  bool
	joined     int32
	updates    uint8
	used       int32 // matches active or accepted today
	promised   int32 // planned accepts still to come
}

// menteeState is what the planner tracks of a mentee.
type menteeState struct {
	discipline uint8
	specialty  uint8
	updates    uint8
}

// matchPlan is a planned match.
type matchPlan struct {
	mentee, mentor int32
	accepted       time.Time
	status         domain.MatchStatus
	endReason      string
	sessions       int32
}

// planner decides, day by day, what members do. It alone holds random
// state, so the plan depends on the seed and nothing else.
type planner struct {
	program domain.Program
	opts    Options
	r       *rand.Rand
	first   time.Time // the first simulated day
	seed    string

	mentors      []mentorState
	mentees      []menteeState
	byDiscipline [][]int32 // mentor indexes by discipline
	matches      []matchPlan

	buckets [][2][]action // by day: closing actions, then opening actions
	ready   [][]int32     // by day: mentees who want a mentor from that day
	pool    []int32       // mentees who want a mentor now
	resting [][]int32     // by day: mentees whose match closed, who may come back
	dormant []int32       // mentees who may come back when the plan needs them

	matchBudget int // events left for matches
	committed   int // match events planned
	windowDays  int
	reminder    int // days after the accept when the reminder is due
	sessions    int
}

// Reasons draw weights: Graceful Exit is the most common early end.
var (
	endReasonWeights     = []int{40, 30, 15, 15} // in the order of Program.EndReasons
	declineReasonWeights = []int{35, 30, 15, 10, 10}
)

func newPlanner(program domain.Program, opts Options) *planner {
	endDay := opts.End.In(program.Location)
	endDay = time.Date(endDay.Year(), endDay.Month(), endDay.Day(), 0, 0, 0, 0, program.Location)
	pl := &planner{
		program:    program,
		opts:       opts,
		r:          rand.New(rand.NewPCG(opts.Seed, 0x5eed)),
		first:      endDay.AddDate(0, 0, -opts.Days),
		seed:       strconv.FormatUint(opts.Seed, 10),
		buckets:    make([][2][]action, opts.Days),
		ready:      make([][]int32, opts.Days),
		resting:    make([][]int32, opts.Days),
		windowDays: int(program.ResponseWindow/(24*time.Hour)) + 1,
		reminder:   int(program.FirstMeetingReminder/(24*time.Hour)) + 1,
	}
	pl.byDiscipline = make([][]int32, len(disciplines))
	memberEvents := 1 // the staff member
	pl.mentors = make([]mentorState, opts.Mentors)
	for i := range pl.mentors {
		p := pl.person(domain.RoleMentor, i)
		di, si := indexes(p)
		m := mentorState{discipline: di, specialty: si, capacity: uint8(max(p.capacity, 1)), accepting: p.accepting}
		// A founding cohort of mentors, then a steady trickle.
		if pl.r.IntN(3) == 0 {
			m.joined = int32(pl.r.IntN(max(opts.Days/20, 1)))
		} else {
			m.joined = int32(pl.r.IntN(max(opts.Days*3/5, 1)))
		}
		pl.mentors[i] = m
		pl.byDiscipline[di] = append(pl.byDiscipline[di], int32(i))
		t := action{kind: kindMentor, at: pl.timeOn(int(m.joined)), member: int32(i)}
		pl.buckets[m.joined][1] = append(pl.buckets[m.joined][1], t)
		memberEvents += t.events(pl)
	}
	pl.mentees = make([]menteeState, opts.Mentees)
	for i := range pl.mentees {
		p := pl.person(domain.RoleMentee, i)
		di, si := indexes(p)
		pl.mentees[i] = menteeState{discipline: di, specialty: si}
		joined := pl.r.IntN(max(opts.Days*17/20, 1))
		t := action{kind: kindMentee, at: pl.timeOn(joined), member: int32(i)}
		pl.buckets[joined][1] = append(pl.buckets[joined][1], t)
		memberEvents += t.events(pl)
		if wants := joined + 1 + pl.r.IntN(30); wants < opts.Days {
			pl.ready[wants] = append(pl.ready[wants], int32(i))
		}
	}
	pl.matchBudget = max(opts.Events-memberEvents, 0)
	return pl
}

// person generates member i of role, the same every time for a seed.
func (pl *planner) person(role domain.Role, i int) person {
	stream := uint64(i) << 1
	if role == domain.RoleMentor {
		stream |= 1
	}
	p := newPerson(rand.New(rand.NewPCG(pl.opts.Seed, stream)), role, spec{}, "example.com")
	p.email = fmt.Sprintf("%s.%s.%d@members.example.net", emailLocal(firstWord(p.profile.Name)), roleWord(role), i)
	return p
}

func firstWord(name string) string {
	for i, r := range name {
		if r == ' ' {
			return name[:i]
		}
	}
	return name
}

func roleWord(role domain.Role) string {
	if role == domain.RoleMentor {
		return "mentor"
	}
	return "mentee"
}

func indexes(p person) (uint8, uint8) {
	for i, d := range disciplines {
		if d.code == p.profile.Discipline {
			return uint8(i), uint8(max(slices.Index(d.specialties, p.specialty), 0))
		}
	}
	return 0, 0
}

func (pl *planner) dayStart(d int) time.Time { return pl.first.AddDate(0, 0, d) }

// timeOn draws a time in the working hours of day d.
func (pl *planner) timeOn(d int) time.Time {
	return pl.dayStart(d).Add(7*time.Hour + time.Duration(pl.r.IntN(12*3600))*time.Second)
}

func (pl *planner) dayOf(t time.Time) int {
	return int(t.Sub(pl.first) / (24 * time.Hour))
}

// schedule puts an action on its day, closing or opening, unless the day is
// past the end; it reports whether it did, and counts the action's events.
func (pl *planner) schedule(day int, t action) bool {
	if day >= pl.opts.Days {
		return false
	}
	t.at = pl.timeOn(day)
	phase := 1
	switch t.kind {
	case kindWindow, kindNudgeRequest, kindNudge, kindDecline, kindCancel, kindReminder, kindEnd, kindTerm:
		phase = 0
	}
	pl.buckets[day][phase] = append(pl.buckets[day][phase], t)
	pl.committed += t.events(pl)
	return true
}

// plan applies day d's planned actions to the planner's state and plans the
// day's new requests.
func (pl *planner) plan(d int) {
	for _, phase := range pl.buckets[d] {
		for _, t := range phase {
			pl.apply(t)
		}
	}
	pl.pool = append(pl.pool, pl.ready[d]...)
	pl.ready[d] = nil
	pl.dormant = append(pl.dormant, pl.resting[d]...)
	pl.resting[d] = nil
	target := int(int64(pl.matchBudget) * int64(d+1) / int64(pl.opts.Days))
	for pl.committed < target {
		// Mentees who want a mentor come first; when there are too few
		// for the plan, former mentees come back.
		from := &pl.pool
		if len(pl.pool) == 0 {
			from = &pl.dormant
		}
		if len(*from) == 0 {
			return
		}
		k := pl.r.IntN(len(*from))
		mentee := (*from)[k]
		mentor, ok := pl.pickMentor(d, mentee)
		if !ok {
			return
		}
		(*from)[k] = (*from)[len(*from)-1]
		*from = (*from)[:len(*from)-1]
		pl.planMatch(d, mentee, mentor)
	}
}

// waves splits a phase's actions so that no two actions of a wave append to
// the same member's stream, and the actions of a member run in plan order:
// each stream then receives the same events in the same order however the
// workers interleave. Match streams get at most one action a day.
func (pl *planner) waves(actions []action) [][]action {
	var out [][]action
	seen := map[int64]int{} // member key -> actions of the phase touching it so far
	for _, t := range actions {
		keys := pl.touches(t)
		w := 0
		for _, k := range keys {
			w = max(w, seen[k])
		}
		for _, k := range keys {
			seen[k] = w + 1
		}
		for len(out) <= w {
			out = append(out, nil)
		}
		out[w] = append(out[w], t)
	}
	return out
}

// touches returns the keys of the member streams an action appends to:
// mentee i as i, mentor i as -1-i.
func (pl *planner) touches(t action) []int64 {
	mentee := func(i int32) int64 { return int64(i) }
	mentor := func(i int32) int64 { return -1 - int64(i) }
	switch t.kind {
	case kindMentee:
		return []int64{mentee(t.member)}
	case kindMentor:
		return []int64{mentor(t.member)}
	case kindProfile:
		// A profile action encodes a mentor as -1-i already.
		return []int64{int64(t.member)}
	case kindRequest, kindDecline, kindCancel:
		return []int64{mentee(pl.matches[t.match].mentee)}
	case kindAccept, kindEnd, kindTerm:
		m := pl.matches[t.match]
		return []int64{mentee(m.mentee), mentor(m.mentor)}
	}
	return nil
}

// apply records what an action changes in the state the planner decides on.
func (pl *planner) apply(t action) {
	switch t.kind {
	case kindAccept:
		m := &pl.matches[t.match]
		mt := &pl.mentors[m.mentor]
		mt.used++
		mt.promised--
		m.status, m.accepted = domain.StatusActive, t.at
	case kindEnd, kindTerm:
		m := &pl.matches[t.match]
		pl.mentors[m.mentor].used--
		m.status = domain.StatusEnded
		m.endReason = domain.EndReasonTermCompleted
		if t.kind == kindEnd {
			m.endReason = pl.program.EndReasons[t.arg]
		}
	case kindDecline:
		pl.matches[t.match].status = domain.StatusDeclined
	case kindCancel:
		pl.matches[t.match].status = domain.StatusCancelled
	case kindSession:
		pl.matches[t.match].sessions += int32(popcount(t.arg))
		pl.sessions += popcount(t.arg)
	}
}

// pickMentor finds a mentor who may be requested on day d and has room for
// one more accept: of the mentee's discipline when possible.
func (pl *planner) pickMentor(d int, mentee int32) (int32, bool) {
	free := func(i int32) bool {
		m := &pl.mentors[i]
		return m.accepting && int(m.joined) < d && m.used+m.promised < int32(m.capacity)
	}
	same := pl.byDiscipline[pl.mentees[mentee].discipline]
	for range 8 {
		if len(same) == 0 {
			break
		}
		if i := same[pl.r.IntN(len(same))]; free(i) {
			return i, true
		}
	}
	if len(pl.mentors) == 0 {
		return 0, false
	}
	for range 32 {
		if i := int32(pl.r.IntN(len(pl.mentors))); free(i) {
			return i, true
		}
	}
	// Few mentors have room: look at them all, from a random start.
	start := pl.r.IntN(len(pl.mentors))
	for k := range len(pl.mentors) {
		if i := int32((start + k) % len(pl.mentors)); free(i) {
			return i, true
		}
	}
	return 0, false
}

// planMatch plans a request and everything that follows from it: the
// answer (or a withdrawal), the window and nudges when the mentor is slow,
// the sessions, the end, the profile reviews and whether the mentee asks
// again.
func (pl *planner) planMatch(d int, mentee, mentor int32) {
	idx := int32(len(pl.matches))
	pl.matches = append(pl.matches, matchPlan{mentee: mentee, mentor: mentor, status: domain.StatusPending})
	pl.schedule(d, action{kind: kindRequest, match: idx})
	pl.mentors[mentor].promised++

	// The answer: most mentors answer within a week, some take two, and
	// a few let the response window elapse.
	delay := 1 + pl.r.IntN(7)
	switch n := pl.r.IntN(10); {
	case n == 9:
		delay = pl.windowDays + 4 + pl.r.IntN(17)
	case n >= 7:
		delay = 8 + pl.r.IntN(pl.windowDays-8)
	}
	if delay > pl.windowDays {
		pl.schedule(d+pl.windowDays, action{kind: kindWindow, match: idx})
		if pl.r.IntN(5) < 3 {
			pl.schedule(d+pl.windowDays+1, action{kind: kindNudgeRequest, match: idx})
			pl.schedule(d+pl.windowDays+2+pl.r.IntN(2), action{kind: kindNudge, match: idx})
		}
	}
	answer := d + delay
	outcome := pl.r.IntN(100)
	if delay > pl.windowDays {
		outcome -= 15 // slow mentors are withdrawn from more often
	}
	switch {
	case outcome < 12:
		pl.mentors[mentor].promised--
		pl.schedule(answer, action{kind: kindCancel, match: idx})
		pl.returns(answer, mentee, 50, 3, 30)
	case outcome < 32:
		pl.mentors[mentor].promised--
		reason := pl.reason(len(pl.program.DeclineReasons), declineReasonWeights)
		pl.schedule(answer, action{kind: kindDecline, match: idx, arg: reason})
		pl.returns(answer, mentee, 70, 1, 14)
	default:
		if !pl.schedule(answer, action{kind: kindAccept, match: idx}) {
			return
		}
		pl.planActive(answer, idx)
	}
}

// planActive plans an accepted match from its day: sessions, the
// first-meeting reminder when the first meeting is late, and the end.
func (pl *planner) planActive(accepted int, idx int32) {
	m := pl.matches[idx]
	acceptedAt := pl.buckets[accepted][1][len(pl.buckets[accepted][1])-1].at
	termEnds := pl.dayOf(pl.program.TermEnd(acceptedAt)) + 1
	end, early := termEnds, pl.r.IntN(100) < 35
	if early {
		end = accepted + 30 + pl.r.IntN(300)
	}
	day := accepted + 5 + pl.r.IntN(26)
	if day > accepted+pl.reminder && accepted+pl.reminder < end {
		pl.schedule(accepted+pl.reminder, action{kind: kindReminder, match: idx})
	}
	for day < end {
		authors := int32(0)
		if pl.r.IntN(100) < 85 {
			authors |= byMentee
		}
		if pl.r.IntN(100) < 50 {
			authors |= byMentor
		}
		if authors == 0 {
			authors = byMentee
		}
		pl.schedule(day, action{kind: kindSession, match: idx, arg: authors})
		day += 14 + pl.r.IntN(27)
	}
	if early {
		reason := pl.reason(len(pl.program.EndReasons), endReasonWeights)
		if !pl.schedule(end, action{kind: kindEnd, match: idx, arg: reason}) {
			return
		}
		pl.returns(end, m.mentee, 25, 14, 90)
	} else {
		if !pl.schedule(end, action{kind: kindTerm, match: idx}) {
			return
		}
		pl.returns(end, m.mentee, 30, 14, 90)
	}
	// Asked to review their profiles, some partners do.
	if pl.r.IntN(100) < 30 {
		pl.mentees[m.mentee].updates++
		pl.schedule(end+1+pl.r.IntN(20), action{kind: kindProfile, member: m.mentee, arg: int32(pl.mentees[m.mentee].updates)})
	}
	if pl.r.IntN(100) < 15 {
		pl.mentors[m.mentor].updates++
		pl.schedule(end+1+pl.r.IntN(20), action{kind: kindProfile, member: -1 - m.mentor, arg: int32(pl.mentors[m.mentor].updates)})
	}
}

// reason draws the index of one of n reasons, with weights when they fit
// the program's list.
func (pl *planner) reason(n int, weights []int) int32 {
	if len(weights) != n {
		return int32(pl.r.IntN(n))
	}
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return pickWeighted(pl.r, idx, weights)
}

// returns makes a mentee want a mentor again, with probability pct in
// percent, between lo and hi days after day; otherwise the mentee rests
// and comes back only when the plan runs short of mentees.
func (pl *planner) returns(day int, mentee int32, pct, lo, hi int) {
	again := day + lo + pl.r.IntN(hi-lo+1)
	if again >= pl.opts.Days {
		return
	}
	if pl.r.IntN(100) >= pct {
		pl.resting[again] = append(pl.resting[again], mentee)
		return
	}
	pl.ready[again] = append(pl.ready[again], mentee)
}

func (pl *planner) stats() Stats {
	st := Stats{
		Mentors: len(pl.mentors), Mentees: len(pl.mentees), Sessions: pl.sessions,
		Matches: map[domain.MatchStatus]int{}, EndReasons: map[string]int{},
		Staff: pl.staffID(),
	}
	for _, m := range pl.matches {
		st.Matches[m.status]++
		if m.status == domain.StatusEnded {
			st.EndReasons[m.endReason]++
		}
	}
	return st
}

// IDs, all derived from the seed.

func (pl *planner) memberID(role domain.Role, i int32) uuid.UUID {
	return domain.EventID("seed-member", pl.seed, string(role), strconv.Itoa(int(i)))
}

func (pl *planner) staffID() uuid.UUID {
	return domain.EventID("seed-member", pl.seed, string(domain.RoleStaff), "0")
}

func (pl *planner) commandID(what string, match int32) string {
	return "seed:" + pl.seed + ":" + what + ":" + strconv.Itoa(int(match))
}

func (pl *planner) matchID(match int32) uuid.UUID {
	return command.MatchIDFor(pl.commandID("request", match))
}

// executor runs actions on a pool of workers, each with its own clock.
type executor struct {
	pl      *planner
	ctx     context.Context
	cancel  context.CancelFunc
	actions chan action
	results chan error
	wg      sync.WaitGroup
	mu      sync.Mutex
	count   int
}

func newExecutor(ctx context.Context, store eventstore.Store, program domain.Program, pl *planner, workers int) (*executor, error) {
	ctx, cancel := context.WithCancel(ctx)
	ex := &executor{pl: pl, ctx: ctx, cancel: cancel, actions: make(chan action), results: make(chan error)}
	cache := newStreamCache(store)
	for range workers {
		clk := clock.NewFake(pl.first)
		cmds, err := command.New(cache, program, clk, command.Options{})
		if err != nil {
			cancel()
			return nil, err
		}
		w := &worker{pl: pl, cmds: cmds, clk: clk, cache: cache}
		ex.wg.Add(1)
		go func() {
			defer ex.wg.Done()
			for t := range ex.actions {
				err := w.run(ex.ctx, t)
				if err == nil {
					ex.mu.Lock()
					ex.count += t.events(pl)
					ex.mu.Unlock()
				}
				ex.results <- err
			}
		}()
	}
	return ex, nil
}

// run runs actions at once and returns the first error.
func (ex *executor) run(actions []action) error {
	var first error
	sent, done := 0, 0
	for done < len(actions) {
		var send chan action
		var next action
		if sent < len(actions) && first == nil {
			send, next = ex.actions, actions[sent]
		}
		select {
		case send <- next:
			sent++
		case err := <-ex.results:
			done++
			if err != nil && first == nil {
				first = err
				ex.cancel()
			}
			if first != nil && done == sent {
				return first
			}
		}
	}
	return first
}

func (ex *executor) runOne(t action) error { return ex.run([]action{t}) }

func (ex *executor) written() int {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.count
}

func (ex *executor) stop() {
	close(ex.actions)
	ex.wg.Wait()
	ex.cancel()
}

// worker runs actions through its own command service, whose clock it sets
// to each action's time.
type worker struct {
	pl    *planner
	cmds  *command.Service
	clk   *clock.Fake
	cache *streamCache
}

// errNothing reports a command that decided nothing where the plan
// expected events.
var errNothing = errors.New("the command decided nothing")

func (w *worker) run(ctx context.Context, t action) error {
	pl := w.pl
	w.clk.Set(t.at)
	// Each command of an action happens two minutes after the previous one.
	next := func(res command.Result, err error) error {
		w.clk.Advance(2 * time.Minute)
		if err == nil && res.Position == eventstore.Start {
			err = errNothing
		}
		return err
	}
	r := rand.New(rand.NewPCG(pl.opts.Seed, uint64(t.kind)<<40|uint64(uint32(t.match))<<8|uint64(t.at.Unix()&0xff)))
	staff := domain.Actor{ID: pl.staffID(), Role: domain.RoleStaff}
	switch t.kind {
	case kindStaff:
		req := command.Request{Actor: domain.SystemActor(), CommandID: pl.commandID("staff", 0)}
		return next(w.cmds.RegisterMember(ctx, req, staff.ID, domain.RoleStaff, "Program Coordinator", "coordinator@members.example.net"))
	case kindMentor, kindMentee:
		return w.register(ctx, t, next)
	case kindProfile:
		role, i := domain.RoleMentee, t.member
		if i < 0 {
			role, i = domain.RoleMentor, -1-i
		}
		p := pl.person(role, int(i))
		pr := reviewed(rand.New(rand.NewPCG(pl.opts.Seed, uint64(i)<<8|uint64(t.arg))), p.profile, int(t.arg))
		a := domain.Actor{ID: pl.memberID(role, i), Role: role}
		req := command.Request{Actor: a, CommandID: pl.commandID("profile-"+string(role)+"-"+strconv.Itoa(int(t.arg)), i)}
		return wrap(t, next(w.cmds.UpdateProfile(ctx, req, a.ID, pr)))
	}

	m := pl.matches[t.match]
	id := pl.matchID(t.match)
	mentee := domain.Actor{ID: pl.memberID(domain.RoleMentee, m.mentee), Role: domain.RoleMentee}
	mentor := domain.Actor{ID: pl.memberID(domain.RoleMentor, m.mentor), Role: domain.RoleMentor}
	req := func(a domain.Actor, what string) command.Request {
		return command.Request{Actor: a, CommandID: pl.commandID(what, t.match)}
	}
	var err error
	switch t.kind {
	case kindRequest:
		ms := pl.mentors[m.mentor]
		msg := fmt.Sprintf(pick(r, requestMessages), disciplines[ms.discipline].specialties[ms.specialty])
		var got uuid.UUID
		var res command.Result
		got, res, err = w.cmds.RequestMatch(ctx, req(mentee, "request"), mentor.ID, msg)
		err = next(res, err)
		if err == nil && got != id {
			err = fmt.Errorf("match ID %s, planned %s", got, id)
		}
	case kindWindow:
		err = next(w.cmds.MarkResponseWindowElapsed(ctx, id))
	case kindNudgeRequest:
		err = next(w.cmds.RequestNudge(ctx, req(mentee, "nudge-request"), id))
	case kindNudge:
		err = next(w.cmds.NudgeMentor(ctx, req(staff, "nudge"), id, pick(r, nudgeNotes)))
	case kindAccept:
		err = next(w.cmds.AcceptMatch(ctx, req(mentor, "accept"), id))
	case kindDecline:
		reason := pl.program.DeclineReasons[t.arg]
		err = next(w.cmds.DeclineMatch(ctx, req(mentor, "decline"), id, reason, pick(r, declineMessages)))
	case kindCancel:
		err = next(w.cmds.CancelMatch(ctx, req(mentee, "cancel"), id))
	case kindSession:
		err = w.sessions(ctx, t, r, mentee, mentor, m, next)
	case kindReminder:
		err = next(w.cmds.RemindFirstMeeting(ctx, id))
	case kindEnd:
		reason := pl.program.EndReasons[t.arg]
		by := mentee.ID
		if r.IntN(3) == 0 {
			by = mentor.ID
		}
		err = next(w.cmds.EndMatch(ctx, req(staff, "end"), id, reason, by, pick(r, staffNotes[reason])))
		if err == nil {
			err = next(w.cmds.RequestProfileReview(ctx, id))
		}
	case kindTerm:
		err = next(w.cmds.CompleteTerm(ctx, id))
		if err == nil {
			err = next(w.cmds.RequestProfileReview(ctx, id))
		}
	default:
		err = fmt.Errorf("unknown action kind %d", t.kind)
	}
	switch t.kind {
	case kindDecline, kindCancel, kindEnd, kindTerm:
		w.cache.forget(domain.MatchStream(id))
	}
	return wrap(t, err)
}

func wrap(t action, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("action %d on match %d at %s: %w", t.kind, t.match, t.at.Format(time.RFC3339), err)
}

// register registers a member, saves the profile and, for a mentor, the
// capacity and whether the mentor takes requests.
func (w *worker) register(ctx context.Context, t action, next func(command.Result, error) error) error {
	pl := w.pl
	role := domain.RoleMentee
	if t.kind == kindMentor {
		role = domain.RoleMentor
	}
	p := pl.person(role, int(t.member))
	a := domain.Actor{ID: pl.memberID(role, t.member), Role: role}
	req := func(what string) command.Request {
		return command.Request{Actor: a, CommandID: pl.commandID(what+"-"+string(role), t.member)}
	}
	if err := next(w.cmds.RegisterMember(ctx, req("register"), a.ID, role, p.profile.Name, p.email)); err != nil {
		return wrap(t, err)
	}
	if err := next(w.cmds.UpdateProfile(ctx, req("profile"), a.ID, p.profile)); err != nil {
		return wrap(t, err)
	}
	if role != domain.RoleMentor {
		return nil
	}
	if c := max(p.capacity, 1); c != pl.program.DefaultMentorCapacity {
		if err := next(w.cmds.SetMentorCapacity(ctx, req("capacity"), a.ID, c)); err != nil {
			return wrap(t, err)
		}
	}
	if !p.accepting {
		return wrap(t, next(w.cmds.SetAcceptingRequests(ctx, req("accepting"), a.ID, false)))
	}
	return nil
}

// sessions logs one meeting, by the mentee, the mentor or both, each in
// their own log.
func (w *worker) sessions(ctx context.Context, t action, r *rand.Rand, mentee, mentor domain.Actor, m matchPlan, next func(command.Result, error) error) error {
	pl := w.pl
	id := pl.matchID(t.match)
	made := pl.program.Today(pl.acceptedAt(t.match))
	ms := pl.mentees[m.mentee]
	specialty := disciplines[ms.discipline].specialties[ms.specialty]
	met := pl.program.Today(t.at.AddDate(0, 0, -r.IntN(3)))
	if met.Before(made) {
		met = made
	}
	for _, author := range []struct {
		bit   int32
		actor domain.Actor
	}{{byMentee, mentee}, {byMentor, mentor}} {
		if t.arg&author.bit == 0 {
			continue
		}
		details := domain.SessionDetails{Date: met, Minutes: 30 + 15*r.IntN(7), Notes: sessionNote(r, specialty), Value: 2 + r.IntN(4)}
		sid := domain.EventID("seed-session", pl.seed, strconv.Itoa(int(t.match)), t.at.Format(time.RFC3339), string(author.actor.Role))
		req := command.Request{Actor: author.actor, CommandID: "seed:" + pl.seed + ":session:" + sid.String()}
		if err := next(w.cmds.LogSession(ctx, req, id, sid, details)); err != nil {
			return err
		}
	}
	return nil
}

// acceptedAt returns when a match was accepted, which the planner recorded
// on the accept's day, before any session.
func (pl *planner) acceptedAt(match int32) time.Time {
	return pl.matches[match].accepted
}

// reviewed returns a profile as its member saves it after a profile
// review: more experience, and the focus reconsidered.
func reviewed(r *rand.Rand, p domain.Profile, n int) domain.Profile {
	p.YearsOfExperience += n
	p.Focus = sample(r, defaultProgram.FocusAreas, 1+r.IntN(3))
	slices.Sort(p.Focus)
	return p
}
