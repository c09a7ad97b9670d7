package projections

import (
	"cmp"
	"slices"
	"strings"
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

// weakSkill and strongSkill bound the Skills Self-Assessment ratings: a
// skill the mentee rates weakSkill or lower and the mentor strongSkill or
// higher is one the mentor can help grow.
const weakSkill = 2

// Score explains how well mentor fits mentee, from the mentee's profile:
// discipline, Mentoring Relationship Focus, Skills Self-Assessment,
// location, languages and Partner & Meeting Preferences.
func Score(mentee, mentor *MemberView) Recommendation {
	me, them := &mentee.Profile, &mentor.Profile
	pref := &me.Preferences.Partner
	rec := Recommendation{Mentor: mentor}
	add := func(kind ReasonKind, points int, values []string, text string) {
		rec.Reasons = append(rec.Reasons, Reason{Kind: kind, Points: points, Values: values, Text: text})
		rec.Score += points
	}
	if d := them.Discipline; d != "" && d == me.Discipline {
		add(SameDiscipline, 3, []string{d}, "both in "+words(d))
	}
	if d := them.Discipline; d != "" && slices.Contains(pref.Disciplines, d) {
		add(PreferredDiscipline, 3, []string{d}, "in "+words(d)+", a discipline you prefer")
	}
	for _, f := range them.Focus {
		if slices.Contains(me.Focus, f) {
			add(SharedFocus, 2, []string{f}, "both focus on "+words(f))
		}
	}
	for _, s := range sortedKeys(me.Skills) {
		if me.Skills[s] <= weakSkill && them.Skills[s] >= strongSkill {
			add(SkillToGrow, 2, []string{s}, "strong in "+words(s)+", which you want to grow")
		}
	}
	if p := them.Location.Province; p != "" && slices.Contains(pref.Provinces, p) {
		add(PreferredProvince, 2, []string{p}, "in "+p+", a province you prefer")
	}
	if p := them.Location.Province; p != "" && p == me.Location.Province {
		add(SameProvince, 1, []string{p}, "both in "+p)
	}
	for _, f := range them.Preferences.MeetingFormats {
		if slices.Contains(me.Preferences.MeetingFormats, f) {
			add(MeetingFormat, 1, []string{f}, "both prefer "+words(f)+" meetings")
		}
	}
	for _, l := range them.Languages {
		if slices.Contains(me.Languages, l) || slices.Contains(pref.Languages, l) {
			add(SharedLanguage, 1, []string{l}, "speaks "+l)
		}
	}
	if n := pref.MinYearsOfExperience; n > 0 && them.YearsOfExperience >= n {
		add(Experience, 1, nil, "has the experience you ask for")
	}
	slices.SortStableFunc(rec.Reasons, func(a, b Reason) int { return b.Points - a.Points })
	return rec
}

// Recommend returns the first mentors for mentee, best first: mentors who
// accept requests and have room, other than those the mentee is already
// matched with or waiting for (exclude), ordered by score, then by name
// and ID so that the order is stable.
func Recommend(mentee *MemberView, mentors []*MemberView, exclude func(mentor *MemberView) bool, first int) []Recommendation {
	var out []Recommendation
	for _, m := range mentors {
		if m.ID == mentee.ID || !m.Open() || exclude(m) {
			continue
		}
		out = append(out, Score(mentee, m))
	}
	slices.SortFunc(out, func(a, b Recommendation) int {
		return cmp.Or(
			cmp.Compare(b.Score, a.Score),
			cmp.Compare(strings.ToLower(a.Mentor.Profile.Name), strings.ToLower(b.Mentor.Profile.Name)),
			cmp.Compare(a.Mentor.ID.String(), b.Mentor.ID.String()),
		)
	})
	return out[:min(first, len(out))]
}

// words turns a list value such as WATER_RESOURCES into "water resources".
func words(code string) string {
	return strings.ToLower(strings.ReplaceAll(code, "_", " "))
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
