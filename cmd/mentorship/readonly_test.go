package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replay --until --out builds the program as of a moment into its own
// directory, and serve --read-only shows it without letting anything change.
func TestReplayAsOfAndServeReadOnly(t *testing.T) {
	dir := t.TempDir()
	createOperator(t, dir, "auditor", "auditor@example.org")
	ts := startServer(t, dir)
	mentee := &client{t: t, url: ts.URL}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	mentor := &client{t: t, url: ts.URL}
	d = mentor.gql(`mutation { registerMentor(input: {name: "Grace", email: "grace@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	mentor.token = dig(d, "registerMentor", "token").(string)
	d = mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id position } } }`, map[string]any{"m": dig(d, "registerMentor", "viewer", "id")})
	matchID := dig(d, "requestMatch", "match", "id").(string)
	requested := dig(d, "requestMatch", "match", "position").(string)
	mentor.gql(`mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { status } } }`, map[string]any{"id": matchID})
	ts.Stop(t)

	out := filepath.Join(t.TempDir(), "as-of")
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"replay", "--data-dir", dir, "--until", requested, "--out", out}, func(string) string { return "" }, nil, &stdout, io.Discard); err != nil {
		t.Fatalf("replay --out: %v", err)
	}
	if !strings.Contains(stdout.String(), "serve --read-only") {
		t.Fatalf("replay said %q", stdout.String())
	}
	for _, bad := range [][]string{{"--until", "yesterday"}, {"--until", "0"}, {"--until", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)}} {
		args := append([]string{"replay", "--data-dir", dir, "--out", filepath.Join(t.TempDir(), "x")}, bad...)
		if err := run(context.Background(), args, func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil {
			t.Fatalf("replay %v was accepted", bad)
		}
	}

	ro := startServer(t, out, "--read-only")
	auditor := &client{t: t, url: ro.URL}
	auditor.login("Auditor", "auditor@example.org")
	d = auditor.gql(`query($id: ID!) { match(id: $id) { status } }`, map[string]any{"id": matchID})
	if dig(d, "match", "status") != "PENDING" {
		t.Fatalf("as of the request the match is %v", d)
	}
	code, res := postGraphQL(t, ro.URL, `mutation { publishResource(input: {title: "t", url: "https://example.org", audience: BOTH}) { userErrors { code } } }`, nil, nil)
	if code != 200 || len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("a change on the read-only server: %d %+v", code, res.Errors)
	}
	// The live data directory is untouched: it still has the accept.
	live := startServer(t, dir)
	auditor = &client{t: t, url: live.URL}
	auditor.login("Auditor", "auditor@example.org")
	if d := auditor.gql(`query($id: ID!) { match(id: $id) { status } }`, map[string]any{"id": matchID}); dig(d, "match", "status") != "ACTIVE" {
		t.Fatalf("the live data changed: %v", d)
	}
}
