package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// Fixed IDs and times keep the tables readable and the decisions
// deterministic.
var (
	menteeID      = uuid.MustParse("0000000a-0000-4000-8000-000000000001")
	otherMenteeID = uuid.MustParse("0000000a-0000-4000-8000-000000000002")
	mentorID      = uuid.MustParse("0000000b-0000-4000-8000-000000000001")
	otherMentorID = uuid.MustParse("0000000b-0000-4000-8000-000000000002")
	staffID       = uuid.MustParse("0000000c-0000-4000-8000-000000000001")
	auditorID     = uuid.MustParse("0000000d-0000-4000-8000-000000000001")
	matchID       = uuid.MustParse("0000000e-0000-4000-8000-000000000001")
	otherMatchID  = uuid.MustParse("0000000e-0000-4000-8000-000000000002")
	thirdMatchID  = uuid.MustParse("0000000e-0000-4000-8000-000000000003")
	sessionID     = uuid.MustParse("0000000f-0000-4000-8000-000000000001")
	documentID    = uuid.MustParse("00000010-0000-4000-8000-000000000001")
	document2ID   = uuid.MustParse("00000010-0000-4000-8000-000000000002")
	document3ID   = uuid.MustParse("00000010-0000-4000-8000-000000000003")
	resourceID    = uuid.MustParse("00000011-0000-4000-8000-000000000001")

	// t0 is when the request of most tables is made.
	t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

	mentee      = domain.Actor{ID: menteeID, Role: domain.RoleMentee}
	otherMentee = domain.Actor{ID: otherMenteeID, Role: domain.RoleMentee}
	mentor      = domain.Actor{ID: mentorID, Role: domain.RoleMentor}
	otherMentor = domain.Actor{ID: otherMentorID, Role: domain.RoleMentor}
	staff       = domain.Actor{ID: staffID, Role: domain.RoleStaff}
	auditor     = domain.Actor{ID: auditorID, Role: domain.RoleAuditor}
	system      = domain.SystemActor()
)

// days returns t0 plus n days and extra.
func days(n int, extra ...time.Duration) time.Time {
	t := t0.Add(time.Duration(n) * 24 * time.Hour)
	for _, d := range extra {
		t = t.Add(d)
	}
	return t
}

func date(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

// wantRefusal is the part of a *refusal.Error that a rule fixes: its code
// and the field it names.
type wantRefusal struct {
	Code  refusal.Code
	Field string
}

func refused(code refusal.Code) *wantRefusal { return &wantRefusal{Code: code} }

func badInput(field string) *wantRefusal {
	return &wantRefusal{Code: refusal.CodeInvalidInput, Field: field}
}

// checkDecision compares a decision with the expected events or refusal.
// A refusal must come with no events, so that bad input changes nothing.
// Decided events must survive the trip through their stored form.
func checkDecision(t *testing.T, got []domain.Event, err error, want []domain.Event, wantErr *wantRefusal) {
	t.Helper()
	if wantErr != nil {
		var de *refusal.Error
		if !errors.As(err, &de) {
			t.Fatalf("got events %v and error %v, want refusal %+v", got, err, *wantErr)
		}
		if diff := cmp.Diff(*wantErr, wantRefusal{Code: de.Code, Field: de.Field}); diff != "" {
			t.Errorf("refusal mismatch (-want +got):\n%s\nmessage: %s", diff, de.Message)
		}
		if strings.TrimSpace(de.Message) == "" {
			t.Errorf("refusal %s has no message", de.Code)
		}
		if got != nil {
			t.Errorf("a refusal came with events %v", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
	for _, e := range got {
		enc, err := domain.Encode(e)
		if err != nil {
			t.Fatalf("Encode(%T): %v", e, err)
		}
		back, err := domain.Decode(enc.Type, enc.SchemaVersion, enc.Data)
		if err != nil {
			t.Fatalf("Decode(%s): %v", enc.Type, err)
		}
		if diff := cmp.Diff(e, back); diff != "" {
			t.Errorf("%s changed through its stored form (-decided +decoded):\n%s", enc.Type, diff)
		}
	}
}

// matchCase is one row of a match decider table: given the events of the
// match stream, when the command is decided, then these events or this
// refusal.
type matchCase struct {
	name    string
	program func(*domain.Program)
	given   []domain.Event
	when    domain.MatchCommand
	then    []domain.Event
	err     *wantRefusal
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.DefaultProgram()
			if tc.program != nil {
				tc.program(&p)
			}
			state := domain.Fold(domain.Match{}, domain.EvolveMatch, tc.given...)
			got, err := domain.DecideMatch(p, state, tc.when)
			checkDecision(t, got, err, tc.then, tc.err)
		})
	}
}

// memberCase is one row of a member decider table.
type memberCase struct {
	name    string
	program func(*domain.Program)
	given   []domain.Event
	when    domain.MemberCommand
	then    []domain.Event
	err     *wantRefusal
}

func runMemberCases(t *testing.T, cases []memberCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.DefaultProgram()
			if tc.program != nil {
				tc.program(&p)
			}
			state := domain.Fold(domain.Member{}, domain.EvolveMember, tc.given...)
			got, err := domain.DecideMember(p, state, tc.when)
			checkDecision(t, got, err, tc.then, tc.err)
		})
	}
}

// Event builders for the usual match between mentee and mentor.

func requested(at time.Time) domain.MatchRequested {
	return domain.MatchRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: at}
}

func accepted(at time.Time) domain.MatchAccepted {
	return domain.MatchAccepted{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: at}
}

func declined(at time.Time) domain.MatchDeclined {
	return domain.MatchDeclined{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: at}
}

func cancelled(at time.Time) domain.MatchCancelled {
	return domain.MatchCancelled{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: at}
}

func ended(at time.Time, reason string) domain.MatchEnded {
	e := domain.MatchEnded{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Reason: reason, At: at}
	if reason != domain.EndReasonTermCompleted {
		e.RequestedBy, e.StaffID, e.Note = menteeID, staffID, "asked by phone"
	}
	return e
}

// pending and active are the event histories of a pending match and of a
// match accepted one day after the request.
func pending() []domain.Event { return []domain.Event{requested(t0)} }

func active() []domain.Event { return []domain.Event{requested(t0), accepted(days(1))} }

func with(events []domain.Event, more ...domain.Event) []domain.Event {
	return append(append([]domain.Event(nil), events...), more...)
}

// Member builders.

func registered(id uuid.UUID, role domain.Role) domain.MemberRegistered {
	e := domain.MemberRegistered{MemberID: id, Role: role, Name: "Member " + id.String()[:8], Email: id.String()[:8] + "@example.org", At: t0.Add(-time.Hour)}
	if role == domain.RoleMentor {
		e.Capacity, e.Accepting = 1, true
	}
	return e
}

func memberState(events ...domain.Event) domain.Member {
	return domain.Fold(domain.Member{}, domain.EvolveMember, events...)
}

func matchState(events ...domain.Event) domain.Match {
	return domain.Fold(domain.Match{}, domain.EvolveMatch, events...)
}
