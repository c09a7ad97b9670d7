package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/seed"
)

func runSeed(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	err := run(context.Background(), append([]string{"seed"}, args...), func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("seed %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// The demo program's documented accounts sign in through the API, and its
// matches show every state and every end reason to the people in them.
func TestSeedDemoSignsInAndShowsEveryMatchState(t *testing.T) {
	dir := t.TempDir()
	out := runSeed(t, "--demo", "--data-dir", dir)
	for _, want := range []string{seed.DemoPassword, "staff@demo.example.org", "auditor@demo.example.org", "mentor12@demo.example.org", "mentee10@demo.example.org", "loginMentee"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the printed credentials lack %q:\n%s", want, out)
		}
	}
	ts := startServer(t, dir)

	type account struct{ kind, email string }
	accounts := []account{{"Staff", seed.DemoEmail("staff", 0)}, {"Auditor", seed.DemoEmail("auditor", 0)}}
	for i := 1; i <= 12; i++ {
		accounts = append(accounts, account{"Mentor", seed.DemoEmail("mentor", i)})
	}
	for i := 1; i <= 10; i++ {
		accounts = append(accounts, account{"Mentee", seed.DemoEmail("mentee", i)})
	}
	states := map[string]int{}
	for _, a := range accounts {
		c := &client{t: t, url: ts.URL}
		c.loginWith(a.kind, a.email, seed.DemoPassword)
		var d map[string]any
		switch a.kind {
		case "Mentee":
			d = c.gql(`{ myMatches { edges { node { status endReason mySessions { id } } } } }`, nil)
			for _, e := range dig(d, "myMatches", "edges").([]any) {
				states[dig(e, "node", "status").(string)]++
				if r, ok := dig(e, "node", "endReason").(string); ok {
					states[r]++
				}
			}
		case "Staff":
			d = c.gql(`{ dashboard { pending active declined cancelled ended } resources { totalCount } }`, nil)
			for _, k := range []string{"pending", "active", "declined", "cancelled", "ended"} {
				if n, _ := dig(d, "dashboard", k).(float64); n == 0 {
					t.Errorf("the dashboard counts no %s match: %v", k, d)
				}
			}
			if n, _ := dig(d, "resources", "totalCount").(float64); n == 0 {
				t.Errorf("no resources: %v", d)
			}
		}
	}
	for _, want := range []string{"PENDING", "ACTIVE", "DECLINED", "CANCELLED", "ENDED", "GRACEFUL_EXIT", "GOALS_CONCLUDED", "MOVED", "OTHER", "TERM_COMPLETED"} {
		if states[want] == 0 {
			t.Errorf("no %s match among the mentees' matches: %v", want, states)
		}
	}

	// A mentee finds the demo mentors by the words of their biographies.
	c := &client{t: t, url: ts.URL}
	c.loginWith("Mentee", seed.DemoEmail("mentee", 10), seed.DemoPassword)
	d := c.gql(`{ searchMentors(input: {words: "Calgary", disciplines: ["GEOTECHNICAL"]}) { edges { node { name } } } }`, nil)
	if e := dig(d, "searchMentors", "edges").([]any); len(e) != 1 || dig(e[0], "node", "name") != "Rajesh Iyer" {
		t.Fatalf("search: %v", d)
	}
}

func (c *client) loginWith(kind, email, password string) {
	c.t.Helper()
	d := c.gql(`mutation($in: LoginInput!) { login`+kind+`(input: $in) { token } }`, map[string]any{"in": map[string]any{"email": email, "password": password}})
	if c.token, _ = dig(d, "login"+kind, "token").(string); c.token == "" {
		c.t.Fatalf("%s does not sign in: %v", email, d)
	}
}

// readLog reads a data directory's log as its readers see it: with the
// members' texts opened under the directory's keys (each seed makes keys
// of its own, so the stored bytes differ between two seeds).
func readLog(t *testing.T, dir string) map[string][]string {
	t.Helper()
	raw, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	keys, closeKeys, err := openKeys(context.Background(), config.Config{DataDir: dir}, raw, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeKeys()
	st := sealStore(raw, keys)
	out := map[string][]string{}
	var from eventstore.Position
	for {
		recs, err := st.ReadAll(context.Background(), from, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			from = r.Position
			out[r.Stream] = append(out[r.Stream], r.ID.String()+" "+r.Type+" "+r.Metadata.OccurredAt.String()+" "+string(r.Data))
		}
	}
}

func TestSeedBulkIsDeterministicForASeed(t *testing.T) {
	args := []string{"--mentors", "20", "--mentees", "50", "--events", "1200", "--seed", "5", "--days", "300", "--until", "2026-06-01"}
	a, b := t.TempDir(), t.TempDir()
	out := runSeed(t, append(args, "--data-dir", a)...)
	if !strings.Contains(out, "20 mentors, 50 mentees") || !strings.Contains(out, "cannot sign in") {
		t.Fatalf("summary: %s", out)
	}
	runSeed(t, append(args, "--data-dir", b, "--workers", "1")...)
	logA, logB := readLog(t, a), readLog(t, b)
	if len(logA) < 70 {
		t.Fatalf("only %d streams", len(logA))
	}
	if diff := cmp.Diff(logA, logB); diff != "" {
		t.Fatalf("two runs with seed 5 differ:\n%s", diff)
	}
}

func TestSeedRefusesAStoreWithEventsAndNothingToDo(t *testing.T) {
	dir := t.TempDir()
	runSeed(t, "--mentors", "2", "--mentees", "2", "--events", "10", "--data-dir", dir)
	err := run(context.Background(), []string{"seed", "--mentors", "2", "--data-dir", dir}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "empty data directory") {
		t.Fatalf("seeding a store with events: %v", err)
	}
	err = run(context.Background(), []string{"seed", "--data-dir", t.TempDir()}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "nothing to write") {
		t.Fatalf("seed without sizes: %v", err)
	}
	err = run(context.Background(), []string{"seed", "--mentors", "2", "--until", "tomorrow", "--data-dir", t.TempDir()}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--until") {
		t.Fatalf("a bad date: %v", err)
	}
}
