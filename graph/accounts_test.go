package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const registerMentee = `mutation($in: RegisterInput!) { registerMentee(input: $in) { token viewer { role member { name } } userErrors { code field message } } }`
const loginMentee = `mutation($in: LoginInput!) { loginMentee(input: $in) { token userErrors { code message } } }`
const loginMentor = `mutation($in: LoginInput!) { loginMentor(input: $in) { token userErrors { code message } } }`

const password = "correct horse battery staple"

func (e *env) signUp(kind, name, email string) string {
	e.t.Helper()
	r := e.ok("", strings.Replace(registerMentee, "registerMentee", "register"+kind, 1), map[string]any{"in": map[string]any{"name": name, "email": email, "password": password}})
	tok := r.str("register"+kind, "token")
	if tok == "" {
		e.t.Fatalf("no token: %s", r.raw)
	}
	return tok
}

func TestSignUpAndSeparateLogins(t *testing.T) {
	e := newEnvWithAccounts(t)
	r := e.ok("", registerMentee, map[string]any{"in": map[string]any{"name": "Ada Lovelace", "email": "ada@example.org", "password": password}})
	if r.str("registerMentee", "viewer", "role") != "MENTEE" || r.str("registerMentee", "viewer", "member", "name") != "Ada Lovelace" {
		t.Fatalf("register: %s", r.raw)
	}
	tok := r.str("registerMentee", "token")
	if r := e.ok(tok, `{ viewer { role member { name } } }`, nil); r.str("viewer", "role") != "MENTEE" {
		t.Fatalf("viewer with the new token: %s", r.raw)
	}
	// The mentee's credentials do not open a mentor session.
	creds := map[string]any{"in": map[string]any{"email": "ada@example.org", "password": password}}
	if r := e.do("", loginMentor, creds); r.str("loginMentor", "userErrors", 0, "code") != "INVALID_CREDENTIALS" || r.get("loginMentor", "token") != nil {
		t.Fatalf("mentee credentials on the mentor login: %s", r.raw)
	}
	if r := e.ok("", loginMentee, creds); r.str("loginMentee", "token") == "" {
		t.Fatalf("mentee login: %s", r.raw)
	}
	// Unknown email and wrong password get the same answer.
	a := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "nobody@example.org", "password": password}})
	b := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "ada@example.org", "password": "wrong password here"}})
	if a.str("loginMentee", "userErrors", 0, "message") != b.str("loginMentee", "userErrors", 0, "message") || a.str("loginMentee", "userErrors", 0, "code") != "INVALID_CREDENTIALS" {
		t.Fatalf("enumeration: %s vs %s", a.raw, b.raw)
	}
	// Weak passwords and taken emails are refused with nothing written.
	before := e.head()
	if r := e.do("", registerMentee, map[string]any{"in": map[string]any{"name": "Bob", "email": "bob@example.org", "password": "short"}}); r.str("registerMentee", "userErrors", 0, "code") != "WEAK_PASSWORD" {
		t.Fatalf("weak password: %s", r.raw)
	}
	if r := e.do("", registerMentee, map[string]any{"in": map[string]any{"name": "Ada Again", "email": "ADA@example.org", "password": password}}); r.str("registerMentee", "userErrors", 0, "code") != "EMAIL_TAKEN" {
		t.Fatalf("taken email: %s", r.raw)
	}
	if e.head() != before {
		t.Fatal("refused registrations wrote events")
	}
}

// Logging out revokes the token at once, and closes the subscriptions
// opened with it.
func TestLogoutRevokesAtOnceIncludingSubscriptions(t *testing.T) {
	e := newEnvWithAccounts(t)
	tok := e.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	c := e.dial(tok)
	c.subscribe("1", `subscription { myMatchUpdates { type } }`, nil)
	e.waitSubscribers(1)
	if r := e.ok(tok, `mutation { logout { ok } }`, nil); r.get("logout", "ok") != true {
		t.Fatalf("logout: %s", r.raw)
	}
	if r := e.do(tok, `{ viewer { role } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the token still works after logout: %d %s", r.Status, r.raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var m map[string]any
		if err := readJSON(ctx, c, &m); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the subscription stayed open after logout")
			}
			// As a refused connection_init: the client must sign in
			// again, not reconnect with the same token.
			if code := websocket.CloseStatus(err); code != 4403 {
				t.Fatalf("closed with %d after logout, want 4403", code)
			}
			return
		}
	}
}

// Every aliased sign-in in one request counts against the rate limit.
func TestLoginRateLimitCountsAliases(t *testing.T) {
	e := newEnvWithAccounts(t)
	e.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	var b strings.Builder
	b.WriteString("mutation {")
	for i := range 15 {
		fmt.Fprintf(&b, ` a%d: loginMentee(input: {email: "ada@example.org", password: "wrong password %d"}) { token userErrors { code } }`, i, i)
	}
	b.WriteString(" }")
	r := e.do("", b.String(), nil)
	if !strings.Contains(string(r.raw), `"code":"RATE_LIMITED"`) {
		t.Fatalf("15 guesses in one request were not limited: %s", r.raw)
	}
	// The right password is refused while the limit holds.
	if r := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "ada@example.org", "password": password}}); r.str("loginMentee", "userErrors", 0, "code") != "RATE_LIMITED" {
		t.Fatalf("login during the limit: %s", r.raw)
	}
}

// Sign-ups from one client address are limited too, every aliased one
// counted, before the password is even checked (the short passwords here
// keep the test from hashing).
func TestRegistrationRateLimitCountsAliases(t *testing.T) {
	e := newEnvWithAccounts(t)
	limited := false
	for round := range 2 {
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range 30 {
			fmt.Fprintf(&b, ` a%d: registerMentee(input: {name: "Member %d", email: "m%d-%d@example.org", password: "short"}) { token userErrors { code } }`, i, i, round, i)
		}
		b.WriteString(" }")
		r := e.do("", b.String(), nil)
		limited = limited || strings.Contains(string(r.raw), `"code":"RATE_LIMITED"`)
	}
	if !limited {
		t.Fatal("60 sign-ups from one address in two requests were not limited")
	}
}

var resetLink = regexp.MustCompile(`token=([A-Za-z0-9_\-]+)`)

func TestPasswordResetByEmail(t *testing.T) {
	e := newEnvWithAccounts(t)
	old := e.signUp("Mentor", "Grace Hopper", "grace@example.org")
	reset := `mutation($in: RequestPasswordResetInput!) { requestPasswordReset(input: $in) { ok userErrors { code } } }`
	known := e.ok("", reset, map[string]any{"in": map[string]any{"role": "MENTOR", "email": "grace@example.org"}})
	unknown := e.ok("", reset, map[string]any{"in": map[string]any{"role": "MENTOR", "email": "nobody@example.org"}})
	if string(known.raw) != string(unknown.raw) {
		t.Fatalf("reset answers differ: %s vs %s", known.raw, unknown.raw)
	}
	if err := e.accounts.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(e.mailbox, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d emails in the mailbox, want 1", len(files))
	}
	msg, _ := os.ReadFile(files[0])
	if !strings.Contains(string(msg), "grace@example.org") {
		t.Fatalf("the email is not to the account: %s", msg)
	}
	m := resetLink.FindSubmatch(msg)
	if m == nil {
		t.Fatalf("no reset link in: %s", msg)
	}
	token := string(m[1])
	do := `mutation($in: ResetPasswordInput!) { resetPassword(input: $in) { ok userErrors { code } } }`
	if r := e.ok("", do, map[string]any{"in": map[string]any{"token": token, "newPassword": "a brand new passphrase"}}); r.get("resetPassword", "ok") != true {
		t.Fatalf("reset: %s", r.raw)
	}
	if r := e.do("", do, map[string]any{"in": map[string]any{"token": token, "newPassword": "yet another passphrase"}}); r.get("resetPassword", "ok") == true {
		t.Fatalf("the reset token worked twice: %s", r.raw)
	}
	if r := e.do(old, `{ viewer { role } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the old session survived the reset: %s", r.raw)
	}
	if r := e.ok("", loginMentor, map[string]any{"in": map[string]any{"email": "grace@example.org", "password": "a brand new passphrase"}}); r.str("loginMentor", "token") == "" {
		t.Fatalf("login with the new password: %s", r.raw)
	}
}
