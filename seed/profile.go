package seed

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/mentorship/mentorship/domain"
)

// person is a generated member: the account's name and email and the
// profile the member saves.
type person struct {
	role    domain.Role
	email   string
	profile domain.Profile
	// capacity and accepting are a mentor's settings; capacity 0 keeps
	// the program's default.
	capacity  int
	accepting bool
	// specialty is one of the member's specialties, for messages and
	// meeting logs.
	specialty string
}

// spec pins parts of a generated person; zero fields are drawn at random.
type spec struct {
	first, last string
	discipline  string
	city        string
	years       int
}

// newPerson draws a realistic member of role from r. emailDomain is the
// domain of the contact email.
func newPerson(r *rand.Rand, role domain.Role, s spec, emailDomain string) person {
	first, last := s.first, s.last
	if first == "" {
		first = pick(r, firstNames)
	}
	if last == "" {
		last = pick(r, lastNames)
	}
	d := pickDiscipline(r, s.discipline)
	c := pickCity(r, s.city)
	years := s.years
	if years == 0 {
		if role == domain.RoleMentor {
			years = 8 + r.IntN(30)
		} else {
			years = r.IntN(7)
		}
	}
	industry := pick(r, d.industries)
	specs := sample(r, d.specialties, 3)

	p := domain.Profile{
		Name:              first + " " + last,
		Designation:       designation(r, role, d, years),
		Discipline:        d.code,
		Industry:          industry,
		Location:          domain.Location{City: c.name, Province: c.province},
		YearsOfExperience: years,
		Languages:         languages(r, c.province),
		Focus:             focus(r, role, years),
		Skills:            skills(r, role),
		Preferences:       preferences(r, role, d, c),
		Contact:           contact(r, first, last, c, emailDomain),
	}
	p.Biography = biography(r, role, d, industry, c, years, specs)
	out := person{role: role, profile: p, specialty: specs[0], accepting: true}
	if role == domain.RoleMentor {
		out.capacity = pickWeighted(r, []int{1, 2, 3, 4}, []int{50, 30, 15, 5})
		out.accepting = r.IntN(100) >= 8
	}
	return out
}

// defaultProgram holds the lists that profiles choose from: generated
// members fit the default program.
var defaultProgram = domain.DefaultProgram()

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// sample draws n distinct items of list in a random order.
func sample[T any](r *rand.Rand, list []T, n int) []T {
	idx := r.Perm(len(list))
	out := make([]T, 0, min(n, len(list)))
	for _, i := range idx[:min(n, len(list))] {
		out = append(out, list[i])
	}
	return out
}

func pickWeighted[T any](r *rand.Rand, items []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return items[i]
		}
		n -= w
	}
	return items[len(items)-1]
}

func pickDiscipline(r *rand.Rand, code string) discipline {
	if code != "" {
		for _, d := range disciplines {
			if d.code == code {
				return d
			}
		}
	}
	weights := make([]int, len(disciplines))
	for i, d := range disciplines {
		weights[i] = d.weight
	}
	return pickWeighted(r, disciplines, weights)
}

func pickCity(r *rand.Rand, name string) city {
	if name != "" {
		for _, c := range cities {
			if c.name == name {
				return c
			}
		}
	}
	weights := make([]int, len(cities))
	for i, c := range cities {
		weights[i] = c.weight
	}
	return pickWeighted(r, cities, weights)
}

func designation(r *rand.Rand, role domain.Role, d discipline, years int) string {
	licensed, training, limited := "P.Eng.", "EIT", "Eng.L."
	if d.geoscience {
		licensed, training, limited = "P.Geo.", "GIT", "Geo.L."
	}
	switch {
	case role == domain.RoleMentor && r.IntN(20) == 0:
		return limited
	case role == domain.RoleMentor:
		return licensed
	case years >= 4 && r.IntN(3) == 0:
		return licensed
	case r.IntN(10) == 0:
		return "" // not yet enrolled as a member in training
	default:
		return training
	}
}

func languages(r *rand.Rand, province string) []string {
	var out []string
	switch {
	case province == "QC":
		out = append(out, "fr")
		if r.IntN(10) < 7 {
			out = append(out, "en")
		}
	case province == "NB" && r.IntN(3) == 0:
		out = append(out, "en", "fr")
	default:
		out = append(out, "en")
		if r.IntN(12) == 0 {
			out = append(out, "fr")
		}
	}
	if r.IntN(6) == 0 {
		out = append(out, pick(r, otherLanguages))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func focus(r *rand.Rand, role domain.Role, years int) []string {
	all := defaultProgram.FocusAreas
	n := 1 + r.IntN(3)
	out := sample(r, all, n)
	if role == domain.RoleMentee && years < 5 && !slices.Contains(out, "PROFESSIONAL_LICENSING") && r.IntN(3) > 0 {
		out = append(out, "PROFESSIONAL_LICENSING")
	}
	slices.Sort(out)
	return out
}

func skills(r *rand.Rand, role domain.Role) map[string]int {
	all := defaultProgram.Skills
	out := map[string]int{}
	for _, s := range sample(r, all, 4+r.IntN(4)) {
		if role == domain.RoleMentor {
			out[s] = 3 + r.IntN(3)
		} else {
			out[s] = 1 + r.IntN(4)
		}
	}
	return out
}

func preferences(r *rand.Rand, role domain.Role, d discipline, c city) domain.Preferences {
	formats := []string{"VIDEO"}
	if r.IntN(2) == 0 {
		formats = append(formats, "IN_PERSON")
	}
	if r.IntN(3) == 0 {
		formats = append(formats, "PHONE")
	}
	slices.Sort(formats)
	p := domain.Preferences{MeetingFormats: formats, MeetingFrequency: pick(r, meetingFrequencies)}
	if r.IntN(2) == 0 {
		p.Partner.Disciplines = []string{d.code}
	}
	if slices.Contains(formats, "IN_PERSON") && r.IntN(2) == 0 {
		p.Partner.Provinces = []string{c.province}
	}
	if c.province == "QC" && r.IntN(2) == 0 {
		p.Partner.Languages = []string{"fr"}
	}
	if role == domain.RoleMentee {
		if r.IntN(2) == 0 {
			p.Partner.MinYearsOfExperience = 10 + 5*r.IntN(3)
		}
		if r.IntN(4) == 0 {
			p.Partner.Notes = "I would like a mentor who has been through licensing in " + provinceName(c.province) + "."
		}
	} else if r.IntN(4) == 0 {
		p.Partner.Notes = "I can meet early mornings or over lunch."
	}
	return p
}

func contact(r *rand.Rand, first, last string, c city, emailDomain string) domain.Contact {
	ct := domain.Contact{
		Email: emailLocal(first) + "." + emailLocal(last) + "@" + emailDomain,
	}
	if r.IntN(3) > 0 {
		ct.Phone = fmt.Sprintf("+1 %s-555-01%02d", pick(r, c.area), r.IntN(100))
	}
	ct.PreferredMethod = domain.ContactEmail
	if ct.Phone != "" && r.IntN(3) == 0 {
		ct.PreferredMethod = domain.ContactPhone
	}
	return ct
}

// unaccented maps the accented letters of the name lists to plain ones.
var unaccented = strings.NewReplacer("à", "a", "â", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e", "î", "i", "ï", "i", "ô", "o", "û", "u", "ü", "u")

// emailLocal turns a name into the local part of an email address: lower
// case ASCII letters and hyphens, accents and apostrophes dropped.
func emailLocal(name string) string {
	var b strings.Builder
	for _, r := range unaccented.Replace(strings.ToLower(name)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func provinceName(code string) string {
	names := map[string]string{
		"AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick", "NL": "Newfoundland and Labrador",
		"NS": "Nova Scotia", "NT": "the Northwest Territories", "NU": "Nunavut", "ON": "Ontario", "PE": "Prince Edward Island",
		"QC": "Quebec", "SK": "Saskatchewan", "YT": "Yukon",
	}
	return names[code]
}

func biography(r *rand.Rand, role domain.Role, d discipline, industry string, c city, years int, specs []string) string {
	employer := pick(r, employers[industry])
	var b strings.Builder
	if role == domain.RoleMentor {
		level := "senior"
		switch {
		case years >= 25:
			level = pick(r, []string{"principal", "semi-retired", "chief"})
		case years >= 15:
			level = pick(r, []string{"principal", "lead", "senior"})
		}
		fmt.Fprintf(&b, "I am %s %s %s at %s in %s. Over %d years I have worked on %s, %s and %s. ",
			article(level), level, d.title, employer, c.name, years, specs[0], specs[min(1, len(specs)-1)], specs[len(specs)-1])
		b.WriteString(pick(r, mentorExtras))
		topics := sample(r, careerTopics, 2)
		fmt.Fprintf(&b, " I enjoy helping engineers and geoscientists in training with %s and %s.", topics[0], topics[1])
		return b.String()
	}
	stage := "early in my career"
	if years >= 3 {
		stage = fmt.Sprintf("%d years into my career", years)
	}
	fmt.Fprintf(&b, "I am %s %s at %s in %s, %s. My work covers %s and %s. ",
		article(d.title), d.title, employer, c.name, stage, specs[0], specs[len(specs)-1])
	b.WriteString(pick(r, menteeExtras))
	topics := sample(r, careerTopics, 2)
	fmt.Fprintf(&b, " I would like guidance on %s and %s.", topics[0], topics[1])
	return b.String()
}

// article returns the indefinite article of a word.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
