package command

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/refusal"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *Service
	store eventstore.Store
	clock *clock.Fake
}

// newFixture runs the service on the real embedded store.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clk := clock.NewFake(t0)
	svc, err := New(store, domain.DefaultProgram(), clk, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: store, clock: clk}
}

func (f *fixture) register(t *testing.T, role domain.Role) domain.Actor {
	t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: role}
	if _, err := f.svc.RegisterMember(context.Background(), Request{Actor: a}, a.ID, role, "Member "+a.ID.String()[:8], a.ID.String()[:8]+"@example.org"); err != nil {
		t.Fatalf("register %s: %v", role, err)
	}
	return a
}

func (f *fixture) staff(t *testing.T) domain.Actor {
	t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: domain.RoleStaff}
	if _, err := f.svc.RegisterMember(context.Background(), Request{Actor: domain.SystemActor()}, a.ID, domain.RoleStaff, "Staff", "staff-"+a.ID.String()[:8]+"@example.org"); err != nil {
		t.Fatalf("register staff: %v", err)
	}
	return a
}

func (f *fixture) head(t *testing.T) eventstore.Position {
	t.Helper()
	h, err := f.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) member(t *testing.T, id uuid.UUID) domain.Member {
	t.Helper()
	m, err := f.svc.Member(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) match(t *testing.T, id uuid.UUID) domain.Match {
	t.Helper()
	m, err := f.svc.Match(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wantCode(t *testing.T, err error, code refusal.Code) {
	t.Helper()
	if got := refusal.CodeOf(err); got != code {
		t.Fatalf("got error %v (code %q), want code %s", err, got, code)
	}
}

func TestMatchLifecycleThroughTheStore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentee, mentor, staff := f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor), f.staff(t)

	matchID, res, err := f.svc.RequestMatch(ctx, Request{Actor: mentee, CommandID: "req-1"}, mentor.ID, "Hello, could you mentor me?")
	if err != nil {
		t.Fatal(err)
	}
	if res.Position != f.head(t) {
		t.Fatalf("request result position %d, store head %d", res.Position, f.head(t))
	}
	if m := f.match(t, matchID); m.Status() != domain.StatusPending || m.MenteeID() != mentee.ID || m.MentorID() != mentor.ID {
		t.Fatalf("after request: %+v", m)
	}
	if n := f.member(t, mentee.ID).PendingRequests(); n != 1 {
		t.Fatalf("mentee has %d pending requests, want 1", n)
	}

	// Sending the same request again (same command ID) changes nothing.
	before := f.head(t)
	again, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee, CommandID: "req-1"}, mentor.ID, "Hello, could you mentor me?")
	if err != nil || again != matchID || f.head(t) != before {
		t.Fatalf("retried request: match %s (want %s), err %v, head %d -> %d", again, matchID, err, before, f.head(t))
	}

	if _, err := f.svc.AcceptMatch(ctx, Request{Actor: mentor}, matchID); err != nil {
		t.Fatal(err)
	}
	if m := f.match(t, matchID); m.Status() != domain.StatusActive {
		t.Fatalf("after accept: status %s", m.Status())
	}
	if m := f.member(t, mentee.ID); m.ActiveMatches() != 1 || m.PendingRequests() != 0 {
		t.Fatalf("mentee slots after accept: active %d pending %d", m.ActiveMatches(), m.PendingRequests())
	}
	if n := f.member(t, mentor.ID).CapacityUsed(); n != 1 {
		t.Fatalf("mentor capacity used %d, want 1", n)
	}

	f.clock.Advance(24 * time.Hour)
	date := f.svc.Program().Today(f.clock.Now())
	if _, err := f.svc.LogSession(ctx, Request{Actor: mentee}, matchID, uuid.New(), domain.SessionDetails{Date: date, Minutes: 60, Notes: "Career goals", Value: 5}); err != nil {
		t.Fatal(err)
	}

	if _, err := f.svc.EndMatch(ctx, Request{Actor: staff}, matchID, "GRACEFUL_EXIT", mentee.ID, "Not a good fit"); err != nil {
		t.Fatal(err)
	}
	if m := f.match(t, matchID); m.Status() != domain.StatusEnded || m.EndReason() != "GRACEFUL_EXIT" {
		t.Fatalf("after end: %s %s", m.Status(), m.EndReason())
	}
	if m := f.member(t, mentee.ID); m.ActiveMatches() != 0 || m.PendingRequests() != 0 {
		t.Fatalf("mentee slots after end: active %d pending %d", m.ActiveMatches(), m.PendingRequests())
	}
	if n := f.member(t, mentor.ID).CapacityUsed(); n != 0 {
		t.Fatalf("mentor capacity used %d after end, want 0", n)
	}
	// The mentee may search and request again.
	if _, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, mentor.ID, ""); err != nil {
		t.Fatalf("request after the end: %v", err)
	}
}

func TestEveryEventCarriesItsEnvelope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentee, mentor := f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)
	matchID, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee, CommandID: "cmd-42", CorrelationID: "corr-42"}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := f.store.ReadStream(ctx, domain.MatchStream(matchID), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0]
	if e.Type != "MatchRequested" || e.SchemaVersion != domain.SchemaVersion {
		t.Fatalf("type %s version %d", e.Type, e.SchemaVersion)
	}
	m := e.Metadata
	if m.ActorID != mentee.ID.String() || m.ActorRole != "MENTEE" || m.CorrelationID != "corr-42" || m.CausationID != "cmd-42" || !m.OccurredAt.Equal(t0) || m.RecordedAt.IsZero() {
		t.Fatalf("metadata %+v", m)
	}
	if e.ID != (step{req: Request{CommandID: "cmd-42"}, name: "request"}).eventID(domain.MatchStream(matchID), 0) {
		t.Fatal("the event ID is not derived from the command")
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentee, mentor := f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)
	before := f.head(t)
	cases := []struct {
		name string
		run  func() error
		code refusal.Code
	}{
		{"oversized message", func() error {
			_, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, mentor.ID, strings.Repeat("x", 100_000))
			return err
		}, refusal.CodeInvalidInput},
		{"mentor requests", func() error {
			_, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentor}, mentee.ID, "")
			return err
		}, domain.CodeOnlyMenteesRequest},
		{"request to a mentee", func() error {
			other := f.register(t, domain.RoleMentee)
			before = f.head(t)
			_, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, other.ID, "")
			return err
		}, domain.CodeNotAMentor},
		{"request to oneself", func() error {
			_, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, mentee.ID, "")
			return err
		}, domain.CodeCannotRequestSelf},
		{"unknown mentor", func() error {
			_, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, uuid.New(), "")
			return err
		}, domain.CodeMemberNotFound},
		{"accept an unknown match", func() error {
			_, err := f.svc.AcceptMatch(ctx, Request{Actor: mentor}, uuid.New())
			return err
		}, domain.CodeMatchNotFound},
		{"capacity out of range", func() error {
			_, err := f.svc.SetMentorCapacity(ctx, Request{Actor: mentor}, mentor.ID, 1000)
			return err
		}, refusal.CodeInvalidInput},
		{"a good profile with a capacity out of range", func() error {
			capacity := 0
			_, err := f.svc.SaveProfile(ctx, Request{Actor: mentor}, domain.UpdateProfile{MemberID: mentor.ID, Profile: domain.Profile{Name: "Max"}, Capacity: &capacity})
			return err
		}, refusal.CodeInvalidInput},
		{"a good profile with a mentee's switch", func() error {
			accepting := true
			_, err := f.svc.SaveProfile(ctx, Request{Actor: mentee}, domain.UpdateProfile{MemberID: mentee.ID, Profile: domain.Profile{Name: "Mia"}, AcceptingRequests: &accepting})
			return err
		}, domain.CodeNotAMentor},
	}
	for _, tc := range cases {
		err := tc.run()
		if got := refusal.CodeOf(err); got != tc.code {
			t.Errorf("%s: got %v (code %q), want %s", tc.name, err, got, tc.code)
		}
		if h := f.head(t); h != before {
			t.Errorf("%s: wrote %d events", tc.name, h-before)
		}
	}
}

// 100 goroutines request matches for one mentee at once: exactly one
// request is pending, and every other gets PENDING_REQUEST_EXISTS.
func TestRaceOnePendingRequestPerMentee(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentee := f.register(t, domain.RoleMentee)
	mentors := make([]domain.Actor, 10)
	for i := range mentors {
		mentors[i] = f.register(t, domain.RoleMentor)
	}
	const n = 100
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, _, errs[i] = f.svc.RequestMatch(ctx, Request{Actor: mentee}, mentors[i%len(mentors)].ID, "")
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case refusal.CodeOf(err) == domain.CodePendingRequestExists:
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d requests succeeded, want exactly 1", won)
	}
	if got := countMatches(t, f, func(m domain.Match) bool { return m.Status() == domain.StatusPending }); got != 1 {
		t.Fatalf("%d pending matches in the store, want 1", got)
	}
	if n := f.member(t, mentee.ID).PendingRequests(); n != 1 {
		t.Fatalf("mentee holds %d pending slots, want 1", n)
	}
}

// 100 mentees request one mentor of capacity 2 while the mentor accepts
// every request as it arrives: never more than 2 matches become active.
func TestRaceMentorCapacity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentor := f.register(t, domain.RoleMentor)
	if _, err := f.svc.SetMentorCapacity(ctx, Request{Actor: mentor}, mentor.ID, 2); err != nil {
		t.Fatal(err)
	}
	const n = 100
	mentees := make([]domain.Actor, n)
	for i := range mentees {
		mentees[i] = f.register(t, domain.RoleMentee)
	}
	var wg sync.WaitGroup
	accepted := make(chan uuid.UUID, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			matchID, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentees[i]}, mentor.ID, "")
			if err != nil {
				if c := refusal.CodeOf(err); c != domain.CodeMentorAtCapacity {
					t.Errorf("request: %v", err)
				}
				return
			}
			_, err = f.svc.AcceptMatch(ctx, Request{Actor: mentor}, matchID)
			switch {
			case err == nil:
				accepted <- matchID
			case refusal.CodeOf(err) == domain.CodeCapacityReached:
			default:
				t.Errorf("accept: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(accepted)
	if t.Failed() {
		return
	}
	active := countMatches(t, f, func(m domain.Match) bool { return m.Status() == domain.StatusActive })
	if active != 2 || len(accepted) != 2 {
		t.Fatalf("%d active matches (%d accepts succeeded), want exactly 2", active, len(accepted))
	}
	if used := f.member(t, mentor.ID).CapacityUsed(); used != 2 {
		t.Fatalf("mentor capacity used %d, want 2", used)
	}
}

// Accept racing cancel on the same match: exactly one wins, the other gets
// its domain error, and the slots follow the winner.
func TestRaceAcceptVersusCancel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const pairs = 40
	type pair struct {
		mentee, mentor domain.Actor
		match          uuid.UUID
	}
	ps := make([]pair, pairs)
	for i := range ps {
		ps[i].mentee, ps[i].mentor = f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)
		id, _, err := f.svc.RequestMatch(ctx, Request{Actor: ps[i].mentee}, ps[i].mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		ps[i].match = id
	}
	var wg sync.WaitGroup
	acceptErr, cancelErr := make([]error, pairs), make([]error, pairs)
	start := make(chan struct{})
	for i, p := range ps {
		wg.Go(func() { <-start; _, acceptErr[i] = f.svc.AcceptMatch(ctx, Request{Actor: p.mentor}, p.match) })
		wg.Go(func() {
			<-start
			// Half the cancels start once the accept has reserved the
			// mentor's capacity, so that both reach the match stream
			// together and the loser's reservation must be undone.
			if i%2 == 1 {
				waitForReservation(t, f, p.mentor.ID)
			}
			_, cancelErr[i] = f.svc.CancelMatch(ctx, Request{Actor: p.mentee}, p.match)
		})
	}
	close(start)
	wg.Wait()
	accepts, cancels := 0, 0
	for i, p := range ps {
		m := f.match(t, p.match)
		mentee, mentor := f.member(t, p.mentee.ID), f.member(t, p.mentor.ID)
		switch {
		case acceptErr[i] == nil && cancelErr[i] != nil:
			accepts++
			wantCode(t, cancelErr[i], domain.CodeMatchNotPending)
			if m.Status() != domain.StatusActive || mentee.ActiveMatches() != 1 || mentor.CapacityUsed() != 1 {
				t.Fatalf("pair %d: accept won but status %s, mentee active %d, mentor used %d", i, m.Status(), mentee.ActiveMatches(), mentor.CapacityUsed())
			}
		case cancelErr[i] == nil && acceptErr[i] != nil:
			cancels++
			if c := refusal.CodeOf(acceptErr[i]); c != domain.CodeTerminalState && c != domain.CodeMatchNotPending {
				t.Fatalf("pair %d: accept lost with %v", i, acceptErr[i])
			}
			if m.Status() != domain.StatusCancelled || mentee.PendingRequests() != 0 || mentor.CapacityUsed() != 0 {
				t.Fatalf("pair %d: cancel won but status %s, mentee pending %d, mentor used %d", i, m.Status(), mentee.PendingRequests(), mentor.CapacityUsed())
			}
		default:
			t.Fatalf("pair %d: accept %v, cancel %v: want exactly one winner", i, acceptErr[i], cancelErr[i])
		}
	}
	t.Logf("accept won %d times, cancel %d times", accepts, cancels)

}

// waitForReservation returns once the mentor's stream records a capacity
// reservation.
func waitForReservation(t *testing.T, f *fixture, mentorID uuid.UUID) {
	for {
		evs, err := f.store.ReadStream(context.Background(), domain.MemberStream(mentorID), eventstore.ReadStreamOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		for _, e := range evs {
			if e.Type == "CapacitySlotReserved" {
				return
			}
		}
		runtime.Gosched()
	}
}

// A crash between the two steps of a request or an accept is finished by
// Reconcile, which is safe to run any number of times.
func TestReconcileFinishesInterruptedCommands(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentee, mentor := f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)

	// Only the first step of a request: the mentee's slot.
	req := Request{Actor: mentee, CommandID: "crashed-request", CorrelationID: "c"}
	matchID := MatchIDFor(req.CommandID)
	cmd := domain.RequestMatch{MatchID: matchID, Actor: mentee, MentorID: mentor.ID, At: f.clock.Now()}
	mentorState := f.member(t, mentor.ID)
	if _, err := update(ctx, f.svc, memberAgg, domain.MemberStream(mentee.ID), first(req, "reserve"), func(m domain.Member) ([]domain.Event, error) {
		return domain.DecideMember(f.svc.program, m, domain.ReserveRequestSlot{Request: cmd, Mentor: mentorState})
	}); err != nil {
		t.Fatal(err)
	}
	if f.match(t, matchID).Exists() {
		t.Fatal("the match exists before reconciling")
	}
	reconcileAll(t, f, 2)
	if m := f.match(t, matchID); m.Status() != domain.StatusPending {
		t.Fatalf("after reconciling the request: status %q", m.Status())
	}

	// Only the first step of an accept: the mentor's reservation.
	acc := domain.AcceptMatch{MatchID: matchID, Actor: mentor, At: f.clock.Now()}
	match := f.match(t, matchID)
	if _, err := update(ctx, f.svc, memberAgg, domain.MemberStream(mentor.ID), first(Request{Actor: mentor, CommandID: "crashed-accept"}, "reserve"), func(m domain.Member) ([]domain.Event, error) {
		return domain.DecideMember(f.svc.program, m, domain.ReserveCapacitySlot{Accept: acc, Match: match})
	}); err != nil {
		t.Fatal(err)
	}
	before := f.head(t)
	reconcileAll(t, f, 3)
	if m := f.match(t, matchID); m.Status() != domain.StatusActive {
		t.Fatalf("after reconciling the accept: status %q", m.Status())
	}
	if m := f.member(t, mentee.ID); m.ActiveMatches() != 1 {
		t.Fatalf("mentee active slots %d, want 1", m.ActiveMatches())
	}
	settled := f.head(t)
	if settled == before {
		t.Fatal("reconciling wrote nothing")
	}
	reconcileAll(t, f, 2)
	if f.head(t) != settled {
		t.Fatalf("reconciling a settled log wrote %d events", f.head(t)-settled)
	}
}

// reconcileAll runs Reconcile over the whole log, rounds times, as a
// restarted process manager would.
func reconcileAll(t *testing.T, f *fixture, rounds int) {
	t.Helper()
	for range rounds {
		evs, err := f.store.ReadAll(context.Background(), eventstore.Start, 100_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if err := f.svc.Reconcile(context.Background(), e); err != nil {
				t.Fatalf("reconcile %s at %d: %v", e.Type, e.Position, err)
			}
		}
	}
}

func countMatches(t *testing.T, f *fixture, keep func(domain.Match) bool) int {
	t.Helper()
	evs, err := f.store.ReadAll(context.Background(), eventstore.Start, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	n := 0
	for _, e := range evs {
		if !strings.HasPrefix(e.Stream, domain.MatchCategory+"-") || seen[e.Stream] {
			continue
		}
		seen[e.Stream] = true
		m := f.match(t, uuid.MustParse(strings.TrimPrefix(e.Stream, domain.MatchCategory+"-")))
		if keep(m) {
			n++
		}
	}
	return n
}

func TestContentionIsBounded(t *testing.T) {
	f := newFixture(t)
	f.svc.maxRetries = 0
	ctx := context.Background()
	mentor := f.register(t, domain.RoleMentor)
	// Two writers on one stream with no retries: one of them may lose,
	// and the loser says so plainly.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = f.svc.SetAcceptingRequests(ctx, Request{Actor: mentor}, mentor.ID, i%2 == 0)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrContention) {
			t.Fatalf("unexpected error %v", err)
		}
	}
}
