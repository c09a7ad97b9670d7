package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

// demoAccount is one account the server printed for the demo program.
type demoAccount struct{ role, email, name string }

// startDemo runs `mentorship serve` with the demo program on an empty data
// directory and returns its URL, the password and the accounts it printed.
// The server stops when the test ends.
func startDemo(t *testing.T) (url, password string, accounts []demoAccount) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json", "--log-level", "warn", "--demo"},
			func(string) string { return "" }, strings.NewReader(""), pw, &logs)
		pw.CloseWithError(err)
		done <- err
	}()
	pass := regexp.MustCompile(`password is "([^"]+)"`)
	account := regexp.MustCompile(`^\s+(mentee|mentor|staff|auditor)\s+(\S+@\S+)\s+(.+)$`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() && url == "" {
		line := sc.Text()
		if m := pass.FindStringSubmatch(line); m != nil {
			password = m[1]
		}
		if m := account.FindStringSubmatch(line); m != nil {
			accounts = append(accounts, demoAccount{m[1], m[2], strings.TrimSpace(m[3])})
		}
		if i := strings.Index(line, "http://"); i >= 0 {
			url = strings.Fields(line[i:])[0]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if url == "" || password == "" || len(accounts) == 0 {
		cancel()
		err := <-done
		t.Fatalf("no demo credentials printed (url %q, password %q, %d accounts); the server ended with %v:\n%s", url, password, len(accounts), err, logs.String())
	}
	t.Cleanup(func() { cancel(); <-done })
	return url, password, accounts
}

// On an empty data directory the server loads the demo program and prints
// credentials that sign in; on a second start it leaves the data alone.
func TestDemoProgramOnFirstStart(t *testing.T) {
	url, password, accounts := startDemo(t)
	var menteeEmail string
	for _, a := range accounts {
		if a.role == "mentee" {
			menteeEmail = a.email
			break
		}
	}
	c := &client{t: t, url: url}
	d := c.gql(`mutation($e: String!, $p: String!) { loginMentee(input: {email: $e, password: $p}) { token } }`, map[string]any{"e": menteeEmail, "p": password})
	c.token, _ = dig(d, "loginMentee", "token").(string)
	if c.token == "" {
		t.Fatalf("the demo mentee cannot sign in: %v", d)
	}
	d = c.gql(`{ searchMentors { totalCount } }`, nil)
	if n, _ := dig(d, "searchMentors", "totalCount").(float64); n < 10 {
		t.Fatalf("the demo program has %v mentors", dig(d, "searchMentors", "totalCount"))
	}
}
