package graph_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// downMembers and downMatches are shared read-model stores that cannot
// answer, as the Redis ones do when Redis is out of reach: every read
// returns an error.
type (
	downMembers struct{}
	downMatches struct{}
)

func down() error { return fmt.Errorf("%w: connection refused", projections.ErrUnavailable) }

func (downMembers) Member(uuid.UUID) (*projections.MemberView, bool, error) {
	return nil, false, down()
}
func (downMembers) MembersByID([]uuid.UUID) ([]*projections.MemberView, error) {
	return nil, down()
}
func (downMembers) SearchMentors(projections.SearchQuery) (projections.SearchResult, error) {
	return projections.SearchResult{}, down()
}
func (downMembers) Scan(func(*projections.MemberView) bool) ([]*projections.MemberView, error) {
	return nil, down()
}

func (downMatches) Match(uuid.UUID) (*projections.MatchView, bool, error) { return nil, false, down() }
func (downMatches) MatchesByID([]uuid.UUID) ([]*projections.MatchView, error) {
	return nil, down()
}
func (downMatches) MatchesOf(uuid.UUID, projections.MatchGroup) ([]*projections.MatchView, error) {
	return nil, down()
}
func (downMatches) SessionsOf(uuid.UUID, uuid.UUID) ([]projections.SessionView, error) {
	return nil, down()
}
func (downMatches) Session(uuid.UUID) (projections.SessionView, bool, error) {
	return projections.SessionView{}, false, down()
}
func (downMatches) CPDSummary(uuid.UUID, domain.Date, domain.Date) (projections.CPD, error) {
	return projections.CPD{}, down()
}
func (downMatches) Resources(domain.Role) ([]projections.ResourceView, error) { return nil, down() }
func (downMatches) Resource(uuid.UUID) (projections.ResourceView, bool, error) {
	return projections.ResourceView{}, false, down()
}
func (downMatches) Document(uuid.UUID) (projections.DocumentView, *projections.MatchView, bool, error) {
	return projections.DocumentView{}, nil, false, down()
}
func (downMatches) Queue(domain.Program, time.Time, int) (projections.StaffQueue, error) {
	return projections.StaffQueue{}, down()
}
func (downMatches) Dashboard(domain.Program, time.Time) (projections.Dashboard, error) {
	return projections.Dashboard{}, down()
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

// The same holds for every read of the matches: lists, one match or
// session by ID, the CPD summary, the resources and the staff's figures.
func TestUnavailableMatchesGiveUnavailableErrors(t *testing.T) {
	e := buildEnvWith(t, false, func(r *graph.Resolver) { r.Matches = downMatches{} })
	_, mentee := e.user(domain.RoleMentee, "Mia Mentee")
	_, staff := e.user(domain.RoleStaff, "Sam Staff")
	match := model.GlobalID(model.KindMatch, uuid.New())
	session := model.GlobalID(model.KindSession, uuid.New())
	for _, c := range []struct{ token, query string }{
		{mentee, `{ myMatches { totalCount } }`},
		{mentee, `{ mySessions { totalCount } }`},
		{mentee, `{ cpdSummary { totalHours } }`},
		{mentee, `{ resources { totalCount } }`},
		{mentee, `{ node(id: "` + match + `") { id } }`},
		{mentee, `{ node(id: "` + session + `") { id } }`},
		{staff, `{ staffQueue { nudgeRequests { id } } }`},
		{staff, `{ dashboard { pending } }`},
	} {
		r := e.do(c.token, c.query, nil)
		if r.Status != http.StatusOK || r.code() != graph.CodeUnavailable {
			t.Fatalf("%s: %d %s", c.query, r.Status, r.raw)
		}
	}
	// A download that cannot look its document up is unavailable too, not
	// "not found".
	code, _, body := e.download(mentee, graph.DocumentsPath+model.GlobalID(model.KindDocument, uuid.New()))
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), graph.CodeUnavailable) {
		t.Fatalf("a download: %d %s", code, body)
	}
	if r := e.do(mentee, `{ viewer { role } }`, nil); r.code() != "" || r.get("viewer", "role") != "MENTEE" {
		t.Fatalf("after the failures: %s", r.raw)
	}
}
