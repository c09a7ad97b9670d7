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
	mentee, mentor, mentorID := signUpPair(t, ts.URL)
	d := mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id status } userErrors { code } } }`, map[string]any{"m": mentorID})
	if dig(d, "requestMatch", "match", "status") != "PENDING" {
		t.Fatalf("request on KurrentDB: %v", d)
	}
	d = mentor.gql(`{ myMatches(group: PENDING) { totalCount } }`, nil)
	if dig(d, "myMatches", "totalCount") != float64(1) {
		t.Fatalf("the mentor's view on KurrentDB: %v", d)
	}
}

// signUpPair registers a mentee and a mentor through the API and returns
// their clients and the mentor's ID.
func signUpPair(t *testing.T, url string) (mentee, mentor *client, mentorID string) {
	t.Helper()
	mentee, mentor = &client{t: t, url: url}, &client{t: t, url: url}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	d = mentor.gql(`mutation { registerMentor(input: {name: "Grace", email: "grace@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	mentor.token = dig(d, "registerMentor", "token").(string)
	return mentee, mentor, dig(d, "registerMentor", "viewer", "id").(string)
}
