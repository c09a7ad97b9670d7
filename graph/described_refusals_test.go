package graph_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

// mutationDescription returns the schema's description of a mutation.
func mutationDescription(t *testing.T, name string) string {
	t.Helper()
	schema, err := gqlparser.LoadSchema(schemaSources(t)...)
	if err != nil {
		t.Fatal(err)
	}
	f := schema.Mutation.Fields.ForName(name)
	if f == nil {
		t.Fatalf("no mutation %s", name)
	}
	return f.Description
}

// The refusals that come from a reused clientMutationId or an erased
// member are answered, so the schema lists them with the codes of the
// mutation that answers them.
func TestAnsweredRefusalsAreDescribed(t *testing.T) {
	e := newEnv(t)
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, _, menteeTok, _, matchID := newActiveMatch(t, e)
	_, otherMenteeTok := e.user(domain.RoleMentee, "Olive Other")
	mentorA, _ := e.user(domain.RoleMentor, "Ann Mentor")
	mentorB, _ := e.user(domain.RoleMentor, "Bob Mentor")
	erased, _ := e.user(domain.RoleMentee, "Eve Erased")

	answered := map[string]map[string]response{}
	note := func(mutation, code string, r response) {
		if answered[mutation] == nil {
			answered[mutation] = map[string]response{}
		}
		answered[mutation][code] = r
	}

	add := `mutation($m: ID!, $min: Int) { addSession(input: {matchId: $m, date: "` + e.clock.Now().Format("2006-01-02") + `", minutes: $min, clientMutationId: "log-1"}) { session { id } userErrors { code } } }`
	e.ok(menteeTok, add, map[string]any{"m": matchID, "min": 30})
	note("addSession", "CLIENT_MUTATION_ID_REUSED", e.do(menteeTok, add, map[string]any{"m": matchID, "min": 60}))

	request := `mutation($m: ID!) { requestMatch(input: {mentorId: $m, clientMutationId: "ask-1"}) { match { id } userErrors { code } } }`
	e.ok(otherMenteeTok, request, map[string]any{"m": gid(model.KindMember, mentorA.ID)})
	note("requestMatch", "CLIENT_MUTATION_ID_REUSED", e.do(otherMenteeTok, request, map[string]any{"m": gid(model.KindMember, mentorB.ID)}))

	e.ok(staffTok, eraseQuery, map[string]any{"id": gid(model.KindMember, erased.ID), "reason": "asked to close the account"})
	note("updateProfile", "MEMBER_ERASED", e.do(staffTok, `mutation($id: ID!) { updateProfile(input: {memberId: $id, biography: "x"}) { member { id } userErrors { code } } }`,
		map[string]any{"id": gid(model.KindMember, erased.ID)}))

	for mutation, codes := range answered {
		desc := mutationDescription(t, mutation)
		for code, r := range codes {
			if got := r.str(mutation, "userErrors", 0, "code"); got != code {
				t.Errorf("%s answered %q, want %s: %s", mutation, got, code, r.raw)
			}
			if !strings.Contains(desc, code) {
				t.Errorf("%s answers %s, which its description does not list: %q", mutation, code, desc)
			}
		}
	}
	// Answered as other tests show.
	for _, c := range []struct{ mutation, code, shownBy string }{
		{"requestMatch", "MEMBER_ERASED", "TestAnErasedMentorLeavesTheDirectory"},
		{"uploadDocument", "DOCUMENT_EXISTS", "TestRefusedUploadCleansUpOnlyItsOwnBytes"},
	} {
		if desc := mutationDescription(t, c.mutation); !strings.Contains(desc, c.code) {
			t.Errorf("%s answers %s (%s), which its description does not list: %q", c.mutation, c.code, c.shownBy, desc)
		}
	}
}
