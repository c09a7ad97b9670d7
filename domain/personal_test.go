package domain

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// notPersonal lists every string field of every event that stays readable
// after the member is erased, with why: values from the program's lists,
// codes, checksums and staff's own records. A new string field must be
// sealed by MapPersonal or added here, so that no personal text is kept in
// the clear by oversight.
var notPersonal = map[string]string{
	"MemberRegistered.Role":                                  "a role",
	"ProfileUpdated.Profile.Designation":                     "from the program's list",
	"ProfileUpdated.Profile.Discipline":                      "from the program's list",
	"ProfileUpdated.Profile.Industry":                        "from the program's list",
	"ProfileUpdated.Profile.Location.Province":               "from the program's list",
	"ProfileUpdated.Profile.Languages":                       "from the program's list",
	"ProfileUpdated.Profile.Skills":                          "skill names from the program's list",
	"ProfileUpdated.Profile.Focus":                           "from the program's list",
	"ProfileUpdated.Profile.Preferences.MeetingFormats":      "from the program's list",
	"ProfileUpdated.Profile.Preferences.MeetingFrequency":    "from the program's list",
	"ProfileUpdated.Profile.Preferences.Partner.Disciplines": "from the program's list",
	"ProfileUpdated.Profile.Preferences.Partner.Industries":  "from the program's list",
	"ProfileUpdated.Profile.Preferences.Partner.Provinces":   "from the program's list",
	"ProfileUpdated.Profile.Preferences.Partner.Languages":   "from the program's list",
	"ProfileUpdated.Profile.Contact.PreferredMethod":         "EMAIL or PHONE",
	"MatchDeclined.Reason":                                   "from the program's list",
	"MatchEnded.Reason":                                      "from the program's list",
	"MatchEndRequested.Reason":                               "from the program's list",
	"DocumentAdded.ContentType":                              "a media type",
	"DocumentAdded.SHA256":                                   "a checksum",
	"ResourcePublished.Title":                                "staff's published resource",
	"ResourcePublished.Description":                          "staff's published resource",
	"ResourcePublished.URL":                                  "staff's published resource",
	"ResourcePublished.Text":                                 "staff's published resource",
	"ResourcePublished.Audience":                             "a code",
	"PersonalDataRevealed.ActorRole":                         "a role",
	"PersonalDataRevealed.Reason":                            "staff's reason, kept for the audit",
	"PersonalDataRevealed.Scope":                             "what was shown, by kind and IDs",
	"MemberErased.Role":                                      "a role",
	"MemberErased.ActorRole":                                 "a role",
	"MemberErased.Reason":                                    "staff's reason, kept for the audit",
}

// fill sets every string (and string slice element) to a unique value
// naming its path, and returns the paths.
func fill(v reflect.Value, path string, paths *[]string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("text of " + path)
		*paths = append(*paths, path)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			v.Set(reflect.ValueOf([]string{"text of " + path}).Convert(v.Type()))
			*paths = append(*paths, path)
		}
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String {
			m := reflect.MakeMap(v.Type())
			m.SetMapIndex(reflect.ValueOf("text of "+path).Convert(v.Type().Key()), reflect.Zero(v.Type().Elem()))
			v.Set(m)
			*paths = append(*paths, path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Type == reflect.TypeFor[uuid.UUID]() {
				continue
			}
			fill(v.Field(i), path+"."+f.Name, paths)
		}
	}
}

// lookup returns the strings at path in v.
func lookup(v reflect.Value, path []string) []string {
	for _, name := range path {
		v = v.FieldByName(name)
	}
	switch v.Kind() {
	case reflect.String:
		return []string{v.String()}
	case reflect.Slice:
		out := make([]string, v.Len())
		for i := range out {
			out[i] = v.Index(i).String()
		}
		return out
	case reflect.Map:
		var out []string
		for _, k := range v.MapKeys() {
			out = append(out, k.String())
		}
		return out
	}
	return nil
}

func TestEveryPersonalTextIsSealedAndNothingElse(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range EventTypes() {
		e, err := decoders[typ]([]byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		v := reflect.New(reflect.TypeOf(e)).Elem()
		var paths []string
		fill(v, typ, &paths)
		// Give every ID a distinct value, so owners can be told apart.
		ids := map[string]uuid.UUID{}
		for i := range v.NumField() {
			if v.Field(i).Type() == reflect.TypeFor[uuid.UUID]() {
				id := uuid.New()
				ids[v.Type().Field(i).Name] = id
				v.Field(i).Set(reflect.ValueOf(id))
			}
		}
		filled := v.Interface().(Event)
		mapped := filled
		var owners []uuid.UUID
		if p, ok := filled.(Personal); ok {
			mapped = p.MapPersonal(func(owner uuid.UUID, s string) string {
				owners = append(owners, owner)
				return "sealed(" + s + ")"
			})
			if !IsPersonal(typ) {
				t.Errorf("%s is Personal but IsPersonal says no", typ)
			}
			if reflect.DeepEqual(filled, mapped) {
				t.Errorf("%s: MapPersonal changed nothing", typ)
			}
		} else if IsPersonal(typ) {
			t.Errorf("%s: IsPersonal says yes but it is not Personal", typ)
		}
		for _, o := range owners {
			if o == uuid.Nil || !slices.Contains(slices.Collect(func(yield func(uuid.UUID) bool) {
				for _, id := range ids {
					if !yield(id) {
						return
					}
				}
			}), o) {
				t.Errorf("%s: a text sealed for %s, who is none of the event's members", typ, o)
			}
		}
		mv := reflect.ValueOf(mapped)
		for _, path := range paths {
			seen[path] = true
			values := lookup(mv, strings.Split(path, ".")[1:])
			sealed := len(values) > 0 && strings.HasPrefix(values[0], "sealed(")
			_, listed := notPersonal[path]
			switch {
			case sealed && listed:
				t.Errorf("%s is sealed but listed as not personal", path)
			case !sealed && !listed:
				t.Errorf("%s stays in the clear: seal it in MapPersonal or say in notPersonal why it is not personal", path)
			}
		}
		// The original event must be untouched (MapPersonal works on a copy).
		if !reflect.DeepEqual(filled, v.Interface()) {
			t.Errorf("%s: MapPersonal changed the event it was called on", typ)
		}
	}
	for path := range notPersonal {
		if !seen[path] {
			t.Errorf("notPersonal lists %s, which no event has", path)
		}
	}
}

func TestTextAboutBothPartnersIsSealedForEach(t *testing.T) {
	mentee, mentor := uuid.New(), uuid.New()
	e := MatchEnded{MenteeID: mentee, MentorID: mentor, Note: "note"}
	var owners []uuid.UUID
	e.MapPersonal(func(o uuid.UUID, s string) string { owners = append(owners, o); return s })
	if len(owners) != 2 || !slices.Contains(owners, mentee) || !slices.Contains(owners, mentor) {
		t.Fatalf("owners = %v, want both partners", owners)
	}
}
