package readmodeltest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/refusal"
)

// History is a program history written through the command service.
type History struct {
	Store   eventstore.Store
	Program domain.Program
	// Now is the clock's time after the last command.
	Now    time.Time
	Events []projections.Event
}

// RandomHistory writes a random history of steps commands through the
// command service, so that every event is one the program's rules decide:
// mentors and mentees with random profiles drawn from small vocabularies
// (so that filters and biography words meet, and names repeat), requests,
// answers, cancellations, nudges asked for and given, the time marks,
// early ends and completed terms, meeting logs dated on any day of a match
// and edited, documents, resources, capacity and availability switches,
// and profile changes. The clock moves up to two days a step and now and
// then a month. Commands the rules refuse are part of the walk.
func RandomHistory(t *testing.T, seed uint64, steps int) History {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	// The history is test data: its store skips fsync.
	w := newWorldOn(t, bolt.Options{NoSync: true})
	h := &walk{world: w, r: r, ctx: context.Background(), program: w.svc.Program()}
	for i := range 10 {
		h.mentors = append(h.mentors, h.join(t, domain.RoleMentor, i))
	}
	for i := range 12 {
		h.mentees = append(h.mentees, h.join(t, domain.RoleMentee, i))
	}
	for range steps {
		h.step(t)
	}
	return History{Store: w.store, Program: h.program, Now: w.clock.Now(), Events: w.events(t)}
}

type walk struct {
	*world
	r                *rand.Rand
	ctx              context.Context
	program          domain.Program
	mentors, mentees []domain.Actor
	matches          []uuid.UUID
	sessions         []loggedSession
	documents        [][2]uuid.UUID // match, document
	resources        []uuid.UUID
}

type loggedSession struct {
	match, id uuid.UUID
	author    domain.Actor
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Émilie", "Mary", "Nikola", "ada"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "du Châtelet", "Anning"}
	bioPool    = []string{"Geotechnical", "engineer", "tunnels", "bridges", "mining", "P.Eng.", "groundwater",
		"Hydro-geology", "leadership", "Études", "design", "ENGINEER", "concrete", "steel", "2024", "slopes"}
	separators = []string{" ", ", ", "; ", " (", ") ", ". ", " & ", "/", "-"}
	cities     = []string{"Toronto", "toronto", "Calgary", "St. John's", "Québec", ""}
)

func (h *walk) pick(l []string) string { return l[h.r.IntN(len(l))] }

// some returns a random subset of l, possibly empty.
func (h *walk) some(l []string) []string {
	var out []string
	for _, v := range l {
		if h.r.IntN(3) == 0 {
			out = append(out, v)
		}
	}
	return out
}

// profile draws a profile from the first few values of each of the
// program's lists.
func (h *walk) profile() domain.Profile {
	p := h.program
	pr := domain.Profile{Name: h.pick(firstNames) + " " + h.pick(lastNames)}
	if h.r.IntN(5) > 0 {
		pr.Discipline = h.pick(p.Disciplines[:4])
	}
	if h.r.IntN(5) > 0 {
		pr.Industry = h.pick(p.Industries[:4])
	}
	if h.r.IntN(5) > 0 {
		pr.Location.Province = h.pick(p.Provinces[:4])
	}
	pr.Location.City = h.pick(cities)
	pr.Languages = h.some(p.Languages[:3])
	pr.Focus = h.some(p.FocusAreas[:4])
	pr.Preferences.MeetingFormats = h.some(p.MeetingFormats)
	for _, s := range h.some(p.Skills[:5]) {
		if pr.Skills == nil {
			pr.Skills = map[string]int{}
		}
		pr.Skills[s] = 1 + h.r.IntN(5)
	}
	var bio strings.Builder
	for i := range 2 + h.r.IntN(9) {
		if i > 0 {
			bio.WriteString(h.pick(separators))
		}
		bio.WriteString(h.pick(bioPool))
	}
	pr.Biography = bio.String()
	return pr
}

func (h *walk) join(t *testing.T, role domain.Role, i int) domain.Actor {
	t.Helper()
	a := h.member(t, role, fmt.Sprint(role, " ", i))
	h.do(t)(h.svc.UpdateProfile(h.ctx, command.Request{Actor: a}, a.ID, h.profile()))
	return a
}

// do fails the test when a command fails for a reason other than the
// program's rules.
func (h *walk) do(t *testing.T) func(command.Result, error) {
	return func(_ command.Result, err error) {
		t.Helper()
		if err != nil && refusal.CodeOf(err) == "" {
			t.Fatalf("command failed: %v", err)
		}
	}
}

// match picks a known match and its partners, trying a few for one in one
// of the statuses given, so that most commands meet a match they apply to.
func (h *walk) match(t *testing.T, statuses ...domain.MatchStatus) (id uuid.UUID, mentee, mentor domain.Actor) {
	t.Helper()
	m := h.pickMatch(t, statuses...)
	return m.ID(), domain.Actor{ID: m.MenteeID(), Role: domain.RoleMentee}, domain.Actor{ID: m.MentorID(), Role: domain.RoleMentor}
}

func (h *walk) pickMatch(t *testing.T, statuses ...domain.MatchStatus) domain.Match {
	t.Helper()
	var m domain.Match
	for range 4 {
		var err error
		if m, err = h.svc.Match(h.ctx, h.matches[h.r.IntN(len(h.matches))]); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(statuses, m.Status()) {
			break
		}
	}
	return m
}

// details draws a meeting log dated on a day of the match, from the day
// it was made (or a day before, which the rules refuse) to today.
func (h *walk) details(m domain.Match) domain.SessionDetails {
	made, now := m.AcceptedAt().Add(-24*time.Hour), h.clock.Now()
	if m.AcceptedAt().IsZero() || !made.Before(now) {
		made = now.Add(-30 * 24 * time.Hour)
	}
	return domain.SessionDetails{
		Date:    h.program.Today(made.Add(time.Duration(h.r.Int64N(int64(now.Sub(made)))))),
		Minutes: []int{0, 15 * (1 + h.r.IntN(12)), 1 + h.r.IntN(h.program.Limits.SessionMinutes)}[h.r.IntN(3)],
		Value:   h.r.IntN(6),
	}
}

func (h *walk) step(t *testing.T) {
	t.Helper()
	do := h.do(t)
	as := func(a domain.Actor) command.Request { return command.Request{Actor: a} }
	staff := as(h.staff)
	pickActor := func(l []domain.Actor) domain.Actor { return l[h.r.IntN(len(l))] }
	n := h.r.IntN(100)
	pending := func() (uuid.UUID, domain.Actor, domain.Actor) { return h.match(t, domain.StatusPending) }
	active := func() (uuid.UUID, domain.Actor, domain.Actor) { return h.match(t, domain.StatusActive) }
	// Now and then a member asks to close the account, or staff erase
	// one (refused while the member has open matches).
	if h.r.IntN(40) == 0 {
		m := pickActor(slices.Concat(h.mentors, h.mentees))
		if h.r.IntN(2) == 0 {
			do(h.svc.RequestAccountClosure(h.ctx, as(m), m.ID, h.pick(bioPool)))
		} else {
			do(h.svc.EraseMember(h.ctx, staff, m.ID, "asked to close the account"))
		}
	}
	switch {
	case n < 14 || len(h.matches) == 0:
		id, res, err := h.svc.RequestMatch(h.ctx, as(pickActor(h.mentees)), pickActor(h.mentors).ID, h.pick(bioPool))
		do(res, err)
		if err == nil {
			h.matches = append(h.matches, id)
		}
	case n < 26:
		id, _, mentor := pending()
		do(h.svc.AcceptMatch(h.ctx, as(mentor), id))
	case n < 30:
		id, _, mentor := pending()
		do(h.svc.DeclineMatch(h.ctx, as(mentor), id, h.pick(h.program.DeclineReasons), ""))
	case n < 34:
		id, mentee, _ := pending()
		do(h.svc.CancelMatch(h.ctx, as(mentee), id))
	case n < 38:
		id, mentee, _ := pending()
		do(h.svc.RequestNudge(h.ctx, as(mentee), id))
	case n < 41:
		id, _, _ := pending()
		do(h.svc.NudgeMentor(h.ctx, staff, id, "please answer"))
	case n < 44:
		id, _, _ := pending()
		do(h.svc.MarkResponseWindowElapsed(h.ctx, id))
	case n < 47:
		id, _, _ := active()
		do(h.svc.RemindFirstMeeting(h.ctx, id))
	case n < 48:
		id, mentee, mentor := active()
		asker := mentee
		if h.r.IntN(2) == 0 {
			asker = mentor
		}
		do(h.svc.RequestMatchEnd(h.ctx, as(asker), id, h.pick(h.program.EndReasons), "please"))
	case n < 50:
		id, mentee, _ := active()
		do(h.svc.EndMatch(h.ctx, staff, id, h.pick(h.program.EndReasons), mentee.ID, "done"))
	case n < 52:
		id, _, _ := active()
		do(h.svc.CompleteTerm(h.ctx, id))
	case n < 54:
		id, _, _ := h.match(t, domain.StatusEnded)
		do(h.svc.RequestProfileReview(h.ctx, id))
	case n < 66:
		m := h.pickMatch(t, domain.StatusActive)
		author := domain.Actor{ID: m.MenteeID(), Role: domain.RoleMentee}
		if h.r.IntN(2) == 0 {
			author = domain.Actor{ID: m.MentorID(), Role: domain.RoleMentor}
		}
		session, id := uuid.New(), m.ID()
		res, err := h.svc.LogSession(h.ctx, as(author), id, session, h.details(m))
		do(res, err)
		if err == nil {
			h.sessions = append(h.sessions, loggedSession{match: id, id: session, author: author})
		}
	case n < 72 && len(h.sessions) > 0:
		s := h.sessions[h.r.IntN(len(h.sessions))]
		m, err := h.svc.Match(h.ctx, s.match)
		if err != nil {
			t.Fatal(err)
		}
		do(h.svc.EditSession(h.ctx, as(s.author), s.match, s.id, h.details(m)))
	case n < 75:
		id, mentee, _ := active()
		doc := uuid.New()
		res, err := h.svc.AddDocument(h.ctx, as(mentee), domain.AddDocument{MatchID: id, DocumentID: doc, Name: h.pick([]string{"plan.pdf", "notes.txt"}),
			Size: 1 + h.r.Int64N(1000), ContentType: "application/pdf", SHA256: strings.Repeat("ab", 32)})
		do(res, err)
		if err == nil {
			h.documents = append(h.documents, [2]uuid.UUID{id, doc})
		}
	case n < 77 && len(h.documents) > 0:
		d := h.documents[h.r.IntN(len(h.documents))]
		m, err := h.svc.Match(h.ctx, d[0])
		if err != nil {
			t.Fatal(err)
		}
		do(h.svc.RemoveDocument(h.ctx, as(domain.Actor{ID: m.MentorID(), Role: domain.RoleMentor}), d[0], d[1]))
	case n < 82:
		m := pickActor(h.mentors)
		do(h.svc.SetMentorCapacity(h.ctx, as(m), m.ID, 1+h.r.IntN(3)))
	case n < 86:
		m := pickActor(h.mentors)
		do(h.svc.SetAcceptingRequests(h.ctx, as(m), m.ID, h.r.IntN(3) > 0))
	case n < 95:
		m := pickActor(slices.Concat(h.mentors, h.mentees))
		do(h.svc.UpdateProfile(h.ctx, as(m), m.ID, h.profile()))
	case n < 97 || len(h.resources) == 0:
		id, res, err := h.svc.PublishResource(h.ctx, staff, domain.PublishResource{ResourceID: uuid.New(), Title: h.pick(bioPool),
			URL: "https://example.org/" + h.pick(bioPool), Audience: []domain.Audience{domain.AudienceMentees, domain.AudienceMentors, domain.AudienceBoth}[h.r.IntN(3)]})
		do(res, err)
		if err == nil {
			h.resources = append(h.resources, id)
		}
	default:
		do(h.svc.RetireResource(h.ctx, staff, h.resources[h.r.IntN(len(h.resources))]))
	}
	if h.r.IntN(25) == 0 {
		h.clock.Advance(time.Duration(15+h.r.IntN(30)) * 24 * time.Hour)
	} else {
		h.clock.Advance(time.Duration(h.r.IntN(48)) * time.Hour)
	}
}

// Deliver applies events in random batches of up to batch events, some of
// which begin again at an earlier event (a recent stretch, or now and then
// the whole log so far), as a subscription that resumes from an older
// position delivers them.
func Deliver(t *testing.T, r *rand.Rand, events []projections.Event, batch int, apply func([]projections.Event) error) {
	t.Helper()
	for i := 0; i < len(events); {
		end := min(len(events), i+1+r.IntN(batch))
		start := i
		switch r.IntN(8) {
		case 0:
			start = 0
		case 1, 2:
			start = max(0, i-r.IntN(2*batch))
		}
		if err := apply(events[start:end]); err != nil {
			t.Fatalf("apply: %v", err)
		}
		i = end
	}
}
