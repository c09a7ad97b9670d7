package readmodeltest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/projections"
)

// expectSearch runs a search on the read models and on the Reference of
// the same log, and fails unless both give exactly the names wanted, in
// order.
func expectSearch(t *testing.T, m Models, events []projections.Event, q projections.SearchQuery, want ...string) {
	t.Helper()
	for _, r := range []struct {
		name   string
		reader projections.MemberReader
	}{{"read models", m.Members}, {"reference", Reference(t, events).Members}} {
		res, err := r.reader.SearchMentors(q)
		if err != nil {
			t.Fatalf("%s, search %+v: %v", r.name, q, err)
		}
		if diff := cmp.Diff(want, names(res)); diff != "" || res.Total != len(want) {
			t.Errorf("%s, search %+v: total %d (-want +got):\n%s", r.name, q, res.Total, diff)
		}
	}
}

// Each facet filter keeps the mentors having any of its values, the
// filters combine with AND, and a skill filter keeps ratings at or above
// its own.
func testSearchFacets(t *testing.T, h Harness) {
	m := h.Open(t)
	var l log
	cy := uuid.New()
	l.mentor(uuid.New(), domain.Profile{Name: "Ana", Industry: "CONSTRUCTION", Languages: []string{"en", "fr"},
		Focus: []string{"LEADERSHIP"}, Skills: map[string]int{"COMMUNICATION": 5, "NEGOTIATION": 2},
		Preferences: domain.Preferences{MeetingFormats: []string{"VIDEO"}}})
	l.mentor(uuid.New(), domain.Profile{Name: "Ben", Industry: "MINING", Languages: []string{"fr"},
		Focus: []string{"CAREER_DEVELOPMENT", "LEADERSHIP"}, Skills: map[string]int{"COMMUNICATION": 3},
		Preferences: domain.Preferences{MeetingFormats: []string{"IN_PERSON", "PHONE"}}})
	l.mentor(cy, domain.Profile{Name: "Cy", Industry: "CONSTRUCTION", Languages: []string{"es"},
		Focus: []string{"TECHNICAL_SKILLS"}, Skills: map[string]int{"NEGOTIATION": 4},
		Preferences: domain.Preferences{MeetingFormats: []string{"IN_PERSON"}}})
	l.mentor(uuid.New(), domain.Profile{Name: "Dee", Languages: []string{"en"}})
	apply(t, m, l.events)
	skill := func(s string, r int) projections.SkillFilter { return projections.SkillFilter{Skill: s, MinRating: r} }
	cases := []struct {
		q    projections.SearchQuery
		want []string
	}{
		{projections.SearchQuery{Industries: []string{"CONSTRUCTION"}}, []string{"Ana", "Cy"}},
		{projections.SearchQuery{Industries: []string{"CONSTRUCTION", "MINING"}}, []string{"Ana", "Ben", "Cy"}},
		{projections.SearchQuery{Industries: []string{"ENERGY"}}, nil},
		{projections.SearchQuery{MeetingFormats: []string{"IN_PERSON"}}, []string{"Ben", "Cy"}},
		{projections.SearchQuery{MeetingFormats: []string{"VIDEO", "PHONE"}}, []string{"Ana", "Ben"}},
		{projections.SearchQuery{Languages: []string{"fr"}}, []string{"Ana", "Ben"}},
		{projections.SearchQuery{Languages: []string{"en"}}, []string{"Ana", "Dee"}},
		{projections.SearchQuery{Languages: []string{"es", "fr"}}, []string{"Ana", "Ben", "Cy"}},
		{projections.SearchQuery{Languages: []string{"de"}}, nil},
		{projections.SearchQuery{FocusAreas: []string{"LEADERSHIP"}}, []string{"Ana", "Ben"}},
		{projections.SearchQuery{FocusAreas: []string{"TECHNICAL_SKILLS", "CAREER_DEVELOPMENT"}}, []string{"Ben", "Cy"}},
		{projections.SearchQuery{Skills: []projections.SkillFilter{skill("COMMUNICATION", 3)}}, []string{"Ana", "Ben"}},
		{projections.SearchQuery{Skills: []projections.SkillFilter{skill("COMMUNICATION", 4)}}, []string{"Ana"}},
		{projections.SearchQuery{Skills: []projections.SkillFilter{skill("COMMUNICATION", 6)}}, nil},
		{projections.SearchQuery{Skills: []projections.SkillFilter{skill("NEGOTIATION", 2)}}, []string{"Ana", "Cy"}},
		{projections.SearchQuery{Skills: []projections.SkillFilter{skill("COMMUNICATION", 3), skill("NEGOTIATION", 2)}}, []string{"Ana"}},
		{projections.SearchQuery{Industries: []string{"CONSTRUCTION"}, MeetingFormats: []string{"IN_PERSON"}}, []string{"Cy"}},
		{projections.SearchQuery{Industries: []string{"CONSTRUCTION"}, Languages: []string{"en"}}, []string{"Ana"}},
		{projections.SearchQuery{FocusAreas: []string{"LEADERSHIP"}, MeetingFormats: []string{"PHONE"}, Languages: []string{"fr"}}, []string{"Ben"}},
	}
	for _, tc := range cases {
		expectSearch(t, m, l.events, tc.q, tc.want...)
	}
	// A changed profile moves the mentor between the values.
	apply(t, m, l.add(domain.ProfileUpdated{MemberID: cy, Profile: domain.Profile{Name: "Cy", Industry: "MINING", Languages: []string{"es"},
		Preferences: domain.Preferences{MeetingFormats: []string{"VIDEO"}}}, At: at}))
	expectSearch(t, m, l.events, projections.SearchQuery{MeetingFormats: []string{"IN_PERSON"}}, "Ben")
	expectSearch(t, m, l.events, projections.SearchQuery{MeetingFormats: []string{"VIDEO"}}, "Ana", "Cy")
	expectSearch(t, m, l.events, projections.SearchQuery{Industries: []string{"MINING"}}, "Ben", "Cy")
	expectSearch(t, m, l.events, projections.SearchQuery{FocusAreas: []string{"TECHNICAL_SKILLS"}})
	expectSearch(t, m, l.events, projections.SearchQuery{Skills: []projections.SkillFilter{skill("NEGOTIATION", 1)}}, "Ana")
}

// With a viewer, mentors sharing more of the viewer's focus areas (three
// points each) and skills the viewer assessed that the mentor rates 4 or 5
// (one point each) come first; then names, then IDs.
func testSearchRanking(t *testing.T, h Harness) {
	m := h.Open(t)
	var l log
	viewer := uuid.New()
	l.add(
		domain.MemberRegistered{MemberID: viewer, Role: domain.RoleMentee, Name: "Mia", Email: "mia@example.org", At: at},
		domain.ProfileUpdated{MemberID: viewer, Profile: domain.Profile{Name: "Mia", Focus: []string{"CAREER_DEVELOPMENT", "LEADERSHIP"},
			Skills: map[string]int{"COMMUNICATION": 2, "NEGOTIATION": 5}}, At: at},
	)
	beaLow, beaHigh := uuid.MustParse("00000000-0000-4000-8000-000000000001"), uuid.MustParse("ffffffff-ffff-4fff-bfff-ffffffffffff")
	mentors := []struct {
		id uuid.UUID
		pr domain.Profile
	}{
		{uuid.New(), domain.Profile{Name: "Cal", Focus: []string{"TECHNICAL_SKILLS"}, Skills: map[string]int{"TEAMWORK": 5}}},
		{beaHigh, domain.Profile{Name: "Bea"}},
		{uuid.New(), domain.Profile{Name: "Xia", Focus: []string{"LEADERSHIP"}, Skills: map[string]int{"COMMUNICATION": 3}}},
		{uuid.New(), domain.Profile{Name: "Zoe", Focus: []string{"CAREER_DEVELOPMENT", "LEADERSHIP"}, Skills: map[string]int{"COMMUNICATION": 4}}},
		{beaLow, domain.Profile{Name: "Bea"}},
		{uuid.New(), domain.Profile{Name: "Abe", Skills: map[string]int{"NEGOTIATION": 5}}},
		{uuid.New(), domain.Profile{Name: "Yan", Focus: []string{"LEADERSHIP"}, Skills: map[string]int{"COMMUNICATION": 5, "NEGOTIATION": 4}}},
	}
	for _, mt := range mentors {
		l.mentor(mt.id, mt.pr)
	}
	apply(t, m, l.events)
	expectSearch(t, m, l.events, projections.SearchQuery{Viewer: viewer}, "Zoe", "Yan", "Xia", "Abe", "Bea", "Bea", "Cal")
	expectSearch(t, m, l.events, projections.SearchQuery{}, "Abe", "Bea", "Bea", "Cal", "Xia", "Yan", "Zoe")
	expectSearch(t, m, l.events, projections.SearchQuery{Viewer: uuid.New()}, "Abe", "Bea", "Bea", "Cal", "Xia", "Yan", "Zoe")
	res, err := m.Members.SearchMentors(projections.SearchQuery{Viewer: viewer})
	if err != nil {
		t.Fatal(err)
	}
	var scores []int
	for _, h := range res.Hits {
		scores = append(scores, h.Score)
	}
	if diff := cmp.Diff([]int{7, 5, 3, 1, 0, 0, 0}, scores); diff != "" {
		t.Fatalf("scores (-want +got):\n%s", diff)
	}
	if res.Hits[4].Mentor.ID != beaLow || res.Hits[5].Mentor.ID != beaHigh {
		t.Fatalf("mentors of one name and score by ID: %v, %v", res.Hits[4].Mentor.ID, res.Hits[5].Mentor.ID)
	}
	// Pages of two keep the order, the two Beas split across pages.
	var walked []uuid.UUID
	for after := ""; ; {
		res, err := m.Members.SearchMentors(projections.SearchQuery{Viewer: viewer, First: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			walked = append(walked, h.Mentor.ID)
		}
		if !res.HasNextPage {
			break
		}
		after = res.Hits[len(res.Hits)-1].Cursor
	}
	var want []uuid.UUID
	for _, h := range res.Hits {
		want = append(want, h.Mentor.ID)
	}
	if diff := cmp.Diff(want, walked); diff != "" {
		t.Fatalf("pages of two (-want +got):\n%s", diff)
	}
}

// Walking a search's pages while profiles change between pages gives, page
// by page, what the Reference gives for the same log and its own cursors:
// pages stay stable while profiles change.
func testSearchPagesWhileProfilesChange(t *testing.T, h Harness) {
	r := rand.New(rand.NewPCG(4, 2))
	focus := []string{"CAREER_DEVELOPMENT", "LEADERSHIP", "TECHNICAL_SKILLS"}
	skills := []string{"COMMUNICATION", "NEGOTIATION"}
	profile := func() domain.Profile {
		pr := domain.Profile{Name: fmt.Sprint("Mentor ", r.IntN(12)), Languages: []string{"en"}}
		for _, f := range focus {
			if r.IntN(3) == 0 {
				pr.Focus = append(pr.Focus, f)
			}
		}
		pr.Skills = map[string]int{skills[r.IntN(2)]: 1 + r.IntN(5)}
		return pr
	}
	for round := range 3 {
		m := h.Open(t)
		var l log
		viewer := uuid.New()
		l.add(
			domain.MemberRegistered{MemberID: viewer, Role: domain.RoleMentee, Name: "Mia", Email: "mia@example.org", At: at},
			domain.ProfileUpdated{MemberID: viewer, Profile: domain.Profile{Name: "Mia", Focus: focus[:2], Skills: map[string]int{"COMMUNICATION": 3}}, At: at},
		)
		var ids []uuid.UUID
		for range 30 {
			ids = append(ids, uuid.New())
			l.mentor(ids[len(ids)-1], profile())
		}
		apply(t, m, l.events)
		q := projections.SearchQuery{Viewer: viewer, Languages: []string{"en"}, First: 1 + round*2}
		afterGot, afterWant := "", ""
		for page := 0; ; page++ {
			q.After = afterGot
			got, err := m.Members.SearchMentors(q)
			if err != nil {
				t.Fatal(err)
			}
			q.After = afterWant
			want, err := Reference(t, l.events).Members.SearchMentors(q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(withoutCursors(want), withoutCursors(got), compareOptions); diff != "" {
				t.Fatalf("round %d, page %d (-reference +read models):\n%s", round, page, diff)
			}
			if !want.HasNextPage {
				break
			}
			afterGot, afterWant = got.Hits[len(got.Hits)-1].Cursor, want.Hits[len(want.Hits)-1].Cursor
			// Between the first pages some mentors change name, focus and
			// skills, and one may stop speaking English (and leave the
			// search); the walk then ends as mentors stop moving ahead of
			// the cursor.
			if page >= 8 {
				continue
			}
			for range 1 + r.IntN(3) {
				pr := profile()
				if r.IntN(6) == 0 {
					pr.Languages = nil
				}
				apply(t, m, l.add(domain.ProfileUpdated{MemberID: ids[r.IntN(len(ids))], Profile: pr, At: at}))
			}
		}
	}
}
