package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The server emails the mentor about a new request (into the mailbox folder
// when no SMTP relay is configured), and staff see the email on the match.
func TestRequestEmailsTheMentorAndStaffSeeIt(t *testing.T) {
	dir := t.TempDir()
	createOperator(t, dir, "staff", "staff@example.org")
	ts := startServer(t, dir)
	mentee := &client{t: t, url: ts.URL}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	mentor := &client{t: t, url: ts.URL}
	d = mentor.gql(`mutation { registerMentor(input: {name: "Grace", email: "grace@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	d = mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "Hello"}) { match { id } } }`, map[string]any{"m": dig(d, "registerMentor", "viewer", "id")})
	matchID := dig(d, "requestMatch", "match", "id").(string)
	staff := &client{t: t, url: ts.URL}
	staff.login("Staff", "staff@example.org")

	deadline := time.Now().Add(30 * time.Second)
	for {
		d = staff.gql(`query($id: ID!) { match(id: $id) { emails { kind to status } } }`, map[string]any{"id": matchID})
		emails, _ := dig(d, "match", "emails").([]any)
		sent := false
		for _, e := range emails {
			sent = sent || (dig(e, "to") == "grace@example.org" && dig(e, "status") == "SENT")
		}
		if sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email to the mentor was sent: %v", d)
		}
		runtime.Gosched()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "mailbox", "*.eml"))
	found := false
	for _, f := range files {
		b, _ := os.ReadFile(f)
		found = found || strings.Contains(string(b), "grace@example.org")
	}
	if !found {
		t.Fatal("the email is not in the mailbox folder")
	}
	// Members do not see the outbox.
	if d := mentee.gql(`query($id: ID!) { match(id: $id) { emails { to } } }`, map[string]any{"id": matchID}); dig(d, "match", "emails") != nil {
		t.Fatalf("a mentee sees the outbox: %v", d)
	}
}
