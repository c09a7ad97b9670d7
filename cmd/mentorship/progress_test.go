package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var progressLine = regexp.MustCompile(`^(\w+): (\d+)/(\d+) events \((\d+\.\d)%\)(, \d+ events/s, \S+ left| in \S+, \d+ events/s)$`)

// checkProgressLines checks plain progress output: every line well
// formed, no count past its total nor going back, and one final line, at
// the end.
func checkProgressLines(t *testing.T, out, label string) (final string) {
	t.Helper()
	last := -1
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		m := progressLine.FindStringSubmatch(l)
		if m == nil || m[1] != label {
			t.Errorf("line %q is not a %s progress line", l, label)
			continue
		}
		n, _ := strconv.Atoi(m[2])
		total, _ := strconv.Atoi(m[3])
		if n > total || n < last {
			t.Errorf("line %q: count %d past the total %d or behind %d", l, n, total, last)
		}
		last = n
		if strings.Contains(l, " in ") {
			if final != "" || i != len(lines)-1 {
				t.Errorf("a final line that is not the only last one: %q", out)
			}
			final = l
		}
	}
	if final == "" {
		t.Errorf("no final line in %q", out)
	}
	return final
}

// Off a terminal the progress is plain lines: counts capped at the total
// and never going back, one final line however often done is called.
func TestProgressLinesOffATerminal(t *testing.T) {
	var out strings.Builder
	p := newProgressBar(&out, "replay", 1000, false, 0)
	for _, n := range []uint64{100, 500, 400, 999, 5000, 1000} {
		p.set(n)
	}
	p.done()
	p.done()
	p.set(2000)
	final := checkProgressLines(t, out.String(), "replay")
	if !strings.HasPrefix(final, "replay: 1000/1000 events (100.0%) in ") {
		t.Errorf("final line %q, want the total", final)
	}
	if n := strings.Count(out.String(), "\n"); n != 4 {
		t.Errorf("%d lines, want 100, 500, 999 and the final one:\n%s", n, out.String())
	}

	// A command that stops early ends at its count, not at the total.
	out.Reset()
	p = newProgressBar(&out, "export", 1000, false, 0)
	p.set(250)
	p.done()
	if final := checkProgressLines(t, out.String(), "export"); !strings.HasPrefix(final, "export: 250/1000 events (25.0%) in ") {
		t.Errorf("final line %q, want where it stopped", final)
	}

	// Lines are written every interval, not at every event.
	out.Reset()
	p = newProgressBar(&out, "seed", 1_000_000, false, plainEvery)
	for n := range uint64(1000) {
		p.set(n + 1)
	}
	p.done()
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("%d lines within one interval, want the final one only:\n%s", n, out.String())
	}
}

// The long commands report their progress in plain lines when their
// output is not a terminal.
func TestLongCommandsReportProgressInLines(t *testing.T) {
	dir := t.TempDir()
	_, stderr, err := runCommand("seed", "--data-dir", dir, "--mentors", "20", "--mentees", "10", "--events", "300")
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, stderr)
	}
	checkProgressLines(t, lastLines(stderr, "seed"), "seed")
	for _, cmd := range []string{"replay", "verify", "export"} {
		args := []string{cmd, "--data-dir", dir}
		if cmd == "export" {
			args = append(args, "--out", t.TempDir()+"/events.ndjson")
		}
		_, stderr, err := runCommand(args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, stderr)
		}
		final := checkProgressLines(t, lastLines(stderr, cmd), cmd)
		if m := progressLine.FindStringSubmatch(final); m == nil || m[2] != m[3] {
			t.Errorf("%s: final line %q, want the total", cmd, final)
		}
	}
}

// lastLines keeps the progress lines of label in a command's output.
func lastLines(out, label string) string {
	var keep []string
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, label+": ") && strings.Contains(l, " events (") {
			keep = append(keep, strings.TrimSuffix(l, "\n"))
		}
	}
	return strings.Join(keep, "\n")
}
