package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// logLine is one JSON log line, with the fields the tests look at.
type logLine struct {
	Level     string `json:"level"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	Component string `json:"component"`
	Variable  string `json:"variable"`
	Suggested string `json:"did_you_mean"`
	raw       string
}

func parseLogLines(t *testing.T, s string) []logLine {
	t.Helper()
	var out []logLine
	for line := range strings.Lines(s) {
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		l.raw = line
		out = append(out, l)
	}
	return out
}

// watchedBuffer is a syncBuffer that signals each write.
type watchedBuffer struct {
	syncBuffer
	changed chan struct{}
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return n, err
}

// Every line the server logs while serving a request, at info level,
// carries the request's ID, and one access line ends each request; no
// line holds the member's email or name. A misspelled MENTORSHIP_*
// variable is reported at start.
func TestRequestLogLinesCarryTheRequestID(t *testing.T) {
	t.Setenv("MENTORSHIP_SIGNUP_LIMT", "off")
	logs := &watchedBuffer{changed: make(chan struct{}, 1)}
	ts := startServerLogging(t, "", logs, "--log-level", "info")

	var warned bool
	for _, l := range parseLogLines(t, logs.String()) {
		if l.Level == "warn" && l.Variable == "MENTORSHIP_SIGNUP_LIMT" && l.Suggested == "MENTORSHIP_SIGNUP_LIMIT" {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning names the misspelled variable:\n%s", logs.String())
	}

	requests := []struct {
		id, query string
		// want are messages the request must log besides its access line.
		want []string
	}{
		{"register-1", `mutation { registerMentee(input: {name: "Ada Lovelace", email: "ada.lovelace@example.org", password: "` + storyPassword + `"}) { token } }`,
			[]string{"account registered"}},
		{"login-1", `mutation { loginMentee(input: {email: "ada.lovelace@example.org", password: "` + storyPassword + `"}) { token } }`,
			[]string{"signed in"}},
		{"login-2", `mutation { loginMentee(input: {email: "ada.lovelace@example.org", password: "not the passphrase at all"}) { token userErrors { code } } }`,
			[]string{"sign-in refused: invalid credentials"}},
		{"register-2", `mutation { registerMentee(input: {name: "Ada Again", email: "ada.lovelace@example.org", password: "` + storyPassword + `"}) { token userErrors { code } } }`,
			nil},
	}
	for _, r := range requests {
		before := len(logs.String())
		code, res := postGraphQL(t, ts.URL, r.query, nil, http.Header{"X-Request-Id": {r.id}})
		if code != http.StatusOK || len(res.Errors) > 0 {
			t.Fatalf("%s: %d %+v", r.id, code, res.Errors)
		}
		// The access line is written once the handler returns, which
		// may be after the client has the answer.
		var lines []logLine
		timeout := time.After(10 * time.Second)
	wait:
		for {
			lines = parseLogLines(t, logs.String()[before:])
			if slices.ContainsFunc(lines, func(l logLine) bool { return l.Message == "request" && l.RequestID == r.id }) {
				break
			}
			select {
			case <-logs.changed:
			case <-timeout:
				break wait
			}
		}
		seen := map[string]bool{}
		for _, l := range lines {
			if l.Component != "" && l.RequestID == "" {
				// A background worker's line (the notifier, the
				// process manager) written meanwhile.
				continue
			}
			seen[l.Message] = true
			if l.RequestID != r.id {
				t.Errorf("%s: a line without its request ID: %s", r.id, l.raw)
			}
		}
		for _, m := range append(r.want, "request") {
			if !seen[m] {
				t.Errorf("%s: no %q line among %d lines:\n%s", r.id, m, len(lines), logs.String()[before:])
			}
		}
		if n := strings.Count(logs.String()[before:], `"message":"request"`); n != 1 {
			t.Errorf("%s: %d access lines, want 1", r.id, n)
		}
	}
	for _, personal := range []string{"ada.lovelace@example.org", "Lovelace"} {
		if strings.Contains(logs.String(), personal) {
			t.Errorf("the log holds %q:\n%s", personal, logs.String())
		}
	}
}
