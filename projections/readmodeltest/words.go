package readmodeltest

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/refusal"
)

// The biography search matches words of any script as whole words: an
// accented letter is a word of its own, typed composed or as a letter and
// a combining accent; a Devanagari word keeps its vowel signs. Search text
// without a word in it (punctuation, symbols, emoji) finds nobody rather
// than everybody, and between words it separates them as a comma does.
// Search text holding a hidden or control character is refused.
func testSearchWordsOfAnyScript(t *testing.T, h Harness) {
	m := h.Open(t)
	var l log
	bios := [][2]string{
		{"Ana", "Bridges á la mode; steel & concrete."},
		{"Ben", "A bridge and a tunnel."},
		{"Cleo", "Cámara de comercio, café."},
		{"Dev", "Decomposed: a\u0301 cafe\u0301 e\u0301te\u0301."},
		{"Esha", "हिन्दी में मार्गदर्शन"},
		{"Finn", "Emoji fan 😀 ❤\uFE0F % .* and 葛\U000E0100城."},
	}
	for _, b := range bios {
		l.mentor(uuid.New(), domain.Profile{Name: b[0], Biography: b[1]})
	}
	apply(t, m, l.events)
	for _, tc := range []struct {
		words string
		want  []string
	}{
		{"á", []string{"Ana", "Dev"}},
		{"a\u0301", []string{"Ana", "Dev"}},
		{"Á", []string{"Ana", "Dev"}},
		{"a", []string{"Ben"}},
		{"café", []string{"Cleo", "Dev"}},
		{"cafe\u0301", []string{"Cleo", "Dev"}},
		{"cafe", nil},
		{"cámara", []string{"Cleo"}},
		{"cmara", nil},
		{"हिन्दी", []string{"Esha"}},
		{"ह", nil},
		{"葛城", []string{"Finn"}},
		{"😀", nil},
		{"%", nil},
		{".*", nil},
		{"❤\uFE0F", nil},
		{"😀 % .*", nil},
		{"\u0301", nil},
		{"steel & concrete", []string{"Ana"}},
		{"bridges, 😀", []string{"Ana"}},
		{"  ", []string{"Ana", "Ben", "Cleo", "Dev", "Esha", "Finn"}},
	} {
		expectSearch(t, m, l.events, projections.SearchQuery{Words: tc.words}, tc.want...)
	}
	for _, tc := range []struct {
		field string
		q     projections.SearchQuery
	}{
		{"words", projections.SearchQuery{Words: "bridges\u202E"}},
		{"words", projections.SearchQuery{Words: "a\u2066b\u2069"}},
		{"words", projections.SearchQuery{Words: "steel\tconcrete"}},
		{"words", projections.SearchQuery{Words: "steel\x00"}},
		{"words", projections.SearchQuery{Words: "\U000E0041"}},
		{"city", projections.SearchQuery{City: "Cal\u202Egary"}},
	} {
		for _, r := range []struct {
			name   string
			reader projections.MemberReader
		}{{"read models", m.Members}, {"reference", Reference(t, l.events).Members}} {
			_, err := r.reader.SearchMentors(tc.q)
			var de *refusal.Error
			if !errors.As(err, &de) || de.Code != refusal.CodeInvalidInput || de.Field != tc.field {
				t.Errorf("%s, search %+q: got %v, want INVALID_INPUT on %s", r.name, tc.q.Words+tc.q.City, err, tc.field)
			}
		}
	}
}
