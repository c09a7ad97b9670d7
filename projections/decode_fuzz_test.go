package projections_test

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
)

// FuzzDecodeAgreesWithDomain checks the decoder the read models use (the
// fast decoder with domain.Decode behind it) against domain.Decode alone,
// on any type name, schema version and bytes: both read the same event, or
// both refuse it, and a type the domain does not define is skipped rather
// than refused. A disagreement would make a rebuilt read model differ from
// the one the command side would fold.
func FuzzDecodeAgreesWithDomain(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 2 {
		for _, e := range randomEvents(r) {
			enc, err := domain.Encode(e)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc.Type, enc.SchemaVersion, []byte(enc.Data))
		}
	}
	const id = `"0b5d3a4c-7f57-4a53-9a0e-2f0d8f3a1c11"`
	for _, s := range []struct {
		typ     string
		version int
		data    string
	}{
		{"MatchAccepted", 1, `{"matchId":` + id + `,"at":"2026-01-02T03:04:05.123Z"}`},
		{"MatchAccepted", 2, `{"matchId":` + id + `}`},
		{"MatchAccepted", 0, `{}`},
		{"MatchAccepted", 1, `{"matchId":` + id + `,"matchId":` + id + `}`},
		{"MatchAccepted", 1, `{"MATCHID":` + id + `}`},
		{"MatchAccepted", 1, `[]`},
		{"MatchAccepted", 1, ``},
		{"MatchAccepted", 1, `null`},
		{"MentorCapacityChanged", 1, `{"capacity":-0}`},
		{"MentorCapacityChanged", 1, `{"capacity":9223372036854775808}`},
		{"MentorAvailabilityChanged", 1, `{"accepting":tru}`},
		{"MatchRequested", 1, `{"message":"\u00e9\ud83d\ude00\\u0000"}`},
		{"MatchRequested", 1, "{\"message\":\"\xff\"}"},
		{"SessionLogged", 1, `{"details":{"date":"2026-02-29","minutes":30}}`},
		{"ProfileUpdated", 1, `{"profile":{"skills":{"A":1},"languages":["en","fr"]}}`},
		{"DocumentAdded", 1, `{"size":1e3}`},
		{"NotADomainEvent", 1, `{}`},
		{"", 1, `{}`},
	} {
		f.Add(s.typ, s.version, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, typ string, version int, data []byte) {
		want, werr := domain.Decode(typ, version, data)
		got, gerr := follow.Decode(eventstore.RecordedEvent{Type: typ, SchemaVersion: version, Data: data, Position: 1})
		switch {
		case errors.Is(werr, domain.ErrUnknownEventType):
			if gerr != nil || got.Data != nil {
				t.Fatalf("%q v%d %q: an unknown type gave %#v, %v; want it skipped", typ, version, data, got.Data, gerr)
			}
		case werr != nil:
			if gerr == nil {
				t.Fatalf("%q v%d %q: domain.Decode refuses (%v) but the read models read %#v", typ, version, data, werr, got.Data)
			}
		case gerr != nil:
			t.Fatalf("%q v%d %q: domain.Decode reads %#v but the read models refuse: %v", typ, version, data, want, gerr)
		case !reflect.DeepEqual(got.Data, want):
			t.Fatalf("%q v%d %q:\nread models %#v\ndomain      %#v", typ, version, data, got.Data, want)
		}
	})
}
