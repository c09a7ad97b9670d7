package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/mail/smtptest"
)

// An email the server owes while its mail relay is down stays in the
// outbox, through restarts, until the relay takes it, and reaches the
// relay exactly once: the relay is down, then answering "451 busy", then
// well, while the server restarts later each time (the clock offset stands
// in for the hours that pass), and a later email goes out beside it
// without the first one being sent again.
func TestEmailsOutlastARelayThatIsDown(t *testing.T) {
	relay := smtptest.Reserve(t, smtptest.Options{})
	dir := t.TempDir()
	createOperator(t, dir, "staff", "staff@example.org")
	serve := func(offset time.Duration) *testServer {
		return startServer(t, dir, "--smtp-host", relay.Host(), "--smtp-port", strconv.Itoa(relay.Port()), "--smtp-tls", "none",
			"--clock-offset", offset.String(), "--signup-limit", "off")
	}
	ts := serve(0)
	mentee, mentor, mentorID := signUpPair(t, ts.URL)
	d := mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "Hello"}) { match { id } userErrors { code } } }`, map[string]any{"m": mentorID})
	matchID := dig(d, "requestMatch", "match", "id").(string)

	// emails waits until the match's emails satisfy ok, as staff see them.
	emails := func(ts *testServer, what string, ok func([]any) bool) []any {
		t.Helper()
		staff := &client{t: t, url: ts.URL}
		staff.login("Staff", "staff@example.org")
		deadline := time.Now().Add(30 * time.Second)
		for {
			d := staff.gql(`query($id: ID!) { match(id: $id) { emails { id kind to status attempts lastError } } }`, map[string]any{"id": matchID})
			es, _ := dig(d, "match", "emails").([]any)
			if ok(es) {
				return es
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the emails are %v", what, es)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	toMentor := func(es []any) map[string]any {
		for _, e := range es {
			if dig(e, "to") == "grace@example.org" && dig(e, "kind") != "" {
				return e.(map[string]any)
			}
		}
		return nil
	}
	failing := func(attempts int) func([]any) bool {
		return func(es []any) bool {
			e := toMentor(es)
			return e != nil && e["status"] == "FAILING" && e["attempts"] == float64(attempts)
		}
	}

	// The relay refuses connections: the email to the mentor fails once
	// and waits for its next attempt.
	es := emails(ts, "the first attempt with the relay down", failing(1))
	requestEmail := toMentor(es)["id"].(string)
	ts.Stop(t)

	// An hour later the relay listens but is busy.
	relay.Resume()
	relay.Refuse(true)
	ts = serve(time.Hour)
	es = emails(ts, "the attempt with the relay busy", failing(2))
	if got := toMentor(es)["lastError"].(string); !strings.Contains(got, "451") {
		t.Errorf("last error %q, want the relay's 451", got)
	}
	if n := len(relay.Messages()); n != 0 {
		t.Fatalf("a busy relay received %d emails", n)
	}
	ts.Stop(t)

	// Three hours later the relay is well: the email is sent, once.
	relay.Refuse(false)
	ts = serve(3 * time.Hour)
	emails(ts, "delivery once the relay is back", func(es []any) bool {
		e := toMentor(es)
		return e != nil && e["status"] == "SENT"
	})
	ts.Stop(t)

	// A day later, after another restart, accepting the match owes two
	// introductions; they arrive, and the request's email is not sent again.
	ts = serve(24 * time.Hour)
	mentor.url = ts.URL
	mentor.login("Mentor", "grace@example.org")
	mentor.gql(`mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { status } userErrors { code } } }`, map[string]any{"id": matchID})
	es = emails(ts, "the introductions", func(es []any) bool {
		sent := 0
		for _, e := range es {
			if dig(e, "status") == "SENT" {
				sent++
			}
		}
		return sent == len(es) && sent >= 3
	})
	relay.WaitFor(len(es), 10*time.Second)
	counts := relay.CountByMessageID()
	if len(counts) != len(es) {
		t.Errorf("the relay received %d distinct emails for %d in the outbox", len(counts), len(es))
	}
	for mid, n := range counts {
		if n != 1 {
			t.Errorf("the relay received %s %d times", mid, n)
		}
	}
	found := false
	for mid := range counts {
		found = found || strings.HasPrefix(mid, requestEmail+"@")
	}
	if !found {
		t.Errorf("no message carries the request email's idempotency key %s: %v", requestEmail, counts)
	}
}
