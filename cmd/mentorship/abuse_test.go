package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The attacks found against a running server, replayed through the real
// one: each is refused at once, and shows nothing.
func TestAttacksOnTheRealServerAreRefused(t *testing.T) {
	var logs syncBuffer
	ts := startServerLogging(t, "", &logs, "--env", "production", "--log-level", "info")
	code := func(r gqlResponse) string {
		if len(r.Errors) == 0 {
			return ""
		}
		c, _ := r.Errors[0].Extensions["code"].(string)
		return c
	}

	// An exponential fragment fan-out, anonymous: under 1 KB, 2^25 fields.
	var fan strings.Builder
	fan.WriteString("query { ...F0 }")
	for i := range 24 {
		fmt.Fprintf(&fan, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fan.WriteString(" fragment F24 on Query { __typename }")
	started := time.Now()
	_, r := postGraphQL(t, ts.URL, fan.String(), nil, nil)
	if code(r) != "COMPLEXITY_LIMIT_EXCEEDED" || time.Since(started) > time.Second {
		t.Errorf("fragment fan-out: %v after %v", r.Errors, time.Since(started))
	}

	// The selection cap, bypassed through fragments before.
	var spreads, frags strings.Builder
	for i := range 25 {
		fmt.Fprintf(&spreads, " ...V%d", i)
		fmt.Fprintf(&frags, " fragment V%d on Viewer {%s }", i, strings.Repeat(" id", 190))
	}
	started = time.Now()
	_, r = postGraphQL(t, ts.URL, "{ viewer {"+spreads.String()+" } }"+frags.String(), nil, nil)
	if code(r) != "BAD_USER_INPUT" || time.Since(started) > time.Second {
		t.Errorf("fields through fragments: %v after %v", r.Errors, time.Since(started))
	}

	// A refused updateProfile on another member shows nothing of them.
	register := func(name, email string) string {
		_, r := postGraphQL(t, ts.URL, `mutation($n: String!, $e: String!) { registerMentee(input: {name: $n, email: $e, password: "a long passphrase"}) { token userErrors { code } } }`, map[string]any{"n": name, "e": email}, nil)
		var out struct {
			RegisterMentee struct{ Token string } `json:"registerMentee"`
		}
		if err := json.Unmarshal(r.Data, &out); err != nil || out.RegisterMentee.Token == "" {
			t.Fatalf("register %s: %s %v", name, r.Data, r.Errors)
		}
		return out.RegisterMentee.Token
	}
	victim := register("Vera Victim", "vera@example.org")
	attacker := register("Adam Attacker", "adam@example.org")
	_, r = postGraphQL(t, ts.URL, `{ viewer { member { id } } }`, nil, bearer(victim))
	var viewer struct {
		Viewer struct{ Member struct{ ID string } } `json:"viewer"`
	}
	if err := json.Unmarshal(r.Data, &viewer); err != nil || viewer.Viewer.Member.ID == "" {
		t.Fatalf("viewer: %s %v", r.Data, r.Errors)
	}
	_, r = postGraphQL(t, ts.URL, `mutation($m: ID!) { updateProfile(input: {memberId: $m, name: "x"}) { member { name biography } userErrors { code } } }`, map[string]any{"m": viewer.Viewer.Member.ID}, bearer(attacker))
	if !bytes.Contains(r.Data, []byte("NOT_YOUR_ACCOUNT")) || bytes.Contains(r.Data, []byte("Vera")) {
		t.Errorf("updateProfile on another member: %s %v", r.Data, r.Errors)
	}

	// Introspection in production: a client's code, logged at info.
	_, r = postGraphQL(t, ts.URL, `{ __schema { types { name } } }`, nil, nil)
	if code(r) != "FORBIDDEN" {
		t.Errorf("introspection in production: %v", r.Errors)
	}
	_, r = postGraphQL(t, ts.URL, `{ viewer { membr { id } } }`, nil, nil)
	if len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Errorf("suggestions in production: %v", r.Errors)
	}
	ts.Stop(t)
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"level":"error"`) {
			t.Errorf("the attacks logged an error: %s", line)
		}
	}
	if !strings.Contains(logs.String(), "introspection refused") {
		t.Errorf("the refused introspection was not logged: %s", logs.String())
	}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}
