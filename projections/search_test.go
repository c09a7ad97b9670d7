package projections_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/projections"
)

// mentorEvents builds the events of a registered mentor with a profile.
func mentorEvents(pos *eventstore.Position, id uuid.UUID, pr domain.Profile) []projections.Event {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	*pos += 2
	return []projections.Event{
		{Position: *pos - 1, Data: domain.MemberRegistered{MemberID: id, Role: domain.RoleMentor, Name: pr.Name, Email: "m@example.org", Capacity: 1, Accepting: true, At: at}},
		{Position: *pos, Data: domain.ProfileUpdated{MemberID: id, Profile: pr, At: at}},
	}
}

func names(res projections.SearchResult) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Mentor.Profile.Name)
	}
	return out
}

func TestSearchExactWords(t *testing.T) {
	p := projections.NewMembers()
	var pos eventstore.Position
	bios := map[string]string{
		"Alice": "Geotechnical engineer; tunnels, slopes and foundations.",
		"Bob":   "Structural engineering of bridges (steel & concrete).",
		"Carol": "GEOTECHNICAL investigations for mining. Engineer, P.Eng.",
		"Dan":   "Hydro-geology and groundwater modelling.",
	}
	for name, bio := range bios {
		if err := p.Apply(mentorEvents(&pos, uuid.New(), domain.Profile{Name: name, Biography: bio})); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		words string
		want  []string
	}{
		{"geotechnical", []string{"Alice", "Carol"}},
		{"Geotechnical ENGINEER", []string{"Alice", "Carol"}},
		{"engineer,", []string{"Alice", "Carol"}}, // punctuation ignored
		{"engineering", []string{"Bob"}},          // whole words: "engineer" does not match
		{"engine", nil},                           // no prefix matches
		{"tunnels slopes foundations", []string{"Alice"}},
		{"geology", []string{"Dan"}}, // "hydro-geology" holds the word geology
		{"steel mining", nil},        // every word must match
		{"", []string{"Alice", "Bob", "Carol", "Dan"}},
	}
	for _, tc := range cases {
		res, err := p.SearchMentors(projections.SearchQuery{Words: tc.words})
		if err != nil {
			t.Fatalf("%q: %v", tc.words, err)
		}
		if diff := cmp.Diff(tc.want, names(res)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.words, diff)
		}
	}
	_, err := p.SearchMentors(projections.SearchQuery{Words: "one two three four"})
	if !errors.Is(err, projections.ErrTooManyWords) {
		t.Fatalf("four words: %v", err)
	}
	if _, err := p.SearchMentors(projections.SearchQuery{Words: "a, b; c!"}); err != nil {
		t.Fatalf("three words with punctuation: %v", err)
	}
	if _, err := p.SearchMentors(projections.SearchQuery{After: "!!not a cursor"}); !errors.Is(err, projections.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestSearchFiltersOrderingAndPages(t *testing.T) {
	p := projections.NewMembers()
	var pos eventstore.Position
	viewer := uuid.New()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pos++
	if err := p.Apply([]projections.Event{
		{Position: pos, Data: domain.MemberRegistered{MemberID: viewer, Role: domain.RoleMentee, Name: "Mia", Email: "mia@example.org", At: at}},
		{Position: pos + 1, Data: domain.ProfileUpdated{MemberID: viewer, Profile: domain.Profile{Name: "Mia", Focus: []string{"CAREER_PLANNING", "LEADERSHIP"}, Skills: map[string]int{"COMMUNICATION": 2}}, At: at}},
	}); err != nil {
		t.Fatal(err)
	}
	pos++
	var ids []uuid.UUID
	for i := range 30 {
		id := uuid.New()
		ids = append(ids, id)
		pr := domain.Profile{Name: fmt.Sprintf("Mentor %02d", i), Discipline: []string{"CIVIL", "MINING"}[i%2],
			Location: domain.Location{Province: []string{"ON", "BC", "AB"}[i%3]}, Languages: []string{"en"}}
		if i%5 == 0 {
			pr.Focus = []string{"LEADERSHIP"}
		}
		if i%10 == 0 {
			pr.Skills = map[string]int{"COMMUNICATION": 5}
		}
		if err := p.Apply(mentorEvents(&pos, id, pr)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := p.SearchMentors(projections.SearchQuery{Disciplines: []string{"CIVIL"}, Provinces: []string{"ON", "BC"}, Viewer: viewer, First: 100})
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
	// Mentors 00 and 10 share a focus area and a strong skill with the
	// viewer: they come first, then the rest by name (20 is in AB).
	if got := names(res)[:3]; !cmp.Equal(got, []string{"Mentor 00", "Mentor 10", "Mentor 04"}) {
		t.Fatalf("ordering by affinity: %v", got)
	}
	// Walking pages of 7 gives every mentor once, in order, even when a
	// profile changes between pages.
	var walked []string
	after := ""
	for page := 0; ; page++ {
		res, err := p.SearchMentors(projections.SearchQuery{Viewer: viewer, First: 7, After: after})
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, names(res)...)
		if page == 1 {
			// A mentor already shown renames itself to sort last.
			pos++
			if err := p.Apply([]projections.Event{{Position: pos, Data: domain.ProfileUpdated{MemberID: ids[1], Profile: domain.Profile{Name: "Zed", Discipline: "MINING"}, At: at}}}); err != nil {
				t.Fatal(err)
			}
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
	res, err = p.SearchMentors(projections.SearchQuery{Skills: []projections.SkillFilter{{Skill: "COMMUNICATION", MinRating: 4}}})
	if err != nil || res.Total != 3 {
		t.Fatalf("skill at least 4: %d hits, %v", res.Total, err)
	}
}

func TestSearchOnlyAvailable(t *testing.T) {
	p := projections.NewMembers()
	var pos eventstore.Position
	open, full, closed := uuid.New(), uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{open, full, closed} {
		if err := p.Apply(mentorEvents(&pos, id, domain.Profile{Name: id.String()})); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now()
	if err := p.Apply([]projections.Event{
		{Position: pos + 1, Data: domain.CapacitySlotReserved{MemberID: full, MatchID: uuid.New(), At: at}},
		{Position: pos + 2, Data: domain.MentorAvailabilityChanged{MemberID: closed, Accepting: false, At: at}},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := p.SearchMentors(projections.SearchQuery{OnlyAvailable: true})
	if err != nil || res.Total != 1 || res.Hits[0].Mentor.ID != open {
		t.Fatalf("only available: %v %v", names(res), err)
	}
}
