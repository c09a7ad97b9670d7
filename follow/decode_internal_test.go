package follow

import (
	"reflect"
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
