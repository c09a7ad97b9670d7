package projections

import (
	"cmp"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// ReasonKind names why a mentor is recommended to a mentee.
type ReasonKind string

// The reasons, each with its points: the score is their sum, so that a
// member can see exactly why one mentor comes before another.
const (
	SameDiscipline      ReasonKind = "SAME_DISCIPLINE"
	PreferredDiscipline ReasonKind = "PREFERRED_DISCIPLINE"
	SharedFocus         ReasonKind = "SHARED_FOCUS"
	SkillToGrow         ReasonKind = "SKILL_TO_GROW"
	PreferredProvince   ReasonKind = "PREFERRED_PROVINCE"
	SameProvince        ReasonKind = "SAME_PROVINCE"
	MeetingFormat       ReasonKind = "MEETING_FORMAT"
	SharedLanguage      ReasonKind = "LANGUAGE"
	Experience          ReasonKind = "EXPERIENCE"
)

// Reason is one reason a mentor is recommended.
type Reason struct {
	Kind   ReasonKind
	Points int
	// Values are the list values the reason is about.
	Values []string
	// Text says the reason in words.
	Text string
}

// Recommendation is a mentor scored for a mentee.
type Recommendation struct {
	Mentor  *MemberView
	Score   int
	Reasons []Reason
}

// weakSkill bounds the Skills Self-Assessment ratings with strongSkill: a
// skill the mentee rates weakSkill or lower and the mentor strongSkill or
// higher is one the mentor can help grow.
const weakSkill = 2

// reasons calls visit with each reason mentor fits mentee, from the
// mentee's profile: discipline, Mentoring Relationship Focus, Skills
// Self-Assessment, location, languages and Partner & Meeting Preferences.
// value is the list value the reason is about ("" for experience). It
// allocates nothing, so that every open mentor can be scored.
func reasons(mentee, mentor *MemberView, visit func(kind ReasonKind, points int, value string)) {
	me, them := &mentee.Profile, &mentor.Profile
	pref := &me.Preferences.Partner
	if d := them.Discipline; d != "" && d == me.Discipline {
		visit(SameDiscipline, 3, d)
	}
	if d := them.Discipline; d != "" && slices.Contains(pref.Disciplines, d) {
		visit(PreferredDiscipline, 3, d)
	}
	for _, f := range them.Focus {
		if slices.Contains(me.Focus, f) {
			visit(SharedFocus, 2, f)
		}
	}
	for s, rating := range me.Skills {
		if rating <= weakSkill && them.Skills[s] >= strongSkill {
			visit(SkillToGrow, 2, s)
		}
	}
	if p := them.Location.Province; p != "" && slices.Contains(pref.Provinces, p) {
		visit(PreferredProvince, 2, p)
	}
	if p := them.Location.Province; p != "" && p == me.Location.Province {
		visit(SameProvince, 1, p)
	}
	for _, f := range them.Preferences.MeetingFormats {
		if slices.Contains(me.Preferences.MeetingFormats, f) {
			visit(MeetingFormat, 1, f)
		}
	}
	for _, l := range them.Languages {
		if slices.Contains(me.Languages, l) || slices.Contains(pref.Languages, l) {
			visit(SharedLanguage, 1, l)
		}
	}
	if n := pref.MinYearsOfExperience; n > 0 && them.YearsOfExperience >= n {
		visit(Experience, 1, "")
	}
}

// Score explains how well mentor fits mentee: the reasons, the largest
// first (then by kind and value, so that the order is stable), and their
// sum.
func Score(mentee, mentor *MemberView) Recommendation {
	rec := Recommendation{Mentor: mentor}
	reasons(mentee, mentor, func(kind ReasonKind, points int, value string) {
		r := Reason{Kind: kind, Points: points, Text: reasonText(kind, value)}
		if value != "" {
			r.Values = []string{value}
		}
		rec.Reasons = append(rec.Reasons, r)
		rec.Score += points
	})
	slices.SortStableFunc(rec.Reasons, func(a, b Reason) int {
		return cmp.Or(b.Points-a.Points, cmp.Compare(a.Kind, b.Kind), slices.Compare(a.Values, b.Values))
	})
	return rec
}

func reasonText(kind ReasonKind, value string) string {
	switch kind {
	case SameDiscipline:
		return "both in " + words(value)
	case PreferredDiscipline:
		return "in " + words(value) + ", a discipline you prefer"
	case SharedFocus:
		return "both focus on " + words(value)
	case SkillToGrow:
		return "strong in " + words(value) + ", which you want to grow"
	case PreferredProvince:
		return "in " + value + ", a province you prefer"
	case SameProvince:
		return "both in " + value
	case MeetingFormat:
		return "both prefer " + words(value) + " meetings"
	case SharedLanguage:
		return "speaks " + value
	case Experience:
		return "has the experience you ask for"
	}
	return string(kind)
}

// Recommender keeps the best mentors for a mentee while the members are
// scanned: mentors who accept requests and have room, other than those
// the mentee is already waiting for or matched with (Exclude), ordered by
// score, then by name and ID so that the order is stable. Consider scores
// without allocating and keeps only the first N, so that a scan of every
// member stays cheap; Top returns their IDs.
type Recommender struct {
	Mentee  *MemberView
	Exclude map[uuid.UUID]bool
	N       int
	top     []candidate
}

type candidate struct {
	id    uuid.UUID
	score int
	name  string
}

// Consider scores m and keeps it when it is among the best so far. It
// always reports false, so that a Scan copies nothing.
func (r *Recommender) Consider(m *MemberView) bool {
	if r.N <= 0 || m.ID == r.Mentee.ID || !m.Open() || r.Exclude[m.ID] {
		return false
	}
	score := 0
	reasons(r.Mentee, m, func(_ ReasonKind, points int, _ string) { score += points })
	if len(r.top) == r.N && score < r.top[len(r.top)-1].score {
		return false
	}
	c := candidate{id: m.ID, score: score, name: strings.ToLower(m.Profile.Name)}
	i, _ := slices.BinarySearchFunc(r.top, c, compareCandidates)
	if i == r.N {
		return false
	}
	r.top = slices.Insert(r.top, i, c)
	if len(r.top) > r.N {
		r.top = r.top[:r.N]
	}
	return false
}

func compareCandidates(a, b candidate) int {
	return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.name, b.name), cmp.Compare(a.id.String(), b.id.String()))
}

// Top returns the IDs of the best mentors considered, best first.
func (r *Recommender) Top() []uuid.UUID {
	out := make([]uuid.UUID, len(r.top))
	for i, c := range r.top {
		out[i] = c.id
	}
	return out
}

// words turns a list value such as WATER_RESOURCES into "water resources".
func words(code string) string {
	return strings.ToLower(strings.ReplaceAll(code, "_", " "))
}
