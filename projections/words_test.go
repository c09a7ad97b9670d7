package projections_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/unicode/norm"

	"github.com/mentorship/mentorship/projections"
)

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"Geotechnical ENGINEER, P.Eng.", []string{"geotechnical", "engineer", "p", "eng"}},
		{"Hydro-geology", []string{"hydro", "geology"}},
		{"á", []string{"á"}},
		{"a\u0301", []string{"á"}},
		{"Á", []string{"á"}},
		{"Straße 中文", []string{"straße", "中文"}},
		{"हिन्दी", []string{"हिन्दी"}},
		{"葛\U000E0100城", []string{"葛城"}},
		{"1\uFE0F\u20E3", []string{"1\u20E3"}},
		{"😀", nil},
		{"%", nil},
		{".*", nil},
		{"❤\uFE0F 👩\u200D💻", nil},
		{"\u0301", nil},
		{"x \u0301y", []string{"x", "y"}},
		{"steel & concrete", []string{"steel", "concrete"}},
		{"", nil},
	} {
		if diff := cmp.Diff(tc.want, projections.Words(tc.text)); diff != "" {
			t.Errorf("Words(%+q) (-want +got):\n%s", tc.text, diff)
		}
	}
}

// plainWords states the word rule plainly, for FuzzWords to hold Words
// to: compose the text, then take the runs of letters and digits with the
// marks that follow them, without variation selectors, lower-cased.
func plainWords(text string) []string {
	var out []string
	var word []rune
	for _, r := range norm.NFC.String(text) + " " {
		switch {
		case unicode.Is(unicode.Variation_Selector, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r) || len(word) > 0 && unicode.IsMark(r):
			word = append(word, unicode.ToLower(r))
		case len(word) > 0:
			out = append(out, norm.NFC.String(string(word)))
			word = word[:0]
		}
	}
	return out
}

// FuzzWords checks Words against plainWords, and that every word starts
// with a letter or a digit, is lower case and composed, and is found again
// as itself: a search for any word of a biography finds the biography.
func FuzzWords(f *testing.F) {
	for _, s := range []string{"Geotechnical ENGINEER, P.Eng.", "a\u0301 cafe\u0301", "हिन्दी में", "😀 % .*", "İstanbul ΣΊΣΥΦΟΣ", "葛\U000E0100城", "\u0301x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		words := projections.Words(text)
		if want := plainWords(text); utf8.ValidString(text) && !cmp.Equal(want, words) {
			t.Fatalf("Words(%+q) = %+q, want %+q", text, words, want)
		}
		for _, w := range words {
			first, _ := utf8.DecodeRuneInString(w)
			switch {
			case !unicode.IsLetter(first) && !unicode.IsDigit(first):
				t.Fatalf("%+q: word %+q starts with %U", text, w, first)
			case !norm.NFC.IsNormalString(w):
				t.Fatalf("%+q: word %+q is not composed", text, w)
			case strings.ContainsFunc(w, func(r rune) bool { return unicode.ToLower(r) != r }):
				t.Fatalf("%+q: word %+q has capitals", text, w)
			}
			if again := projections.Words(w); len(again) != 1 || again[0] != w {
				t.Fatalf("%+q: word %+q splits into %+q", text, w, again)
			}
		}
	})
}
