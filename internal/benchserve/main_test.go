package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// internal/benchtable splits the table of starts on runs of two spaces and
// wants five columns, the ready time in ms; a row it cannot read would
// show as "not run".
func TestStartsTableKeepsTheColumnsBenchtableReads(t *testing.T) {
	var out strings.Builder
	rows := []startRow{
		{name: "empty", data: "no events", ready: 35 * time.Millisecond, rss: 43.4, heap: 6},
		{name: "embedded-restart", data: size{25000, 75000, 1000000}.String() + ", after a graceful stop", ready: 3512 * time.Millisecond, rss: -1, heap: -1},
	}
	if err := printStarts(&out, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and two rows:\n%s", out.String())
	}
	want := [][]string{
		{"empty", "no events", "35 ms", "43 MiB", "6 MiB"},
		{"embedded-restart", "25000 mentors, 75000 mentees, 1000000 events, after a graceful stop", "3512 ms", "-", "-"},
	}
	for i, line := range lines[1:] {
		cols := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if strings.Join(cols, "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i, cols, want[i])
		}
	}
}

// A start copies the seeded directory whole, so that it never sees what
// an earlier start wrote into it.
func TestCopyDirCopiesEveryFile(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	if err := os.MkdirAll(filepath.Join(src, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"events.db": "log", "keys/master": "secret"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyDir(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || string(got) != body {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
}
