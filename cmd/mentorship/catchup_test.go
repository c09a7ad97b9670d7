package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/seed"
)

// A server started on a log its read models must rebuild listens at once,
// so that /readyz can say how far they are; the first request, sent the
// moment it listens, still gets the program as the whole log has it, not
// as far as the read models had read.
func TestFirstRequestSeesTheWholeLog(t *testing.T) {
	dir := t.TempDir()
	runSeed(t, "--demo", "--mentors", "4000", "--mentees", "2000", "--events", "40000", "--data-dir", dir)
	const query = `{ dashboard { pending active declined cancelled ended } searchMentors(input: {}) { totalCount } }`

	ts := startServer(t, dir)
	waitReady(t, ts.URL, 2*time.Minute)
	staff := &client{t: t, url: ts.URL}
	staff.loginWith("Staff", seed.DemoEmail("staff", 0), seed.DemoPassword)
	want := staff.gql(query, nil)
	ts.Stop(t)

	// Without saved states, the next start rebuilds every read model.
	for _, d := range []string{"snapshots", "states"} {
		if err := os.RemoveAll(filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	ts = startServer(t, dir)
	// Sent the moment it listens, and again until it answers: each
	// answer is the whole log's, or 503 UNAVAILABLE while the read models
	// catch up (a slow machine takes longer than a request waits).
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, res := postGraphQL(t, ts.URL, query, nil, http.Header{"Authorization": {"Bearer " + staff.token}})
		if code == http.StatusServiceUnavailable && len(res.Errors) == 1 && res.Errors[0].Extensions["code"] == "UNAVAILABLE" && time.Now().Before(deadline) {
			continue
		}
		if code != http.StatusOK || len(res.Errors) > 0 {
			t.Fatalf("a request after the start: %d %+v", code, res.Errors)
		}
		var got map[string]any
		if err := json.Unmarshal(res.Data, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("a request after the start saw what part of the log has (-whole log +answer):\n%s", diff)
		}
		return
	}
}
