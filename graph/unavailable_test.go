package graph_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/projections"
)

// downMembers is a shared read-model store that cannot answer, as the
// Redis one does when Redis is out of reach.
type downMembers struct{}

func down() error { return fmt.Errorf("%w: connection refused", projections.ErrUnavailable) }

func (downMembers) Member(uuid.UUID) (*projections.MemberView, bool) { panic(down()) }
func (downMembers) MembersByID([]uuid.UUID) []*projections.MemberView {
	panic(down())
}
func (downMembers) SearchMentors(projections.SearchQuery) (projections.SearchResult, error) {
	panic(down())
}
func (downMembers) Scan(func(*projections.MemberView) bool) ([]*projections.MemberView, error) {
	return nil, down()
}

// A read-model store that cannot answer gives UNAVAILABLE errors, never a
// wrong "not found" nor a crash, and the server goes on answering.
func TestUnavailableReadModelsGiveUnavailableErrors(t *testing.T) {
	e := buildEnvWith(t, false, func(r *graph.Resolver) { r.Members = downMembers{} })
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	for _, q := range []string{
		`{ searchMentors { totalCount } }`,
		`{ viewer { member { name } } }`,
		`{ recommendedMentors { score } }`,
	} {
		r := e.do(tok, q, nil)
		if r.Status != http.StatusOK || r.code() != graph.CodeUnavailable {
			t.Fatalf("%s: %d %s", q, r.Status, r.raw)
		}
	}
	if r := e.do(tok, `{ viewer { role } }`, nil); r.code() != "" || r.get("viewer", "role") != "MENTEE" {
		t.Fatalf("after the failures: %s", r.raw)
	}
}
