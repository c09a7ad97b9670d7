package domain_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// scotland is the flag of Scotland: a black flag, the tag letters "gbsct"
// and the cancel tag.
const scotland = "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"

// visibleText is text every field takes as it is: accents, a sharp s,
// Chinese, Arabic, an emoji, an emoji joined by a zero-width joiner, a
// subdivision flag, and a Persian word with its zero-width non-joiner.
const visibleText = "Zoë Straße 中文 العربية 😀 👩\u200D💻 " + scotland + " می\u200Cخواهم"

// hiddenTexts are refused in every text field: each hides a character that
// is invisible or moves the text around it.
var hiddenTexts = []struct{ name, hide string }{
	{"a right-to-left override", "\u202E"},
	{"a left-to-right override", "\u202D"},
	{"a left-to-right embedding", "\u202A"},
	{"a pop directional formatting", "\u202C"},
	{"a left-to-right isolate", "\u2066"},
	{"a first strong isolate", "\u2068"},
	{"a pop directional isolate", "\u2069"},
	{"a left-to-right mark", "\u200E"},
	{"a right-to-left mark", "\u200F"},
	{"an Arabic letter mark", "\u061C"},
	{"a line separator", "\u2028"},
	{"a paragraph separator", "\u2029"},
	{"tag characters", "\U000E0069\U000E0067\U000E006E\U000E006F\U000E0072\U000E0065"},
	{"a cancel tag", "\U000E007F"},
	{"tags after a flag without their end", "\U0001F3F4\U000E0067\U000E0062"},
	{"tag capitals after a flag", "\U0001F3F4\U000E0047\U000E0042\U000E007F"},
	{"too many tags after a flag", "\U0001F3F4" + strings.Repeat("\U000E0061", 8) + "\U000E007F"},
	{"a NUL", "\x00"},
	{"a bell", "\a"},
	{"an escape", "\x1b[2J"},
	{"a lone carriage return", "\r"},
	{"a delete", "\x7f"},
	{"a C1 next line", "\u0085"},
	{"a C1 control", "\u009b"},
	{"invalid UTF-8", "\xff"},
}

// layoutTexts are refused in single-line fields and taken as they are in
// multi-line ones.
var layoutTexts = []struct{ name, hide string }{
	{"a line break", "\n"},
	{"a tab", "\t"},
}

// hideIn returns s with hide in its middle, between two characters.
func hideIn(s, hide string) string {
	mid := 0
	for range utf8.RuneCountInString(s) / 2 {
		_, size := utf8.DecodeRuneInString(s[mid:])
		mid += size
	}
	return s[:mid] + hide + s[mid:]
}

func TestCheckText(t *testing.T) {
	for _, kind := range []domain.TextKind{domain.SingleLine, domain.MultiLine} {
		for _, ok := range []string{"", "plain", visibleText, "a " + scotland + " b", "\U0001F3F4 alone"} {
			if err := domain.CheckText("f", ok, kind); err != nil {
				t.Errorf("kind %d: %q refused: %v", kind, ok, err)
			}
		}
		for _, tc := range hiddenTexts {
			checkTextRefusal(t, tc.name, domain.CheckText("f", hideIn("Eve evil", tc.hide), kind), "f")
		}
	}
	for _, tc := range layoutTexts {
		in := hideIn("Eve evil", tc.hide)
		checkTextRefusal(t, tc.name, domain.CheckText("f", in, domain.SingleLine), "f")
		if err := domain.CheckText("f", in, domain.MultiLine); err != nil {
			t.Errorf("%s refused in multi-line text: %v", tc.name, err)
		}
	}
}

func checkTextRefusal(t *testing.T, name string, err error, field string) {
	t.Helper()
	var de *refusal.Error
	if !errors.As(err, &de) || de.Code != refusal.CodeInvalidInput || de.Field != field || de.Message == "" {
		t.Errorf("%s: got %v, want INVALID_INPUT on %s with a message", name, err, field)
	}
}

// subdivisionFlag matches the flags CheckText takes tag characters in.
var subdivisionFlag = regexp.MustCompile("\U0001F3F4[\U000E0030-\U000E0039\U000E0061-\U000E007A]{1,7}\U000E007F")

// FuzzCheckText checks CheckText against a plain statement of its rule: a
// single-line field takes valid UTF-8 that, once its subdivision flags are
// set aside, holds no control character, line or paragraph separator,
// bidirectional formatting character or tag character; a multi-line field
// takes the same and line breaks and tabs besides.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", "plain", visibleText, scotland, "a\u202Eb", "a\nb", "\U0001F3F4\U000E0067", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hidden := func(r rune) bool {
			return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' || r >= 0xE0000 && r <= 0xE007F
		}
		rest := subdivisionFlag.ReplaceAllString(s, "")
		oneLine := utf8.ValidString(s) && !strings.ContainsFunc(rest, hidden)
		err := domain.CheckText("f", s, domain.SingleLine)
		if (err == nil) != oneLine {
			t.Fatalf("%q: single line gives %v, want taken %v", s, err, oneLine)
		}
		if err != nil {
			checkTextRefusal(t, "single line", err, "f")
		}
		multi := utf8.ValidString(s) && !strings.ContainsFunc(rest, func(r rune) bool { return r != '\n' && r != '\t' && hidden(r) })
		err = domain.CheckText("f", s, domain.MultiLine)
		if (err == nil) != multi {
			t.Fatalf("%q: multi-line gives %v, want taken %v", s, err, multi)
		}
		if err != nil {
			checkTextRefusal(t, "multi-line", err, "f")
		}
	})
}
