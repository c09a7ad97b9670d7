package projections_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
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
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	"github.com/mentorship/mentorship/refusal"
)

type world struct {
	store   eventstore.Store
	svc     *command.Service
	clock   *clock.Fake
	mentees []domain.Actor
	mentors []domain.Actor
	staff   domain.Actor
	matches []uuid.UUID
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, svc, clk := readmodeltest.NewProgram(t)
	w := &world{store: store, svc: svc, clock: clk}
	w.staff = domain.Actor{ID: uuid.New(), Role: domain.RoleStaff}
	if _, err := svc.RegisterMember(context.Background(), command.Request{Actor: domain.SystemActor()}, w.staff.ID, domain.RoleStaff, "Staff", "staff@example.org"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) register(t *testing.T, role domain.Role, name string) domain.Actor {
	t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: role}
	if _, err := w.svc.RegisterMember(context.Background(), command.Request{Actor: a}, a.ID, role, name, a.ID.String()[:8]+"@example.org"); err != nil {
		t.Fatal(err)
	}
	if role == domain.RoleMentee {
		w.mentees = append(w.mentees, a)
	} else {
		w.mentors = append(w.mentors, a)
	}
	return a
}

// randomStep runs one random command; refusals by the rules are expected.
func (w *world) randomStep(t *testing.T, r *rand.Rand) {
	ctx := context.Background()
	pick := func(as []domain.Actor) domain.Actor { return as[r.IntN(len(as))] }
	var err error
	switch n := r.IntN(12); {
	case n < 3:
		var id uuid.UUID
		id, _, err = w.svc.RequestMatch(ctx, command.Request{Actor: pick(w.mentees)}, pick(w.mentors).ID, "please")
		if err == nil {
			w.matches = append(w.matches, id)
		}
	case n < 5 && len(w.matches) > 0:
		m := w.matches[r.IntN(len(w.matches))]
		mv, _ := w.svc.Match(ctx, m)
		_, err = w.svc.AcceptMatch(ctx, command.Request{Actor: domain.Actor{ID: mv.MentorID(), Role: domain.RoleMentor}}, m)
	case n < 6 && len(w.matches) > 0:
		m := w.matches[r.IntN(len(w.matches))]
		mv, _ := w.svc.Match(ctx, m)
		_, err = w.svc.DeclineMatch(ctx, command.Request{Actor: domain.Actor{ID: mv.MentorID(), Role: domain.RoleMentor}}, m, "", "")
	case n < 7 && len(w.matches) > 0:
		m := w.matches[r.IntN(len(w.matches))]
		mv, _ := w.svc.Match(ctx, m)
		_, err = w.svc.CancelMatch(ctx, command.Request{Actor: domain.Actor{ID: mv.MenteeID(), Role: domain.RoleMentee}}, m)
	case n < 8 && len(w.matches) > 0:
		m := w.matches[r.IntN(len(w.matches))]
		mv, _ := w.svc.Match(ctx, m)
		_, err = w.svc.EndMatch(ctx, command.Request{Actor: w.staff}, m, "GOALS_CONCLUDED", mv.MenteeID(), "done")
	case n < 10 && len(w.matches) > 0:
		m := w.matches[r.IntN(len(w.matches))]
		mv, _ := w.svc.Match(ctx, m)
		author := domain.Actor{ID: mv.MenteeID(), Role: domain.RoleMentee}
		if r.IntN(2) == 0 {
			author = domain.Actor{ID: mv.MentorID(), Role: domain.RoleMentor}
		}
		_, err = w.svc.LogSession(ctx, command.Request{Actor: author}, m, uuid.New(), domain.SessionDetails{Date: w.svc.Program().Today(w.clock.Now()), Minutes: 15 * (1 + r.IntN(8)), Value: 1 + r.IntN(5)})
	case n < 11:
		m := pick(w.mentors)
		_, err = w.svc.SetMentorCapacity(ctx, command.Request{Actor: m}, m.ID, 1+r.IntN(3))
	default:
		m := pick(w.mentors)
		_, err = w.svc.SetAcceptingRequests(ctx, command.Request{Actor: m}, m.ID, r.IntN(3) > 0)
	}
	if err != nil && refusal.CodeOf(err) == "" {
		t.Fatalf("command failed: %v", err)
	}
	w.clock.Advance(time.Duration(r.IntN(48)) * time.Hour)
}

// feed gives fresh read models a log as the runner does across crashes:
// in random batches, some beginning again at an earlier event (a recent
// stretch, or the whole log so far); each model saves snapshots, its state
// and checkpoint in one file, at random moments; and one to three
// times the models are lost after writes their last snapshot does not
// hold. Restarted models load the snapshots and are fed from the older of
// their two checkpoints, so that the events applied before the crash, and
// those the other model already holds, come again. Restarted models whose
// snapshots stand at one position are compared with the reference of the
// log up to it. It returns the models and how many restarts had writes to
// redo.
func feed(t *testing.T, store eventstore.Store, program domain.Program, now time.Time, events []projections.Event, r *rand.Rand) (*projections.Members, *projections.Matches, int) {
	t.Helper()
	dir := t.TempDir()
	members, matches := projections.NewMembers(), projections.NewMatches()
	after := func(pos eventstore.Position) int {
		return sort.Search(len(events), func(i int) bool { return events[i].Position > pos })
	}
	redone := 0
	crashes := 1 + r.IntN(3)
	for crash := 0; ; crash++ {
		from, until := after(min(members.Position(), matches.Position())), len(events)
		if crash < crashes {
			until = from + r.IntN(len(events)-from+1)
		}
		for i := from; i < until; {
			end := min(until, i+1+r.IntN(20))
			start := i
			switch r.IntN(8) {
			case 0:
				start = 0
			case 1, 2:
				start = max(0, i-r.IntN(40))
			}
			for _, p := range []projections.Projection{members, matches} {
				if err := p.Apply(events[start:end]); err != nil {
					t.Fatal(err)
				}
			}
			i = end
			if r.IntN(4) == 0 {
				for _, p := range [][]projections.Projection{{members}, {matches}, {members, matches}}[r.IntN(3)] {
					if _, err := projections.SaveSnapshot(dir, p); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if crash == crashes {
			return members, matches, redone
		}
		// The crash loses what the snapshots do not hold.
		reached := min(members.Position(), matches.Position())
		members, matches = projections.NewMembers(), projections.NewMatches()
		for _, p := range []projections.Projection{members, matches} {
			if _, err := projections.LoadSnapshot(store, dir, p); err != nil && !errors.Is(err, projections.ErrNoSnapshot) {
				t.Fatal(err)
			}
		}
		if min(members.Position(), matches.Position()) < reached {
			redone++
		}
		if pos := members.Position(); pos != 0 && pos == matches.Position() {
			prefix := events[:after(pos)]
			readmodeltest.Compare(t, program, now, prefix, readmodeltest.Reference(t, prefix), models(members, matches))
		}
	}
}

// models are the in-memory read models as the read-model suite sees them.
func models(members *projections.Members, matches *projections.Matches) readmodeltest.Models {
	return readmodeltest.Models{Members: members, Matches: matches,
		Position: func() (eventstore.Position, error) { return min(members.Position(), matches.Position()), nil }}
}

// The read models agree with readmodeltest.Reference, the independent
// recomputation, on every query (search with each filter, its ordering
// and pages for several viewers; matches and meeting logs; CPD per match,
// over date ranges and in total; the staff queue and the dashboard at
// several moments) over random histories fed as feed does: in batches
// with stretches delivered twice, across crashes between a write and the
// next snapshot.
func TestProjectionsAgreeWithReference(t *testing.T) {
	redone := 0
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			h := readmodeltest.RandomHistory(t, seed, 600)
			members, matches, n := feed(t, h.Store, h.Program, h.Now, h.Events, rand.New(rand.NewPCG(seed, 5)))
			redone += n
			readmodeltest.Compare(t, h.Program, h.Now, h.Events, readmodeltest.Reference(t, h.Events), models(members, matches))
		})
	}
	if redone == 0 {
		t.Fatal("no restart had writes to redo after its snapshot")
	}
}

type memberFacts struct {
	Role                            domain.Role
	Capacity, Used, Pending, Active int
	Accepting                       bool
}

type matchFacts struct {
	Mentee, Mentor uuid.UUID
	Status         domain.MatchStatus
	EndReason      string
}

// The read models' member counters and match states agree with the
// domain's own aggregates, every stream folded by the domain's evolve
// functions, and the CPD totals with a sum over the raw log.
func TestProjectionsMatchRecomputation(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			w := newWorld(t)
			for i := range 6 {
				w.register(t, domain.RoleMentee, fmt.Sprint("Mentee ", i))
				w.register(t, domain.RoleMentor, fmt.Sprint("Mentor ", i))
			}
			for range 150 {
				w.randomStep(t, r)
			}
			members, matches, _ := feed(t, w.store, w.svc.Program(), w.clock.Now(), readmodeltest.Events(t, w.store), r)
			ctx := context.Background()
			for _, a := range append(append([]domain.Actor{}, w.mentees...), w.mentors...) {
				want, err := w.svc.Member(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				got, ok, _ := members.Member(a.ID)
				if !ok {
					t.Fatalf("member %s missing", a.ID)
				}
				wf := memberFacts{want.Role(), want.Capacity(), want.CapacityUsed(), want.PendingRequests(), want.ActiveMatches(), want.Accepting()}
				gf := memberFacts{got.Role, got.Capacity, got.CapacityUsed(), got.PendingRequests(), got.ActiveMatches(), got.Accepting}
				if diff := cmp.Diff(wf, gf); diff != "" {
					t.Fatalf("member %s (-recomputed +read model):\n%s", a.ID, diff)
				}
			}
			minutes := map[uuid.UUID]int{}
			for _, id := range w.matches {
				want, err := w.svc.Match(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				got, ok, _ := matches.Match(id)
				if !ok {
					t.Fatalf("match %s missing", id)
				}
				wf := matchFacts{want.MenteeID(), want.MentorID(), want.Status(), want.EndReason()}
				gf := matchFacts{got.MenteeID, got.MentorID, got.Status, got.EndReason}
				if diff := cmp.Diff(wf, gf); diff != "" {
					t.Fatalf("match %s (-recomputed +read model):\n%s", id, diff)
				}
			}
			// CPD minutes against a sum over the raw events.
			recs, _ := w.store.ReadAll(ctx, eventstore.Start, 1_000_000)
			for _, rec := range recs {
				if ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data); err == nil {
					if s, ok := ev.(domain.SessionLogged); ok {
						minutes[s.AuthorID] += s.Details.Minutes
					}
				}
			}
			for author, want := range minutes {
				got, err := matches.CPDSummary(author, domain.Date{}, domain.Date{})
				if err != nil {
					t.Fatal(err)
				}
				if got.TotalMinutes != want {
					t.Fatalf("CPD of %s: %d minutes, want %d", author, got.TotalMinutes, want)
				}
			}
		})
	}
}

// A mutation's position, waited for, makes its change visible to queries.
func TestRunnerGivesReadYourWrites(t *testing.T) {
	w := newWorld(t)
	members, matches := projections.NewMembers(), projections.NewMatches()
	runner := follow.NewRunner(w.store, follow.Options{Logger: zerolog.Nop()}, members, matches)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	defer func() { cancel(); <-done }()

	mentee, mentor := w.register(t, domain.RoleMentee, "Ada"), w.register(t, domain.RoleMentor, "Grace")
	for i := range 50 {
		id, res, err := w.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.WaitForDefault(ctx, res.Position); err != nil {
			t.Fatal(err)
		}
		if m, ok, _ := matches.Match(id); !ok || m.Status != domain.StatusPending {
			t.Fatalf("round %d: the request is not visible after waiting", i)
		}
		res, err = w.svc.CancelMatch(ctx, command.Request{Actor: mentee}, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.WaitForDefault(ctx, res.Position); err != nil {
			t.Fatal(err)
		}
		if m, _, _ := members.Member(mentee.ID); m.PendingRequests() != 0 {
			t.Fatalf("round %d: the cancel is not visible after waiting", i)
		}
	}
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	if err := runner.WaitFor(short, 1<<40); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a position never written: %v", err)
	}
}

// An event that cannot be decoded stops the projections at its position;
// it is never skipped.
func TestPoisonEventStopsProjections(t *testing.T) {
	w := newWorld(t)
	members := projections.NewMembers()
	runner := follow.NewRunner(w.store, follow.Options{Logger: zerolog.Nop()}, members)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	defer func() { cancel(); <-done }()
	bad := eventstore.EventData{ID: uuid.New(), Type: "MatchRequested", SchemaVersion: 1, Data: []byte(`{"matchId": 42}`)}
	res, err := w.store.Append(ctx, "match-broken", eventstore.Any(), bad)
	if err != nil {
		t.Fatal(err)
	}
	err = runner.WaitForDefault(ctx, res.LastPosition)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("position %d", res.LastPosition)) {
		t.Fatalf("waiting past a poison event: %v", err)
	}
	if h := runner.Healthy(); h == nil {
		t.Fatal("the runner reports healthy after a poison event")
	}
}

func TestHistoryHidesPrivateNotesAndReplaysAsOf(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mentee, mentor := w.register(t, domain.RoleMentee, "Ada"), w.register(t, domain.RoleMentor, "Grace")
	id, reqRes, err := w.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "hi")
	if err != nil {
		t.Fatal(err)
	}
	requestedAt := w.clock.Now()
	w.clock.Advance(48 * time.Hour)
	if _, err := w.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, id); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(24 * time.Hour)
	if _, err := w.svc.LogSession(ctx, command.Request{Actor: mentee}, id, uuid.New(), domain.SessionDetails{Date: w.svc.Program().Today(w.clock.Now()), Minutes: 45, Notes: "secret career worries", Value: 2}); err != nil {
		t.Fatal(err)
	}
	hist, err := projections.MatchHistory(ctx, w.store, id)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, h := range hist {
		types = append(types, h.Type)
		if strings.Contains(string(h.Data), "secret") || strings.Contains(string(h.Data), `"value"`) {
			t.Fatalf("history shows private session data: %s", h.Data)
		}
	}
	if diff := cmp.Diff([]string{"MatchRequested", "MatchAccepted", "SessionLogged"}, types); diff != "" {
		t.Fatalf("history types (-want +got):\n%s", diff)
	}
	if hist[0].ActorID != mentee.ID.String() || hist[1].ActorRole != "MENTOR" {
		t.Fatalf("history actors: %+v %+v", hist[0], hist[1])
	}
	m, _, err := projections.MatchAsOf(ctx, w.store, id, projections.AsOf{Time: new(requestedAt.Add(time.Hour))})
	if err != nil || m.Status() != domain.StatusPending {
		t.Fatalf("as of an hour after the request: %v %v", m.Status(), err)
	}
	m, _, err = projections.MatchAsOf(ctx, w.store, id, projections.AsOf{Position: reqRes.Position})
	if err != nil || m.Status() != domain.StatusPending {
		t.Fatalf("as of the request's position: %v %v", m.Status(), err)
	}
	m, _, err = projections.MatchAsOf(ctx, w.store, id, projections.AsOf{})
	if err != nil || m.Status() != domain.StatusActive {
		t.Fatalf("as of now: %v %v", m.Status(), err)
	}
	if _, _, err := projections.MatchAsOf(ctx, w.store, id, projections.AsOf{Time: new(requestedAt.Add(-time.Hour))}); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("as of before the request: %v", err)
	}
	if _, _, err := projections.MatchAsOf(ctx, w.store, id, projections.AsOf{Time: new(time.Time{})}); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("as of the zero time, before every event: %v", err)
	}
	if _, err := projections.MatchHistory(ctx, w.store, uuid.New()); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("history of an unknown match: %v", err)
	}
}
