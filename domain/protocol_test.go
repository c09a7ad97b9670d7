package domain_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// The tests in this file run the two-step protocols of doc.go the way the
// command side will: each command loads streams, decides, and appends with
// the revision it loaded, retrying on a conflict. A scheduler interleaves
// many such commands one store access at a time, in a random order drawn
// from a seed, and checks the program's limits after every access. Some
// commands crash between their two steps; process managers finish them and
// bring slots in line after every match event.

// simStore is an in-memory event store with optimistic concurrency.
type simStore map[string][]domain.Event

// simProc is one command (or process manager) run as a goroutine that may
// touch the store only when the scheduler gives it the turn, so exactly one
// goroutine runs at a time and every interleaving is reproducible.
type simProc struct {
	turn chan struct{}
	back chan bool // true: waiting for the next turn; false: finished
}

// wait hands control back to the scheduler until the next turn.
func (pr *simProc) wait() {
	pr.back <- true
	<-pr.turn
}

type sim struct {
	t       *testing.T
	p       domain.Program
	rng     *rand.Rand
	store   simStore
	procs   []*simProc
	crashes bool
	steps   int
	// seen counts what happened, so the test can show it exercised the
	// paths that matter: refusals by code, conflicts and crashes.
	seen map[string]int
}

func (s *sim) spawn(fn func(pr *simProc)) {
	pr := &simProc{turn: make(chan struct{}), back: make(chan bool)}
	s.procs = append(s.procs, pr)
	go func() {
		<-pr.turn
		fn(pr)
		pr.back <- false
	}()
}

// step gives the turn to a random process, which runs until its next
// store access or its end, and checks the limits.
func (s *sim) step() {
	i := s.rng.IntN(len(s.procs))
	pr := s.procs[i]
	pr.turn <- struct{}{}
	if more := <-pr.back; !more {
		s.procs = slices.Delete(s.procs, i, i+1)
	}
	s.steps++
	s.checkLimits()
}

func (s *sim) load(pr *simProc, stream string) []domain.Event {
	pr.wait()
	return slices.Clone(s.store[stream])
}

// appendTo appends events if the stream still has expected events, and
// starts the process managers that react to them.
func (s *sim) appendTo(pr *simProc, stream string, expected int, events []domain.Event) bool {
	pr.wait()
	if len(s.store[stream]) != expected {
		s.seen["conflict"]++
		return false
	}
	s.store[stream] = append(s.store[stream], events...)
	for _, e := range events {
		s.react(e)
	}
	return true
}

// update is the command side's load-decide-append loop on one stream.
func (s *sim) update(pr *simProc, stream string, decide func(events []domain.Event) ([]domain.Event, error)) error {
	for {
		events := s.load(pr, stream)
		decided, err := decide(events)
		if err != nil {
			return err
		}
		if len(decided) == 0 || s.appendTo(pr, stream, len(events), decided) {
			return nil
		}
	}
}

func (s *sim) member(events []domain.Event) domain.Member {
	return domain.Fold(domain.Member{}, domain.EvolveMember, events...)
}

func (s *sim) match(events []domain.Event) domain.Match {
	return domain.Fold(domain.Match{}, domain.EvolveMatch, events...)
}

// refusedOnly fails the test on errors that are not refusals: the
// protocol must never hand a decider inconsistent state.
func (s *sim) refusedOnly(err error) {
	if err == nil {
		return
	}
	code := refusal.CodeOf(err)
	if code == "" {
		s.t.Errorf("unexpected error: %v", err)
	}
	s.seen[string(code)]++
}

func (s *sim) crash() bool {
	if s.crashes && s.rng.IntN(4) == 0 {
		s.seen["crash"]++
		return true
	}
	return false
}

func (s *sim) request(pr *simProc, req domain.RequestMatch) {
	menteeStream := domain.MemberStream(req.Actor.ID)
	for {
		mentor := s.member(s.load(pr, domain.MemberStream(req.MentorID)))
		events := s.load(pr, menteeStream)
		decided, err := domain.DecideMember(s.p, s.member(events), domain.ReserveRequestSlot{Request: req, Mentor: mentor})
		if err != nil {
			s.refusedOnly(err)
			return
		}
		if len(decided) == 0 || s.appendTo(pr, menteeStream, len(events), decided) {
			break
		}
	}
	if s.crash() {
		return
	}
	s.recordRequest(pr, req)
}

// recordRequest is the second step of a request; a refusal gives the
// mentee's slot back.
func (s *sim) recordRequest(pr *simProc, req domain.RequestMatch) {
	err := s.update(pr, domain.MatchStream(req.MatchID), func(events []domain.Event) ([]domain.Event, error) {
		return domain.DecideMatch(s.p, s.match(events), req)
	})
	if err != nil {
		s.refusedOnly(err)
		s.sync(pr, req.Actor.ID, req.MatchID)
	}
}

func (s *sim) accept(pr *simProc, acc domain.AcceptMatch) {
	mentorStream := domain.MemberStream(acc.Actor.ID)
	for {
		match := s.match(s.load(pr, domain.MatchStream(acc.MatchID)))
		events := s.load(pr, mentorStream)
		decided, err := domain.DecideMember(s.p, s.member(events), domain.ReserveCapacitySlot{Accept: acc, Match: match})
		if err != nil {
			s.refusedOnly(err)
			return
		}
		if len(decided) == 0 || s.appendTo(pr, mentorStream, len(events), decided) {
			break
		}
	}
	if s.crash() {
		return
	}
	s.recordAccept(pr, acc)
}

// recordAccept is the second step of an accept; a refusal is compensated
// by syncing the mentor's slot with the match.
func (s *sim) recordAccept(pr *simProc, acc domain.AcceptMatch) {
	err := s.update(pr, domain.MatchStream(acc.MatchID), func(events []domain.Event) ([]domain.Event, error) {
		return domain.DecideMatch(s.p, s.match(events), acc)
	})
	if err != nil {
		s.refusedOnly(err)
		s.sync(pr, acc.Actor.ID, acc.MatchID)
	}
}

func (s *sim) decideMatch(pr *simProc, cmd domain.MatchCommand, id uuid.UUID) {
	s.refusedOnly(s.update(pr, domain.MatchStream(id), func(events []domain.Event) ([]domain.Event, error) {
		return domain.DecideMatch(s.p, s.match(events), cmd)
	}))
}

func (s *sim) decideMember(pr *simProc, cmd domain.MemberCommand, id uuid.UUID) {
	s.refusedOnly(s.update(pr, domain.MemberStream(id), func(events []domain.Event) ([]domain.Event, error) {
		return domain.DecideMember(s.p, s.member(events), cmd)
	}))
}

func (s *sim) sync(pr *simProc, memberID, matchID uuid.UUID) {
	match := s.match(s.load(pr, domain.MatchStream(matchID)))
	s.decideMember(pr, domain.SyncSlot{MemberID: memberID, MatchID: matchID, Match: match, At: days(1)}, memberID)
}

// react starts the process managers: slot syncs after match events, and
// the finishing of two-step commands after slot events.
func (s *sim) react(e domain.Event) {
	switch e := e.(type) {
	case domain.MatchRequested:
		s.spawn(func(pr *simProc) { s.sync(pr, e.MenteeID, e.MatchID) })
	case domain.MatchAccepted:
		s.spawn(func(pr *simProc) { s.sync(pr, e.MenteeID, e.MatchID) })
		s.spawn(func(pr *simProc) { s.sync(pr, e.MentorID, e.MatchID) })
	case domain.MatchDeclined, domain.MatchCancelled, domain.MatchEnded:
		var ids struct{ match, mentee, mentor uuid.UUID }
		switch e := e.(type) {
		case domain.MatchDeclined:
			ids.match, ids.mentee, ids.mentor = e.MatchID, e.MenteeID, e.MentorID
		case domain.MatchCancelled:
			ids.match, ids.mentee, ids.mentor = e.MatchID, e.MenteeID, e.MentorID
		case domain.MatchEnded:
			ids.match, ids.mentee, ids.mentor = e.MatchID, e.MenteeID, e.MentorID
		}
		s.spawn(func(pr *simProc) { s.sync(pr, ids.mentee, ids.match) })
		s.spawn(func(pr *simProc) { s.sync(pr, ids.mentor, ids.match) })
	case domain.RequestSlotTaken:
		req := domain.RequestMatch{
			MatchID: e.MatchID, Actor: domain.Actor{ID: e.MemberID, Role: domain.RoleMentee},
			MentorID: e.MentorID, Message: e.Message, At: e.At,
		}
		s.spawn(func(pr *simProc) { s.recordRequest(pr, req) })
	case domain.CapacitySlotReserved:
		acc := domain.AcceptMatch{MatchID: e.MatchID, Actor: domain.Actor{ID: e.MemberID, Role: domain.RoleMentor}, At: e.At}
		s.spawn(func(pr *simProc) { s.recordAccept(pr, acc) })
	}
}

// snapshot folds every stream of the store.
func (s *sim) snapshot() (map[uuid.UUID]domain.Member, []domain.Match) {
	members := map[uuid.UUID]domain.Member{}
	var matches []domain.Match
	for stream, events := range s.store {
		switch {
		case len(stream) > len(domain.MemberCategory) && stream[:len(domain.MemberCategory)] == domain.MemberCategory:
			m := s.member(events)
			members[m.ID()] = m
		default:
			matches = append(matches, s.match(events))
		}
	}
	return members, matches
}

func heldSlot(m domain.Member, matchID uuid.UUID) (domain.Slot, bool) {
	for _, sl := range m.Slots() {
		if sl.MatchID == matchID {
			return sl, true
		}
	}
	return domain.Slot{}, false
}

// checkLimits checks, after every store access, the limits of the program
// and the invariant that makes them hold: a match that is pending or active
// always has its mentee's slot, and an active match its mentor's.
func (s *sim) checkLimits() {
	members, matches := s.snapshot()
	pending := map[uuid.UUID]int{}
	activeMentee := map[uuid.UUID]int{}
	activeMentor := map[uuid.UUID]int{}
	for _, m := range matches {
		switch m.Status() {
		case domain.StatusPending:
			pending[m.MenteeID()]++
		case domain.StatusActive:
			activeMentee[m.MenteeID()]++
			activeMentor[m.MentorID()]++
			if sl, ok := heldSlot(members[m.MentorID()], m.ID()); !ok || sl.State != domain.SlotReserved {
				s.t.Fatalf("step %d: active match %s has no capacity slot of its mentor", s.steps, m.ID())
			}
		}
		if m.Status() == domain.StatusPending || m.Status() == domain.StatusActive {
			if _, ok := heldSlot(members[m.MenteeID()], m.ID()); !ok {
				s.t.Fatalf("step %d: %s match %s has no slot of its mentee", s.steps, m.Status(), m.ID())
			}
		}
	}
	for id, n := range pending {
		if n > s.p.MaxPendingRequests {
			s.t.Fatalf("step %d: mentee %s has %d pending requests", s.steps, id, n)
		}
	}
	for id, n := range activeMentee {
		if n > s.p.MaxActiveMatches {
			s.t.Fatalf("step %d: mentee %s has %d active matches", s.steps, id, n)
		}
	}
	for id, n := range activeMentor {
		if c := members[id].Capacity(); n > c {
			s.t.Fatalf("step %d: mentor %s has %d active matches, capacity %d", s.steps, id, n, c)
		}
	}
}

// checkSettled checks, once every command and process manager finished,
// that each member holds exactly the slots of its live matches.
func (s *sim) checkSettled() {
	members, matches := s.snapshot()
	want := map[uuid.UUID][]domain.Slot{}
	for _, m := range matches {
		switch m.Status() {
		case domain.StatusPending:
			want[m.MenteeID()] = append(want[m.MenteeID()], domain.Slot{MatchID: m.ID(), PartnerID: m.MentorID(), State: domain.SlotPending})
		case domain.StatusActive:
			want[m.MenteeID()] = append(want[m.MenteeID()], domain.Slot{MatchID: m.ID(), PartnerID: m.MentorID(), State: domain.SlotActive})
			want[m.MentorID()] = append(want[m.MentorID()], domain.Slot{MatchID: m.ID(), PartnerID: m.MenteeID(), State: domain.SlotReserved})
		}
	}
	for id, m := range members {
		w := want[id]
		slices.SortFunc(w, func(a, b domain.Slot) int { return slices.Compare(a.MatchID[:], b.MatchID[:]) })
		if got := m.Slots(); !slices.Equal(got, w) {
			s.t.Errorf("member %s holds slots %v, want %v", id, got, w)
		}
	}
}

// simIDs numbers the simulation's members and matches readably.
func simID(kind, n int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n))
}

// startCommand starts one random command, aimed at the matches the store
// holds at that moment, as users reacting to what they see would.
func (s *sim) startCommand(n int, mentees, mentors []uuid.UUID) {
	_, matches := s.snapshot()
	var pendingMatches, activeMatches []domain.Match
	for _, m := range matches {
		switch m.Status() {
		case domain.StatusPending:
			pendingMatches = append(pendingMatches, m)
		case domain.StatusActive:
			activeMatches = append(activeMatches, m)
		}
	}
	// Map order is random; sort so that the seed alone decides.
	byID := func(a, b domain.Match) int {
		x, y := a.ID(), b.ID()
		return slices.Compare(x[:], y[:])
	}
	slices.SortFunc(pendingMatches, byID)
	slices.SortFunc(activeMatches, byID)
	pick := func(ms []domain.Match) domain.Match { return ms[s.rng.IntN(len(ms))] }
	roll := s.rng.IntN(10)
	switch {
	case roll < 3 || len(pendingMatches)+len(activeMatches) == 0:
		mentee := mentees[s.rng.IntN(len(mentees))]
		req := domain.RequestMatch{
			MatchID: simID(0xe, n), Actor: domain.Actor{ID: mentee, Role: domain.RoleMentee},
			MentorID: mentors[s.rng.IntN(len(mentors))], At: t0,
		}
		s.spawn(func(pr *simProc) { s.request(pr, req) })
	case roll < 7 && len(pendingMatches) > 0:
		m := pick(pendingMatches)
		mentor := domain.Actor{ID: m.MentorID(), Role: domain.RoleMentor}
		mentee := domain.Actor{ID: m.MenteeID(), Role: domain.RoleMentee}
		switch s.rng.IntN(4) {
		case 0, 1:
			acc := domain.AcceptMatch{MatchID: m.ID(), Actor: mentor, At: days(1)}
			s.spawn(func(pr *simProc) { s.accept(pr, acc) })
		case 2:
			s.spawn(func(pr *simProc) {
				s.decideMatch(pr, domain.DeclineMatch{MatchID: m.ID(), Actor: mentor, At: days(1)}, m.ID())
			})
		case 3:
			s.spawn(func(pr *simProc) {
				s.decideMatch(pr, domain.CancelMatch{MatchID: m.ID(), Actor: mentee, At: days(1)}, m.ID())
			})
		}
	case roll < 8 && len(activeMatches) > 0:
		m := pick(activeMatches)
		end := domain.EndMatch{MatchID: m.ID(), Actor: staff, Reason: "GRACEFUL_EXIT", RequestedBy: m.MenteeID(), Note: "Not a fit.", At: days(2)}
		s.spawn(func(pr *simProc) { s.decideMatch(pr, end, m.ID()) })
	default:
		mentor := mentors[s.rng.IntN(len(mentors))]
		set := domain.SetMentorCapacity{
			MemberID: mentor, Actor: domain.Actor{ID: mentor, Role: domain.RoleMentor}, Capacity: 1 + s.rng.IntN(3), At: days(1),
		}
		s.spawn(func(pr *simProc) { s.decideMember(pr, set, mentor) })
	}
}

// runProtocol runs a seed's random mix of commands, starting new ones while
// earlier ones are still in flight, and counts what happened in seen.
func runProtocol(t *testing.T, seed uint64, p domain.Program, crashes bool, commands int, seen map[string]int) {
	s := &sim{t: t, p: p, rng: rand.New(rand.NewPCG(seed, 1)), store: simStore{}, crashes: crashes, seen: seen}
	var mentees, mentors []uuid.UUID
	for i := range 6 {
		mentees = append(mentees, simID(0xa, i))
		s.store[domain.MemberStream(mentees[i])] = []domain.Event{registered(mentees[i], domain.RoleMentee)}
	}
	for i := range 3 {
		mentors = append(mentors, simID(0xb, i))
		s.store[domain.MemberStream(mentors[i])] = []domain.Event{registered(mentors[i], domain.RoleMentor)}
	}
	started := 0
	for started < commands || len(s.procs) > 0 {
		if started < commands && (len(s.procs) == 0 || s.rng.IntN(4) == 0) {
			s.startCommand(started, mentees, mentors)
			started++
		}
		s.step()
		if t.Failed() {
			t.Fatalf("seed %d broke the protocol", seed)
		}
	}
	s.checkSettled()
}

func TestProtocolsKeepTheLimitsUnderAnyInterleaving(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 10
	}
	wide := domain.DefaultProgram()
	wide.MaxPendingRequests, wide.MaxActiveMatches = 2, 2
	for _, tc := range []struct {
		name    string
		program domain.Program
		crashes bool
		// want lists what the runs must have met, or they proved little.
		want []string
	}{
		{
			"default program", domain.DefaultProgram(), false,
			[]string{"conflict", string(domain.CodePendingRequestExists), string(domain.CodeActiveMatchLimit),
				string(domain.CodeMentorAtCapacity), string(domain.CodeCapacityReached),
				string(domain.CodeMatchNotPending), string(domain.CodeTerminalState), string(domain.CodeCapacityBelowActive)},
		},
		{
			"default program with crashes between steps", domain.DefaultProgram(), true,
			[]string{"conflict", "crash", string(domain.CodeCapacityReached), string(domain.CodeTerminalState)},
		},
		{
			"two pending and two active per mentee, with crashes", wide, true,
			[]string{"conflict", "crash", string(domain.CodeActiveMatchLimit), string(domain.CodeCapacityReached)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]int{}
			for seed := range seeds {
				runProtocol(t, seed, tc.program, tc.crashes, 60, seen)
			}
			for _, w := range tc.want {
				if seen[w] == 0 {
					t.Errorf("no run met %s; seen: %v", w, seen)
				}
			}
			t.Logf("seen: %v", seen)
		})
	}
}
