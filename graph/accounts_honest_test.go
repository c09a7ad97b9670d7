package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

const changePassword = `mutation($in: ChangePasswordInput!) { changePassword(input: $in) { token viewer { role } userErrors { code message } } }`

// A password change answers what it did: the new token, which works,
// while the old one and the old password stop working.
func TestChangePasswordAnswersWithTheNewToken(t *testing.T) {
	e := newEnvWithAccounts(t)
	tok := e.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	current := password
	for i := range 3 {
		next := fmt.Sprintf("a new password, number %d", i)
		r := e.do(tok, changePassword, map[string]any{"in": map[string]any{"currentPassword": current, "newPassword": next}})
		if len(r.Errors) > 0 || r.get("changePassword", "userErrors", 0) != nil {
			t.Fatalf("change %d: %s", i+1, r.raw)
		}
		fresh := r.str("changePassword", "token")
		if fresh == "" || fresh == tok || r.str("changePassword", "viewer", "role") != "MENTEE" {
			t.Fatalf("change %d answered no new token: %s", i+1, r.raw)
		}
		if r := e.do(tok, `{ viewer { role } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("the old token still works after change %d: %d %s", i+1, r.Status, r.raw)
		}
		if r := e.ok(fresh, `{ viewer { role } }`, nil); r.str("viewer", "role") != "MENTEE" {
			t.Fatalf("the new token after change %d: %s", i+1, r.raw)
		}
		old := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "ada@example.org", "password": current}})
		if old.str("loginMentee", "userErrors", 0, "code") != "INVALID_CREDENTIALS" {
			t.Fatalf("the old password after change %d: %s", i+1, old.raw)
		}
		tok, current = fresh, next
	}
	if r := e.ok("", loginMentee, map[string]any{"in": map[string]any{"email": "ada@example.org", "password": current}}); r.str("loginMentee", "token") == "" {
		t.Fatalf("the last password: %s", r.raw)
	}
}

// guessFrom makes n concurrent wrong guesses at email's password from the
// addresses of 198.51.100.0/24, straight through the accounts service, as
// clients elsewhere would; the test server sees every HTTP client at one
// address.
func (e *env) guessFrom(n int, email string) map[refusal.Code]int {
	e.t.Helper()
	var mu sync.Mutex
	codes := map[refusal.Code]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, err := e.accounts.Login(context.Background(), domain.RoleMentee, email, fmt.Sprintf("guess number %d!!", i), fmt.Sprintf("198.51.100.%d", i+1))
			mu.Lock()
			defer mu.Unlock()
			codes[refusal.CodeOf(err)]++
		})
	}
	wg.Wait()
	return codes
}

// A client address that used up its sign-in allowance can still sign up:
// registering is not signing in, and the answer of a call that created
// the account is the account, signed in.
func TestSignUpFromAnAddressOutOfSignIns(t *testing.T) {
	e := newEnvWithAccounts(t)
	for round := range 2 {
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range 25 {
			fmt.Fprintf(&b, ` a%d: loginMentee(input: {email: "nobody-%d-%d@example.org", password: "not anyone's password"}) { userErrors { code } }`, i, round, i)
		}
		b.WriteString(" }")
		e.do("", b.String(), nil)
	}
	r := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "nobody@example.org", "password": password}})
	if r.str("loginMentee", "userErrors", 0, "code") != "RATE_LIMITED" {
		t.Fatalf("50 failed sign-ins did not use up the address's allowance: %s", r.raw)
	}
	r = e.do("", registerMentee, map[string]any{"in": map[string]any{"name": "Ada Lovelace", "email": "ada@example.org", "password": password}})
	tok := r.str("registerMentee", "token")
	if len(r.Errors) > 0 || r.get("registerMentee", "userErrors", 0) != nil || tok == "" {
		t.Fatalf("sign-up from an address out of sign-ins: %s", r.raw)
	}
	if r := e.ok(tok, `{ viewer { role member { name } } }`, nil); r.str("viewer", "member", "name") != "Ada Lovelace" {
		t.Fatalf("the sign-up's token: %s", r.raw)
	}
}

// Correct passwords never count against a limit, not even while they are
// being checked: many at once from one address are all accepted.
func TestConcurrentCorrectSignInsAreAllAccepted(t *testing.T) {
	e := newEnvWithAccounts(t)
	e.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	const n = 60 // more than the address's 50 failures
	var mu sync.Mutex
	var refused []string
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			r := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "ada@example.org", "password": password}})
			if r.str("loginMentee", "token") == "" {
				mu.Lock()
				defer mu.Unlock()
				refused = append(refused, string(r.raw))
			}
		})
	}
	wg.Wait()
	if len(refused) > 0 {
		t.Fatalf("%d of %d concurrent correct sign-ins refused, such as %s", len(refused), n, refused[0])
	}
}

// Concurrent wrong guesses are answered exactly as often as the limit
// allows, and no more.
func TestConcurrentWrongSignInsAreLimitedAtTheLimit(t *testing.T) {
	e := newEnvWithAccounts(t)
	e.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	const n = 16
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "ada@example.org", "password": fmt.Sprintf("wrong guess %d!", i)}})
			mu.Lock()
			defer mu.Unlock()
			codes[r.str("loginMentee", "userErrors", 0, "code")]++
		})
	}
	wg.Wait()
	if codes["INVALID_CREDENTIALS"] != 10 || codes["RATE_LIMITED"] != n-10 {
		t.Fatalf("outcomes of %d concurrent guesses: %v, want 10 answered and %d limited", n, codes, n-10)
	}
	if r := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "ada@example.org", "password": password}}); r.str("loginMentee", "userErrors", 0, "code") != "RATE_LIMITED" {
		t.Fatalf("the right password from the guessing address: %s", r.raw)
	}
}

// Guesses from other addresses cannot lock the owner out of the address
// they signed in from.
func TestGuessesFromElsewhereDoNotLockTheOwnerOut(t *testing.T) {
	e := newEnvWithAccounts(t)
	e.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	if codes := e.guessFrom(30, "ada@example.org"); codes[auth.CodeInvalidCredentials] != 10 || codes[auth.CodeRateLimited] != 20 {
		t.Fatalf("outcomes of 30 guesses from 30 addresses: %v, want 10 answered and 20 limited", codes)
	}
	if _, _, err := e.accounts.Login(context.Background(), domain.RoleMentee, "ada@example.org", password, "203.0.113.1"); refusal.CodeOf(err) != auth.CodeRateLimited {
		t.Fatalf("the right password from a new address while the account is held: %v", err)
	}
	r := e.do("", loginMentee, map[string]any{"in": map[string]any{"email": "ada@example.org", "password": password}})
	if r.str("loginMentee", "token") == "" {
		t.Fatalf("the owner's sign-in from their own address: %s", r.raw)
	}
}

// A password change sent over a WebSocket answers with the new token
// before the connection, opened with the old one, closes.
func TestChangePasswordOverWebSocketAnswersThenCloses(t *testing.T) {
	e := newEnvWithAccounts(t)
	tok := e.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	c := e.dial(tok)
	c.subscribe("1", changePassword, map[string]any{"in": map[string]any{"currentPassword": password, "newPassword": "a new password here"}})
	data := c.next("1")
	payload, _ := data["changePassword"].(map[string]any)
	fresh, _ := payload["token"].(string)
	if fresh == "" {
		t.Fatalf("change over the WebSocket answered no token: %v", data)
	}
	if r := e.ok(fresh, `{ viewer { role } }`, nil); r.str("viewer", "role") != "MENTEE" {
		t.Fatalf("the new token: %s", r.raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var m map[string]any
		if err := readJSON(ctx, c, &m); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the connection opened with the old token stayed open")
			}
			return
		}
	}
}

// A refused reset or password change says what went wrong to the person
// making it: a reset link that does not work is named as such (not "sign in
// first", to someone who cannot), and a wrong current password as the
// current password (not "the email or password", which was not asked for).
func TestPasswordRefusalsSayWhatWentWrong(t *testing.T) {
	e := newEnvWithAccounts(t)
	tok := e.signUp("Mentee", "Ada Lovelace", "ada@example.org")

	r := e.do(tok, changePassword, map[string]any{"in": map[string]any{"currentPassword": "not the password", "newPassword": "a new password here"}})
	if r.str("changePassword", "userErrors", 0, "code") != "INVALID_CREDENTIALS" || r.str("changePassword", "userErrors", 0, "message") != "the current password is wrong" {
		t.Errorf("a wrong current password: %s", r.raw)
	}

	e.ok("", `mutation { requestPasswordReset(input: {role: MENTEE, email: "ada@example.org"}) { ok } }`, nil)
	if err := e.accounts.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(e.mailbox, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d emails in the mailbox, want 1", len(files))
	}
	msg, _ := os.ReadFile(files[0])
	m := resetLink.FindSubmatch(msg)
	if m == nil {
		t.Fatalf("no reset link in: %s", msg)
	}
	reset := `mutation($t: String!) { resetPassword(input: {token: $t, newPassword: "a brand new passphrase"}) { ok } }`
	e.ok("", reset, map[string]any{"t": string(m[1])})
	for name, token := range map[string]string{"a used link": string(m[1]), "a malformed link": "not a token"} {
		r := e.do("", reset, map[string]any{"t": token})
		if r.code() != "UNAUTHENTICATED" || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "reset link") {
			t.Errorf("%s: %s", name, r.raw)
		}
	}
}
