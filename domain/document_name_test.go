package domain_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// Every file name is either refused as bad input on the name field or
// kept as one visible line that cannot name a folder or disguise its
// extension.
func TestDocumentNames(t *testing.T) {
	p := domain.DefaultProgram()
	cases := []struct {
		name, in, want string
		ok             bool
	}{
		{name: "a plain name", in: "plan.pdf", want: "plan.pdf", ok: true},
		{name: "spaces around are trimmed", in: "  plan.pdf\t", want: "plan.pdf", ok: true},
		{name: "letters of any script", in: "خطة العمل.pdf", want: "خطة العمل.pdf", ok: true},
		{name: "an emoji joined by a zero-width joiner", in: "👩‍💻 notes.md", want: "👩‍💻 notes.md", ok: true},
		{name: "a dotted name", in: "..plan.pdf", want: "..plan.pdf", ok: true},
		{name: "empty", in: " "},
		{name: "a folder", in: "docs/plan.pdf"},
		{name: "a Windows folder", in: `docs\plan.pdf`},
		{name: "a dot", in: "."},
		{name: "two dots", in: ".."},
		{name: "a line break", in: "plan\n.pdf"},
		{name: "a NUL", in: "plan\x00.pdf"},
		{name: "a C1 control", in: "plan\u0085.pdf"},
		{name: "invalid UTF-8", in: "plan\xff.pdf"},
		{name: "a right-to-left override", in: "invoice\u202Efdp.exe"},
		{name: "a left-to-right override", in: "invoice\u202Dfdp.exe"},
		{name: "a right-to-left embedding", in: "a\u202Bb.pdf"},
		{name: "a pop directional formatting", in: "a\u202Cb.pdf"},
		{name: "a right-to-left isolate", in: "a\u2067b.pdf"},
		{name: "a pop directional isolate", in: "a\u2069b.pdf"},
		{name: "a right-to-left mark", in: "a\u200Fb.pdf"},
		{name: "an Arabic letter mark", in: "a\u061Cb.pdf"},
		{name: "too long", in: strings.Repeat("é", 256)},
	}
	for _, tc := range cases {
		got, err := domain.CleanDocumentName(p, tc.in)
		switch {
		case tc.ok && (err != nil || got != tc.want):
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		case !tc.ok && err == nil:
			t.Errorf("%s: %q accepted as %q", tc.name, tc.in, got)
		case !tc.ok:
			checkNameRefusal(t, tc.in, err)
		}
	}
}

func checkNameRefusal(t *testing.T, in string, err error) {
	t.Helper()
	var de *refusal.Error
	if !errors.As(err, &de) || de.Code != refusal.CodeInvalidInput || de.Field != "name" || de.Message == "" {
		t.Fatalf("%q: refused with %v, want INVALID_INPUT on name with a message", in, err)
	}
}

// FuzzDocumentName checks that whatever name an upload carries, it is
// refused with a clear error or accepted as a safe file name.
func FuzzDocumentName(f *testing.F) {
	for _, s := range []string{
		"plan.pdf", " plan.pdf ", "../plan.pdf", `c:\plan.pdf`, "..", ".", "plan\n.pdf", "invoice\u202Efdp.exe",
		"a\u2066b\u2069.pdf", "\u200Fname", "\xff\xfe", "é.md", "👩‍💻.md", strings.Repeat("a", 255), strings.Repeat("a", 256),
		"\u00a0plan.pdf\u3000", "plan\u2028.pdf", "\ufeffplan.pdf",
	} {
		f.Add(s)
	}
	p := domain.DefaultProgram()
	f.Fuzz(func(t *testing.T, in string) {
		got, err := domain.CleanDocumentName(p, in)
		if err != nil {
			checkNameRefusal(t, in, err)
			return
		}
		switch {
		case got == "" || got == "." || got == "..":
			t.Fatalf("%q accepted as %q", in, got)
		case !utf8.ValidString(got):
			t.Fatalf("%q accepted as invalid UTF-8 %q", in, got)
		case strings.ContainsAny(got, `/\`):
			t.Fatalf("%q accepted with a path separator: %q", in, got)
		case strings.ContainsFunc(got, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }):
			t.Fatalf("%q accepted with a control or bidirectional formatting character: %q", in, got)
		case got != strings.TrimSpace(got):
			t.Fatalf("%q accepted with surrounding space: %q", in, got)
		case utf8.RuneCountInString(got) > p.Limits.DocumentNameLength:
			t.Fatalf("%q accepted over the length limit", in)
		case !strings.Contains(in, got):
			t.Fatalf("%q accepted as %q, which is not part of it", in, got)
		}
		// Cleaning is stable: the stored name is accepted as it is.
		if again, err := domain.CleanDocumentName(p, got); err != nil || again != got {
			t.Fatalf("%q: the cleaned name %q cleans to %q, %v", in, got, again, err)
		}
	})
}
