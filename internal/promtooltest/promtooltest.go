// Package promtooltest runs Prometheus's promtool from tests: on the
// metrics the server exposes and on the alerting rules shipped beside it.
package promtooltest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Path returns promtool's path. Without one the test fails when CI is
// true, so that a missing tool never passes for a clean check, and is
// skipped elsewhere.
func Path(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if strings.EqualFold(os.Getenv("CI"), "true") {
			t.Fatalf("promtool is needed (Debian: apt-get install prometheus): %v", err)
		}
		t.Skipf("no promtool (Debian: apt-get install prometheus): %v", err)
	}
	return bin
}

// Run runs promtool with args and stdin, failing the test with its output
// when it exits with an error or, for the metrics lint, reports a problem.
func Run(t testing.TB, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(Path(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}
