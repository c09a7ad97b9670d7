package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
)

func writeProgram(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "program.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNoProgramFileMeansTheGuide(t *testing.T) {
	p, err := config.LoadProgram("")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(domain.DefaultProgram(), p, cmp.Comparer(sameZone)); diff != "" {
		t.Fatalf("defaults differ (-guide +loaded):\n%s", diff)
	}
}

func sameZone(a, b *time.Location) bool { return a.String() == b.String() }

// A file names only what it changes; everything else keeps the guide's value.
func TestProgramFileChangesOnlyWhatItNames(t *testing.T) {
	path := writeProgram(t, `# a program with a longer window and two active matches
responseWindowDays: 21
nudgeSpacingDays: 10
termMonths: 18
firstMeetingReminderDays: 28
retentionYears: 7
maxActiveMatches: 2
maxMentorCapacity: 3
timeZone: America/Edmonton
focusAreas: [CAREER_PLANNING, LICENSURE]
endedMatchDocuments: HIDDEN
limits:
  biographyLength: 2000
  documentSize: 1048576
`)
	p, err := config.LoadProgram(path)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.DefaultProgram()
	want.ResponseWindow = 21 * 24 * time.Hour
	want.NudgeSpacing = 10 * 24 * time.Hour
	want.TermMonths = 18
	want.FirstMeetingReminder = 28 * 24 * time.Hour
	want.RetentionYears = 7
	want.MaxActiveMatches = 2
	want.MaxMentorCapacity = 3
	want.FocusAreas = []string{"CAREER_PLANNING", "LICENSURE"}
	want.EndedMatchDocuments = domain.EndedMatchDocumentsHidden
	want.Limits.BiographyLength = 2000
	want.Limits.DocumentSize = 1 << 20
	want.Location, _ = time.LoadLocation("America/Edmonton")
	if diff := cmp.Diff(want, p, cmp.Comparer(sameZone)); diff != "" {
		t.Fatalf("program differs (-want +got):\n%s", diff)
	}
}

func TestProgramFileAcceptsJSON(t *testing.T) {
	p, err := config.LoadProgram(writeProgram(t, `{"maxPendingRequests": 2, "declineReasons": ["NO_TIME"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxPendingRequests != 2 || len(p.DeclineReasons) != 1 {
		t.Fatalf("got %d pending, decline reasons %v", p.MaxPendingRequests, p.DeclineReasons)
	}
}

func TestBadProgramFilesAreRefused(t *testing.T) {
	cases := map[string]struct{ text, want string }{
		"unknown key":                      {"responseWindow: 14\n", "responseWindow"},
		"wrong type":                       {"termMonths: a year\n", "termMonths"},
		"empty list":                       {"skills: []\n", "Skills is empty"},
		"duplicate item":                   {"skills: [DESIGN, DESIGN]\n", "twice"},
		"reserved end reason":              {"endReasons: [MOVED, TERM_COMPLETED]\n", "TERM_COMPLETED"},
		"zero window":                      {"responseWindowDays: 0\n", "ResponseWindow"},
		"negative limit":                   {"maxActiveMatches: -1\n", "MaxActiveMatches"},
		"unknown time zone":                {"timeZone: Mars/Olympus\n", "Mars/Olympus"},
		"not yaml":                         {"skills: [DESIGN\n", "program file"},
		"unknown limit":                    {"limits: {bioLength: 3}\n", "bioLength"},
		"upper-case mime type":             {"documentContentTypes: [Application/PDF]\n", "lower-case"},
		"unknown ended-match documents":    {"endedMatchDocuments: DELETED\n", "EndedMatchDocuments"},
		"lower-case ended-match documents": {"endedMatchDocuments: hidden\n", "EndedMatchDocuments"},
		"empty ended-match documents":      {"endedMatchDocuments: \"\"\n", "EndedMatchDocuments"},
		"retention beyond fifty years":     {"retentionYears: 51\n", "RetentionYears is 51, want 0 (off) or 1 to 50"},
		"negative retention":               {"retentionYears: -2\n", "RetentionYears is -2"},
		"a fraction of a month":            {"termMonths: 1.5\n", "termMonths: 1.5 is not a whole number"},
		"a fraction of a limit":            {"limits: {nameLength: 100.5}\n", "limits.nameLength: 100.5 is not a whole number"},
	}
	for name, tc := range cases {
		path := writeProgram(t, tc.text)
		_, err := config.LoadProgram(path)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name %q and the file", name, err, tc.want)
		}
	}
	if _, err := config.LoadProgram(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// The setting is checked when the configuration loads, so a bad file stops
// the server before it opens anything.
func TestProgramFileSettingIsCheckedAtLoad(t *testing.T) {
	path := writeProgram(t, "termMonths: 0\n")
	_, err := config.Load("mentorship serve", []string{"--program-file", path}, func(string) string { return "" }, new(strings.Builder))
	if err == nil || !strings.Contains(err.Error(), "TermMonths") {
		t.Fatalf("got %v, want an error naming TermMonths", err)
	}
	good := writeProgram(t, "termMonths: 24\n")
	cfg, err := config.Load("mentorship serve", nil, func(k string) string {
		if k == "MENTORSHIP_PROGRAM_FILE" {
			return good
		}
		return ""
	}, new(strings.Builder))
	if err != nil || cfg.ProgramFile != good {
		t.Fatalf("got %+v, %v", cfg.ProgramFile, err)
	}
}

// WriteProgram prints the settings in the file's form; read back, they are
// the same program, so an operator can start from the printed defaults.
func TestWrittenProgramReadsBack(t *testing.T) {
	var b strings.Builder
	p := domain.DefaultProgram()
	p.MaxActiveMatches = 3
	p.EndedMatchDocuments = domain.EndedMatchDocumentsHidden
	p.RetentionYears = 10
	if err := config.WriteProgram(&b, p); err != nil {
		t.Fatal(err)
	}
	got, err := config.LoadProgram(writeProgram(t, b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if diff := cmp.Diff(p, got, cmp.Comparer(sameZone)); diff != "" {
		t.Fatalf("round trip differs:\n%s", diff)
	}
}
