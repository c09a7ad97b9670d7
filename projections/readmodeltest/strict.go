package readmodeltest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/projections"
)

// strictModels read through a store's readers and fail the test at once
// when a read returns an error, so that the suite compares answers and
// reports a failed read where it happens rather than as a wrong answer.
type strictModels struct {
	Members strictMembers
	Matches strictMatches
}

func strict(t testing.TB, m Models) strictModels {
	return strictModels{Members: strictMembers{t, m.Members}, Matches: strictMatches{t, m.Matches}}
}

type strictMembers struct {
	t testing.TB
	r projections.MemberReader
}

func (s strictMembers) check(what string, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

func (s strictMembers) Member(id uuid.UUID) (*projections.MemberView, bool) {
	s.t.Helper()
	v, ok, err := s.r.Member(id)
	s.check("member", err)
	return v, ok
}

func (s strictMembers) MembersByID(ids []uuid.UUID) []*projections.MemberView {
	s.t.Helper()
	v, err := s.r.MembersByID(ids)
	s.check("members by ID", err)
	return v
}

type strictMatches struct {
	t testing.TB
	r projections.MatchReader
}

func (s strictMatches) check(what string, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

func (s strictMatches) Match(id uuid.UUID) (*projections.MatchView, bool) {
	s.t.Helper()
	v, ok, err := s.r.Match(id)
	s.check("match", err)
	return v, ok
}

func (s strictMatches) MatchesByID(ids []uuid.UUID) []*projections.MatchView {
	s.t.Helper()
	v, err := s.r.MatchesByID(ids)
	s.check("matches by ID", err)
	return v
}

func (s strictMatches) MatchesOf(member uuid.UUID, group projections.MatchGroup) []*projections.MatchView {
	s.t.Helper()
	v, err := s.r.MatchesOf(member, group)
	s.check("matches of a member", err)
	return v
}

func (s strictMatches) SessionsOf(author, match uuid.UUID) []projections.SessionView {
	s.t.Helper()
	v, err := s.r.SessionsOf(author, match)
	s.check("sessions of an author", err)
	return v
}

func (s strictMatches) Session(id uuid.UUID) (projections.SessionView, bool) {
	s.t.Helper()
	v, ok, err := s.r.Session(id)
	s.check("session", err)
	return v, ok
}

func (s strictMatches) CPDSummary(author uuid.UUID, from, to domain.Date) projections.CPD {
	s.t.Helper()
	v, err := s.r.CPDSummary(author, from, to)
	s.check("CPD", err)
	return v
}

func (s strictMatches) Resources(role domain.Role) []projections.ResourceView {
	s.t.Helper()
	v, err := s.r.Resources(role)
	s.check("resources", err)
	return v
}

func (s strictMatches) Resource(id uuid.UUID) (projections.ResourceView, bool) {
	s.t.Helper()
	v, ok, err := s.r.Resource(id)
	s.check("resource", err)
	return v, ok
}

func (s strictMatches) Document(id uuid.UUID) (projections.DocumentView, *projections.MatchView, bool) {
	s.t.Helper()
	d, m, ok, err := s.r.Document(id)
	s.check("document", err)
	return d, m, ok
}

func (s strictMatches) Queue(program domain.Program, now time.Time, pendingDays int) projections.StaffQueue {
	s.t.Helper()
	v, err := s.r.Queue(program, now, pendingDays)
	s.check("staff queue", err)
	return v
}

func (s strictMatches) Dashboard(program domain.Program, now time.Time) projections.Dashboard {
	s.t.Helper()
	v, err := s.r.Dashboard(program, now)
	s.check("dashboard", err)
	return v
}
