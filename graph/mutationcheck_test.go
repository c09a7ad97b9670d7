package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
)

// A mutation operation that would fail after changing something is
// refused whole before anything runs: an argument its resolver would
// refuse, anywhere in the operation, and different mutations in one
// operation. Each case writes nothing and answers BAD_USER_INPUT.
func TestMutationRefusedBeforeAnythingChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	pendingMentee, _ := e.user(domain.RoleMentee, "Pia Pending")
	matchID, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: pendingMentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(e.svc.Program().ResponseWindow + time.Hour)
	mentorID, pending := gid(model.KindMember, mentor.ID), gid(model.KindMatch, matchID)

	cases := []struct {
		name, token, query string
		vars               map[string]any
		want               string // in the message
		argument           string // in extensions.argument, when set
	}{
		{"a request and a cancel of a malformed ID", menteeTok,
			`mutation($m: ID!) { a: requestMatch(input: {mentorId: $m}) { match { id status } } b: cancelMatchRequest(input: {matchId: "garbage"}) { match { id } } }`,
			map[string]any{"m": mentorID}, "one kind of mutation", ""},
		{"a cancel and a cancel of a malformed ID", menteeTok,
			`mutation($x: ID!) { a: cancelMatchRequest(input: {matchId: $x}) { match { id } } b: cancelMatchRequest(input: {matchId: "garbage"}) { match { id } } }`,
			map[string]any{"x": pending}, `invalid ID: \"garbage\"`, "input.matchId"},
		{"a request and a cancel of a well-formed ID", menteeTok,
			`mutation($m: ID!, $x: ID!) { a: requestMatch(input: {mentorId: $m}) { match { id } } b: cancelMatchRequest(input: {matchId: $x}) { match { id } } }`,
			map[string]any{"m": mentorID, "x": pending}, "one kind of mutation", ""},
		{"an ID of another kind", menteeTok,
			`mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } } }`,
			map[string]any{"m": pending}, "is a Match ID, not a Member ID", "input.mentorId"},
		{"a page over its limit in the payload", staffTok,
			`mutation($x: ID!) { nudgeMentor(input: {matchId: $x}) { match { mentee { matches(first: 1000) { totalCount } } } } }`,
			map[string]any{"x": pending}, "first must be between 0 and 100", "first"},
		{"a page over its limit from a variable, in a fragment", staffTok,
			`mutation($x: ID!, $n: Int) { nudgeMentor(input: {matchId: $x}) { ...P } } fragment P on MatchPayload { match { mentor { matches(first: $n) { totalCount } } } }`,
			map[string]any{"x": pending, "n": 101}, "first must be between 0 and 100", ""},
		{"a cursor that is not one", staffTok,
			`mutation($x: ID!) { nudgeMentor(input: {matchId: $x}) { match { mentee { matches(after: "zz!") { totalCount } } } } }`,
			map[string]any{"x": pending}, "invalid cursor", ""},
		{"an offset cursor", staffTok,
			`mutation($x: ID!) { nudgeMentor(input: {matchId: $x}) { match { mentee { matches(after: "MQ") { totalCount } } } } }`,
			map[string]any{"x": pending}, "invalid cursor", ""},
		{"a cursor of another list", staffTok,
			`mutation($x: ID!) { nudgeMentor(input: {matchId: $x}) { match { mentee { matches(after: "cjA") { totalCount } } } } }`,
			map[string]any{"x": pending}, "invalid cursor", ""},
	}
	for _, c := range cases {
		before := e.head()
		r := e.do(c.token, c.query, c.vars)
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(string(r.raw), c.want) {
			t.Errorf("%s: want BAD_USER_INPUT saying %q, got %s", c.name, c.want, r.raw)
		}
		if e.head() != before {
			t.Errorf("%s: refused, yet %d events were written", c.name, e.head()-before)
		}
		if c.argument != "" && !strings.Contains(string(r.raw), `"argument":"`+c.argument+`"`) {
			t.Errorf("%s: the error does not name argument %s: %s", c.name, c.argument, r.raw)
		}
	}

	// What the check lets through still runs: a skipped field is not
	// checked, aliases of one mutation run together, and a payload's page
	// within its limit answers.
	r := e.do(staffTok, `mutation($x: ID!, $no: Boolean!) { nudgeMentor(input: {matchId: $x}) { match { id mentee { matches(first: 1000) @include(if: $no) { totalCount } } } userErrors { code } } }`,
		map[string]any{"x": pending, "no": false})
	if len(r.Errors) > 0 || r.str("nudgeMentor", "match", "id") != pending {
		t.Fatalf("a nudge with a skipped page: %s", r.raw)
	}
	r = e.do(menteeTok, `mutation { a: updateProfile(input: {name: "Mia One"}) { userErrors { code } } b: updateProfile(input: {name: "Mia Two"}) { member { name } } }`, nil)
	if len(r.Errors) > 0 || r.str("b", "member", "name") != "Mia Two" {
		t.Fatalf("aliases of one mutation: %s", r.raw)
	}
}

// failFirstStore refuses its first append as a full disk would, and takes
// the others.
type failFirstStore struct {
	eventstore.Store
	failed atomic.Bool
}

func (s *failFirstStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.failed.CompareAndSwap(false, true) {
		return eventstore.AppendResult{}, fmt.Errorf("append: %w: no space left for the journal", eventstore.ErrUnavailable)
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// Once a root field of a mutation operation failed, whose error nulls the
// whole answer, the fields after it do not run: a change they made would
// go unanswered.
func TestMutationFieldsAfterAFailureDoNotRun(t *testing.T) {
	e := buildEnvWith(t, false, func(r *graph.Resolver) {
		svc, err := command.New(&failFirstStore{Store: r.Store}, domain.DefaultProgram(), r.Clock, command.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.Commands = svc
	})
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	before := e.head()
	r := e.do(tok, `mutation { a: updateProfile(input: {name: "Mia One"}) { userErrors { code } } b: updateProfile(input: {name: "Mia Two"}) { userErrors { code } } }`, nil)
	if e.head() != before {
		t.Fatalf("b ran after a failed, unanswered: %d events written; answer %s", e.head()-before, r.raw)
	}
	if len(r.Errors) != 2 || !strings.Contains(string(r.raw), "not run: a failed before it") {
		t.Fatalf("the answer: %s", r.raw)
	}
	// The next operation runs normally.
	if r := e.do(tok, `mutation { updateProfile(input: {name: "Mia Two"}) { member { name } } }`, nil); r.str("updateProfile", "member", "name") != "Mia Two" {
		t.Fatalf("the next operation: %s", r.raw)
	}
}

// A malformed value of the schema's own scalars (a Date) in a later alias
// refuses the operation whole, as a malformed ID does, instead of failing
// that alias after the earlier ones made their change; and a mutation
// that ends the account's sessions runs once per operation, since a
// second alias would run signed out and null the first one's new token.
func TestMalformedScalarsAndSessionEndingAliasesAreRefusedWhole(t *testing.T) {
	e := newEnv(t)
	_, _, menteeTok, _, matchID := newActiveMatch(t, e)
	today := e.clock.Now().Format("2006-01-02")
	for _, c := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"a literal", `mutation($m: ID!) { a: addSession(input: {matchId: $m, date: "` + today + `", minutes: 25}) { session { id } } b: addSession(input: {matchId: $m, date: "2026-13-45", minutes: 26}) { session { id } } }`, map[string]any{"m": matchID}},
		{"a variable", `mutation($m: ID!, $d: Date!) { a: addSession(input: {matchId: $m, date: "` + today + `", minutes: 25}) { session { id } } b: addSession(input: {matchId: $m, date: $d, minutes: 26}) { session { id } } }`, map[string]any{"m": matchID, "d": "2026-02-30"}},
		{"an input variable", `mutation($m: ID!, $in: AddSessionInput!) { a: addSession(input: {matchId: $m, date: "` + today + `", minutes: 25}) { session { id } } b: addSession(input: $in) { session { id } } }`, map[string]any{"m": matchID, "in": map[string]any{"matchId": matchID, "date": "yesterday"}}},
	} {
		before := e.head()
		r := e.do(menteeTok, c.query, c.vars)
		if len(r.Errors) != 1 || r.Data != nil {
			t.Errorf("%s: %s", c.name, r.raw)
		}
		if code := r.code(); code != "BAD_USER_INPUT" && code != graph.CodeValidationFailed {
			t.Errorf("%s: code %s: %s", c.name, code, r.raw)
		}
		if e.head() != before {
			t.Errorf("%s: refused, yet %d events were written", c.name, e.head()-before)
		}
	}

	a := newEnvWithAccounts(t)
	tok := a.signUp("Mentee", "Ada Lovelace", "ada@example.org")
	r := a.do(tok, `mutation { a: changePassword(input: {currentPassword: "`+password+`", newPassword: "a second passphrase"}) { token } b: changePassword(input: {currentPassword: "a second passphrase", newPassword: "a third passphrase"}) { token } }`, nil)
	if r.code() != "BAD_USER_INPUT" || !strings.Contains(string(r.raw), "may run it once") {
		t.Fatalf("two changePassword aliases: %s", r.raw)
	}
	if r := a.do(tok, `{ viewer { role } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("the refused operation ended the session: %s", r.raw)
	}
}
