package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
)

// FuzzProgramFile checks that no program file makes the loader panic: it
// is refused with an error that names the file, or it gives a program that
// Program.Validate accepts and that, written out again, reads back the same.
// The last part catches settings that would be silently changed on the way
// in, such as a window of so many days that it wraps around.
func FuzzProgramFile(f *testing.F) {
	var defaults strings.Builder
	if err := config.WriteProgram(&defaults, domain.DefaultProgram()); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		defaults.String(),
		"",
		"# nothing but a comment\n",
		"responseWindowDays: 21\ntermMonths: 18\ntimeZone: America/Edmonton\n",
		"limits:\n  biographyLength: 2000\n  documentSize: 1048576\n",
		`{"maxPendingRequests": 2, "declineReasons": ["NO_TIME"]}`,
		`{"limits": {"nameLength": 1}, "skills": ["A", "B"]}`,
		"skills: [DESIGN, DESIGN]\n",
		"skills: [\"\\u202eDESIGN\", \" padded \"]\n",
		"endReasons: [MOVED, TERM_COMPLETED]\n",
		"responseWindowDays: 106752\n",
		"responseWindowDays: 213504\n",
		"nudgeSpacingDays: 9223372036854775807\n",
		"termMonths: 99999999999999999999\n",
		"maxActiveMatches: -1\n",
		"timeZone: Mars/Olympus\n",
		"timeZone: ../../etc/passwd\n",
		"timeZone: Local\n",
		"skills: [DESIGN\n",
		"skills: &a [*a]\n",
		"a: &a [*a, *a, *a]\nb: &b [*a, *a, *a]\n",
		"documentContentTypes: [Application/PDF]\n",
		"endedMatchDocuments: HIDDEN\n",
		"--- \n...\n",
		"!!binary AAAA\n",
		"skills: !!set {A: null}\n",
		"limits: [1, 2]\n",
		"\t- - -\n",
	} {
		f.Add(s)
	}
	path := filepath.Join(f.TempDir(), "program.yaml")
	f.Fuzz(func(t *testing.T, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := config.LoadProgram(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("%q: the error %q does not name the file", text, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("%q: accepted a program Validate refuses: %v", text, err)
		}
		var out strings.Builder
		if err := config.WriteProgram(&out, p); err != nil {
			t.Fatalf("%q: accepted a program that cannot be written out: %v\n%+v", text, err, p)
		}
		if err := os.WriteFile(path, []byte(out.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := config.LoadProgram(path)
		if err != nil {
			t.Fatalf("%q: the accepted program, written out as\n%s\nis refused: %v", text, out.String(), err)
		}
		if diff := cmp.Diff(p, again, cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() })); diff != "" {
			t.Fatalf("%q: written out and read again, the program differs:\n%s", text, diff)
		}
	})
}
