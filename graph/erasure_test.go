package graph_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/refusal"
)

const (
	closeQuery = `mutation($note: String) { requestAccountClosure(input: {note: $note}) { member { id closureRequest { note } } userErrors { code field message } } }`
	eraseQuery = `mutation($id: ID!, $reason: String!) { eraseMember(input: {memberId: $id, reason: $reason}) { member { id name erased biography } userErrors { code field message } } }`
	queueQuery = `{ staffQueue { closureRequests { member { id name } note openMatches } } }`
)

// A member's request to close the account is seen by the member and staff
// only, waits in the staff queue with the count of open matches, and a
// second request is refused while the first waits.
func TestClosureRequestIsShownToTheMemberAndStaffOnly(t *testing.T) {
	e := newEnv(t)
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	id := gid(model.KindMember, mentor.ID)
	// A request waiting for the mentor's answer is an open match, though
	// the mentor's own stream does not hold it.
	e.ok(menteeTok, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } userErrors { code } } }`, map[string]any{"m": id})

	r := e.ok(mentorTok, closeQuery, map[string]any{"note": "Retiring this year"})
	if r.str("requestAccountClosure", "member", "closureRequest", "note") != "Retiring this year" {
		t.Fatalf("the member does not see their request: %s", r.raw)
	}
	if r := e.do(mentorTok, closeQuery, nil); r.str("requestAccountClosure", "userErrors", 0, "code") != string(domain.CodeClosureAlreadyRequested) {
		t.Fatalf("a second request: %s", r.raw)
	}
	r = e.ok(staffTok, queueQuery, nil)
	if r.str("staffQueue", "closureRequests", 0, "member", "id") != id || r.str("staffQueue", "closureRequests", 0, "note") != "Retiring this year" ||
		r.get("staffQueue", "closureRequests", 0, "openMatches") != float64(1) {
		t.Fatalf("staff queue: %s", r.raw)
	}
	for who, tok := range map[string]string{"another mentee": menteeTok, "an auditor": auditorTok} {
		r := e.ok(tok, `query($id: ID!) { node(id: $id) { ... on Member { id closureRequest { note } } } }`, map[string]any{"id": id})
		if r.str("node", "id") != id || r.get("node", "closureRequest") != nil {
			t.Errorf("%s sees: %s", who, r.raw)
		}
	}
	for _, tok := range []string{menteeTok, auditorTok, mentorTok} {
		if r := e.do(tok, queueQuery, nil); r.code() != "FORBIDDEN" {
			t.Errorf("staffQueue for a non-staff token: %s", r.raw)
		}
	}
	if r := e.do(staffTok, closeQuery, nil); r.code() != "FORBIDDEN" {
		t.Errorf("staff asking to close an account: %s", r.raw)
	}
}

// Every refusal of an erasure says why and changes nothing.
func TestEraseMemberRefusals(t *testing.T) {
	e := newEnv(t)
	staff, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	e.ok(menteeTok, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } userErrors { code } } }`, map[string]any{"m": gid(model.KindMember, mentor.ID)})

	for _, tc := range []struct {
		name, id, reason, code, field string
	}{
		{"a member with a pending request", gid(model.KindMember, mentor.ID), "asked", string(domain.CodeMemberHasOpenMatch), ""},
		{"staff themselves", gid(model.KindMember, staff.ID), "asked", string(domain.CodeCannotEraseSelf), ""},
		{"an unknown member", gid(model.KindMember, uuid.New()), "asked", string(domain.CodeMemberNotFound), ""},
		{"without a reason", gid(model.KindMember, mentor.ID), "  ", string(refusal.CodeInvalidInput), "reason"},
	} {
		before := e.head()
		r := e.do(staffTok, eraseQuery, map[string]any{"id": tc.id, "reason": tc.reason})
		if got := r.str("eraseMember", "userErrors", 0, "code"); got != tc.code || r.str("eraseMember", "userErrors", 0, "message") == "" {
			t.Errorf("%s: %s", tc.name, r.raw)
		}
		if tc.field != "" && r.str("eraseMember", "userErrors", 0, "field") != tc.field {
			t.Errorf("%s: field: %s", tc.name, r.raw)
		}
		if e.head() != before {
			t.Errorf("%s: a refused erasure wrote to the log", tc.name)
		}
	}
	// The refused payload shows the member as they are.
	r := e.do(staffTok, eraseQuery, map[string]any{"id": gid(model.KindMember, mentor.ID), "reason": "asked"})
	if r.get("eraseMember", "member", "erased") != false || r.str("eraseMember", "member", "name") != "Max Mentor" {
		t.Errorf("the refused erasure's member: %s", r.raw)
	}
	if r := e.do(mentorTok, eraseQuery, map[string]any{"id": gid(model.KindMember, mentor.ID), "reason": "me"}); r.code() != "FORBIDDEN" {
		t.Errorf("a member erasing themselves: %s", r.raw)
	}
}

// An erased mentor is found by no search or recommendation and cannot be
// requested; the erased member's profile shows nothing of them, and
// erasing again succeeds without writing.
func TestAnErasedMentorLeavesTheDirectory(t *testing.T) {
	e := newEnv(t)
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	e.ok(mentorTok, `mutation { updateProfile(input: {biography: "Hydrology and dams."}) { userErrors { code } } }`, nil)
	id := gid(model.KindMember, mentor.ID)
	search := `{ searchMentors(input: {words: "hydrology"}) { totalCount } all: searchMentors(input: {}) { edges { node { id } } } }`
	if r := e.ok(menteeTok, search, nil); r.get("searchMentors", "totalCount") != float64(1) {
		t.Fatalf("before: %s", r.raw)
	}
	r := e.ok(staffTok, eraseQuery, map[string]any{"id": id, "reason": "asked to close the account"})
	if r.get("eraseMember", "member", "erased") != true || r.str("eraseMember", "member", "name") != domain.ErasedName || r.get("eraseMember", "member", "biography") != nil {
		t.Fatalf("erased: %s", r.raw)
	}
	r = e.ok(menteeTok, search, nil)
	if r.get("searchMentors", "totalCount") != float64(0) {
		t.Errorf("the erased mentor is still found: %s", r.raw)
	}
	for _, edge := range r.get("all", "edges").([]any) {
		if edge.(map[string]any)["node"].(map[string]any)["id"] == id {
			t.Errorf("the erased mentor is listed: %s", r.raw)
		}
	}
	r = e.do(menteeTok, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } userErrors { code field } } }`, map[string]any{"m": id})
	if r.str("requestMatch", "userErrors", 0, "code") != string(domain.CodeMemberErased) {
		t.Errorf("requesting the erased mentor: %s", r.raw)
	}
	before := e.head()
	e.ok(staffTok, eraseQuery, map[string]any{"id": id, "reason": "asked to close the account"})
	if e.head() != before {
		t.Error("erasing again wrote to the log")
	}
}
