package domain

import (
	"maps"
	"reflect"
	"slices"
	"strings"
)

// ContactMethod is how a member prefers to be contacted by a partner.
type ContactMethod string

// The contact methods. Each needs the matching contact detail.
const (
	// ContactEmail prefers the profile's contact email.
	ContactEmail ContactMethod = "EMAIL"
	// ContactPhone prefers the profile's phone number.
	ContactPhone ContactMethod = "PHONE"
)

// Profile is a mentee's or mentor's profile, as the member last saved it.
// Lists hold values of the program's lists; sets are stored sorted and
// without duplicates. Only Name is required, so that members can fill their
// profile in over time.
type Profile struct {
	// Name is how the member is shown to others.
	Name string `json:"name"`
	// Designation is a professional designation, such as P.Eng.
	Designation string `json:"designation,omitempty"`
	// Discipline is the member's discipline.
	Discipline string `json:"discipline,omitempty"`
	// Industry is the industry the member works in.
	Industry string `json:"industry,omitempty"`
	// Location is where the member lives or works.
	Location Location `json:"location"`
	// YearsOfExperience counts the member's years in the profession.
	YearsOfExperience int `json:"yearsOfExperience"`
	// Languages lists the languages the member speaks.
	Languages []string `json:"languages,omitempty"`
	// Biography is the Employment & Personal Biography, free text that the
	// mentor search matches words against.
	Biography string `json:"biography,omitempty"`
	// Focus is the Mentoring Relationship Focus.
	Focus []string `json:"focus,omitempty"`
	// Skills is the Skills Self-Assessment: skill to rating, 1 to 5.
	Skills map[string]int `json:"skills,omitempty"`
	// Preferences are the Partner & Meeting Preferences.
	Preferences Preferences `json:"preferences"`
	// Contact is the preferred contact information, which only the partner
	// of an active match (and staff) may see.
	Contact Contact `json:"contact"`
}

// Location is a city and a province code.
type Location struct {
	// City is free text.
	City string `json:"city,omitempty"`
	// Province is one of the program's province codes.
	Province string `json:"province,omitempty"`
}

// Preferences are the Partner & Meeting Preferences of a profile.
type Preferences struct {
	// MeetingFormats lists the ways the member likes to meet.
	MeetingFormats []string `json:"meetingFormats,omitempty"`
	// MeetingFrequency is how often the member likes to meet.
	MeetingFrequency string `json:"meetingFrequency,omitempty"`
	// Partner describes the partner the member would like.
	Partner PartnerPreferences `json:"partner"`
}

// PartnerPreferences describe the partner a member would like.
type PartnerPreferences struct {
	// Disciplines lists preferred disciplines.
	Disciplines []string `json:"disciplines,omitempty"`
	// Industries lists preferred industries.
	Industries []string `json:"industries,omitempty"`
	// Provinces lists preferred provinces.
	Provinces []string `json:"provinces,omitempty"`
	// Languages lists preferred languages.
	Languages []string `json:"languages,omitempty"`
	// MinYearsOfExperience is the least experience wanted; 0 means any.
	MinYearsOfExperience int `json:"minYearsOfExperience,omitempty"`
	// Notes says anything else, in free text.
	Notes string `json:"notes,omitempty"`
}

// Contact is a member's preferred contact information.
type Contact struct {
	// Email is the contact email, which may differ from the login email.
	Email string `json:"email,omitempty"`
	// Phone is the contact phone number.
	Phone string `json:"phone,omitempty"`
	// PreferredMethod says which of the two the member prefers; empty
	// means no preference.
	PreferredMethod ContactMethod `json:"preferredMethod,omitempty"`
}

// clean returns the profile trimmed, with its sets sorted and deduplicated,
// or an INVALID_INPUT error naming the first bad field.
func (pr Profile) clean(p Program) (Profile, error) {
	l := p.Limits
	var out Profile
	var err error
	if out.Name, err = cleanLine("name", pr.Name, l.NameLength, true); err != nil {
		return Profile{}, err
	}
	if out.Designation, err = cleanChoice("designation", pr.Designation, p.Designations); err != nil {
		return Profile{}, err
	}
	if out.Discipline, err = cleanChoice("discipline", pr.Discipline, p.Disciplines); err != nil {
		return Profile{}, err
	}
	if out.Industry, err = cleanChoice("industry", pr.Industry, p.Industries); err != nil {
		return Profile{}, err
	}
	if out.Location.City, err = cleanLine("location.city", pr.Location.City, l.CityLength, false); err != nil {
		return Profile{}, err
	}
	if out.Location.Province, err = cleanChoice("location.province", pr.Location.Province, p.Provinces); err != nil {
		return Profile{}, err
	}
	if err := checkYears("yearsOfExperience", pr.YearsOfExperience, l.YearsOfExperience); err != nil {
		return Profile{}, err
	}
	out.YearsOfExperience = pr.YearsOfExperience
	if out.Languages, err = cleanSet("languages", pr.Languages, p.Languages); err != nil {
		return Profile{}, err
	}
	if out.Biography, err = cleanNotes("biography", pr.Biography, l.BiographyLength, false); err != nil {
		return Profile{}, err
	}
	if out.Focus, err = cleanSet("focus", pr.Focus, p.FocusAreas); err != nil {
		return Profile{}, err
	}
	if out.Skills, err = cleanSkills(pr.Skills, p.Skills); err != nil {
		return Profile{}, err
	}
	if out.Preferences, err = pr.Preferences.clean(p); err != nil {
		return Profile{}, err
	}
	if out.Contact, err = pr.Contact.clean(p); err != nil {
		return Profile{}, err
	}
	return out, nil
}

func checkYears(field string, years, max int) error {
	if years < 0 || years > max {
		return invalid(field, "must be from 0 to %d (got %d)", max, years)
	}
	return nil
}

func cleanSkills(skills map[string]int, list []string) (map[string]int, error) {
	if len(skills) == 0 {
		return nil, nil
	}
	out := make(map[string]int, len(skills))
	for _, skill := range slices.Sorted(maps.Keys(skills)) {
		rating := skills[skill]
		name := strings.TrimSpace(skill)
		field := "skills." + name
		if !slices.Contains(list, name) {
			return nil, invalid(field, "%q is not one of the program's skills", skill)
		}
		if rating < 1 || rating > 5 {
			return nil, invalid(field, "rating must be from 1 to 5 (got %d)", rating)
		}
		if _, dup := out[name]; dup {
			return nil, invalid(field, "is rated twice")
		}
		out[name] = rating
	}
	return out, nil
}

func (pr Preferences) clean(p Program) (Preferences, error) {
	var out Preferences
	var err error
	if out.MeetingFormats, err = cleanSet("preferences.meetingFormats", pr.MeetingFormats, p.MeetingFormats); err != nil {
		return Preferences{}, err
	}
	if out.MeetingFrequency, err = cleanChoice("preferences.meetingFrequency", pr.MeetingFrequency, p.MeetingFrequencies); err != nil {
		return Preferences{}, err
	}
	pp := pr.Partner
	if out.Partner.Disciplines, err = cleanSet("preferences.partner.disciplines", pp.Disciplines, p.Disciplines); err != nil {
		return Preferences{}, err
	}
	if out.Partner.Industries, err = cleanSet("preferences.partner.industries", pp.Industries, p.Industries); err != nil {
		return Preferences{}, err
	}
	if out.Partner.Provinces, err = cleanSet("preferences.partner.provinces", pp.Provinces, p.Provinces); err != nil {
		return Preferences{}, err
	}
	if out.Partner.Languages, err = cleanSet("preferences.partner.languages", pp.Languages, p.Languages); err != nil {
		return Preferences{}, err
	}
	if err := checkYears("preferences.partner.minYearsOfExperience", pp.MinYearsOfExperience, p.Limits.YearsOfExperience); err != nil {
		return Preferences{}, err
	}
	out.Partner.MinYearsOfExperience = pp.MinYearsOfExperience
	if out.Partner.Notes, err = cleanNotes("preferences.partner.notes", pp.Notes, p.Limits.PartnerNotesLength, false); err != nil {
		return Preferences{}, err
	}
	return out, nil
}

func (c Contact) clean(p Program) (Contact, error) {
	var out Contact
	var err error
	if out.Email, err = cleanEmail("contact.email", c.Email, p.Limits.EmailLength, false); err != nil {
		return Contact{}, err
	}
	if out.Phone, err = cleanPhone("contact.phone", c.Phone, p.Limits.PhoneLength); err != nil {
		return Contact{}, err
	}
	out.PreferredMethod = c.PreferredMethod
	switch c.PreferredMethod {
	case "":
	case ContactEmail:
		if out.Email == "" {
			return Contact{}, invalid("contact.email", "is required when email is the preferred contact method")
		}
	case ContactPhone:
		if out.Phone == "" {
			return Contact{}, invalid("contact.phone", "is required when phone is the preferred contact method")
		}
	default:
		return Contact{}, invalid("contact.preferredMethod", "%q is not %s or %s", c.PreferredMethod, ContactEmail, ContactPhone)
	}
	return out, nil
}

// clone returns a deep copy, so that state handed out cannot be changed
// through shared slices and maps.
func (pr Profile) clone() Profile {
	out := pr
	out.Languages = slices.Clone(pr.Languages)
	out.Focus = slices.Clone(pr.Focus)
	out.Skills = maps.Clone(pr.Skills)
	out.Preferences.MeetingFormats = slices.Clone(pr.Preferences.MeetingFormats)
	out.Preferences.Partner.Disciplines = slices.Clone(pr.Preferences.Partner.Disciplines)
	out.Preferences.Partner.Industries = slices.Clone(pr.Preferences.Partner.Industries)
	out.Preferences.Partner.Provinces = slices.Clone(pr.Preferences.Partner.Provinces)
	out.Preferences.Partner.Languages = slices.Clone(pr.Preferences.Partner.Languages)
	return out
}

// equal reports whether two cleaned profiles hold the same values. Cleaned
// profiles hold nil rather than empty sets, so a deep comparison is exact.
func (pr Profile) equal(o Profile) bool {
	return reflect.DeepEqual(pr, o)
}
