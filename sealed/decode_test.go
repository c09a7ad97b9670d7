package sealed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// fill sets every field under v from r, with texts full of escapes (some
// empty, which stay unsealed), so that sealing differs wherever a decoder
// misreads a field.
func fill(t *testing.T, r *rand.Rand, v reflect.Value, path string) {
	t.Helper()
	switch v.Type() {
	case reflect.TypeFor[uuid.UUID]():
		var id uuid.UUID
		for i := range id {
			id[i] = byte(r.Uint32())
		}
		v.Set(reflect.ValueOf(id))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(400 * 24 * time.Hour))))))
		return
	case reflect.TypeFor[domain.Date]():
		d, err := domain.NewDate(2026, time.Month(1+r.IntN(12)), 1+r.IntN(28))
		if err != nil {
			t.Fatal(err)
		}
		v.Set(reflect.ValueOf(d))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(tricky(r))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(r.IntN(100)))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			t.Fatalf("%s: a list of %s the test cannot fill", path, v.Type().Elem())
		}
		n := r.IntN(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			v.Index(i).SetString(tricky(r))
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.Int {
			t.Fatalf("%s: a map of %s the test cannot fill", path, v.Type())
		}
		v.Set(reflect.MakeMap(v.Type()))
		for i := range r.IntN(3) {
			v.SetMapIndex(reflect.ValueOf(fmt.Sprint("skill ", i)).Convert(v.Type().Key()), reflect.ValueOf(r.IntN(6)).Convert(v.Type().Elem()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				t.Fatalf("%s.%s: an unexported field the test cannot fill", path, f.Name)
			}
			fill(t, r, v.Field(i), path+"."+f.Name)
		}
	default:
		t.Fatalf("%s: a %s the test cannot fill", path, v.Kind())
	}
}

// tricky is text with escapes: quotes, backslashes, HTML characters,
// line separators, control characters, characters outside ASCII; empty
// now and then.
func tricky(r *rand.Rand) string {
	parts := []string{`"`, `\`, "<", ">", "&", "\u2028", "\n", "\t", "\x02", "é", "日本", "😀", " ", "a", "Z", "/", "'"}
	var b strings.Builder
	for range r.IntN(10) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

// reference seals an event's JSON the plain way: domain.Decode, the
// reference decoder, then the same sealing of every personal text.
func reference(t *testing.T, keys *fakeKeys, typ string, data []byte) []byte {
	t.Helper()
	e, err := domain.Decode(typ, domain.SchemaVersion, data)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := e.(domain.Personal)
	if !ok {
		return data
	}
	out := p.MapPersonal(func(owner uuid.UUID, text string) string {
		if text == "" {
			return text
		}
		v, err := keys.Seal(context.Background(), owner, text)
		if err != nil {
			t.Fatal(err)
		}
		return v
	})
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sealing decodes the event with the fast decoder where it can; what it
// seals is byte for byte what sealing after the reference decoder gives,
// for events of every personal type with every field set, as the domain
// writes them and spelled in ways the fast decoder leaves to the
// reference (spaces, keys in another case).
func TestSealingAgreesWithTheReferenceDecoder(t *testing.T) {
	s, _, keys := open(t)
	r := rand.New(rand.NewPCG(7, 11))
	types := 0
	for _, typ := range domain.EventTypes() {
		if !domain.IsPersonal(typ) {
			continue
		}
		types++
		zero, _ := domain.ZeroEvent(typ)
		for range 50 {
			v := reflect.New(reflect.TypeOf(zero)).Elem()
			fill(t, r, v, typ)
			enc, err := domain.Encode(v.Interface().(domain.Event))
			if err != nil {
				t.Fatal(err)
			}
			var spaced bytes.Buffer
			if err := json.Indent(&spaced, enc.Data, "", " "); err != nil {
				t.Fatal(err)
			}
			upper := bytes.Replace(enc.Data, []byte(`"at":`), []byte(`"At":`), 1)
			for _, data := range [][]byte{enc.Data, spaced.Bytes(), upper} {
				got, err := s.SealData(context.Background(), typ, domain.SchemaVersion, data)
				if err != nil {
					t.Fatalf("%s %s: %v", typ, data, err)
				}
				if want := reference(t, keys, typ, data); !bytes.Equal(got, want) {
					t.Fatalf("%s %s:\nsealed    %s\nreference %s", typ, data, got, want)
				}
			}
		}
	}
	if types < 10 {
		t.Fatalf("only %d personal event types", types)
	}
}

// Data the reference decoder refuses is refused when sealing too, with
// its error, whatever the fast decoder made of it.
func TestSealingRefusesWhatTheReferenceRefuses(t *testing.T) {
	s, _, _ := open(t)
	for _, data := range []string{`{"memberId": 5}`, `{"name": "a"`, `[]`, `{"at": "yesterday"}`} {
		_, err := s.SealData(context.Background(), "MemberRegistered", domain.SchemaVersion, []byte(data))
		_, want := domain.Decode("MemberRegistered", domain.SchemaVersion, []byte(data))
		if err == nil || want == nil || !strings.Contains(err.Error(), want.Error()) {
			t.Errorf("%s: sealing gave %v, the reference %v", data, err, want)
		}
	}
}
