package graph

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// memberModelOneByOne is memberModel as it was written before it
// allocated a member in one block and listed its skills only when asked:
// the reference both are checked against, with the skills it listed.
func memberModelOneByOne(v *projections.MemberView) (*model.Member, []*model.SkillRating) {
	pr := v.Profile
	m := &model.Member{
		ID:                model.GlobalID(model.KindMember, v.ID),
		Role:              model.Role(v.Role),
		Name:              pr.Name,
		Designation:       strPtr(pr.Designation),
		Discipline:        strPtr(pr.Discipline),
		Industry:          strPtr(pr.Industry),
		Location:          &model.Location{City: strPtr(pr.Location.City), Province: strPtr(pr.Location.Province)},
		YearsOfExperience: intPtr(pr.YearsOfExperience),
		Languages:         orEmpty(pr.Languages),
		Biography:         strPtr(pr.Biography),
		Focus:             orEmpty(pr.Focus),
		Preferences: &model.MeetingPreferences{
			MeetingFormats:   orEmpty(pr.Preferences.MeetingFormats),
			MeetingFrequency: strPtr(pr.Preferences.MeetingFrequency),
			Partner: &model.PartnerPreferences{
				Disciplines:          orEmpty(pr.Preferences.Partner.Disciplines),
				Industries:           orEmpty(pr.Preferences.Partner.Industries),
				Provinces:            orEmpty(pr.Preferences.Partner.Provinces),
				Languages:            orEmpty(pr.Preferences.Partner.Languages),
				MinYearsOfExperience: intPtr(pr.Preferences.Partner.MinYearsOfExperience),
				Notes:                strPtr(pr.Preferences.Partner.Notes),
			},
		},
		Available: v.Open(),
		Erased:    v.Erased(),
		MemberID:  v.ID,
		Private:   pr.Contact,
		// Not in the reference: what the skills are listed from.
		SkillRatings: pr.Skills,
	}
	if !v.ClosureRequested.IsZero() {
		m.Closure = &model.ClosureRequest{Member: m, Note: strPtr(v.ClosureNote), RequestedAt: v.ClosureRequested}
	}
	skills := []*model.SkillRating{}
	for skill, rating := range pr.Skills {
		skills = append(skills, &model.SkillRating{Skill: skill, Rating: rating})
	}
	slices.SortFunc(skills, func(a, b *model.SkillRating) int { return cmp.Compare(a.Skill, b.Skill) })
	if v.Role == domain.RoleMentor {
		c, a := v.Capacity, v.Accepting
		m.Capacity, m.AcceptingRequests = &c, &a
	}
	return m, skills
}

// randomView is a member view whose every optional part is there or not
// at random.
func randomView(r *rand.Rand) *projections.MemberView {
	str := func(s string) string {
		if r.IntN(3) == 0 {
			return ""
		}
		return s
	}
	num := func() int {
		if r.IntN(3) == 0 {
			return 0
		}
		return 1 + r.IntN(40)
	}
	list := func(xs ...string) []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return xs[:r.IntN(len(xs))+1]
	}
	v := &projections.MemberView{
		ID:   uuid.New(),
		Role: []domain.Role{domain.RoleMentor, domain.RoleMentee}[r.IntN(2)],
		Profile: domain.Profile{
			Name:              "Ada Lovelace",
			Designation:       str("P.Eng."),
			Discipline:        str("Civil"),
			Industry:          str("Transportation"),
			Location:          domain.Location{City: str("Toronto"), Province: str("ON")},
			YearsOfExperience: num(),
			Languages:         list("English", "French"),
			Biography:         str("Bridges and tunnels."),
			Focus:             list("Career", "Licensing", "Leadership"),
			Preferences: domain.Preferences{
				MeetingFormats:   list("In person", "Video"),
				MeetingFrequency: str("Monthly"),
				Partner: domain.PartnerPreferences{
					Disciplines:          list("Civil", "Mining"),
					Industries:           list("Energy"),
					Provinces:            list("ON", "QC"),
					Languages:            list("French"),
					MinYearsOfExperience: num(),
					Notes:                str("Evenings."),
				},
			},
			Contact: domain.Contact{Email: str("ada@example.org"), Phone: str("555-0100")},
		},
		Capacity:  num(),
		Accepting: r.IntN(2) == 0,
	}
	if n := r.IntN(6); n > 0 {
		v.Profile.Skills = map[string]int{}
		for i := range n {
			v.Profile.Skills[[]string{"Design", "Codes", "Estimating", "Safety", "Surveying"}[i]] = 1 + r.IntN(5)
		}
	}
	if r.IntN(3) == 0 {
		v.ClosureRequested, v.ClosureNote = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), str("Moving abroad.")
	}
	if r.IntN(5) == 0 {
		v.ErasedAt = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	}
	return v
}

// TestMemberModelAsOneByOne compares the members allocated in one block
// with the ones allocated field by field, over many views.
func TestMemberModelAsOneByOne(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		v := randomView(r)
		got := memberModel(v)
		want, wantSkills := memberModelOneByOne(v)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("member %+v (-one by one +block):\n%s", v, diff)
		}
		if diff := gocmp.Diff(wantSkills, got.Skills()); diff != "" {
			t.Fatalf("skills of %+v (-one by one +listed when asked):\n%s", v, diff)
		}
		// An auditor's copy clears fields of its own member only.
		a, b := auditedMember(v), memberModel(v)
		if a.Biography != nil || a.Preferences.Partner.Notes != nil {
			t.Fatal("the auditor's member kept the biography or the partner notes")
		}
		if diff := gocmp.Diff(want, b); diff != "" {
			t.Fatalf("a member built after an auditor's differs (-want +got):\n%s", diff)
		}
	}
}
