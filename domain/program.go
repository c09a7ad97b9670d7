package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// EndReasonTermCompleted is the end reason the program records when a match
// reaches the end of its term. Only the system records it, so it is not one
// of Program.EndReasons, which lists the reasons staff choose from.
const EndReasonTermCompleted = "TERM_COMPLETED"

// EndedMatchDocuments says what becomes of a match's documents for its
// partners once the match ends. Staff see them either way, and nobody adds
// or removes documents on an ended match.
type EndedMatchDocuments string

// The choices of Program.EndedMatchDocuments.
const (
	// EndedMatchDocumentsReadOnly lets the partners of an ended match list
	// and download its documents, as the guide says.
	EndedMatchDocumentsReadOnly EndedMatchDocuments = "READ_ONLY"
	// EndedMatchDocumentsHidden hides an ended match's documents from its
	// partners.
	EndedMatchDocumentsHidden EndedMatchDocuments = "HIDDEN"
)

// Program holds the settings of the mentoring program: the lists members and
// staff choose from, the time rules and the limits. They are configuration,
// not code: DefaultProgram gives the guide's values, and any change must
// pass Validate before deciders use it.
type Program struct {
	// Designations lists the professional designations a profile may show.
	Designations []string
	// Disciplines lists the engineering and geoscience disciplines.
	Disciplines []string
	// Industries lists the industries members work in.
	Industries []string
	// Provinces lists the province and territory codes of a location.
	Provinces []string
	// Languages lists the languages members may speak, as ISO 639-1 codes.
	Languages []string
	// FocusAreas lists the Mentoring Relationship Focus choices.
	FocusAreas []string
	// Skills lists the skills of the Skills Self-Assessment.
	Skills []string
	// MeetingFormats lists the ways partners may meet.
	MeetingFormats []string
	// MeetingFrequencies lists how often partners may prefer to meet.
	MeetingFrequencies []string
	// DeclineReasons lists the reasons a mentor may give for a decline.
	DeclineReasons []string
	// EndReasons lists the reasons staff may give for ending a match early.
	// EndReasonTermCompleted is reserved for the automatic end.
	EndReasons []string
	// DocumentContentTypes lists the media types partners may upload.
	DocumentContentTypes []string
	// EndedMatchDocuments says whether the partners of an ended match still
	// see its documents (read-only) or not.
	EndedMatchDocuments EndedMatchDocuments

	// ResponseWindow is how long a mentor has to answer a request before
	// the mentee may ask staff for a nudge.
	ResponseWindow time.Duration
	// NudgeSpacing is the least time between two staff nudges of one match.
	NudgeSpacing time.Duration
	// TermMonths is how many calendar months a match lasts after it is
	// accepted.
	TermMonths int
	// FirstMeetingReminder is how long after the acceptance the partners are
	// reminded, when neither has logged a session, to hold their first
	// meeting.
	FirstMeetingReminder time.Duration
	// RetentionYears turns the retention rule on: a mentee or mentor is
	// erased this many years after the latest of their registration, their
	// last sign-in and the end of their last match, unless a match of
	// theirs is pending or active (see Member.RetentionDue). 0, the
	// default, turns the rule off; at most MaxRetentionYears.
	RetentionYears int

	// MaxPendingRequests is how many pending requests a mentee may have.
	MaxPendingRequests int
	// MaxActiveMatches is how many active matches a mentee may have.
	MaxActiveMatches int
	// DefaultMentorCapacity is a new mentor's capacity.
	DefaultMentorCapacity int
	// MaxMentorCapacity is the highest capacity a mentor may set.
	MaxMentorCapacity int

	// Limits caps the sizes of inputs.
	Limits Limits

	// Location is the time zone in which the program counts calendar days,
	// such as the day a match was made and "today" for session dates.
	Location *time.Location
}

// Limits caps the sizes of inputs. Text lengths count characters (Unicode
// code points), not bytes.
type Limits struct {
	// NameLength caps a member's name.
	NameLength int
	// CityLength caps the city of a location.
	CityLength int
	// EmailLength caps an email address.
	EmailLength int
	// PhoneLength caps a phone number.
	PhoneLength int
	// BiographyLength caps the Employment & Personal Biography.
	BiographyLength int
	// PartnerNotesLength caps the free-text partner preferences.
	PartnerNotesLength int
	// YearsOfExperience caps the years of experience.
	YearsOfExperience int
	// RequestMessageLength caps the message of a match request.
	RequestMessageLength int
	// DeclineMessageLength caps the message of a decline.
	DeclineMessageLength int
	// StaffNoteLength caps a staff note on a nudge or an end.
	StaffNoteLength int
	// SessionNotesLength caps a session's discussion notes.
	SessionNotesLength int
	// SessionMinutes caps a session's length in minutes.
	SessionMinutes int
	// DocumentNameLength caps a document's file name.
	DocumentNameLength int
	// DocumentSize caps a document's size in bytes.
	DocumentSize int64
	// ResourceTitleLength caps a resource's title.
	ResourceTitleLength int
	// ResourceDescriptionLength caps a resource's description.
	ResourceDescriptionLength int
	// ResourceTextLength caps a text resource's body.
	ResourceTextLength int
	// URLLength caps a resource's URL.
	URLLength int
}

// DefaultProgram returns the settings of the program guide: a 14-day
// response window, nudges at least 7 days apart, a one-year term, a
// first-meeting reminder after 21 days, one pending request and one active
// match per mentee, and mentors taking one mentee unless they say otherwise.
// The guide sets no retention rule, so it is off.
func DefaultProgram() Program {
	return Program{
		Designations: []string{"P.Eng.", "P.Geo.", "EIT", "GIT", "Eng.L.", "Geo.L."},
		Disciplines: []string{
			"AEROSPACE", "AGRICULTURAL", "BIOMEDICAL", "CHEMICAL", "CIVIL", "COMPUTER",
			"ELECTRICAL", "ENVIRONMENTAL", "GEOLOGICAL", "GEOPHYSICAL", "GEOTECHNICAL",
			"INDUSTRIAL", "MATERIALS", "MECHANICAL", "MINING", "PETROLEUM", "SOFTWARE",
			"STRUCTURAL", "OTHER",
		},
		Industries: []string{
			"CONSTRUCTION", "CONSULTING", "EDUCATION", "ENERGY", "GOVERNMENT", "MANUFACTURING",
			"MINING", "OIL_AND_GAS", "TECHNOLOGY", "TRANSPORTATION", "UTILITIES", "OTHER",
		},
		Provinces: []string{"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"},
		Languages: []string{"en", "fr", "es", "de", "zh", "hi", "pa", "ar", "tl", "uk", "pt", "it"},
		FocusAreas: []string{
			"CAREER_DEVELOPMENT", "PROFESSIONAL_LICENSING", "TECHNICAL_SKILLS", "LEADERSHIP",
			"BUSINESS_DEVELOPMENT", "WORK_LIFE_BALANCE", "ENTREPRENEURSHIP",
			"NEWCOMER_INTEGRATION", "ETHICS_AND_PROFESSIONALISM",
		},
		Skills: []string{
			"COMMUNICATION", "LEADERSHIP", "PROJECT_MANAGEMENT", "TECHNICAL_WRITING",
			"PROBLEM_SOLVING", "NEGOTIATION", "NETWORKING", "TEAMWORK", "TIME_MANAGEMENT",
			"RISK_MANAGEMENT", "REGULATORY_KNOWLEDGE", "FINANCIAL_ACUMEN",
		},
		MeetingFormats:     []string{"IN_PERSON", "VIDEO", "PHONE"},
		MeetingFrequencies: []string{"WEEKLY", "BIWEEKLY", "MONTHLY", "AS_NEEDED"},
		DeclineReasons: []string{
			"NO_CAPACITY", "EXPERTISE_MISMATCH", "SCHEDULE_CONFLICT", "PERSONAL_CIRCUMSTANCES", "OTHER",
		},
		EndReasons: []string{"GRACEFUL_EXIT", "GOALS_CONCLUDED", "MOVED", "OTHER"},
		DocumentContentTypes: []string{
			"application/pdf",
			"application/msword",
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			"application/vnd.ms-excel",
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			"application/vnd.ms-powerpoint",
			"application/vnd.openxmlformats-officedocument.presentationml.presentation",
			"text/plain",
			"text/markdown",
			"image/png",
			"image/jpeg",
		},
		EndedMatchDocuments: EndedMatchDocumentsReadOnly,

		ResponseWindow:       14 * 24 * time.Hour,
		NudgeSpacing:         7 * 24 * time.Hour,
		TermMonths:           12,
		FirstMeetingReminder: 21 * 24 * time.Hour,

		MaxPendingRequests:    1,
		MaxActiveMatches:      1,
		DefaultMentorCapacity: 1,
		MaxMentorCapacity:     10,

		Limits: Limits{
			NameLength:                200,
			CityLength:                100,
			EmailLength:               254,
			PhoneLength:               30,
			BiographyLength:           4000,
			PartnerNotesLength:        1000,
			YearsOfExperience:         70,
			RequestMessageLength:      1000,
			DeclineMessageLength:      1000,
			StaffNoteLength:           2000,
			SessionNotesLength:        4000,
			SessionMinutes:            600,
			DocumentNameLength:        255,
			DocumentSize:              20 << 20,
			ResourceTitleLength:       200,
			ResourceDescriptionLength: 2000,
			ResourceTextLength:        20000,
			URLLength:                 2048,
		},

		Location: time.UTC,
	}
}

// Validate reports every setting that deciders cannot work with, joined in
// one error, or nil.
func (p Program) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("program: "+format, args...))
	}
	lists := []struct {
		name  string
		items []string
	}{
		{"Designations", p.Designations},
		{"Disciplines", p.Disciplines},
		{"Industries", p.Industries},
		{"Provinces", p.Provinces},
		{"Languages", p.Languages},
		{"FocusAreas", p.FocusAreas},
		{"Skills", p.Skills},
		{"MeetingFormats", p.MeetingFormats},
		{"MeetingFrequencies", p.MeetingFrequencies},
		{"DeclineReasons", p.DeclineReasons},
		{"EndReasons", p.EndReasons},
		{"DocumentContentTypes", p.DocumentContentTypes},
	}
	for _, l := range lists {
		if len(l.items) == 0 {
			bad("%s is empty", l.name)
		}
		for i, item := range l.items {
			if item == "" || item != strings.TrimSpace(item) || CheckText(l.name, item, SingleLine) != nil {
				bad("%s[%d] %q is blank, padded or holds control or invisible formatting characters", l.name, i, item)
			}
			if slices.Index(l.items, item) != i {
				bad("%s lists %q twice", l.name, item)
			}
		}
	}
	if slices.Contains(p.EndReasons, EndReasonTermCompleted) {
		bad("EndReasons must not list %s, which only the system records", EndReasonTermCompleted)
	}
	for _, ct := range p.DocumentContentTypes {
		if ct != strings.ToLower(ct) || !strings.Contains(ct, "/") {
			bad("DocumentContentTypes entry %q is not a lower-case media type", ct)
		}
	}
	switch p.EndedMatchDocuments {
	case EndedMatchDocumentsReadOnly, EndedMatchDocumentsHidden:
	default:
		bad("EndedMatchDocuments is %q, want %s or %s", p.EndedMatchDocuments, EndedMatchDocumentsReadOnly, EndedMatchDocumentsHidden)
	}
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"ResponseWindow", p.ResponseWindow},
		{"NudgeSpacing", p.NudgeSpacing},
		{"FirstMeetingReminder", p.FirstMeetingReminder},
	}
	for _, d := range durations {
		if d.d <= 0 {
			bad("%s is %s, want a positive duration", d.name, d.d)
		}
	}
	counts := []struct {
		name string
		n    int64
	}{
		{"TermMonths", int64(p.TermMonths)},
		{"MaxPendingRequests", int64(p.MaxPendingRequests)},
		{"MaxActiveMatches", int64(p.MaxActiveMatches)},
		{"DefaultMentorCapacity", int64(p.DefaultMentorCapacity)},
		{"MaxMentorCapacity", int64(p.MaxMentorCapacity)},
		{"Limits.NameLength", int64(p.Limits.NameLength)},
		{"Limits.CityLength", int64(p.Limits.CityLength)},
		{"Limits.EmailLength", int64(p.Limits.EmailLength)},
		{"Limits.PhoneLength", int64(p.Limits.PhoneLength)},
		{"Limits.BiographyLength", int64(p.Limits.BiographyLength)},
		{"Limits.PartnerNotesLength", int64(p.Limits.PartnerNotesLength)},
		{"Limits.YearsOfExperience", int64(p.Limits.YearsOfExperience)},
		{"Limits.RequestMessageLength", int64(p.Limits.RequestMessageLength)},
		{"Limits.DeclineMessageLength", int64(p.Limits.DeclineMessageLength)},
		{"Limits.StaffNoteLength", int64(p.Limits.StaffNoteLength)},
		{"Limits.SessionNotesLength", int64(p.Limits.SessionNotesLength)},
		{"Limits.SessionMinutes", int64(p.Limits.SessionMinutes)},
		{"Limits.DocumentNameLength", int64(p.Limits.DocumentNameLength)},
		{"Limits.DocumentSize", p.Limits.DocumentSize},
		{"Limits.ResourceTitleLength", int64(p.Limits.ResourceTitleLength)},
		{"Limits.ResourceDescriptionLength", int64(p.Limits.ResourceDescriptionLength)},
		{"Limits.ResourceTextLength", int64(p.Limits.ResourceTextLength)},
		{"Limits.URLLength", int64(p.Limits.URLLength)},
	}
	for _, c := range counts {
		if c.n < 1 {
			bad("%s is %d, want at least 1", c.name, c.n)
		}
	}
	if p.RetentionYears < 0 || p.RetentionYears > MaxRetentionYears {
		bad("RetentionYears is %d, want 0 (off) or 1 to %d", p.RetentionYears, MaxRetentionYears)
	}
	if p.DefaultMentorCapacity > p.MaxMentorCapacity {
		bad("DefaultMentorCapacity %d exceeds MaxMentorCapacity %d", p.DefaultMentorCapacity, p.MaxMentorCapacity)
	}
	if p.Location == nil {
		bad("Location is not set")
	}
	return errors.Join(errs...)
}

// ResponseDeadline returns when the response window of a request made at
// requestedAt is over.
func (p Program) ResponseDeadline(requestedAt time.Time) time.Time {
	return requestedAt.Add(p.ResponseWindow)
}

// NextNudgeAt returns the earliest time staff may nudge again after a nudge
// at lastNudgeAt.
func (p Program) NextNudgeAt(lastNudgeAt time.Time) time.Time {
	return lastNudgeAt.Add(p.NudgeSpacing)
}

// FirstMeetingReminderAt returns when the first-meeting reminder of a match
// accepted at acceptedAt is due.
func (p Program) FirstMeetingReminderAt(acceptedAt time.Time) time.Time {
	return acceptedAt.Add(p.FirstMeetingReminder)
}

// TermEnd returns when a match accepted at acceptedAt reaches the end of its
// term. The term counts calendar months in the program's time zone, so a
// match made on 1 March ends on 1 March of the next year.
func (p Program) TermEnd(acceptedAt time.Time) time.Time {
	return acceptedAt.In(p.Location).AddDate(0, p.TermMonths, 0).UTC()
}

// PartnersSeeDocuments reports whether the partners of a match in status
// may list and download its documents: always, except on an ended match
// when the program hides them.
func (p Program) PartnersSeeDocuments(status MatchStatus) bool {
	return status != StatusEnded || p.EndedMatchDocuments != EndedMatchDocumentsHidden
}

// Today returns the calendar day of t in the program's time zone.
func (p Program) Today(t time.Time) Date {
	return DateOf(t, p.Location)
}
