package documents

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// FuzzUploadFileName checks the name an upload is stored under, from the
// file name a browser or script sends in the multipart form: it is refused
// as bad input, or it is one safe name taken from the end of what was sent,
// so that no upload can name a folder or climb out of one.
func FuzzUploadFileName(f *testing.F) {
	for _, s := range []string{
		"plan.pdf", `C:\Users\me\plan.pdf`, "/home/me/plan.pdf", "docs/../plan.pdf", "../../etc/passwd",
		"a/..", "a/.", "a/", "/", `\\server\share\plan.pdf`, "..\\plan.pdf", "invoice\u202Efdp.exe",
		"folder/invoice\u202Efdp.exe", "plan\x00.pdf", "\xff/plan.pdf", "a/ /", "é/日本.md",
	} {
		f.Add(s)
	}
	p := domain.DefaultProgram()
	f.Fuzz(func(t *testing.T, filename string) {
		name, err := domain.CleanDocumentName(p, baseName(filename))
		if err != nil {
			if refusal.CodeOf(err) != refusal.CodeInvalidInput || err.Error() == "" {
				t.Fatalf("%q: refused with %v, want bad input", filename, err)
			}
			return
		}
		// Trailing separators name no file, so the last part is the one
		// before them.
		sent := strings.TrimRight(filename, `/\`)
		last := sent[strings.LastIndexAny(sent, `/\`)+1:]
		switch {
		case name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`):
			t.Fatalf("%q stored as %q", filename, name)
		case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }):
			t.Fatalf("%q stored as %q, with bytes a browser would not show as they are", filename, name)
		case strings.TrimSpace(last) != name:
			t.Fatalf("%q stored as %q, not the last part of the name sent", filename, name)
		}
	})
}
