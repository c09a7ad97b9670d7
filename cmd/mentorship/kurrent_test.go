package main

import (
	"testing"

	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
)

// The server runs on KurrentDB (here the protocol-level test server): a
// member signs up, requests a match and reads it back.
func TestServeOnKurrentDB(t *testing.T) {
	kdb := kurrenttest.New(t)
	ts := startServer(t, "", "--kurrentdb-url", kdb.ConnectionString())
	mentee := &client{t: t, url: ts.URL}
	mentor := &client{t: t, url: ts.URL}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	d = mentor.gql(`mutation { registerMentor(input: {name: "Grace", email: "grace@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	mentor.token = dig(d, "registerMentor", "token").(string)
	mentorID := dig(d, "registerMentor", "viewer", "id").(string)
	d = mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id status } userErrors { code } } }`, map[string]any{"m": mentorID})
	if dig(d, "requestMatch", "match", "status") != "PENDING" {
		t.Fatalf("request on KurrentDB: %v", d)
	}
	d = mentor.gql(`{ myMatches(group: PENDING) { totalCount } }`, nil)
	if dig(d, "myMatches", "totalCount") != float64(1) {
		t.Fatalf("the mentor's view on KurrentDB: %v", d)
	}
}
