package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
)

// The private text of the seeded session logs; no export may contain it.
const privateNotes = "talked about the divorce and the salary"

// seeded is what the test knows about each event it stored, to compute
// each filter's answer independently of the exporter.
type seeded struct {
	pos    eventstore.Position
	stream string
	typ    string
	at     time.Time
	names  []uuid.UUID // the members the event's data names
}

// world is a small program history: a mentee with two requests, one
// accepted and one declined, sessions with private notes, a document, a
// staff end, and a resource.
type world struct {
	store                   *bolt.Store
	mentee, mentor, other   uuid.UUID
	staff                   uuid.UUID
	match, declined         uuid.UUID
	events                  []seeded
	start                   time.Time
	sessionPositions        []eventstore.Position
	prettyPosition          eventstore.Position
	awkwardMetadataPosition eventstore.Position
}

func openStore(t testing.TB, dir string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		store:  openStore(t, t.TempDir()),
		mentee: uuid.New(), mentor: uuid.New(), other: uuid.New(), staff: uuid.New(),
		match: uuid.New(), declined: uuid.New(),
		start: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
	}
	day := func(n int) time.Time { return w.start.AddDate(0, 0, n) }
	date := func(n int) domain.Date { return domain.DateOf(day(n), time.UTC) }
	mentee, mentor, other, staff := w.mentee, w.mentor, w.other, w.staff
	m, d := w.match, w.declined
	w.add(t, domain.MemberStream(mentee), mentee, domain.RoleMentee, day(0), domain.MemberRegistered{MemberID: mentee, Role: domain.RoleMentee, Name: "Ann", Email: "ann@example.org", At: day(0)}, mentee)
	w.add(t, domain.MemberStream(mentor), mentor, domain.RoleMentor, day(0), domain.MemberRegistered{MemberID: mentor, Role: domain.RoleMentor, Name: "Bob", Email: "bob@example.org", Capacity: 2, Accepting: true, At: day(0)}, mentor)
	w.add(t, domain.MemberStream(other), other, domain.RoleMentor, day(1), domain.MemberRegistered{MemberID: other, Role: domain.RoleMentor, Name: "Cat", Email: "cat@example.org", Capacity: 1, Accepting: true, At: day(1)}, other)
	w.add(t, domain.MemberStream(mentee), mentee, domain.RoleMentee, day(2), domain.RequestSlotTaken{MemberID: mentee, MatchID: d, MentorID: other, At: day(2)}, mentee, other)
	w.add(t, domain.MatchStream(d), mentee, domain.RoleMentee, day(2), domain.MatchRequested{MatchID: d, MenteeID: mentee, MentorID: other, Message: "Hello \"Cat\"\nline two", At: day(2)}, mentee, other)
	w.add(t, domain.MatchStream(d), other, domain.RoleMentor, day(3), domain.MatchDeclined{MatchID: d, MenteeID: mentee, MentorID: other, Reason: "NO_CAPACITY", At: day(3)}, mentee, other)
	w.add(t, domain.MatchStream(m), mentee, domain.RoleMentee, day(4), domain.MatchRequested{MatchID: m, MenteeID: mentee, MentorID: mentor, At: day(4)}, mentee, mentor)
	w.add(t, domain.MemberStream(mentor), mentor, domain.RoleMentor, day(5), domain.CapacitySlotReserved{MemberID: mentor, MatchID: m, MenteeID: mentee, At: day(5)}, mentor, mentee)
	w.add(t, domain.MatchStream(m), mentor, domain.RoleMentor, day(5), domain.MatchAccepted{MatchID: m, MenteeID: mentee, MentorID: mentor, At: day(5)}, mentee, mentor)
	w.sessionPositions = append(w.sessionPositions,
		w.add(t, domain.MatchStream(m), mentee, domain.RoleMentee, day(9), domain.SessionLogged{MatchID: m, SessionID: uuid.New(), AuthorID: mentee, Details: domain.SessionDetails{Date: date(8), Minutes: 45, Notes: privateNotes, Value: 5}, At: day(9)}, mentee),
		w.add(t, domain.MatchStream(m), mentor, domain.RoleMentor, day(10), domain.SessionLogged{MatchID: m, SessionID: uuid.New(), AuthorID: mentor, Details: domain.SessionDetails{Date: date(8), Notes: privateNotes, Value: 2}, At: day(10)}, mentor),
		w.add(t, domain.MatchStream(m), mentor, domain.RoleMentor, day(11), domain.SessionEdited{MatchID: m, SessionID: uuid.New(), AuthorID: mentor, Details: domain.SessionDetails{Date: date(8), Minutes: 60, Notes: privateNotes, Value: 3}, At: day(11)}, mentor),
	)
	w.add(t, domain.MatchStream(m), mentor, domain.RoleMentor, day(12), domain.DocumentAdded{MatchID: m, DocumentID: uuid.New(), UploaderID: mentor, Name: "plan.pdf", Size: 1234, ContentType: "application/pdf", SHA256: strings.Repeat("ab", 32), Version: 1, At: day(12)}, mentor)
	w.awkwardMetadataPosition = w.add(t, domain.MatchStream(m), staff, domain.RoleStaff, day(20), domain.MatchEnded{MatchID: m, MenteeID: mentee, MentorID: mentor, Reason: "GOALS_CONCLUDED", StaffID: staff, Note: "ended <early> & well", At: day(20)}, mentee, mentor, staff)
	w.prettyPosition = w.add(t, domain.ResourceStream(uuid.New()), staff, domain.RoleStaff, day(21), domain.ResourcePublished{ResourceID: uuid.New(), PublishedBy: staff, Title: "Guide", URL: "https://example.org/guide", Audience: domain.AudienceBoth, At: day(21)}, staff)
	return w
}

// add appends one domain event with its envelope and notes what the test
// knows about it. Two events get awkward bytes: indented data, and
// metadata that needs escaping.
func (w *world) add(t *testing.T, stream string, actor uuid.UUID, role domain.Role, at time.Time, ev domain.Event, names ...uuid.UUID) eventstore.Position {
	t.Helper()
	enc, err := domain.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	data := enc.Data
	causation := "cmd-" + strconv.Itoa(len(w.events))
	correlation := "corr-" + strconv.Itoa(len(w.events))
	switch enc.Type {
	case "ResourcePublished":
		var b bytes.Buffer
		if err := json.Indent(&b, data, "", "  "); err != nil {
			t.Fatal(err)
		}
		data = b.Bytes()
	case "MatchEnded":
		causation = "quote \" backslash \\ tab \t bell \x07 line\u2028sep é"
		correlation = `=HYPERLINK("https://example.org")`
	}
	res, err := w.store.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{
		ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: data,
		Metadata: eventstore.Metadata{
			ActorID: actor.String(), ActorRole: string(role),
			CorrelationID: correlation, CausationID: causation, OccurredAt: at,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.events = append(w.events, seeded{pos: res.LastPosition, stream: stream, typ: enc.Type, at: at, names: names})
	return res.LastPosition
}

// expect is the test's own answer to a filter.
func (w *world) expect(f audit.Filter) []eventstore.Position {
	var out []eventstore.Position
	for _, e := range w.events {
		if f.Match != uuid.Nil && e.stream != domain.MatchStream(f.Match) {
			continue
		}
		if f.Member != uuid.Nil && e.stream != domain.MemberStream(f.Member) && !slices.Contains(e.names, f.Member) {
			continue
		}
		if len(f.Types) > 0 && !slices.Contains(f.Types, e.typ) {
			continue
		}
		if (f.From != nil && e.at.Before(*f.From)) || (f.To != nil && !e.at.Before(*f.To)) {
			continue
		}
		out = append(out, e.pos)
	}
	return out
}

func exportBytes(t *testing.T, store eventstore.Store, format audit.Format, f audit.Filter, opts audit.Options) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := audit.Export(context.Background(), store, &out, format, f, opts); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), []byte(privateNotes)) {
		t.Fatal("the export holds private session notes")
	}
	return out.Bytes()
}

func readRecords(t *testing.T, ndjson []byte) []audit.Record {
	t.Helper()
	var out []audit.Record
	sc := bufio.NewScanner(bytes.NewReader(ndjson))
	for sc.Scan() {
		var r audit.Record
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, r)
	}
	return out
}

func storedEvents(t *testing.T, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := store.ReadAll(context.Background(), eventstore.Start, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// jsonValue decodes JSON for comparison regardless of spacing.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// TestNDJSONRoundTrip reads an export with the personal fields back and
// compares it with the stored events, field by field.
func TestNDJSONRoundTrip(t *testing.T) {
	w := newWorld(t)
	out := exportBytes(t, w.store, audit.NDJSON, audit.Filter{}, audit.Options{Personal: true})
	records := readRecords(t, out)
	stored := storedEvents(t, w.store)
	if len(records) != len(stored) || len(stored) != len(w.events) {
		t.Fatalf("%d records exported, %d stored, %d seeded", len(records), len(stored), len(w.events))
	}
	for i, ev := range stored {
		r := records[i]
		private := slices.Contains(w.sessionPositions, ev.Position)
		want := audit.Record{
			EventID: ev.ID, Stream: ev.Stream, Type: ev.Type, SchemaVersion: ev.SchemaVersion,
			Revision: uint64(ev.Revision), Position: uint64(ev.Position),
			Metadata: audit.RecordMetadata{
				ActorID: ev.Metadata.ActorID, ActorRole: ev.Metadata.ActorRole,
				CorrelationID: ev.Metadata.CorrelationID, CausationID: ev.Metadata.CausationID,
				OccurredAt: ev.Metadata.OccurredAt, RecordedAt: ev.Metadata.RecordedAt,
			},
			Hash: hex.EncodeToString(ev.Hash), Redacted: private,
		}
		got := r
		got.Data = nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("position %d (-stored +exported):\n%s", ev.Position, diff)
		}
		wantData := jsonValue(t, ev.Data)
		if private {
			details := wantData.(map[string]any)["details"].(map[string]any)
			delete(details, "notes")
			delete(details, "value")
			if bytes.Contains(r.Data, []byte(`"notes"`)) || bytes.Contains(r.Data, []byte(`"value"`)) {
				t.Errorf("position %d: private fields exported: %s", ev.Position, r.Data)
			}
		}
		if diff := cmp.Diff(wantData, jsonValue(t, r.Data)); diff != "" {
			t.Errorf("position %d data (-stored +exported):\n%s", ev.Position, diff)
		}
	}
	if n := bytes.Count(out, []byte("\n")); n != len(stored) {
		t.Fatalf("%d lines for %d events: an event spans lines", n, len(stored))
	}
	head, hash := w.store.HeadHash()
	if last := records[len(records)-1]; last.Position != uint64(head) || last.Hash != hex.EncodeToString(hash) {
		t.Fatalf("the last record ends at %d %s, the head is %d %x", last.Position, last.Hash, head, hash)
	}
}

func TestCSVExport(t *testing.T) {
	w := newWorld(t)
	out := exportBytes(t, w.store, audit.CSV, audit.Filter{}, audit.Options{Personal: true})
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(audit.CSVColumns, rows[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	stored := storedEvents(t, w.store)
	if len(rows)-1 != len(stored) {
		t.Fatalf("%d rows for %d events", len(rows)-1, len(stored))
	}
	col := func(row []string, name string) string { return row[slices.Index(audit.CSVColumns, name)] }
	for i, ev := range stored {
		row := rows[i+1]
		private := slices.Contains(w.sessionPositions, ev.Position)
		want := []string{
			ev.ID.String(), ev.Stream, ev.Type, strconv.Itoa(ev.SchemaVersion),
			strconv.FormatUint(uint64(ev.Revision), 10), strconv.FormatUint(uint64(ev.Position), 10),
			ev.Metadata.ActorID, ev.Metadata.ActorRole, inert(ev.Metadata.CorrelationID), ev.Metadata.CausationID,
			ev.Metadata.OccurredAt.Format(time.RFC3339Nano), ev.Metadata.RecordedAt.Format(time.RFC3339Nano),
			hex.EncodeToString(ev.Hash), strconv.FormatBool(private),
		}
		if diff := cmp.Diff(want, row[:len(row)-1]); diff != "" {
			t.Errorf("position %d (-stored +exported):\n%s", ev.Position, diff)
		}
		data := col(row, "data")
		if strings.ContainsAny(data, "\r\n") {
			t.Errorf("position %d: data spans lines: %q", ev.Position, data)
		}
		if !private {
			if diff := cmp.Diff(jsonValue(t, ev.Data), jsonValue(t, []byte(data))); diff != "" {
				t.Errorf("position %d data (-stored +exported):\n%s", ev.Position, diff)
			}
		}
	}
}

// inert is how the CSV shows text a spreadsheet would otherwise run as a
// formula: behind a quote.
func inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// TestSessionEventsKeepDateAndLengthOnly pins exactly what an export says
// about a session.
func TestSessionEventsKeepDateAndLengthOnly(t *testing.T) {
	w := newWorld(t)
	records := readRecords(t, exportBytes(t, w.store, audit.NDJSON, audit.Filter{Types: []string{"SessionLogged", "SessionEdited"}}, audit.Options{}))
	if len(records) != 3 {
		t.Fatalf("%d session records, want 3", len(records))
	}
	for _, r := range records {
		var data struct {
			MatchID, SessionID, AuthorID, At string
			Details                          map[string]any
		}
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.MatchID != w.match.String() || data.SessionID == "" || data.AuthorID == "" || data.At == "" {
			t.Errorf("position %d lost its identifiers: %s", r.Position, r.Data)
		}
		for k := range data.Details {
			if k != "date" && k != "minutes" {
				t.Errorf("position %d exports details.%s", r.Position, k)
			}
		}
		if data.Details["date"] != "2026-03-09" {
			t.Errorf("position %d exports date %v", r.Position, data.Details["date"])
		}
		if !r.Redacted {
			t.Errorf("position %d is not marked redacted", r.Position)
		}
	}
}

func TestFilters(t *testing.T) {
	w := newWorld(t)
	day := func(n int) *time.Time { return new(w.start.AddDate(0, 0, n)) }
	cases := []struct {
		name   string
		filter audit.Filter
		min    int // guards against a seed that makes the case vacuous
	}{
		{"everything", audit.Filter{}, 15},
		{"one match", audit.Filter{Match: w.match}, 7},
		{"the declined match", audit.Filter{Match: w.declined}, 2},
		{"a match never stored", audit.Filter{Match: uuid.New()}, 0},
		{"the mentee", audit.Filter{Member: w.mentee}, 9},
		{"the mentor", audit.Filter{Member: w.mentor}, 8},
		{"the staff member", audit.Filter{Member: w.staff}, 2},
		{"types", audit.Filter{Types: []string{"MatchRequested", "MatchAccepted"}}, 3},
		{"from", audit.Filter{From: day(5)}, 8},
		{"to is exclusive", audit.Filter{To: day(5)}, 7},
		{"time range", audit.Filter{From: day(2), To: day(4)}, 3},
		{"match and type", audit.Filter{Match: w.match, Types: []string{"SessionLogged"}}, 2},
		{"member and time", audit.Filter{Member: w.mentor, From: day(10), To: day(20)}, 3},
		{"member and match", audit.Filter{Member: w.other, Match: w.match}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := w.expect(tc.filter)
			if len(want) < tc.min {
				t.Fatalf("the seed gives %d events, the case needs at least %d", len(want), tc.min)
			}
			for _, pageSize := range []int{0, 2} {
				var got []eventstore.Position
				for _, r := range readRecords(t, exportBytes(t, w.store, audit.NDJSON, tc.filter, audit.Options{PageSize: pageSize})) {
					got = append(got, eventstore.Position(r.Position))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("page size %d: positions (-want +got):\n%s", pageSize, diff)
				}
			}
		})
	}
}

func TestQueryParse(t *testing.T) {
	id := uuid.New()
	format, f, err := audit.Query{
		Format: "csv", Match: id.String(), Member: strings.ToUpper(id.String()),
		Types: []string{"MatchRequested, MatchAccepted", "MatchRequested"},
		From:  "2026-03-01T00:00:00+01:00", To: "2026-04-01T00:00:00.5Z",
	}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	want := audit.Filter{
		Match: id, Member: id, Types: []string{"MatchRequested", "MatchAccepted"},
		From: new(time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)), To: new(time.Date(2026, 4, 1, 0, 0, 0, 5e8, time.UTC)),
	}
	if format != audit.CSV || !cmp.Equal(want, f) {
		t.Fatalf("got %s %+v, want csv %+v", format, f, want)
	}
	if format, f, err := (audit.Query{}).Parse(); err != nil || format != audit.NDJSON || !cmp.Equal(f, audit.Filter{}) {
		t.Fatalf("empty query: %s %+v %v", format, f, err)
	}
	// A match's or member's ID as the API gives it out reads as its UUID.
	m, mem := uuid.New(), uuid.New()
	q := audit.Query{Match: base64.RawURLEncoding.EncodeToString([]byte("Match:" + m.String())), Member: base64.RawURLEncoding.EncodeToString([]byte("Member:" + mem.String()))}
	if _, f, err := q.Parse(); err != nil || f.Match != m || f.Member != mem {
		t.Fatalf("API IDs: %+v %v", f, err)
	}

	bad := []struct {
		name string
		q    audit.Query
		says string
	}{
		{"format", audit.Query{Format: "xml"}, "ndjson or csv"},
		{"match", audit.Query{Match: "42"}, "match: \"42\" is not an ID"},
		{"a member's API ID as a match", audit.Query{Match: base64.RawURLEncoding.EncodeToString([]byte("Member:" + uuid.New().String()))}, "match:"},
		{"nil member", audit.Query{Member: uuid.Nil.String()}, "member:"},
		{"type", audit.Query{Types: []string{"MatchRequested,SessionDeleted"}}, "unknown event type \"SessionDeleted\""},
		{"from", audit.Query{From: "2026-03-01"}, "from: \"2026-03-01\" is not an RFC 3339 time"},
		{"to", audit.Query{To: "yesterday"}, "to: \"yesterday\""},
		{"empty range", audit.Query{From: "2026-03-01T00:00:00Z", To: "2026-03-01T00:00:00Z"}, "must be before"},
	}
	for _, tc := range bad {
		if _, _, err := tc.q.Parse(); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %v, want an error saying %q", tc.name, err, tc.says)
		}
	}
}

// TestExportCoversTheLogAsItStarted appends while an export runs: the
// export ends at the head it started with, whichever way it reads.
func TestExportCoversTheLogAsItStarted(t *testing.T) {
	for _, oneMatch := range []bool{false, true} {
		w := newWorld(t)
		var f audit.Filter
		if oneMatch {
			f.Match = w.match
		}
		want := w.expect(f)
		head, _ := w.store.Head(context.Background())
		var progress [][2]eventstore.Position
		flushes := 0
		var out bytes.Buffer
		stats, err := audit.Export(context.Background(), w.store, &out, audit.NDJSON, f, audit.Options{
			PageSize: 2,
			Progress: func(done, total eventstore.Position) {
				progress = append(progress, [2]eventstore.Position{done, total})
				w.add(t, domain.MatchStream(w.match), w.mentee, domain.RoleMentee, w.start, domain.MatchCancelled{MatchID: w.match, MenteeID: w.mentee, MentorID: w.mentor, At: w.start})
			},
			Flush: func() error { flushes++; return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []eventstore.Position
		for _, r := range readRecords(t, out.Bytes()) {
			got = append(got, eventstore.Position(r.Position))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("filter %+v: positions (-want +got):\n%s", f, diff)
		}
		if stats.Head != head || stats.Events != uint64(len(want)) {
			t.Fatalf("stats %+v, want head %d and %d events", stats, head, len(want))
		}
		if len(progress) < 2 || progress[len(progress)-1] != [2]eventstore.Position{head, head} || flushes != len(progress) {
			t.Fatalf("progress %v and %d flushes, want several pages ending at [%d %d]", progress, flushes, head, head)
		}
		for i := 1; i < len(progress); i++ {
			if progress[i][0] < progress[i-1][0] {
				t.Fatalf("progress went back: %v", progress)
			}
		}
	}
}

func TestExportOfAnEmptyLog(t *testing.T) {
	s := openStore(t, t.TempDir())
	if out := exportBytes(t, s, audit.NDJSON, audit.Filter{}, audit.Options{}); len(out) != 0 {
		t.Fatalf("NDJSON export of an empty log: %q", out)
	}
	if out := exportBytes(t, s, audit.CSV, audit.Filter{}, audit.Options{}); string(out) != strings.Join(audit.CSVColumns, ",")+"\n" {
		t.Fatalf("CSV export of an empty log: %q", out)
	}
}

func TestExportRefusesAnUnknownFormat(t *testing.T) {
	s := openStore(t, t.TempDir())
	if _, err := audit.Export(context.Background(), s, &bytes.Buffer{}, "xml", audit.Filter{}, audit.Options{}); err == nil {
		t.Fatal("an unknown format was accepted")
	}
}

// A bound at the zero time is a bound, not an open end: to the zero time
// selects nothing, from it everything, and both at once is an empty range.
func TestZeroTimeBoundsAreBounds(t *testing.T) {
	w := newWorld(t)
	const zero = "0001-01-01T00:00:00Z"
	for _, tc := range []struct {
		name string
		q    audit.Query
		want int
	}{
		{"to the zero time", audit.Query{To: zero}, 0},
		{"from the zero time", audit.Query{From: zero}, len(w.events)},
	} {
		_, f, err := tc.q.Parse()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := len(readRecords(t, exportBytes(t, w.store, audit.NDJSON, f, audit.Options{}))); got != tc.want {
			t.Errorf("%s: exported %d events, want %d", tc.name, got, tc.want)
		}
	}
	if _, _, err := (audit.Query{From: zero, To: zero}).Parse(); err == nil || !strings.Contains(err.Error(), "must be before") {
		t.Errorf("an empty range at the zero time: %v", err)
	}
}
