// Package readmodeltest is the suite every read-model store runs with one
// call, so that the in-memory read models and the Redis ones answer every
// query as the program's rules say: the same search results in the same
// order, the same match groups, sessions, CPD hours, documents, resources,
// staff queue and dashboard as Reference, an independent recomputation
// from the log, however the events arrive in batches or are delivered
// twice.
package readmodeltest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/seed"
)

// Models are one store's read models.
type Models struct {
	Members projections.MemberReader
	Matches projections.MatchReader
	// Apply applies events, in order, to both read models. Events at or
	// before a read model's position must be skipped. The Reference has
	// none.
	Apply func(events []projections.Event) error
	// Position is the read models' position (the lower of the two).
	Position func() (eventstore.Position, error)
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
		{"SearchWordsOfAnyScript", testSearchWordsOfAnyScript},
		{"SearchFiltersOrderingAndPages", testSearchFilters},
		{"SearchOnlyAvailable", testSearchOnlyAvailable},
		{"SearchFacetFilters", testSearchFacets},
		{"SearchRanksByOverlapWithTheViewer", testSearchRanking},
		{"SearchPagesWhileProfilesChange", testSearchPagesWhileProfilesChange},
		{"CPDPerMatchInRangeAndInTotal", testCPDRanges},
		{"MatchLifecycle", testMatchLifecycle},
		{"RedeliveryChangesNothing", testRedelivery},
		{"GeneratedProgramAgreesWithReference", testGenerated},
		{"RandomHistoriesAgreeWithReference", testRandomHistories},
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
		{"Eve", "Water-resource management: dam safety reviews."},
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
		// Three typed words, the first of which holds two: all four
		// whole words must be in the biography.
		{"water-resource management dam", []string{"Eve"}},
		{"water-resource management bridges", nil},
		{"hydro-geology", []string{"Dan"}},
		{"", []string{"Alice", "Bob", "Carol", "Dan", "Eve"}},
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
	if _, err := m.Members.SearchMentors(projections.SearchQuery{Words: "water-resource dam-safety reviews management"}); !errors.Is(err, projections.ErrTooManyWords) {
		t.Fatalf("four typed words: %v", err)
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
	// Walking pages of 7 while profiles change between pages. A cursor is
	// the (score, name, ID) of the last hit shown, and the next page starts
	// after that key whatever changed since, so every mentor whose place in
	// the order did not change shows exactly once, in order. A mentor whose
	// key changed shows at the place it had when its page was read: Mentor
	// 01, shown on the first page and then renamed Zed, moves ahead of the
	// cursor and shows a second time at the end; Mentor 29, renamed Aaron
	// before its page came, moves behind the cursor and never shows.
	var walked []string
	after := ""
	for page := 0; ; page++ {
		res, err := m.Members.SearchMentors(projections.SearchQuery{Viewer: viewer, First: 7, After: after})
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, names(res)...)
		if page == 1 {
			apply(t, m, l.add(
				domain.ProfileUpdated{MemberID: ids[1], Profile: domain.Profile{Name: "Zed", Discipline: "MINING"}, At: at},
				domain.ProfileUpdated{MemberID: ids[29], Profile: domain.Profile{Name: "Aaron", Discipline: "MINING"}, At: at},
			))
		}
		if !res.HasNextPage {
			break
		}
		after = res.Hits[len(res.Hits)-1].Cursor
	}
	want := []string{
		// Page 1: the best affinity first (4 points: a shared focus area
		// and a strong skill; 3 points: a shared focus area), then names.
		"Mentor 00", "Mentor 10", "Mentor 20", "Mentor 05", "Mentor 15", "Mentor 25", "Mentor 01",
		// Page 2, after which the two renames happen.
		"Mentor 02", "Mentor 03", "Mentor 04", "Mentor 06", "Mentor 07", "Mentor 08", "Mentor 09",
		// The rest, after "Mentor 09": Aaron sorts before it, Zed last.
		"Mentor 11", "Mentor 12", "Mentor 13", "Mentor 14", "Mentor 16", "Mentor 17", "Mentor 18", "Mentor 19",
		"Mentor 21", "Mentor 22", "Mentor 23", "Mentor 24", "Mentor 26", "Mentor 27", "Mentor 28", "Zed",
	}
	if diff := cmp.Diff(want, walked); diff != "" {
		t.Fatalf("pages while profiles change (-want +got):\n%s", diff)
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
	v, ok := strict(t, m).Members.Member(full)
	if !ok || v.CapacityUsed() != 0 || len(v.Slots) != 0 {
		t.Fatalf("member view after release: %+v", v)
	}
	got := strict(t, m).Members.MembersByID([]uuid.UUID{closed, uuid.New(), open})
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
	return openProgram(t, bolt.Options{})
}

func openProgram(t *testing.T, opts bolt.Options) (eventstore.Store, *command.Service, *clock.Fake) {
	t.Helper()
	store, err := bolt.Open(t.TempDir(), opts)
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
	return newWorldOn(t, bolt.Options{})
}

func newWorldOn(t *testing.T, opts bolt.Options) *world {
	t.Helper()
	store, svc, clk := openProgram(t, opts)
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
		if out[i], err = follow.Decode(r); err != nil {
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

	s := strict(t, m)
	if v, ok := s.Matches.Match(first); !ok || v.Status != domain.StatusActive || v.SessionCount != 2 || len(v.Documents) != 2 {
		t.Fatalf("first match: %+v", v)
	}
	if got := s.Matches.MatchesOf(mentor.ID, projections.ActiveMatches); len(got) != 1 || got[0].ID != first {
		t.Fatalf("mentor's active matches: %v", got)
	}
	if got := s.Matches.MatchesOf(mentee2.ID, projections.PendingMatches); len(got) != 1 || !got[0].NudgeRequested {
		t.Fatalf("pending with nudge: %v", got)
	}
	sessions := s.Matches.SessionsOf(mentee.ID, uuid.Nil)
	if len(sessions) != 1 || sessions[0].Details.Minutes != 90 || sessions[0].Revisions != 2 {
		t.Fatalf("mentee's sessions: %+v", sessions)
	}
	if s, ok := s.Matches.Session(session); !ok || s.AuthorID != mentee.ID {
		t.Fatalf("session: %+v", s)
	}
	if c := s.Matches.CPDSummary(mentee.ID, day, day); c.TotalMinutes != 90 || c.InRangeMinutes != 90 || c.ByMatch[first] != 90 {
		t.Fatalf("CPD: %+v", c)
	}
	if d, mv, ok := s.Matches.Document(doc2); !ok || !d.Removed || mv.ID != first {
		t.Fatalf("removed document: %+v", d)
	}
	if _, _, ok := s.Matches.Document(uuid.New()); ok {
		t.Fatal("an unknown document was found")
	}
	if got := s.Matches.Resources(domain.RoleMentee); len(got) != 1 || got[0].ID != res {
		t.Fatalf("mentee resources: %+v", got)
	}
	if got := s.Matches.Resources(domain.RoleMentor); len(got) != 0 {
		t.Fatalf("mentor resources: %+v", got)
	}
	if r, ok := s.Matches.Resource(retired); !ok || !r.Retired {
		t.Fatalf("retired resource: %+v", r)
	}
	q := s.Matches.Queue(w.svc.Program(), w.clock.Now(), 14)
	if len(q.PendingOlderThan) != 1 || len(q.NudgeRequests) != 1 || q.NudgeRequests[0].ID != second {
		t.Fatalf("queue: %+v", q)
	}
	d := s.Matches.Dashboard(w.svc.Program(), w.clock.Now())
	if d.Pending != 1 || d.Active != 1 || d.AcceptanceRate != 1 || d.MedianDaysToResponse != 2 {
		t.Fatalf("dashboard: %+v", d)
	}
	if got := s.Matches.MatchesByID([]uuid.UUID{second, uuid.New(), first}); got[0].ID != second || got[1] != nil || got[2].ID != first {
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

// Events delivered in random batches, with stretches and whole prefixes
// delivered again, give the read models of the log.
func testRedelivery(t *testing.T, h Harness) {
	w := generated(t)
	events := w.events(t)
	pieces := h.Open(t)
	Deliver(t, rand.New(rand.NewPCG(1, 2)), events, 300, pieces.Apply)
	Compare(t, w.svc.Program(), w.clock.Now(), events, Reference(t, events), pieces)
}

func testGenerated(t *testing.T, h Harness) {
	w := generated(t)
	events := w.events(t)
	got := h.Open(t)
	apply(t, got, events)
	Compare(t, w.svc.Program(), w.clock.Now(), events, Reference(t, events), got)
}

// Random histories, written by the rules and delivered with stretches
// twice, give the read models of the log.
func testRandomHistories(t *testing.T, h Harness) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			hist := RandomHistory(t, 100+seed, 400)
			got := h.Open(t)
			Deliver(t, rand.New(rand.NewPCG(seed, 3)), hist.Events, 20, got.Apply)
			Compare(t, hist.Program, hist.Now, hist.Events, Reference(t, hist.Events), got)
		})
	}
}

// compareOptions compare what the API shows: an empty list is no list,
// rates and medians are floating point.
var compareOptions = cmp.Options{cmpopts.EquateEmpty(), cmpopts.EquateApprox(0, 1e-9)}

// Compare asks both read models every query about every member, match,
// session and document of events, the CPD of members over several date
// ranges, the staff queue and the dashboard at several moments around now
// and at the edges of their rules, and searches with every filter for
// several viewers, walking the pages of two of them; it fails the test at
// the first difference. Each reader pages with its own cursors, so want
// may be the Reference. Meeting logs with the same date and log time may
// come in any order.
func Compare(t *testing.T, program domain.Program, now time.Time, events []projections.Event, want, got Models) {
	t.Helper()
	if got.Position != nil {
		pos, err := got.Position()
		if err != nil {
			t.Fatalf("position: %v", err)
		}
		if pos != events[len(events)-1].Position {
			t.Fatalf("position %d, want %d", pos, events[len(events)-1].Position)
		}
	}
	sw, sg := strict(t, want), strict(t, got)
	var members, mentors, mentees, matches, sessions, docs []uuid.UUID
	var cities, words []string
	authors := map[uuid.UUID]bool{}
	for _, ev := range events {
		switch e := ev.Data.(type) {
		case domain.MemberRegistered:
			members = append(members, e.MemberID)
			switch e.Role {
			case domain.RoleMentee:
				mentees = append(mentees, e.MemberID)
			case domain.RoleMentor:
				mentors = append(mentors, e.MemberID)
			}
		case domain.ProfileUpdated:
			if c := e.Profile.Location.City; c != "" && len(cities) < 5 && !slices.Contains(cities, c) {
				cities = append(cities, c)
			}
			if b := bioWords(e.Profile.Biography); len(b) > 0 && len(words) < 20 {
				words = append(words, b[len(b)/2])
			}
		case domain.MatchRequested:
			matches = append(matches, e.MatchID)
		case domain.SessionLogged:
			sessions = append(sessions, e.SessionID)
			authors[e.AuthorID] = true
		case domain.DocumentAdded:
			docs = append(docs, e.DocumentID)
		}
	}
	diff := func(what string, a, b any) {
		t.Helper()
		if reflect.DeepEqual(a, b) {
			return // the common case, much faster than the diff
		}
		if d := cmp.Diff(a, b, compareOptions); d != "" {
			t.Fatalf("%s (-want +got):\n%s", what, d)
		}
	}
	unknown := uuid.New()
	diff("members by ID", sw.Members.MembersByID(append(members, unknown)), sg.Members.MembersByID(append(members, unknown)))
	diff("matches by ID", sw.Matches.MatchesByID(append(matches, unknown)), sg.Matches.MatchesByID(append(matches, unknown)))
	// A scan of every member (the staff directory) and of the open
	// mentors (recommendations) finds the same members.
	scan := func(r projections.MemberReader, keep func(*projections.MemberView) bool) []*projections.MemberView {
		t.Helper()
		out, err := r.Scan(keep)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		slices.SortFunc(out, func(a, b *projections.MemberView) int { return strings.Compare(a.ID.String(), b.ID.String()) })
		return out
	}
	all := func(*projections.MemberView) bool { return true }
	open := (*projections.MemberView).Open
	diff("every member scanned", scan(want.Members, all), scan(got.Members, all))
	diff("open mentors scanned", scan(want.Members, open), scan(got.Members, open))
	today := program.Today(now)
	dayOf := func(days int) domain.Date { return program.Today(now.AddDate(0, 0, days)) }
	monthStart := program.Today(now.AddDate(0, 0, 1-today.Day()))
	ranges := [][2]domain.Date{
		{}, {monthStart, today}, {dayOf(-365), dayOf(-30)}, {dayOf(-45), {}}, {{}, dayOf(-45)},
		{dayOf(-20), dayOf(-20)}, {today, dayOf(-10)},
	}
	sessionsOf := func(of func(author, match uuid.UUID) []projections.SessionView, author, match uuid.UUID) []projections.SessionView {
		l := of(author, match)
		for i := 1; i < len(l); i++ {
			if a, b := l[i-1], l[i]; b.Details.Date.Before(a.Details.Date) || (b.Details.Date.Equal(a.Details.Date) && b.LoggedAt.Before(a.LoggedAt)) {
				t.Fatalf("sessions of %s out of order: %+v before %+v", author, a, b)
			}
		}
		sortSessions(l)
		return l
	}
	// Every member's matches, meeting logs and total CPD; the groups of
	// matches, the logs per match and the CPD over date ranges of the
	// first members and the first authors, which keeps a large program
	// quick on a shared store.
	const detailed = 30
	seenAuthors := 0
	for i, id := range members {
		diff("matches of a member", sw.Matches.MatchesOf(id, projections.AllMatches), sg.Matches.MatchesOf(id, projections.AllMatches))
		diff("sessions of an author", sessionsOf(sw.Matches.SessionsOf, id, uuid.Nil), sessionsOf(sg.Matches.SessionsOf, id, uuid.Nil))
		diff("CPD", sw.Matches.CPDSummary(id, domain.Date{}, domain.Date{}), sg.Matches.CPDSummary(id, domain.Date{}, domain.Date{}))
		if authors[id] {
			seenAuthors++
		}
		if i >= detailed && (!authors[id] || seenAuthors > detailed) {
			continue
		}
		for g := projections.PendingMatches; g <= projections.PastMatches; g++ {
			diff(fmt.Sprintf("matches of a member, group %d", g), sw.Matches.MatchesOf(id, g), sg.Matches.MatchesOf(id, g))
		}
		for _, m := range sw.Matches.MatchesOf(id, projections.AllMatches) {
			diff("sessions of an author on a match", sessionsOf(sw.Matches.SessionsOf, id, m.ID), sessionsOf(sg.Matches.SessionsOf, id, m.ID))
		}
		for _, r := range ranges {
			diff(fmt.Sprintf("CPD from %v to %v", r[0], r[1]), sw.Matches.CPDSummary(id, r[0], r[1]), sg.Matches.CPDSummary(id, r[0], r[1]))
		}
	}
	// Meeting logs and documents one by one: a sample, as the views above
	// hold them all already.
	for _, id := range append(sessions[:min(detailed, len(sessions))], unknown) {
		a, aok := sw.Matches.Session(id)
		b, bok := sg.Matches.Session(id)
		diff("session", a, b)
		diff("session found", aok, bok)
	}
	for _, id := range append(docs[:min(detailed, len(docs))], unknown) {
		a, am, aok := sw.Matches.Document(id)
		b, bm, bok := sg.Matches.Document(id)
		diff("document", a, b)
		diff("document's match", am, bm)
		diff("document found", aok, bok)
	}
	for _, role := range []domain.Role{domain.RoleMentee, domain.RoleMentor, domain.RoleStaff} {
		diff("resources", sw.Matches.Resources(role), sg.Matches.Resources(role))
	}
	// The staff queue and the dashboard around now, and on either side of
	// the edges of their rules for a few matches: when a pending request
	// turns a week old, when an active match's first-meeting reminder
	// falls due, when its term comes within 30 days and when it ends, and
	// when the month of a meeting log begins.
	type moment struct {
		at      time.Time
		pending []int
	}
	moments := map[string]moment{}
	for _, days := range []int{-30, 0, 25, 340, 380} {
		moments[fmt.Sprintf("%d days from now", days)] = moment{now.AddDate(0, 0, days), []int{0, 7, 14}}
	}
	edge := func(what string, at time.Time) {
		moments[what+" "+at.String()] = moment{at, []int{7}}
		moments[what+" (just before) "+at.String()] = moment{at.Add(-time.Nanosecond), []int{7}}
	}
	const week = 7 * 24 * time.Hour
	var active, pending int
	for _, m := range sw.Matches.MatchesByID(matches) {
		switch {
		case m.Status == domain.StatusPending && pending < 2:
			pending++
			edge("a week after a request", m.RequestedAt.Add(week).Add(time.Nanosecond))
		case m.Status == domain.StatusActive && active < 2:
			active++
			edge("the first-meeting reminder", program.FirstMeetingReminderAt(m.AcceptedAt))
			edge("30 days before a term's end", program.TermEnd(m.AcceptedAt).Add(-30*24*time.Hour))
			edge("a term's end", program.TermEnd(m.AcceptedAt).Add(time.Nanosecond))
		}
	}
	for _, id := range sessions[:min(2, len(sessions))] {
		if s, ok := sw.Matches.Session(id); ok {
			d := s.Details.Date
			edge("the month of a session", time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, program.Location))
		}
	}
	for _, what := range slices.Sorted(maps.Keys(moments)) {
		at := moments[what].at
		for _, pending := range moments[what].pending {
			diff(fmt.Sprintf("queue at %s, pending over %d days", what, pending), sw.Matches.Queue(program, at, pending), sg.Matches.Queue(program, at, pending))
		}
		wd, gd := sw.Matches.Dashboard(program, at), sg.Matches.Dashboard(program, at)
		wd.Position, gd.Position = 0, 0
		diff("dashboard at "+what, wd, gd)
	}

	viewers := []uuid.UUID{uuid.Nil}
	viewers = append(viewers, mentees[:min(2, len(mentees))]...)
	if len(mentors) > 0 {
		viewers = append(viewers, mentors[0])
	}
	queries := []projections.SearchQuery{
		{},
		{Words: "engineering"},
		{OnlyAvailable: true},
		{Disciplines: program.Disciplines[:3], Languages: []string{"en", "fr"}},
		{Disciplines: program.Disciplines[:1], Provinces: []string{"ON"}},
		{Words: "engineering", Disciplines: program.Disciplines[1:2], Provinces: []string{"BC"}},
		{FocusAreas: program.FocusAreas[:2], Skills: []projections.SkillFilter{{Skill: program.Skills[0], MinRating: 3}}},
		{Industries: program.Industries[:2], MeetingFormats: program.MeetingFormats[:1]},
	}
	// Random queries over the values the log holds, the same for both.
	r := rand.New(rand.NewPCG(uint64(len(events)), 17))
	// some picks one or more values, mostly among the first few of a list
	// (those the random histories use).
	some := func(l []string) []string {
		var out []string
		for len(out) == 0 || r.IntN(3) == 0 {
			n := len(l)
			if r.IntN(4) > 0 {
				n = min(n, 6)
			}
			out = append(out, l[r.IntN(n)])
		}
		return out
	}
	for range 10 {
		var q projections.SearchQuery
		for i := range 9 {
			if r.IntN(4) != 0 {
				continue
			}
			switch i {
			case 0:
				for range 1 + r.IntN(2) {
					if len(words) > 0 {
						q.Words += " " + words[r.IntN(len(words))]
					}
				}
			case 1:
				q.Disciplines = some(program.Disciplines)
			case 2:
				q.Industries = some(program.Industries)
			case 3:
				q.Provinces = some(program.Provinces)
			case 4:
				if len(cities) > 0 {
					q.City = " " + strings.ToUpper(cities[r.IntN(len(cities))])
				}
			case 5:
				q.Languages = some(program.Languages)
			case 6:
				q.FocusAreas = some(program.FocusAreas)
			case 7:
				q.MeetingFormats = some(program.MeetingFormats)
			case 8:
				for _, s := range some(program.Skills) {
					q.Skills = append(q.Skills, projections.SkillFilter{Skill: s, MinRating: 1 + r.IntN(5)})
				}
			}
		}
		q.OnlyAvailable = r.IntN(4) == 0
		queries = append(queries, q)
	}
	for i, v := range viewers {
		for _, q := range queries {
			q.Viewer, q.First = v, 100
			a, errA := want.Members.SearchMentors(q)
			b, errB := got.Members.SearchMentors(q)
			if errA != nil || errB != nil {
				t.Fatalf("search %+v: %v / %v", q, errA, errB)
			}
			diff(fmt.Sprintf("search %+v", q), withoutCursors(a), withoutCursors(b))
			if i > 1 {
				continue
			}
			// Walk the pages, each reader with its own cursors.
			q.First = 2 + r.IntN(6)
			afterWant, afterGot := "", ""
			for page := 0; ; page++ {
				qa, qb := q, q
				qa.After, qb.After = afterWant, afterGot
				a, errA := want.Members.SearchMentors(qa)
				b, errB := got.Members.SearchMentors(qb)
				if errA != nil || errB != nil {
					t.Fatalf("page %d of search %+v: %v / %v", page, q, errA, errB)
				}
				diff(fmt.Sprintf("page %d of search %+v", page, q), withoutCursors(a), withoutCursors(b))
				if !a.HasNextPage {
					break
				}
				afterWant, afterGot = a.Hits[len(a.Hits)-1].Cursor, b.Hits[len(b.Hits)-1].Cursor
			}
		}
	}
}

// withoutCursors returns a result without its cursors, which each reader
// spells its own way.
func withoutCursors(res projections.SearchResult) projections.SearchResult {
	res.Hits = slices.Clone(res.Hits)
	for i := range res.Hits {
		res.Hits[i].Cursor = ""
	}
	return res
}
