package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

// Every role against every operation and private field: each cell is
// asserted allowed or refused.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, otherMenteeTok := e.user(domain.RoleMentee, "Olive Other")
	_, otherMentorTok := e.user(domain.RoleMentor, "Oscar Other")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")
	for _, a := range []struct {
		actor domain.Actor
		email string
	}{{mentee, "mia@example.org"}, {mentor, "max@example.org"}} {
		if _, err := e.svc.UpdateProfile(ctx, command.Request{Actor: a.actor}, a.actor.ID, domain.Profile{Name: "Member", Contact: domain.Contact{Email: a.email}}); err != nil {
			t.Fatal(err)
		}
	}
	matchID, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, matchID)
	if err != nil {
		t.Fatal(err)
	}
	date := domain.DateOf(e.clock.Now(), e.svc.Program().Location)
	sessionID := uuid.New()
	res2, err := e.svc.LogSession(ctx, command.Request{Actor: mentee}, matchID, sessionID, domain.SessionDetails{Date: date, Minutes: 30, Notes: "private notes"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, max(res.Position, res2.Position)); err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"match": gid(model.KindMatch, matchID), "session": gid(model.KindSession, sessionID), "mentee": gid(model.KindMember, mentee.ID)}

	roles := []struct {
		name, token string
	}{
		{"anonymous", ""}, {"mentee", menteeTok}, {"mentor", mentorTok}, {"other mentee", otherMenteeTok},
		{"other mentor", otherMentorTok}, {"staff", staffTok}, {"auditor", auditorTok},
	}
	// allowed: a role name set; a cell outside it must be refused (an
	// error, or null data where the API hides rather than refuses).
	type check func(r response) bool
	errCode := func(code string) check { return func(r response) bool { return r.code() == code } }
	nullAt := func(path ...any) check {
		return func(r response) bool { return len(r.Errors) == 0 && r.get(path...) == nil }
	}
	notNullAt := func(path ...any) check {
		return func(r response) bool { return len(r.Errors) == 0 && r.get(path...) != nil }
	}
	cases := []struct {
		op      string
		query   string
		allowed []string
		ok      check
		refused check
	}{
		{"searchMentors", `{ searchMentors { totalCount } }`, []string{"mentee", "mentor", "other mentee", "other mentor", "staff"}, notNullAt("searchMentors"), errOrForbidden},
		{"myMatches", `{ myMatches { totalCount } }`, []string{"mentee", "mentor", "other mentee", "other mentor"}, notNullAt("myMatches"), errOrForbidden},
		{"match", `query($match: ID!) { match(id: $match) { id } }`, []string{"mentee", "mentor", "staff", "auditor"}, notNullAt("match"), anyOf(nullAt("match"), errCode("UNAUTHENTICATED"))},
		{"match contact", `query($match: ID!) { match(id: $match) { mentee { contact { email } } } }`, []string{"mentee", "mentor", "staff"}, notNullAt("match", "mentee", "contact"), anyOf(nullAt("match", "mentee", "contact"), errCode("UNAUTHENTICATED"))},
		{"match documents", `query($match: ID!) { match(id: $match) { documents { id } } }`, []string{"mentee", "mentor", "staff"}, notNullAt("match", "documents"), anyOf(nullAt("match", "documents"), errCode("UNAUTHENTICATED"))},
		{"session node", `query($session: ID!) { node(id: $session) { id } }`, []string{"mentee"}, notNullAt("node"), anyOf(nullAt("node"), errCode("UNAUTHENTICATED"))},
		{"member contact via node", `query($mentee: ID!) { node(id: $mentee) { ... on Member { contact { email } } } }`, []string{"mentee", "mentor", "staff"}, notNullAt("node", "contact"), anyOf(nullAt("node", "contact"), nullAt("node"), errCode("UNAUTHENTICATED"))},
		{"matchHistory", `query($match: ID!) { matchHistory(matchId: $match) { totalCount } }`, []string{"staff", "auditor"}, notNullAt("matchHistory"), errOrForbidden},
		{"mySessions", `{ mySessions { totalCount } }`, []string{"mentee", "mentor", "other mentee", "other mentor"}, notNullAt("mySessions"), errOrForbidden},
		{"cpdSummary", `{ cpdSummary { totalHours } }`, []string{"mentee", "mentor", "other mentee", "other mentor"}, notNullAt("cpdSummary"), errOrForbidden},
		{"resources", `{ resources { totalCount } }`, []string{"mentee", "mentor", "other mentee", "other mentor", "staff"}, notNullAt("resources"), errOrForbidden},
		{"staffQueue", `{ staffQueue { nudgeRequests { id } } }`, []string{"staff"}, notNullAt("staffQueue"), errOrForbidden},
		{"dashboard", `{ dashboard { active } }`, []string{"staff"}, notNullAt("dashboard"), errOrForbidden},
		{"programOptions", `{ programOptions { disciplines } }`, []string{"anonymous", "mentee", "mentor", "other mentee", "other mentor", "staff", "auditor"}, notNullAt("programOptions"), errOrForbidden},
		{"viewer", `{ viewer { role } }`, []string{"mentee", "mentor", "other mentee", "other mentor", "staff", "auditor"}, notNullAt("viewer"), nullAt("viewer")},
		{"addSession", `mutation($match: ID!) { addSession(input: {matchId: $match, date: "2026-04-06", minutes: 10}) { userErrors { code } } }`, []string{"mentee", "mentor"}, noUserErrors, anyOf(errOrForbidden, userErrorCode("NOT_YOUR_MATCH"))},
		{"nudgeMentor", `mutation($match: ID!) { nudgeMentor(input: {matchId: $match}) { userErrors { code } } }`, []string{"staff"}, func(r response) bool { return len(r.Errors) == 0 }, errOrForbidden},
		{"endMatch", `mutation($match: ID!, $mentee: ID!) { endMatch(input: {matchId: $match, reason: "OTHER", requestedBy: $mentee, note: "n"}) { userErrors { code } } }`, []string{"staff"}, func(r response) bool { return len(r.Errors) == 0 }, errOrForbidden},
		{"publishResource", `mutation { publishResource(input: {title: "Guide", url: "https://example.org/guide", audience: BOTH, clientMutationId: "p"}) { userErrors { code } } }`, []string{"staff"}, func(r response) bool { return len(r.Errors) == 0 }, errOrForbidden},
	}
	for _, tc := range cases {
		for _, role := range roles {
			allowed := false
			for _, a := range tc.allowed {
				allowed = allowed || a == role.name
			}
			r := e.do(role.token, tc.query, usedVars(tc.query, vars))
			if allowed && !tc.ok(r) {
				t.Errorf("%s as %s: want allowed, got %s", tc.op, role.name, r.raw)
			}
			if !allowed && !tc.refused(r) {
				t.Errorf("%s as %s: want refused, got %s", tc.op, role.name, r.raw)
			}
		}
	}
}

func errOrForbidden(r response) bool { return r.code() == "FORBIDDEN" || r.code() == "UNAUTHENTICATED" }

func noUserErrors(r response) bool {
	return len(r.Errors) == 0 && !strings.Contains(string(r.raw), `"userErrors":[{`)
}

func userErrorCode(code string) func(r response) bool {
	return func(r response) bool { return strings.Contains(string(r.raw), `"code":"`+code+`"`) }
}

func anyOf(cs ...func(response) bool) func(response) bool {
	return func(r response) bool {
		for _, c := range cs {
			if c(r) {
				return true
			}
		}
		return false
	}
}

// usedVars passes only the variables a query declares.
func usedVars(query string, vars map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range vars {
		if strings.Contains(query, "$"+k+":") {
			out[k] = v
		}
	}
	return out
}
