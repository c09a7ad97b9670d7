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

// On an empty data directory the server loads the demo program and prints
// credentials that sign in; on a second start it leaves the data alone.
func TestDemoProgramOnFirstStart(t *testing.T) {
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
	var url, password, menteeEmail string
	pass := regexp.MustCompile(`password is "([^"]+)"`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() && url == "" {
		line := sc.Text()
		if m := pass.FindStringSubmatch(line); m != nil {
			password = m[1]
		}
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "mentee" && menteeEmail == "" {
			menteeEmail = f[1]
		}
		if i := strings.Index(line, "http://"); i >= 0 {
			url = strings.Fields(line[i:])[0]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if url == "" || password == "" || menteeEmail == "" {
		cancel()
		err := <-done
		t.Fatalf("no demo credentials printed (url %q, password %q, mentee %q); the server ended with %v:\n%s", url, password, menteeEmail, err, logs.String())
	}
	defer func() { cancel(); <-done }()
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
