package follow

import (
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// builds reports whether the fast decoder makes events of type typ,
// whatever their fields.
func builds(typ string) bool {
	zero, ok := domain.ZeroEvent(typ)
	return ok && build(zero, &fields{}) != nil
}

// setEvery sets every field under v to a value that is not its zero,
// with texts that need escaping, so that an event decoded without one of
// its fields differs from it.
func setEvery(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Type() {
	case reflect.TypeFor[uuid.UUID]():
		v.Set(reflect.ValueOf(uuid.NewSHA1(uuid.NameSpaceOID, []byte(path))))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)))
		return
	case reflect.TypeFor[domain.Date]():
		d, err := domain.NewDate(2026, 3, 4)
		if err != nil {
			t.Fatal(err)
		}
		v.Set(reflect.ValueOf(d))
		return
	}
	text := `text of ` + path + ` "quoted" \ <&> é 日本 ` + "\n\t\u2028"
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(3 + len(path)%5))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			t.Fatalf("%s: a list of %s the test cannot fill", path, v.Type().Elem())
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		v.Index(0).SetString(text + " 1")
		v.Index(1).SetString(text + " 2")
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.Int {
			t.Fatalf("%s: a map of %s the test cannot fill", path, v.Type())
		}
		// Keys are names from the program's lists: the fast decoder
		// leaves keys with escapes to the reference.
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf(path+" a").Convert(v.Type().Key()), reflect.ValueOf(4).Convert(v.Type().Elem()))
		v.SetMapIndex(reflect.ValueOf(path+" b").Convert(v.Type().Key()), reflect.ValueOf(-1).Convert(v.Type().Elem()))
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				t.Fatalf("%s.%s: an unexported field the test cannot fill", path, f.Name)
			}
			setEvery(t, v.Field(i), path+"."+f.Name)
		}
	default:
		t.Fatalf("%s: a %s the test cannot fill", path, v.Kind())
	}
}

// The fast decoder is a second reading of the domain's events, so it is
// checked against their definitions: for every event type it makes, an
// event with every field set (found by reflection, so a field added to the
// domain is included) decodes through it, equal to the event and to what
// domain.Decode reads. A field it does not know makes it give up on the
// type, which fails here.
func TestFastDecodeReadsEveryFieldOfTheDomainsEvents(t *testing.T) {
	fast := 0
	for _, typ := range domain.EventTypes() {
		zero, _ := domain.ZeroEvent(typ)
		v := reflect.New(reflect.TypeOf(zero)).Elem()
		setEvery(t, v, typ)
		e := v.Interface().(domain.Event)
		enc, err := domain.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		want, err := domain.Decode(enc.Type, enc.SchemaVersion, enc.Data)
		if err != nil || !reflect.DeepEqual(want, e) {
			t.Fatalf("%s does not survive domain.Encode and domain.Decode: %#v, %v", typ, want, err)
		}
		if !builds(typ) {
			continue
		}
		fast++
		got, ok := FastDecode(enc.Type, enc.SchemaVersion, enc.Data)
		if !ok {
			t.Errorf("%s: the fast decoder gives up on an event with every field set: a field it does not read? %s", typ, enc.Data)
			continue
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%s:\nfast      %#v\nreference %#v", typ, got, e)
		}
	}
	if fast < len(domain.EventTypes())/2 {
		t.Fatalf("the fast decoder makes %d of %d event types", fast, len(domain.EventTypes()))
	}
}

// plainByBytes is plain read one byte at a time.
func plainByBytes(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// plain, which reads eight bytes at once, agrees with reading them one by
// one: for every byte value at every place among plain bytes, for every
// two bytes at two places, and on random words.
func TestPlainAgreesWithReadingByteByByte(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		if got, want := plain(binary.LittleEndian.Uint64(b)), plainByBytes(b); got != want {
			t.Fatalf("plain(%q) = %v, want %v", b, got, want)
		}
	}
	b := []byte("abcdefgh")
	for at := range 8 {
		for v := range 256 {
			copy(b, "abcdefgh")
			b[at] = byte(v)
			check(b)
		}
	}
	for at := range 8 {
		for at2 := range 8 {
			for v := range 256 {
				for _, v2 := range []byte{0, 0x1f, 0x20, '!', '"', '#', '[', '\\', ']', 0x7f, 0x80, 0xc3, 0xff} {
					copy(b, "abcdefgh")
					b[at], b[at2] = byte(v), v2
					check(b)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		binary.LittleEndian.PutUint64(b, r.Uint64())
		check(b)
	}
}

// An event read through an interner, the way a catch-up decodes, equals
// the event read without one, also when its values were interned from an
// earlier event; texts longer than the interner takes are copied.
func TestInternedDecodeEqualsPlainDecode(t *testing.T) {
	in := newInterner()
	for round := range 2 {
		for _, typ := range domain.EventTypes() {
			if !builds(typ) {
				continue
			}
			zero, _ := domain.ZeroEvent(typ)
			v := reflect.New(reflect.TypeOf(zero)).Elem()
			setEvery(t, v, typ)
			enc, err := domain.Encode(v.Interface().(domain.Event))
			if err != nil {
				t.Fatal(err)
			}
			want, ok := FastDecode(enc.Type, enc.SchemaVersion, enc.Data)
			got, ok2 := fastDecode(enc.Type, enc.SchemaVersion, enc.Data, in)
			if !ok || !ok2 || !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, %s: interned %#v (%v), plain %#v (%v)", round, typ, got, ok2, want, ok)
			}
		}
	}
	short := domain.ProfileUpdated{MemberID: uuid.New(), Profile: domain.Profile{Name: "Ada", Discipline: "CIVIL",
		Languages: []string{"en", "fr"}, Skills: map[string]int{"COMMUNICATION": 3}, Location: domain.Location{City: "Sudbury", Province: "ON"}}}
	enc, err := domain.Encode(short)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, ok := fastDecode(enc.Type, enc.SchemaVersion, enc.Data, in)
		if !ok || !reflect.DeepEqual(got, short) {
			t.Fatalf("interned %#v (%v), want %#v", got, ok, short)
		}
	}
	for _, s := range []string{"CIVIL", "en", "fr", "COMMUNICATION", "Sudbury", "ON"} {
		if in.strs[s] != s {
			t.Errorf("%q was not interned", s)
		}
	}
	long := strings.Repeat("x", internMaxLen+1)
	if in.intern([]byte(long)) != long || len(in.strs[long]) != 0 {
		t.Errorf("a text longer than %d bytes was interned", internMaxLen)
	}
	var none *interner
	if none.intern([]byte("CIVIL")) != "CIVIL" {
		t.Error("a nil interner does not copy")
	}
}

// An interner stops taking strings once it holds internMaxStrings, and
// still returns each string it is given.
func TestInternerIsBounded(t *testing.T) {
	in := newInterner()
	for i := range internMaxStrings + 100 {
		s := strconv.Itoa(i)
		if got := in.intern([]byte(s)); got != s {
			t.Fatalf("intern(%q) = %q", s, got)
		}
	}
	if len(in.strs) != internMaxStrings {
		t.Fatalf("the interner holds %d strings, want %d", len(in.strs), internMaxStrings)
	}
}
