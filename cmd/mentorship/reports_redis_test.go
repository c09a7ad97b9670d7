package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/internal/redistest"
)

// With the read models in Redis, each instance keeps the program reports
// itself, fed from the log: a match made and met shows in the report, and
// after a restart, which loads the reports' snapshot from the data
// directory and applies the rest of the log, the report is the same.
func TestReportsBesideRedisReadModels(t *testing.T) {
	_, ns := redistest.Client(t)
	dir := t.TempDir()
	env := map[string]string{"MENTORSHIP_REDIS_URL": redistest.URL(), "MENTORSHIP_REDIS_PREFIX": ns}
	var out strings.Builder
	err := run(context.Background(), []string{"users", "create", "--role", "staff", "--email", "staff@example.org", "--name", "Sam Staff", "--data-dir", dir},
		func(k string) string { return env[k] }, strings.NewReader(storyPassword+"\n"), &out, io.Discard)
	if err != nil {
		t.Fatalf("users create: %v %s", err, out.String())
	}
	ts := startServer(t, dir, "--redis-url", redistest.URL(), "--redis-prefix", ns)
	mentee, mentor, matchID := pair(t, ts.URL, "Ada Lovelace", "Grace Hopper")
	mentor.gql(`mutation($m: ID!) { acceptMatch(input: {matchId: $m}) { userErrors { code } } }`, map[string]any{"m": matchID})
	today := time.Now().UTC().Format("2006-01-02")
	mentee.gql(`mutation($m: ID!, $d: Date!) { addSession(input: {matchId: $m, date: $d, minutes: 45}) { userErrors { code } } }`, map[string]any{"m": matchID, "d": today})

	const query = `query($in: ProgramReportInput) { programReport(input: $in) { position byProvince { name } total { requested made answered sessions cpdHours } } }`
	vars := map[string]any{"in": map[string]any{"from": today[:7], "to": today[:7]}}
	want := `map[answered:1 cpdHours:0.75 made:1 requested:1 sessions:1]`
	report := func(url, what string) map[string]any {
		t.Helper()
		staff := &client{t: t, url: url}
		staff.login("Staff", "staff@example.org")
		deadline := time.Now().Add(10 * time.Second)
		for {
			d := staff.gql(query, vars)
			if got := dig(d, "programReport", "total"); fmtMap(got) == want {
				return d
			} else if time.Now().After(deadline) {
				t.Fatalf("%s: the report's total is %v, want %s", what, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	first := report(ts.URL, "live")
	ts.Stop(t)
	if _, err := os.Stat(filepath.Join(dir, "snapshots", "reports.snapshot")); err != nil {
		t.Fatalf("the reports left no snapshot in the data directory: %v", err)
	}
	ts = startServer(t, dir, "--redis-url", redistest.URL(), "--redis-prefix", ns)
	again := report(ts.URL, "after a restart")
	if fmtMap(first) != fmtMap(again) {
		t.Fatalf("the report changed over a restart:\n%v\n%v", first, again)
	}
}

// fmtMap prints a decoded JSON value with its keys in order.
func fmtMap(v any) string {
	return strings.ReplaceAll(fmt.Sprint(v), "\n", " ")
}
