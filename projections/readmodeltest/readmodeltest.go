// Package readmodeltest is the suite every read-model store runs with one
// call, so that the in-memory read models and the Redis ones answer every
// query alike: the same search results in the same order, the same match
// groups, sessions, CPD hours, documents, resources, staff queue and
// dashboard, and the same state however the events arrive in batches or
// are delivered twice.
package readmodeltest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/seed"
)

// Models are one store's read models.
type Models struct {
	Members projections.MemberReader
	Matches projections.MatchReader
	// Apply applies events, in order, to both read models. Events at or
	// before a read model's position must be skipped.
	Apply func(events []projections.Event) error
	// Position is the read models' position (the lower of the two).
	Position func() eventstore.Position
}

// Harness gives the suite empty read models of one store.
type Harness struct {
	Open func(t *testing.T) Models
}

// Run runs every test of the suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"SearchExactWords", testSearchExactWords},
		{"SearchFiltersOrderingAndPages", testSearchFilters},
		{"SearchOnlyAvailable", testSearchOnlyAvailable},
		{"MatchLifecycle", testMatchLifecycle},
		{"RedeliveryChangesNothing", testRedelivery},
		{"GeneratedProgramAgreesWithReference", testGenerated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

var at = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// log numbers synthetic events.
type log struct {
	pos    eventstore.Position
	events []projections.Event
}

func (l *log) add(data ...domain.Event) []projections.Event {
	start := len(l.events)
	for _, d := range data {
		l.pos++
		l.events = append(l.events, projections.Event{Position: l.pos, ID: uuid.New(), Data: d})
	}
	return l.events[start:]
}

func (l *log) mentor(id uuid.UUID, pr domain.Profile) []projections.Event {
	return l.add(
		domain.MemberRegistered{MemberID: id, Role: domain.RoleMentor, Name: pr.Name, Email: "m@example.org", Capacity: 1, Accepting: true, At: at},
		domain.ProfileUpdated{MemberID: id, Profile: pr, At: at},
	)
}

func apply(t *testing.T, m Models, events []projections.Event) {
	t.Helper()
	if err := m.Apply(events); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func names(res projections.SearchResult) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Mentor.Profile.Name)
	}
	return out
}

func testSearchExactWords(t *testing.T, h Harness) {
	m := h.Open(t)
	var l log
	bios := [][2]string{
		{"Alice", "Geotechnical engineer; tunnels, slopes and foundations."},
		{"Bob", "Structural engineering of bridges (steel & concrete)."},
		{"Carol", "GEOTECHNICAL investigations for mining. Engineer, P.Eng."},
		{"Dan", "Hydro-geology and groundwater modelling."},
	}
	for _, b := range bios {
		l.mentor(uuid.New(), domain.Profile{Name: b[0], Biography: b[1]})
	}
	apply(t, m, l.events)
	cases := []struct {
		words string
		want  []string
	}{
		{"geotechnical", []string{"Alice", "Carol"}},
		{"Geotechnical ENGINEER", []string{"Alice", "Carol"}},
		{"engineer,", []string{"Alice", "Carol"}},
		{"engineering", []string{"Bob"}},
		{"engine", nil},
		{"tunnels slopes foundations", []string{"Alice"}},
		{"geology", []string{"Dan"}},
		{"steel mining", nil},
		{"", []string{"Alice", "Bob", "Carol", "Dan"}},
	}
	for _, tc := range cases {
		res, err := m.Members.SearchMentors(projections.SearchQuery{Words: tc.words})
		if err != nil {
			t.Fatalf("%q: %v", tc.words, err)
		}
		if diff := cmp.Diff(tc.want, names(res)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.words, diff)
		}
	}
	if _, err := m.Members.SearchMentors(projections.SearchQuery{Words: "one two three four"}); !errors.Is(err, projections.ErrTooManyWords) {
		t.Fatalf("four words: %v", err)
	}
	if _, err := m.Members.SearchMentors(projections.SearchQuery{After: "!!not a cursor"}); !errors.Is(err, projections.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
	// A changed biography moves the mentor between words.
	alice := l.events[0].Data.(domain.MemberRegistered).MemberID
	apply(t, m, l.add(domain.ProfileUpdated{MemberID: alice, Profile: domain.Profile{Name: "Alice", Biography: "Hydrogeologist."}, At: at}))
	res, err := m.Members.SearchMentors(projections.SearchQuery{Words: "geotechnical"})
	if err != nil || !cmp.Equal(names(res), []string{"Carol"}) {
		t.Fatalf("after a new biography: %v %v", names(res), err)
	}
	if res, _ := m.Members.SearchMentors(projections.SearchQuery{Words: "hydrogeologist"}); !cmp.Equal(names(res), []string{"Alice"}) {
		t.Fatalf("the new word: %v", names(res))
	}
}

func testSearchFilters(t *testing.T, h Harness) {
	m := h.Open(t)
	var l log
	viewer := uuid.New()
	l.add(
		domain.MemberRegistered{MemberID: viewer, Role: domain.RoleMentee, Name: "Mia", Email: "mia@example.org", At: at},
		domain.ProfileUpdated{MemberID: viewer, Profile: domain.Profile{Name: "Mia", Focus: []string{"CAREER_PLANNING", "LEADERSHIP"}, Skills: map[string]int{"COMMUNICATION": 2}}, At: at},
	)
	var ids []uuid.UUID
	for i := range 30 {
		id := uuid.New()
		ids = append(ids, id)
		pr := domain.Profile{Name: fmt.Sprintf("Mentor %02d", i), Discipline: []string{"CIVIL", "MINING"}[i%2],
			Location: domain.Location{Province: []string{"ON", "BC", "AB"}[i%3], City: []string{"Toronto", "Vancouver"}[i%2]}, Languages: []string{"en"}}
		if i%5 == 0 {
			pr.Focus = []string{"LEADERSHIP"}
		}
		if i%10 == 0 {
			pr.Skills = map[string]int{"COMMUNICATION": 5}
		}
		l.mentor(id, pr)
	}
	apply(t, m, l.events)
	res, err := m.Members.SearchMentors(projections.SearchQuery{Disciplines: []string{"CIVIL"}, Provinces: []string{"ON", "BC"}, Viewer: viewer, First: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hits {
		if h.Mentor.Profile.Discipline != "CIVIL" || h.Mentor.Profile.Location.Province == "AB" {
			t.Fatalf("filter let through %+v", h.Mentor.Profile)
		}
	}
	if res.Total != 10 {
		t.Fatalf("%d civil mentors in ON or BC, want 10", res.Total)
	}
	if got := names(res)[:3]; !cmp.Equal(got, []string{"Mentor 00", "Mentor 10", "Mentor 04"}) {
		t.Fatalf("ordering by affinity: %v", got)
	}
	// One discipline and one province: mentors 0, 6, 12, 18 and 24.
	if res, err := m.Members.SearchMentors(projections.SearchQuery{Disciplines: []string{"CIVIL"}, Provinces: []string{"ON"}, First: 100}); err != nil || res.Total != 5 {
		t.Fatalf("one discipline and one province: %v, %v", names(res), err)
	}
	if res, err := m.Members.SearchMentors(projections.SearchQuery{City: " toronto ", First: 100}); err != nil || res.Total != 15 {
		t.Fatalf("city: %d, %v", res.Total, err)
	}
	if res, err := m.Members.SearchMentors(projections.SearchQuery{Skills: []projections.SkillFilter{{Skill: "COMMUNICATION", MinRating: 4}}}); err != nil || res.Total != 3 {
		t.Fatalf("skill at least 4: %d hits, %v", res.Total, err)
	}
	// Walking pages of 7 gives every mentor once, in order, even when a
	// profile changes between pages.
	var walked []string
	after := ""
	for page := 0; ; page++ {
		res, err := m.Members.SearchMentors(projections.SearchQuery{Viewer: viewer, First: 7, After: after})
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, names(res)...)
		if page == 1 {
			apply(t, m, l.add(domain.ProfileUpdated{MemberID: ids[1], Profile: domain.Profile{Name: "Zed", Discipline: "MINING"}, At: at}))
		}
		if !res.HasNextPage {
			break
		}
		after = res.Hits[len(res.Hits)-1].Cursor
	}
	seen := map[string]int{}
	for _, n := range walked {
		seen[n]++
	}
	if len(walked) != 31 || seen["Zed"] != 1 || seen["Mentor 01"] != 1 {
		t.Fatalf("pages gave %d names: %v", len(walked), walked)
	}
	// Moving to another province leaves the pair.
	apply(t, m, l.add(domain.ProfileUpdated{MemberID: ids[0], Profile: domain.Profile{Name: "Mentor 00", Discipline: "CIVIL", Location: domain.Location{Province: "AB"}}, At: at}))
	if res, err := m.Members.SearchMentors(projections.SearchQuery{Disciplines: []string{"CIVIL"}, Provinces: []string{"ON"}, First: 100}); err != nil || res.Total != 4 {
		t.Fatalf("after a move: %v, %v", names(res), err)
	}
	if res, err := m.Members.SearchMentors(projections.SearchQuery{Disciplines: []string{"CIVIL"}, Provinces: []string{"AB"}, First: 100}); err != nil || !slices.Contains(names(res), "Mentor 00") {
		t.Fatalf("the new province: %v, %v", names(res), err)
	}
}

func testSearchOnlyAvailable(t *testing.T, h Harness) {
	m := h.Open(t)
	var l log
	open, full, closed := uuid.New(), uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{open, full, closed} {
		l.mentor(id, domain.Profile{Name: id.String()})
	}
	match := uuid.New()
	l.add(
		domain.CapacitySlotReserved{MemberID: full, MatchID: match, At: at},
		domain.MentorAvailabilityChanged{MemberID: closed, Accepting: false, At: at},
	)
	apply(t, m, l.events)
	res, err := m.Members.SearchMentors(projections.SearchQuery{OnlyAvailable: true})
	if err != nil || res.Total != 1 || res.Hits[0].Mentor.ID != open {
		t.Fatalf("only available: %v %v", names(res), err)
	}
	// Releasing the slot and reopening bring them back.
	apply(t, m, l.add(
		domain.CapacitySlotReleased{MemberID: full, MatchID: match, At: at},
		domain.MentorAvailabilityChanged{MemberID: closed, Accepting: true, At: at},
	))
	if res, _ := m.Members.SearchMentors(projections.SearchQuery{OnlyAvailable: true}); res.Total != 3 {
		t.Fatalf("after release and reopening: %v", names(res))
	}
	v, ok := m.Members.Member(full)
	if !ok || v.CapacityUsed() != 0 || len(v.Slots) != 0 {
		t.Fatalf("member view after release: %+v", v)
	}
	got := m.Members.MembersByID([]uuid.UUID{closed, uuid.New(), open})
	if got[0] == nil || got[0].ID != closed || got[1] != nil || got[2] == nil || got[2].ID != open {
		t.Fatalf("members by ID: %v", got)
	}
}

// world drives the command service on a private store, so that histories
// are the ones the program's rules write.
type world struct {
	store eventstore.Store
	svc   *command.Service
	clock *clock.Fake
	staff domain.Actor
}

// NewProgram opens an embedded store in a temporary directory, closed when
// the test ends, with the command service over it on a fake clock.
func NewProgram(t *testing.T) (eventstore.Store, *command.Service, *clock.Fake) {
	t.Helper()
	store, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clk := clock.NewFake(time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC))
	svc, err := command.New(store, domain.DefaultProgram(), clk, command.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return store, svc, clk
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, svc, clk := NewProgram(t)
	w := &world{store: store, svc: svc, clock: clk, staff: domain.Actor{ID: uuid.New(), Role: domain.RoleStaff}}
	must(t)(svc.RegisterMember(context.Background(), command.Request{Actor: domain.SystemActor()}, w.staff.ID, domain.RoleStaff, "Staff", "staff@example.org"))
	return w
}

// must fails the test when a command fails.
func must(t *testing.T) func(command.Result, error) {
	return func(_ command.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) member(t *testing.T, role domain.Role, name string) domain.Actor {
	t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: role}
	must(t)(w.svc.RegisterMember(context.Background(), command.Request{Actor: a}, a.ID, role, name, a.ID.String()[:8]+"@example.org"))
	return a
}

// events reads the whole log.
func (w *world) events(t *testing.T) []projections.Event { return Events(t, w.store) }

// Events reads and decodes a store's whole log.
func Events(t *testing.T, store eventstore.Store) []projections.Event {
	t.Helper()
	recs, err := store.ReadAll(context.Background(), eventstore.Start, 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]projections.Event, len(recs))
	for i, r := range recs {
		if out[i], err = projections.Decode(r); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func testMatchLifecycle(t *testing.T, h Harness) {
	m := h.Open(t)
	w := newWorld(t)
	ctx := context.Background()
	as := func(a domain.Actor) command.Request { return command.Request{Actor: a} }
	mentee, mentee2 := w.member(t, domain.RoleMentee, "Mia"), w.member(t, domain.RoleMentee, "Noor")
	mentor, mentor2 := w.member(t, domain.RoleMentor, "Max"), w.member(t, domain.RoleMentor, "Oli")
	first, _, err := w.svc.RequestMatch(ctx, as(mentee), mentor.ID, "hello")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(48 * time.Hour)
	must(t)(w.svc.AcceptMatch(ctx, as(mentor), first))
	day := w.svc.Program().Today(w.clock.Now())
	session := uuid.New()
	must(t)(w.svc.LogSession(ctx, as(mentee), first, session, domain.SessionDetails{Date: day, Minutes: 60, Value: 4, Notes: "private"}))
	must(t)(w.svc.EditSession(ctx, as(mentee), first, session, domain.SessionDetails{Date: day, Minutes: 90, Value: 5}))
	must(t)(w.svc.LogSession(ctx, as(mentor), first, uuid.New(), domain.SessionDetails{Date: day, Minutes: 30, Value: 3}))
	doc := uuid.New()
	must(t)(w.svc.AddDocument(ctx, as(mentee), domain.AddDocument{MatchID: first, DocumentID: doc, Actor: mentee, Name: "plan.pdf", Size: 10, ContentType: "application/pdf", SHA256: strings.Repeat("ab", 32), At: w.clock.Now()}))
	doc2 := uuid.New()
	must(t)(w.svc.AddDocument(ctx, as(mentor), domain.AddDocument{MatchID: first, DocumentID: doc2, Actor: mentor, Name: "notes.txt", Size: 5, ContentType: "text/plain", SHA256: strings.Repeat("cd", 32), At: w.clock.Now()}))
	must(t)(w.svc.RemoveDocument(ctx, as(mentor), first, doc2))
	second, _, err := w.svc.RequestMatch(ctx, as(mentee2), mentor2.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(20 * 24 * time.Hour)
	must(t)(w.svc.RequestNudge(ctx, as(mentee2), second))
	res, _, err := w.svc.PublishResource(ctx, as(w.staff), domain.PublishResource{ResourceID: uuid.New(), Actor: w.staff, Title: "Guide", URL: "https://example.org/guide", Audience: domain.AudienceMentees, At: w.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	retired, _, err := w.svc.PublishResource(ctx, as(w.staff), domain.PublishResource{ResourceID: uuid.New(), Actor: w.staff, Title: "Old", URL: "https://example.org/old", Audience: domain.AudienceBoth, At: w.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	must(t)(w.svc.RetireResource(ctx, as(w.staff), retired))
	apply(t, m, w.events(t))

	if v, ok := m.Matches.Match(first); !ok || v.Status != domain.StatusActive || v.SessionCount != 2 || len(v.Documents) != 2 {
		t.Fatalf("first match: %+v", v)
	}
	if got := m.Matches.MatchesOf(mentor.ID, projections.ActiveMatches); len(got) != 1 || got[0].ID != first {
		t.Fatalf("mentor's active matches: %v", got)
	}
	if got := m.Matches.MatchesOf(mentee2.ID, projections.PendingMatches); len(got) != 1 || !got[0].NudgeRequested {
		t.Fatalf("pending with nudge: %v", got)
	}
	sessions := m.Matches.SessionsOf(mentee.ID, uuid.Nil)
	if len(sessions) != 1 || sessions[0].Details.Minutes != 90 || sessions[0].Revisions != 2 {
		t.Fatalf("mentee's sessions: %+v", sessions)
	}
	if s, ok := m.Matches.Session(session); !ok || s.AuthorID != mentee.ID {
		t.Fatalf("session: %+v", s)
	}
	if c := m.Matches.CPDSummary(mentee.ID, day, day); c.TotalMinutes != 90 || c.InRangeMinutes != 90 || c.ByMatch[first] != 90 {
		t.Fatalf("CPD: %+v", c)
	}
	if d, mv, ok := m.Matches.Document(doc2); !ok || !d.Removed || mv.ID != first {
		t.Fatalf("removed document: %+v", d)
	}
	if _, _, ok := m.Matches.Document(uuid.New()); ok {
		t.Fatal("an unknown document was found")
	}
	if got := m.Matches.Resources(domain.RoleMentee); len(got) != 1 || got[0].ID != res {
		t.Fatalf("mentee resources: %+v", got)
	}
	if got := m.Matches.Resources(domain.RoleMentor); len(got) != 0 {
		t.Fatalf("mentor resources: %+v", got)
	}
	if r, ok := m.Matches.Resource(retired); !ok || !r.Retired {
		t.Fatalf("retired resource: %+v", r)
	}
	q := m.Matches.Queue(w.svc.Program(), w.clock.Now(), 14)
	if len(q.PendingOlderThan) != 1 || len(q.NudgeRequests) != 1 || q.NudgeRequests[0].ID != second {
		t.Fatalf("queue: %+v", q)
	}
	d := m.Matches.Dashboard(w.svc.Program(), w.clock.Now())
	if d.Pending != 1 || d.Active != 1 || d.AcceptanceRate != 1 || d.MedianDaysToResponse != 2 {
		t.Fatalf("dashboard: %+v", d)
	}
	if got := m.Matches.MatchesByID([]uuid.UUID{second, uuid.New(), first}); got[0].ID != second || got[1] != nil || got[2].ID != first {
		t.Fatalf("matches by ID: %v", got)
	}
}

// generated writes a small program with the seed generator.
func generated(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	if _, err := seed.Generate(context.Background(), w.store, w.svc.Program(), seed.Options{
		Mentors: 40, Mentees: 80, Events: 3000, Seed: 7, Days: 200, End: w.clock.Now(), Workers: 2,
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

func testRedelivery(t *testing.T, h Harness) {
	w := generated(t)
	events := w.events(t)
	whole := h.Open(t)
	apply(t, whole, events)
	pieces := h.Open(t)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(events); {
		end := min(len(events), i+1+r.IntN(300))
		start := i
		if r.IntN(3) == 0 {
			start = max(0, i-r.IntN(50))
		}
		apply(t, pieces, events[start:end])
		i = end
	}
	Compare(t, w.svc.Program(), w.clock.Now(), events, whole, pieces)
}

func testGenerated(t *testing.T, h Harness) {
	w := generated(t)
	events := w.events(t)
	got := h.Open(t)
	apply(t, got, events)
	Compare(t, w.svc.Program(), w.clock.Now(), events, Reference(t, events), got)
}

// Reference is the in-memory read models with events applied in one
// batch.
func Reference(t *testing.T, events []projections.Event) Models {
	members, matches := projections.NewMembers(), projections.NewMatches()
	for _, p := range []projections.Projection{members, matches} {
		if err := p.Apply(events); err != nil {
			t.Fatal(err)
		}
	}
	return Models{Members: members, Matches: matches}
}

// Compare asks both read models every query about every member, match,
// session and document of events, and a set of searches, and fails the
// test at the first difference. The program and now are those of the
// staff queue and the dashboard.
func Compare(t *testing.T, program domain.Program, now time.Time, events []projections.Event, want, got Models) {
	t.Helper()
	if got.Position != nil {
		if pos := got.Position(); pos != events[len(events)-1].Position {
			t.Fatalf("position %d, want %d", pos, events[len(events)-1].Position)
		}
	}
	var members, matches, sessions, docs []uuid.UUID
	var viewers []uuid.UUID
	for _, ev := range events {
		switch e := ev.Data.(type) {
		case domain.MemberRegistered:
			members = append(members, e.MemberID)
			if e.Role == domain.RoleMentee && len(viewers) < 5 {
				viewers = append(viewers, e.MemberID)
			}
		case domain.MatchRequested:
			matches = append(matches, e.MatchID)
		case domain.SessionLogged:
			sessions = append(sessions, e.SessionID)
		case domain.DocumentAdded:
			docs = append(docs, e.DocumentID)
		}
	}
	diff := func(what string, a, b any) {
		t.Helper()
		if d := cmp.Diff(a, b); d != "" {
			t.Fatalf("%s (-want +got):\n%s", what, d)
		}
	}
	diff("members by ID", want.Members.MembersByID(members), got.Members.MembersByID(members))
	diff("matches by ID", want.Matches.MatchesByID(matches), got.Matches.MatchesByID(matches))
	for _, id := range members {
		for g := projections.AllMatches; g <= projections.PastMatches; g++ {
			diff("matches of a member", want.Matches.MatchesOf(id, g), got.Matches.MatchesOf(id, g))
		}
		diff("sessions of an author", want.Matches.SessionsOf(id, uuid.Nil), got.Matches.SessionsOf(id, uuid.Nil))
		diff("CPD", want.Matches.CPDSummary(id, domain.Date{}, domain.Date{}), got.Matches.CPDSummary(id, domain.Date{}, domain.Date{}))
	}
	for _, id := range sessions {
		a, _ := want.Matches.Session(id)
		b, _ := got.Matches.Session(id)
		diff("session", a, b)
	}
	for _, id := range docs {
		a, am, _ := want.Matches.Document(id)
		b, bm, _ := got.Matches.Document(id)
		diff("document", a, b)
		diff("document's match", am, bm)
	}
	for _, role := range []domain.Role{domain.RoleMentee, domain.RoleMentor, domain.RoleStaff} {
		diff("resources", want.Matches.Resources(role), got.Matches.Resources(role))
	}
	diff("queue", want.Matches.Queue(program, now, 7), got.Matches.Queue(program, now, 7))
	wd, gd := want.Matches.Dashboard(program, now), got.Matches.Dashboard(program, now)
	wd.Position, gd.Position = 0, 0
	diff("dashboard", wd, gd)
	queries := []projections.SearchQuery{
		{First: 100},
		{Words: "engineering", First: 100},
		{OnlyAvailable: true, First: 100},
		{Disciplines: program.Disciplines[:3], Languages: []string{"en", "fr"}, First: 100},
		{Disciplines: program.Disciplines[:1], Provinces: []string{"ON"}, First: 100},
		{Words: "engineering", Disciplines: program.Disciplines[1:2], Provinces: []string{"BC"}, First: 100},
		{FocusAreas: program.FocusAreas[:2], Skills: []projections.SkillFilter{{Skill: program.Skills[0], MinRating: 3}}, First: 100},
	}
	for _, v := range viewers {
		for _, q := range queries {
			q.Viewer = v
			a, errA := want.Members.SearchMentors(q)
			b, errB := got.Members.SearchMentors(q)
			if errA != nil || errB != nil {
				t.Fatalf("search: %v / %v", errA, errB)
			}
			diff(fmt.Sprintf("search %+v", q), a, b)
			// The second page from the same cursor.
			if len(a.Hits) > 3 {
				q.First, q.After = 3, a.Hits[2].Cursor
				a, _ = want.Members.SearchMentors(q)
				b, _ = got.Members.SearchMentors(q)
				diff("search second page", a, b)
			}
		}
	}
}
