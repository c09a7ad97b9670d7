package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"time"
	_ "time/tzdata" // the program's time zone must load on hosts without zoneinfo

	"github.com/goccy/go-yaml"
	"github.com/mentorship/mentorship/domain"
)

// day is the unit of the program file's windows: the guide speaks in days.
const day = 24 * time.Hour

// programFile is the YAML (or JSON) form of domain.Program. It is decoded
// over the guide's defaults, so a file names only what it changes.
type programFile struct {
	Designations         []string `yaml:"designations"`
	Disciplines          []string `yaml:"disciplines"`
	Industries           []string `yaml:"industries"`
	Provinces            []string `yaml:"provinces"`
	Languages            []string `yaml:"languages"`
	FocusAreas           []string `yaml:"focusAreas"`
	Skills               []string `yaml:"skills"`
	MeetingFormats       []string `yaml:"meetingFormats"`
	MeetingFrequencies   []string `yaml:"meetingFrequencies"`
	DeclineReasons       []string `yaml:"declineReasons"`
	EndReasons           []string `yaml:"endReasons"`
	DocumentContentTypes []string `yaml:"documentContentTypes"`
	// EndedMatchDocuments is READ_ONLY or HIDDEN.
	EndedMatchDocuments string `yaml:"endedMatchDocuments"`

	ResponseWindowDays       int `yaml:"responseWindowDays"`
	NudgeSpacingDays         int `yaml:"nudgeSpacingDays"`
	TermMonths               int `yaml:"termMonths"`
	FirstMeetingReminderDays int `yaml:"firstMeetingReminderDays"`
	// RetentionYears erases mentees and mentors that many years after
	// their last match or sign-in; 0 is off.
	RetentionYears int `yaml:"retentionYears"`

	MaxPendingRequests    int `yaml:"maxPendingRequests"`
	MaxActiveMatches      int `yaml:"maxActiveMatches"`
	DefaultMentorCapacity int `yaml:"defaultMentorCapacity"`
	MaxMentorCapacity     int `yaml:"maxMentorCapacity"`

	TimeZone string `yaml:"timeZone"`

	Limits limitsFile `yaml:"limits"`
}

type limitsFile struct {
	NameLength                int   `yaml:"nameLength"`
	CityLength                int   `yaml:"cityLength"`
	EmailLength               int   `yaml:"emailLength"`
	PhoneLength               int   `yaml:"phoneLength"`
	BiographyLength           int   `yaml:"biographyLength"`
	PartnerNotesLength        int   `yaml:"partnerNotesLength"`
	YearsOfExperience         int   `yaml:"yearsOfExperience"`
	RequestMessageLength      int   `yaml:"requestMessageLength"`
	DeclineMessageLength      int   `yaml:"declineMessageLength"`
	StaffNoteLength           int   `yaml:"staffNoteLength"`
	SessionNotesLength        int   `yaml:"sessionNotesLength"`
	SessionMinutes            int   `yaml:"sessionMinutes"`
	DocumentNameLength        int   `yaml:"documentNameLength"`
	DocumentSize              int64 `yaml:"documentSize"`
	ResourceTitleLength       int   `yaml:"resourceTitleLength"`
	ResourceDescriptionLength int   `yaml:"resourceDescriptionLength"`
	ResourceTextLength        int   `yaml:"resourceTextLength"`
	URLLength                 int   `yaml:"urlLength"`
}

// LoadProgram returns the program's settings: the guide's defaults
// (domain.DefaultProgram) with whatever the file at path changes. An empty
// path means the defaults. Unknown keys, windows that are not whole days,
// unknown time zones and settings Program.Validate refuses are errors that
// name the file.
func LoadProgram(path string) (domain.Program, error) {
	def := domain.DefaultProgram()
	if path == "" {
		return def, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return domain.Program{}, fmt.Errorf("program file: %w", err)
	}
	p, err := parseProgram(raw, def)
	if err != nil {
		return domain.Program{}, fmt.Errorf("program file %s: %w", path, err)
	}
	return p, nil
}

func parseProgram(raw []byte, def domain.Program) (domain.Program, error) {
	f, err := fileOf(def)
	if err != nil {
		return domain.Program{}, err
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := decodeYAML(raw, &f); err != nil {
			return domain.Program{}, err
		}
	}
	// A count of days beyond what a time.Duration holds would wrap around
	// to some other window, perhaps a positive one that Validate accepts.
	for _, w := range []struct {
		name string
		days int
	}{
		{"responseWindowDays", f.ResponseWindowDays},
		{"nudgeSpacingDays", f.NudgeSpacingDays},
		{"firstMeetingReminderDays", f.FirstMeetingReminderDays},
	} {
		if int64(w.days) > math.MaxInt64/int64(day) || int64(w.days) < math.MinInt64/int64(day) {
			return domain.Program{}, fmt.Errorf("%s %d is more days than a window can hold", w.name, w.days)
		}
	}
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil {
		return domain.Program{}, fmt.Errorf("timeZone %q is not an IANA time zone such as America/Edmonton", f.TimeZone)
	}
	p := domain.Program{
		Designations: f.Designations, Disciplines: f.Disciplines, Industries: f.Industries,
		Provinces: f.Provinces, Languages: f.Languages, FocusAreas: f.FocusAreas, Skills: f.Skills,
		MeetingFormats: f.MeetingFormats, MeetingFrequencies: f.MeetingFrequencies,
		DeclineReasons: f.DeclineReasons, EndReasons: f.EndReasons, DocumentContentTypes: f.DocumentContentTypes,
		EndedMatchDocuments: domain.EndedMatchDocuments(f.EndedMatchDocuments),

		ResponseWindow:       time.Duration(f.ResponseWindowDays) * day,
		NudgeSpacing:         time.Duration(f.NudgeSpacingDays) * day,
		TermMonths:           f.TermMonths,
		FirstMeetingReminder: time.Duration(f.FirstMeetingReminderDays) * day,
		RetentionYears:       f.RetentionYears,

		MaxPendingRequests: f.MaxPendingRequests, MaxActiveMatches: f.MaxActiveMatches,
		DefaultMentorCapacity: f.DefaultMentorCapacity, MaxMentorCapacity: f.MaxMentorCapacity,

		Limits:   domain.Limits(f.Limits),
		Location: loc,
	}
	if err := p.Validate(); err != nil {
		return domain.Program{}, err
	}
	return p, nil
}

// decodeYAML decodes a program file over f. The YAML library panics on some
// malformed documents instead of reporting them (a "!!set" tag where a list
// belongs dereferences a nil node), and a program file is an operator's
// input: a typo in it must stop the server with an error that names the
// file, not with a stack trace.
func decodeYAML(raw []byte, f *programFile) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML decoder could not read the file: %v", r)
		}
	}()
	if err := yaml.UnmarshalWithOptions(raw, f, yaml.Strict()); err != nil {
		return errors.New(yaml.FormatError(err, false, true))
	}
	return checkWholeNumbers(raw, reflect.TypeOf(*f), "")
}

// checkWholeNumbers refuses a fraction where the file wants a whole number:
// the YAML library would cut "termMonths: 1.5" to 1 without a word.
func checkWholeNumbers(raw []byte, t reflect.Type, path string) error {
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil // reported by the strict decoding
	}
	return wholeIn(doc, t, path)
}

func wholeIn(doc map[string]any, t reflect.Type, path string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		v, ok := doc[name]
		if name == "" || !ok {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Int32:
			if x, isFloat := v.(float64); isFloat && x != math.Trunc(x) {
				return fmt.Errorf("%s%s: %v is not a whole number", path, name, x)
			}
		case reflect.Struct:
			if m, isMap := v.(map[string]any); isMap {
				if err := wholeIn(m, f.Type, path+name+"."); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// fileOf writes a program in the file's form, so that decoding a file over
// it keeps every setting the file leaves out.
func fileOf(p domain.Program) (programFile, error) {
	days := func(name string, d time.Duration) (int, error) {
		if d%day != 0 {
			return 0, fmt.Errorf("%s %s is not a whole number of days", name, d)
		}
		return int(d / day), nil
	}
	f := programFile{
		Designations: p.Designations, Disciplines: p.Disciplines, Industries: p.Industries,
		Provinces: p.Provinces, Languages: p.Languages, FocusAreas: p.FocusAreas, Skills: p.Skills,
		MeetingFormats: p.MeetingFormats, MeetingFrequencies: p.MeetingFrequencies,
		DeclineReasons: p.DeclineReasons, EndReasons: p.EndReasons, DocumentContentTypes: p.DocumentContentTypes,
		EndedMatchDocuments: string(p.EndedMatchDocuments),
		TermMonths:          p.TermMonths,
		RetentionYears:      p.RetentionYears,
		MaxPendingRequests:  p.MaxPendingRequests, MaxActiveMatches: p.MaxActiveMatches,
		DefaultMentorCapacity: p.DefaultMentorCapacity, MaxMentorCapacity: p.MaxMentorCapacity,
		TimeZone: p.Location.String(),
		Limits:   limitsFile(p.Limits),
	}
	var err1, err2, err3 error
	f.ResponseWindowDays, err1 = days("responseWindow", p.ResponseWindow)
	f.NudgeSpacingDays, err2 = days("nudgeSpacing", p.NudgeSpacing)
	f.FirstMeetingReminderDays, err3 = days("firstMeetingReminder", p.FirstMeetingReminder)
	return f, errors.Join(err1, err2, err3)
}

// WriteProgram writes p as a program file, every setting named, for an
// operator to copy and edit.
func WriteProgram(w io.Writer, p domain.Program) error {
	f, err := fileOf(p)
	if err != nil {
		return err
	}
	out, err := yaml.MarshalWithOptions(f, yaml.IndentSequence(true))
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}
