package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
)

const secretNotes = "private notes nobody else reads"

// history is a stored program history for the command tests.
type history struct {
	dir                   string
	mentee, mentor, match uuid.UUID
	otherMatch            uuid.UUID
	start                 time.Time
	events                int
	sessions, matchEvents int
	menteeEvents, early   int // events naming the mentee; events before start+2 days
	headPos               eventstore.Position
	headHash              []byte
	newestMarker          string
}

// storeHistory stores two matches of one mentee, with a session log that
// has private notes, and closes the store.
func storeHistory(t *testing.T) *history {
	t.Helper()
	h := &history{
		dir: t.TempDir(), mentee: uuid.New(), mentor: uuid.New(), match: uuid.New(), otherMatch: uuid.New(),
		start: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC), newestMarker: "newest-event-marker",
	}
	s, err := bolt.Open(h.dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	day := func(n int) time.Time { return h.start.AddDate(0, 0, n) }
	other := uuid.New()
	add := func(stream string, at time.Time, ev domain.Event) {
		t.Helper()
		enc, err := domain.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{
			ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data,
			Metadata: eventstore.Metadata{ActorID: "system", ActorRole: string(domain.RoleSystem), OccurredAt: at},
		}); err != nil {
			t.Fatal(err)
		}
		h.events++
	}
	add(domain.MemberStream(h.mentee), day(0), domain.MemberRegistered{MemberID: h.mentee, Role: domain.RoleMentee, Name: "Ann", Email: "ann@example.org", At: day(0)})
	add(domain.MemberStream(h.mentor), day(0), domain.MemberRegistered{MemberID: h.mentor, Role: domain.RoleMentor, Name: "Bob", Email: "bob@example.org", At: day(0)})
	add(domain.MemberStream(other), day(1), domain.MemberRegistered{MemberID: other, Role: domain.RoleMentor, Name: "Cat", Email: "cat@example.org", At: day(1)})
	add(domain.MatchStream(h.otherMatch), day(2), domain.MatchRequested{MatchID: h.otherMatch, MenteeID: h.mentee, MentorID: other, At: day(2)})
	add(domain.MatchStream(h.otherMatch), day(3), domain.MatchDeclined{MatchID: h.otherMatch, MenteeID: h.mentee, MentorID: other, At: day(3)})
	add(domain.MatchStream(h.match), day(4), domain.MatchRequested{MatchID: h.match, MenteeID: h.mentee, MentorID: h.mentor, At: day(4)})
	add(domain.MatchStream(h.match), day(5), domain.MatchAccepted{MatchID: h.match, MenteeID: h.mentee, MentorID: h.mentor, At: day(5)})
	date := domain.DateOf(day(6), time.UTC)
	add(domain.MatchStream(h.match), day(6), domain.SessionLogged{MatchID: h.match, SessionID: uuid.New(), AuthorID: h.mentee, Details: domain.SessionDetails{Date: date, Minutes: 30, Notes: secretNotes, Value: 4}, At: day(6)})
	add(domain.MatchStream(h.match), day(7), domain.SessionEdited{MatchID: h.match, SessionID: uuid.New(), AuthorID: h.mentor, Details: domain.SessionDetails{Date: date, Minutes: 40, Notes: secretNotes, Value: 1}, At: day(7)})
	add(domain.MatchStream(h.match), day(8), domain.MatchEnded{MatchID: h.match, MenteeID: h.mentee, MentorID: h.mentor, Reason: "GOALS_CONCLUDED", Note: h.newestMarker, At: day(8)})
	h.sessions, h.matchEvents, h.menteeEvents, h.early = 2, 5, 7, 3
	h.headPos, h.headHash = s.HeadHash()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return h
}

func noEnv(string) string { return "" }

// runCommand runs the program and returns its output and error.
func runCommand(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, noEnv, nil, &out, &errOut)
	return out.String(), errOut.String(), err
}

func ndjsonRecords(t *testing.T, s string) []audit.Record {
	t.Helper()
	var out []audit.Record
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		out = append(out, r)
	}
	return out
}

func TestExportCommand(t *testing.T) {
	h := storeHistory(t)
	cases := []struct {
		name  string
		args  []string
		count int
		check func(t *testing.T, r audit.Record)
	}{
		{"everything", nil, h.events, nil},
		{"one match", []string{"--match", h.match.String()}, h.matchEvents, func(t *testing.T, r audit.Record) {
			if r.Stream != domain.MatchStream(h.match) {
				t.Errorf("event of stream %s", r.Stream)
			}
		}},
		{"a member", []string{"--member", h.mentee.String()}, h.menteeEvents, nil},
		{"types, repeated and listed", []string{"--type", "SessionLogged", "--type", "SessionEdited,MatchEnded"}, h.sessions + 1, nil},
		{"a time range", []string{"--from", h.start.Format(time.RFC3339), "--to", h.start.AddDate(0, 0, 2).Format(time.RFC3339)}, h.early, nil},
		{"all filters", []string{"--match", h.match.String(), "--member", h.mentee.String(), "--type", "SessionLogged", "--from", h.start.Format(time.RFC3339)}, 1, func(t *testing.T, r audit.Record) {
			if !r.Redacted || r.Type != "SessionLogged" {
				t.Errorf("got %s, redacted %v", r.Type, r.Redacted)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCommand(append([]string{"export", "--data-dir", h.dir}, tc.args...)...)
			if err != nil {
				t.Fatalf("export: %v (%s)", err, errOut)
			}
			if strings.Contains(out, secretNotes) {
				t.Fatal("the export holds private session notes")
			}
			records := ndjsonRecords(t, out)
			if len(records) != tc.count {
				t.Fatalf("%d events exported, want %d:\n%s", len(records), tc.count, out)
			}
			for _, r := range records {
				if tc.check != nil {
					tc.check(t, r)
				}
			}
			if !strings.Contains(errOut, "100.0%") || !strings.Contains(errOut, "exported "+strconv.Itoa(tc.count)+" events") {
				t.Fatalf("no progress or summary on stderr: %q", errOut)
			}
		})
	}
}

func TestExportCommandWritesCSVToAFile(t *testing.T) {
	h := storeHistory(t)
	outDir := t.TempDir()
	path := filepath.Join(outDir, "events.csv")
	out, errOut, err := runCommand("export", "--data-dir", h.dir, "--format", "csv", "--out", path)
	if err != nil {
		t.Fatalf("export: %v (%s)", err, errOut)
	}
	if out != "" {
		t.Fatalf("stdout %q, want nothing: the export goes to the file", out)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secretNotes)) {
		t.Fatal("the export holds private session notes")
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != h.events+1 || strings.Join(rows[0], ",") != strings.Join(audit.CSVColumns, ",") {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("the export is readable by others: %v", fi.Mode())
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 1 {
		t.Fatalf("files left beside the export: %v", entries)
	}
}

func TestExportCommandRefusesBadFlags(t *testing.T) {
	h := storeHistory(t)
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"--format", "xml"}, "ndjson or csv"},
		{[]string{"--match", "42"}, `match: "42" is not an ID`},
		{[]string{"--member", "ann"}, `member: "ann" is not an ID`},
		{[]string{"--type", "MatchRequested,Nope"}, `unknown event type "Nope"`},
		{[]string{"--from", "May 4"}, "RFC 3339"},
		{[]string{"--from", "2026-05-05T00:00:00Z", "--to", "2026-05-04T00:00:00Z"}, "must be before"},
		{[]string{"--type", ""}, "empty value"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"--out", filepath.Join(h.dir, "missing", "events.ndjson")}, "no such file"},
	}
	for _, tc := range cases {
		out, errOut, err := runCommand(append([]string{"export", "--data-dir", h.dir}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error()+errOut, tc.says) {
			t.Errorf("%v: error %v, stderr %q, want %q", tc.args, err, errOut, tc.says)
		}
		if out != "" {
			t.Errorf("%v: wrote %q", tc.args, out)
		}
	}
}

// The command-line export writes the audit view; the operator who needs
// the personal fields gives a reason, recorded as an event first.
func TestExportCommandShowsPersonalFieldsOnlyWithAReason(t *testing.T) {
	h := storeHistory(t)
	out, errOut, err := runCommand("export", "--data-dir", h.dir)
	if err != nil {
		t.Fatalf("export: %v (%s)", err, errOut)
	}
	if strings.Contains(out, "ann@example.org") || !strings.Contains(out, "Ann") {
		t.Fatalf("without a reason the export must show display names and no login emails:\n%s", out)
	}
	for _, reason := range []string{"", "two\nlines"} {
		if out, _, err := runCommand("export", "--data-dir", h.dir, "--reason", reason); err == nil || strings.Contains(out, "ann@example.org") {
			t.Fatalf("reason %q: %v\n%s", reason, err, out)
		}
	}
	out, errOut, err = runCommand("export", "--data-dir", h.dir, "--reason", "Subject access request 17", "--type", "MemberRegistered")
	if err != nil {
		t.Fatalf("export with a reason: %v (%s)", err, errOut)
	}
	if !strings.Contains(out, "ann@example.org") {
		t.Fatalf("with a reason the export lacks the login emails:\n%s", out)
	}
	// The record: the operator, the reason and what was exported.
	out, _, err = runCommand("export", "--data-dir", h.dir, "--type", "PersonalDataRevealed")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "Subject access request 17") || !strings.Contains(out, "type=MemberRegistered") {
		t.Fatalf("the reasons on record:\n%s", out)
	}
}
