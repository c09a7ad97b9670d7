package domain

import "maps"

// Change is one field of a ProfilePatch: left out (Set is false), so the
// field keeps its value, or set to Value. Setting an optional field to its
// zero value clears it.
type Change[T any] struct {
	Set   bool
	Value T
}

// To returns a change that sets a field to v.
func To[T any](v T) Change[T] { return Change[T]{Set: true, Value: v} }

func (c Change[T]) apply(to *T) {
	if c.Set {
		*to = c.Value
	}
}

// ProfilePatch changes some fields of a profile and leaves the others as
// they are, so that a member edits one section of the profile (Employment &
// Personal Biography, Mentoring Relationship Focus, Skills Self-Assessment,
// Partner & Meeting Preferences, contact information) without sending the
// rest. It is applied to the profile as stored when the command is decided,
// so two section edits made at once both take effect.
type ProfilePatch struct {
	Name              Change[string]
	Designation       Change[string]
	Discipline        Change[string]
	Industry          Change[string]
	City              Change[string]
	Province          Change[string]
	YearsOfExperience Change[int]
	Languages         Change[[]string]
	Biography         Change[string]
	Focus             Change[[]string]
	Skills            Change[map[string]int]
	MeetingFormats    Change[[]string]
	MeetingFrequency  Change[string]
	// The Partner fields change the partner the member would like.
	PartnerDisciplines  Change[[]string]
	PartnerIndustries   Change[[]string]
	PartnerProvinces    Change[[]string]
	PartnerLanguages    Change[[]string]
	PartnerMinYears     Change[int]
	PartnerNotes        Change[string]
	ContactEmail        Change[string]
	ContactPhone        Change[string]
	ContactPreferredWay Change[ContactMethod]
}

// Apply returns pr with the patch's changes made; pr itself is not changed.
func (pp ProfilePatch) Apply(pr Profile) Profile {
	out := pr.clone()
	pp.Name.apply(&out.Name)
	pp.Designation.apply(&out.Designation)
	pp.Discipline.apply(&out.Discipline)
	pp.Industry.apply(&out.Industry)
	pp.City.apply(&out.Location.City)
	pp.Province.apply(&out.Location.Province)
	pp.YearsOfExperience.apply(&out.YearsOfExperience)
	pp.Languages.apply(&out.Languages)
	pp.Biography.apply(&out.Biography)
	pp.Focus.apply(&out.Focus)
	if pp.Skills.Set {
		out.Skills = maps.Clone(pp.Skills.Value)
	}
	pp.MeetingFormats.apply(&out.Preferences.MeetingFormats)
	pp.MeetingFrequency.apply(&out.Preferences.MeetingFrequency)
	partner := &out.Preferences.Partner
	pp.PartnerDisciplines.apply(&partner.Disciplines)
	pp.PartnerIndustries.apply(&partner.Industries)
	pp.PartnerProvinces.apply(&partner.Provinces)
	pp.PartnerLanguages.apply(&partner.Languages)
	pp.PartnerMinYears.apply(&partner.MinYearsOfExperience)
	pp.PartnerNotes.apply(&partner.Notes)
	pp.ContactEmail.apply(&out.Contact.Email)
	pp.ContactPhone.apply(&out.Contact.Phone)
	pp.ContactPreferredWay.apply(&out.Contact.PreferredMethod)
	return out
}
