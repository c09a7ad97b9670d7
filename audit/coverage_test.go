package audit_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// auditSees is the redaction decision for every event type that carries
// text: the text fields (JSON paths) an export shows auditors, and staff
// who gave no reason. The other text fields are personal data or private
// to their author and must not appear. A new event type with a text field
// fails TestExportRedactsEveryTextField until it is given a row here and,
// when it carries personal data, an entry in domain.AuditView.
var auditSees = map[string][]string{
	"MemberRegistered":        {"role", "name"},
	"ProfileUpdated":          {"profile.name"},
	"RequestSlotTaken":        {},
	"MatchRequested":          {},
	"MatchDeclined":           {"reason"},
	"MentorNudged":            {},
	"MatchEnded":              {"reason"},
	"MatchEndRequested":       {"reason"},
	"SessionLogged":           {},
	"SessionEdited":           {},
	"DocumentAdded":           {"contentType", "sha256"},
	"DocumentRemoved":         {},
	"AccountClosureRequested": {},
	// Why a member was erased is the staff's reason, which must not quote
	// the member.
	"MemberErased": {"role", "actorRole", "reason"},
	// The privacy record is what auditors are there to read.
	"PersonalDataRevealed": {"actorRole", "reason", "scope"},
	// Program resources are published to members.
	"ResourcePublished": {"title", "description", "url", "text", "audience"},
}

// sessionPrivate are the text fields no export shows, even with the
// personal fields: a session log's notes are its author's alone.
var sessionPrivate = map[string][]string{
	"SessionLogged": {"details.notes"},
	"SessionEdited": {"details.notes"},
}

// Every text field of every event type has a redaction decision, and an
// export follows it: a field auditors may not see is absent from the audit
// view, which staff without a reason get too, and only session notes are
// absent with the personal fields.
func TestExportRedactsEveryTextField(t *testing.T) {
	for _, typ := range domain.EventTypes() {
		zero, _ := domain.ZeroEvent(typ)
		v := reflect.New(reflect.TypeOf(zero)).Elem()
		var paths []string
		fillText(v, "", &paths)
		if len(paths) == 0 {
			continue
		}
		visible, decided := auditSees[typ]
		if !decided {
			t.Errorf("%s carries text %v but has no redaction decision: add it to auditSees (and to domain.AuditView if it is personal)", typ, paths)
			continue
		}
		ev := v.Interface().(domain.Event)
		for _, personal := range []bool{false, true} {
			data := exportOne(t, ev, personal)
			for _, p := range paths {
				want := slices.Contains(visible, p)
				if personal {
					want = !slices.Contains(sessionPrivate[typ], p)
				}
				if got := strings.Contains(string(data), marker(p)); got != want {
					t.Errorf("%s exported with personal=%v: field %s shown %v, want %v: %s", typ, personal, p, got, want, data)
				}
			}
		}
	}
}

func marker(path string) string { return "text-of-" + path }

// fillText sets every text in v, reached through exported fields, slices
// and map keys, to marker(path), with path its JSON path, and lists the
// paths. Types with their own JSON form (times, dates) are not text.
func fillText(v reflect.Value, path string, paths *[]string) {
	if path != "" && v.Type().Implements(reflect.TypeFor[json.Marshaler]()) {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(marker(path))
		*paths = append(*paths, path)
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if path != "" {
				name = path + "." + name
			}
			fillText(v.Field(i), name, paths)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillText(s.Index(0), path+"[]", paths)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillText(k, path+"{}", paths)
		m.SetMapIndex(k, reflect.New(v.Type().Elem()).Elem())
		v.Set(m)
	}
}

// exportOne stores ev alone and returns its exported data.
func exportOne(t *testing.T, ev domain.Event, personal bool) []byte {
	t.Helper()
	store := openStore(t, t.TempDir())
	enc, err := domain.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Append(context.Background(), "s-"+uuid.NewString(), eventstore.Any(), eventstore.EventData{
		ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data,
		Metadata: eventstore.Metadata{ActorID: uuid.NewString(), ActorRole: "STAFF", OccurredAt: time.Now()},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := exportBytes(t, store, audit.NDJSON, audit.Filter{}, audit.Options{Personal: personal})
	recs := readRecords(t, out)
	if len(recs) != 1 {
		t.Fatalf("%s: exported %d records", enc.Type, len(recs))
	}
	return recs[0].Data
}
