package process

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/refusal"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// world is the program on the real embedded store, with the retention rule
// on, driven by a seeded random walk of commands, so that every event is
// one the program's rules decide. Commands the rules refuse are part of
// the walk.
type world struct {
	t       *testing.T
	r       *rand.Rand
	ctx     context.Context
	store   eventstore.Store
	svc     *command.Service
	clock   *clock.Fake
	staff   domain.Actor
	mentees []domain.Actor
	mentors []domain.Actor
	matches []pair
}

// pair is a match the walk requested.
type pair struct {
	id             uuid.UUID
	mentee, mentor domain.Actor
}

func newWorld(t *testing.T, seed uint64) *world {
	t.Helper()
	dir := t.TempDir()
	// The history is test data: its store skips fsync.
	store, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	w := &world{t: t, r: rand.New(rand.NewPCG(seed, 0x5eed)), ctx: context.Background(), store: store, clock: clock.NewFake(t0)}
	program := domain.DefaultProgram()
	program.RetentionYears = 1
	if w.svc, err = command.New(store, program, w.clock, command.Options{}); err != nil {
		t.Fatal(err)
	}
	w.staff = domain.Actor{ID: uuid.New(), Role: domain.RoleStaff}
	if _, err := w.svc.RegisterMember(w.ctx, command.Request{Actor: domain.SystemActor()}, w.staff.ID, domain.RoleStaff, "Sam Staff", "sam@example.org"); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		w.mentors = append(w.mentors, w.join(domain.RoleMentor, i))
	}
	for i := range 30 {
		w.mentees = append(w.mentees, w.join(domain.RoleMentee, i))
	}
	return w
}

func (w *world) join(role domain.Role, i int) domain.Actor {
	w.t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: role}
	login := fmt.Sprintf("%s%d@members.example.org", role, i)
	if _, err := w.svc.RegisterMember(w.ctx, command.Request{Actor: a}, a.ID, role, fmt.Sprintf("%s %d", role, i), login); err != nil {
		w.t.Fatal(err)
	}
	w.profile(a)
	return a
}

// profile saves a new profile for a, with a name and contact details
// drawn anew.
func (w *world) profile(a domain.Actor) {
	w.t.Helper()
	n := w.r.IntN(1000)
	contact := domain.Contact{Email: fmt.Sprintf("c%d@home.example", n), PreferredMethod: domain.ContactEmail}
	if w.r.IntN(2) == 0 {
		contact.Phone, contact.PreferredMethod = fmt.Sprintf("+1 604 555 %04d", n), domain.ContactPhone
	}
	profile := domain.Profile{Name: fmt.Sprintf("Member %d", n), Contact: contact}
	if _, err := w.svc.UpdateProfile(w.ctx, command.Request{Actor: a}, a.ID, profile); err != nil && refusal.CodeOf(err) != domain.CodeMemberErased {
		w.t.Fatal(err)
	}
}

// step runs one random command, or moves the clock.
func (w *world) step() {
	w.t.Helper()
	ctx, r := w.ctx, w.r
	pick := func(as []domain.Actor) domain.Actor { return as[r.IntN(len(as))] }
	var m pair
	if len(w.matches) > 0 {
		// Recent matches are picked more often, as they are the ones
		// still open.
		m = w.matches[len(w.matches)-1-min(r.IntN(len(w.matches)), r.IntN(12))]
	}
	switch k := r.IntN(40); {
	case k < 10:
		mentee, mentor := pick(w.mentees), pick(w.mentors)
		if id, _, err := w.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "Hello"); err == nil {
			w.matches = append(w.matches, pair{id: id, mentee: mentee, mentor: mentor})
		}
	case k < 16 && m.id != uuid.Nil:
		_, _ = w.svc.AcceptMatch(ctx, command.Request{Actor: m.mentor}, m.id)
	case k < 18 && m.id != uuid.Nil:
		_, _ = w.svc.DeclineMatch(ctx, command.Request{Actor: m.mentor}, m.id, "", "")
	case k < 20 && m.id != uuid.Nil:
		_, _ = w.svc.CancelMatch(ctx, command.Request{Actor: m.mentee}, m.id)
	case k < 22 && m.id != uuid.Nil:
		_, _ = w.svc.RequestNudge(ctx, command.Request{Actor: m.mentee}, m.id)
		_, _ = w.svc.NudgeMentor(ctx, command.Request{Actor: w.staff}, m.id, "")
	case k < 23 && m.id != uuid.Nil:
		reasons := w.svc.Program().EndReasons
		_, _ = w.svc.EndMatch(ctx, command.Request{Actor: w.staff}, m.id, reasons[r.IntN(len(reasons))], m.mentee.ID, "")
	case k < 25 && m.id != uuid.Nil:
		date := w.svc.Program().Today(w.clock.Now())
		_, _ = w.svc.LogSession(ctx, command.Request{Actor: m.mentor}, m.id, uuid.New(), domain.SessionDetails{Date: date, Minutes: 45})
	case k < 28:
		w.profile(pick(append(w.mentees[:len(w.mentees):len(w.mentees)], w.mentors...)))
	case k < 29:
		// Erased members' sign-ins are refused.
		_, _ = w.svc.RecordSignIn(ctx, pick(append(w.mentees[:len(w.mentees):len(w.mentees)], w.mentors...)))
	case k < 39:
		w.clock.Advance(time.Duration(r.IntN(48)) * time.Hour)
	default:
		w.clock.Advance(time.Duration(5+r.IntN(20)) * 24 * time.Hour)
	}
}

func (w *world) head() eventstore.Position {
	w.t.Helper()
	h, err := w.store.Head(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// covers checks that the history holds events of every type given, so
// that a test over it cannot pass by testing little.
func (w *world) covers(types ...string) {
	w.t.Helper()
	seen := map[string]bool{}
	for from := eventstore.Start; ; {
		recs, err := w.store.ReadAll(w.ctx, from, 1024)
		if err != nil {
			w.t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			seen[r.Type] = true
		}
		from = recs[len(recs)-1].Position
	}
	for _, typ := range types {
		if !seen[typ] {
			w.t.Errorf("the history holds no %s", typ)
		}
	}
}
