package process

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/refusal"
)

// story writes a history through the real command service on a fake
// clock, naming its members, for the tables of the retention rule.
type story struct {
	t       *testing.T
	ctx     context.Context
	store   eventstore.Store
	svc     *command.Service
	clock   *clock.Fake
	staff   domain.Actor
	members map[string]domain.Actor
	names   map[uuid.UUID]string
	matches map[string]uuid.UUID
}

func newStory(t *testing.T, years int) *story {
	t.Helper()
	store, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	p := domain.DefaultProgram()
	p.RetentionYears = years
	s := &story{t: t, ctx: context.Background(), store: store, clock: clock.NewFake(t0),
		members: map[string]domain.Actor{}, names: map[uuid.UUID]string{}, matches: map[string]uuid.UUID{}}
	if s.svc, err = command.New(store, p, s.clock, command.Options{}); err != nil {
		t.Fatal(err)
	}
	s.staff = s.join("staff", domain.RoleStaff)
	return s
}

func (s *story) must(_ any, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *story) join(name string, role domain.Role) domain.Actor {
	s.t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: role}
	req := command.Request{Actor: a}
	if role == domain.RoleStaff {
		req.Actor = domain.SystemActor()
	}
	s.must(s.svc.RegisterMember(s.ctx, req, a.ID, role, name, name+"@example.org"))
	s.members[name], s.names[a.ID] = a, name
	return a
}

func (s *story) signIn(name string) { s.must(s.svc.RecordSignIn(s.ctx, s.members[name])) }

func (s *story) request(mentee, mentor string) {
	s.t.Helper()
	id, _, err := s.svc.RequestMatch(s.ctx, command.Request{Actor: s.members[mentee]}, s.members[mentor].ID, "")
	if err != nil {
		s.t.Fatal(err)
	}
	s.matches[mentee+"+"+mentor] = id
}

func (s *story) accept(mentee, mentor string) {
	s.must(s.svc.AcceptMatch(s.ctx, command.Request{Actor: s.members[mentor]}, s.matches[mentee+"+"+mentor]))
}

func (s *story) decline(mentee, mentor string) {
	s.must(s.svc.DeclineMatch(s.ctx, command.Request{Actor: s.members[mentor]}, s.matches[mentee+"+"+mentor], "", ""))
}

func (s *story) end(mentee, mentor string) {
	s.must(s.svc.EndMatch(s.ctx, command.Request{Actor: s.staff}, s.matches[mentee+"+"+mentor], "GOALS_CONCLUDED", s.members[mentee].ID, "Goals met."))
}

func (s *story) erase(name string) {
	s.must(s.svc.EraseMember(s.ctx, command.Request{Actor: s.staff}, s.members[name].ID, "Asked"))
}

// asked returns the names of the members the calls name, sorted.
func (s *story) asked(calls []string) []string {
	var out []string
	for _, c := range calls {
		if id, ok := strings.CutPrefix(c, "retention "); ok {
			out = append(out, s.names[uuid.MustParse(id)])
		}
	}
	slices.Sort(out)
	return out
}

// dueAt returns the members a manager that read the story's whole log
// asks to erase at now.
func (s *story) dueAt(now time.Time) []string {
	s.t.Helper()
	rec := &recorder{program: s.svc.Program()}
	m, err := Open(s.t.TempDir(), s.store, rec, s.clock, Options{Logger: zerolog.Nop()})
	if err != nil {
		s.t.Fatal(err)
	}
	defer m.Close()
	if err := m.CatchUp(s.ctx); err != nil {
		s.t.Fatal(err)
	}
	if _, err := m.RunDue(s.ctx, now); err != nil {
		s.t.Fatal(err)
	}
	return s.asked(rec.sorted())
}

const (
	day  = 24 * time.Hour
	year = 365 * day
)

// Who the manager finds due, on histories the command service wrote, at
// a moment of the injected clock.
func TestWhoIsDueForRetention(t *testing.T) {
	for _, tc := range []struct {
		name  string
		years int // 0: the rule is off
		story func(s *story)
		now   time.Time
		due   []string
	}{
		{name: "nobody while the rule is off", story: func(s *story) { s.join("ada", domain.RoleMentee) }, now: t0.AddDate(40, 0, 0)},
		{name: "a member who never had a match, from the registration", years: 2,
			story: func(s *story) { s.join("ada", domain.RoleMentee); s.join("grace", domain.RoleMentor) },
			now:   t0.AddDate(2, 0, 0), due: []string{"ada", "grace"}},
		{name: "nobody a second early", years: 2, story: func(s *story) { s.join("ada", domain.RoleMentee) },
			now: t0.AddDate(2, 0, 0).Add(-time.Second)},
		{name: "an ended match after an old sign-in, from the end", years: 2, story: func(s *story) {
			s.join("ada", domain.RoleMentee)
			s.join("grace", domain.RoleMentor)
			s.clock.Advance(10 * day)
			s.signIn("ada")
			s.request("ada", "grace")
			s.accept("ada", "grace")
			s.clock.Set(t0.Add(100 * day))
			s.end("ada", "grace")
		}, now: t0.Add(100*day).AddDate(2, 0, 0), due: []string{"ada", "grace"}},
		{name: "an ended match, a second early", years: 2, story: func(s *story) {
			s.join("ada", domain.RoleMentee)
			s.join("grace", domain.RoleMentor)
			s.request("ada", "grace")
			s.accept("ada", "grace")
			s.clock.Set(t0.Add(100 * day))
			s.end("ada", "grace")
		}, now: t0.Add(100*day).AddDate(2, 0, 0).Add(-time.Second)},
		{name: "a recent sign-in", years: 2, story: func(s *story) {
			s.join("ada", domain.RoleMentee)
			s.join("bob", domain.RoleMentee)
			s.clock.Advance(year)
			s.signIn("ada")
		}, now: t0.AddDate(2, 0, 0).Add(day), due: []string{"bob"}},
		{name: "an active match, however old", years: 2, story: func(s *story) {
			s.join("ada", domain.RoleMentee)
			s.join("grace", domain.RoleMentor)
			s.request("ada", "grace")
			s.accept("ada", "grace")
		}, now: t0.AddDate(40, 0, 0)},
		{name: "a pending request, for both", years: 2, story: func(s *story) {
			s.join("ada", domain.RoleMentee)
			s.join("grace", domain.RoleMentor)
			s.request("ada", "grace")
		}, now: t0.AddDate(40, 0, 0)},
		{name: "a declined request frees the mentee's slot then; the mentor never held one", years: 2, story: func(s *story) {
			s.join("ada", domain.RoleMentee)
			s.join("grace", domain.RoleMentor)
			s.clock.Advance(year)
			s.request("ada", "grace")
			s.clock.Advance(day)
			s.decline("ada", "grace")
		}, now: t0.AddDate(2, 0, 0).Add(2 * day), due: []string{"grace"}},
		{name: "staff, never", years: 1, story: func(s *story) { s.join("sam", domain.RoleStaff) }, now: t0.AddDate(40, 0, 0)},
		{name: "a member staff erased, never again", years: 1, story: func(s *story) {
			s.join("ada", domain.RoleMentee)
			s.erase("ada")
		}, now: t0.AddDate(40, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStory(t, tc.years)
			tc.story(s)
			if diff := cmp.Diff(tc.due, s.dueAt(tc.now)); diff != "" {
				t.Errorf("asked to erase (-want +got):\n%s", diff)
			}
		})
	}
}

// refusing is a Commands whose erasures the member's stream refuses, and
// whose failing erasures fail.
type refusing struct {
	recorder
	refuse, fail bool
}

func (r *refusing) EraseUnderRetention(ctx context.Context, id uuid.UUID) (command.Result, error) {
	res, _ := r.recorder.EraseUnderRetention(ctx, id)
	switch {
	case r.refuse:
		return res, &refusal.Error{Code: domain.CodeRetentionNotDue, Message: "not yet"}
	case r.fail:
		return res, fmt.Errorf("%w: the member's key: %w", command.ErrErasureUnfinished, errors.New("key store down"))
	}
	return res, nil
}

func (r *refusing) erasures() int { return len(r.sorted()) }

// A member the stream refuses is not asked again every tick: after
// RetryAfter, then twice as long after each refusal; news of the member
// (here a sign-in) starts over from their new due time.
func TestARefusedMemberIsTriedAgainLessAndLessOften(t *testing.T) {
	s := newStory(t, 1)
	s.join("ada", domain.RoleMentee)
	cmds := &refusing{recorder: recorder{program: s.svc.Program()}, refuse: true}
	m, err := Open(t.TempDir(), s.store, cmds, s.clock, Options{Logger: zerolog.Nop(), RetryAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	due := t0.AddDate(1, 0, 0)
	for _, step := range []struct {
		at   time.Duration // after the due time
		want int           // erasures asked for so far
	}{
		{0, 1}, {30 * time.Second, 1}, {time.Minute, 2}, {2 * time.Minute, 2}, {3 * time.Minute, 3},
		{6 * time.Minute, 3}, {7 * time.Minute, 4},
	} {
		s.clock.Set(due.Add(step.at))
		if err := m.Tick(s.ctx); err != nil {
			t.Fatal(err)
		}
		if n := cmds.erasures(); n != step.want {
			t.Fatalf("%s after the due time: asked %d times, want %d", step.at, n, step.want)
		}
	}
	s.signIn("ada")
	signedIn := s.clock.Now()
	for _, d := range []time.Duration{0, 20 * time.Minute, 30 * day} {
		s.clock.Set(signedIn.Add(d))
		if err := m.Tick(s.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := cmds.erasures(); n != 4 {
		t.Fatalf("after the sign-in: asked %d times in all, want still 4", n)
	}
	cmds.refuse = false
	s.clock.Set(signedIn.AddDate(1, 0, 1))
	if err := m.Tick(s.ctx); err != nil {
		t.Fatal(err)
	}
	if n := cmds.erasures(); n != 5 {
		t.Fatalf("a year after the sign-in: asked %d times in all, want 5", n)
	}
}

// An erasure recorded but not finished (an erase step failed) is tried
// again after RetryAfter, even once the manager read MemberErased, until
// the steps finish; then never again.
func TestAnUnfinishedErasureIsTriedAgain(t *testing.T) {
	s := newStory(t, 1)
	ada := s.join("ada", domain.RoleMentee)
	cmds := &refusing{recorder: recorder{program: s.svc.Program()}, fail: true}
	m, err := Open(t.TempDir(), s.store, cmds, s.clock, Options{Logger: zerolog.Nop(), RetryAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s.clock.Set(t0.AddDate(1, 0, 0))
	if err := m.Tick(s.ctx); !errors.Is(err, command.ErrErasureUnfinished) {
		t.Fatalf("tick: %v, want the unfinished erasure", err)
	}
	// What the real command left: the erasure is on the member's stream.
	s.clock.Advance(time.Second)
	s.must(s.svc.EraseUnderRetention(s.ctx, ada.ID))
	s.clock.Advance(30 * time.Second)
	if err := m.Tick(s.ctx); err != nil {
		t.Fatalf("within RetryAfter: %v", err)
	}
	if n := cmds.erasures(); n != 1 {
		t.Fatalf("asked %d times within RetryAfter", n)
	}
	cmds.fail = false
	s.clock.Advance(time.Minute)
	if err := m.Tick(s.ctx); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(year)
	if err := m.Tick(s.ctx); err != nil {
		t.Fatal(err)
	}
	if n := cmds.erasures(); n != 2 {
		t.Fatalf("asked %d times, want the first try and one retry", n)
	}
	if _, ok := m.members[ada.ID]; ok {
		t.Error("the manager still follows the erased member")
	}
}

// When many members fall due at once, as when the rule is turned on, a run
// erases a batch and the next runs the rest.
func TestErasuresGoInBatches(t *testing.T) {
	s := newStory(t, 1)
	for i := range 2*retentionBatch + 3 {
		s.join(fmt.Sprint("member", i), domain.RoleMentee)
	}
	cmds := &refusing{recorder: recorder{program: s.svc.Program()}}
	m, err := Open(t.TempDir(), s.store, cmds, s.clock, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.CatchUp(s.ctx); err != nil {
		t.Fatal(err)
	}
	now := t0.AddDate(1, 0, 0)
	for _, want := range []int{retentionBatch, retentionBatch, 3, 0} {
		n, err := m.RunDue(s.ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("a run erased %d members, want %d", n, want)
		}
	}
	if n := cmds.erasures(); n != 2*retentionBatch+3 {
		t.Errorf("asked %d times, want once per member", n)
	}
}

// A member who signs in every day keeps one timer in the schedule, not one
// per sign-in.
func TestDailySignInsKeepOneTimer(t *testing.T) {
	s := newStory(t, 1)
	s.join("ada", domain.RoleMentee)
	m, err := Open(t.TempDir(), s.store, &recorder{program: s.svc.Program()}, s.clock, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for range 30 {
		s.clock.Advance(day)
		s.signIn("ada")
	}
	if err := m.CatchUp(s.ctx); err != nil {
		t.Fatal(err)
	}
	if n := m.timers.Len(); n != 1 {
		t.Errorf("%d timers for one member", n)
	}
}
