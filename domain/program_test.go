package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/domain"
)

func TestDefaultProgramIsValid(t *testing.T) {
	p := domain.DefaultProgram()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// The guide's numbers.
	if p.ResponseWindow != 14*24*time.Hour || p.NudgeSpacing != 7*24*time.Hour || p.TermMonths != 12 ||
		p.FirstMeetingReminder != 21*24*time.Hour || p.MaxPendingRequests != 1 || p.MaxActiveMatches != 1 ||
		p.DefaultMentorCapacity != 1 || p.Limits.BiographyLength != 4000 ||
		p.EndedMatchDocuments != domain.EndedMatchDocumentsReadOnly {
		t.Errorf("DefaultProgram strays from the guide: %+v", p)
	}
}

func TestProgramValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*domain.Program)
		want   string
	}{
		{"an empty list", func(p *domain.Program) { p.Skills = nil }, "Skills is empty"},
		{"a blank entry", func(p *domain.Program) { p.Disciplines = append(p.Disciplines, "") }, "Disciplines["},
		{"a padded entry", func(p *domain.Program) { p.FocusAreas = append(p.FocusAreas, " X") }, "FocusAreas["},
		{"a duplicate entry", func(p *domain.Program) { p.Provinces = append(p.Provinces, "AB") }, `Provinces lists "AB" twice`},
		{"the reserved end reason", func(p *domain.Program) { p.EndReasons = append(p.EndReasons, domain.EndReasonTermCompleted) }, "TERM_COMPLETED"},
		{"an upper-case media type", func(p *domain.Program) { p.DocumentContentTypes = []string{"Application/PDF"} }, "lower-case media type"},
		{"a zero response window", func(p *domain.Program) { p.ResponseWindow = 0 }, "ResponseWindow"},
		{"a negative nudge spacing", func(p *domain.Program) { p.NudgeSpacing = -time.Hour }, "NudgeSpacing"},
		{"a zero reminder delay", func(p *domain.Program) { p.FirstMeetingReminder = 0 }, "FirstMeetingReminder"},
		{"a zero term", func(p *domain.Program) { p.TermMonths = 0 }, "TermMonths"},
		{"no pending requests", func(p *domain.Program) { p.MaxPendingRequests = 0 }, "MaxPendingRequests"},
		{"no active matches", func(p *domain.Program) { p.MaxActiveMatches = 0 }, "MaxActiveMatches"},
		{"a zero default capacity", func(p *domain.Program) { p.DefaultMentorCapacity = 0 }, "DefaultMentorCapacity is 0"},
		{"a default above the maximum", func(p *domain.Program) { p.DefaultMentorCapacity = 11 }, "exceeds MaxMentorCapacity"},
		{"a zero length limit", func(p *domain.Program) { p.Limits.SessionNotesLength = 0 }, "Limits.SessionNotesLength"},
		{"a zero document size", func(p *domain.Program) { p.Limits.DocumentSize = 0 }, "Limits.DocumentSize"},
		{"no time zone", func(p *domain.Program) { p.Location = nil }, "Location"},
		{"no ended-match document setting", func(p *domain.Program) { p.EndedMatchDocuments = "" }, "EndedMatchDocuments"},
		{"an unknown ended-match document setting", func(p *domain.Program) { p.EndedMatchDocuments = "DELETED" }, `EndedMatchDocuments is "DELETED"`},
		{"a negative retention", func(p *domain.Program) { p.RetentionYears = -1 }, "RetentionYears is -1, want 0 (off) or 1 to 50"},
		{"a retention beyond fifty years", func(p *domain.Program) { p.RetentionYears = 51 }, "RetentionYears is 51, want 0 (off) or 1 to 50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.DefaultProgram()
			tc.change(&p)
			err := p.Validate()
			if err == nil {
				t.Fatal("Validate accepted the program")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestProgramValidateAcceptsTheRetentionRange(t *testing.T) {
	for _, years := range []int{0, 1, 7, domain.MaxRetentionYears} {
		p := domain.DefaultProgram()
		p.RetentionYears = years
		if err := p.Validate(); err != nil {
			t.Errorf("RetentionYears %d: %v", years, err)
		}
	}
	if domain.DefaultProgram().RetentionYears != 0 {
		t.Error("the retention rule is on by default")
	}
}

func TestProgramValidateReportsEveryProblem(t *testing.T) {
	p := domain.DefaultProgram()
	p.Skills, p.TermMonths = nil, 0
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "Skills") || !strings.Contains(err.Error(), "TermMonths") {
		t.Errorf("got %v, want both problems", err)
	}
}

func TestProgramTimes(t *testing.T) {
	p := domain.DefaultProgram()
	p.Location = time.FixedZone("EST", -5*3600)
	// 29 February 2028, 22:00 in Toronto, is 1 March in UTC. A year later
	// counts from the Toronto day: 29 February 2029 does not exist, so the
	// term ends on 1 March 2029, 22:00 in Toronto.
	acceptedAt := time.Date(2028, 3, 1, 3, 0, 0, 0, time.UTC)
	if got, want := p.TermEnd(acceptedAt), time.Date(2029, 3, 2, 3, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("TermEnd = %v, want %v", got, want)
	}
	if got := p.Today(acceptedAt); got.String() != "2028-02-29" {
		t.Errorf("Today = %s, want 2028-02-29", got)
	}
}

// The documents of an ended match stay readable by its partners unless the
// program hides them; on a match that has not ended they are always shown.
func TestPartnersSeeDocuments(t *testing.T) {
	for _, tc := range []struct {
		setting domain.EndedMatchDocuments
		status  domain.MatchStatus
		want    bool
	}{
		{domain.EndedMatchDocumentsReadOnly, domain.StatusActive, true},
		{domain.EndedMatchDocumentsReadOnly, domain.StatusEnded, true},
		{domain.EndedMatchDocumentsHidden, domain.StatusActive, true},
		{domain.EndedMatchDocumentsHidden, domain.StatusEnded, false},
	} {
		p := domain.DefaultProgram()
		p.EndedMatchDocuments = tc.setting
		if got := p.PartnersSeeDocuments(tc.status); got != tc.want {
			t.Errorf("%s on a %s match: got %v, want %v", tc.setting, tc.status, got, tc.want)
		}
	}
}
