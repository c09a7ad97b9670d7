package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// retainFor turns the retention rule on for years, in Edmonton's time
// zone, so that a sign-in's day differs from its UTC day.
func retainFor(years int) func(*domain.Program) {
	return func(p *domain.Program) {
		p.RetentionYears = years
		p.Location = edmonton
	}
}

var edmonton = func() *time.Location {
	loc, err := time.LoadLocation("America/Edmonton")
	if err != nil {
		panic(err)
	}
	return loc
}()

func signedIn(id uuid.UUID, at time.Time) domain.MemberSignedIn {
	return domain.MemberSignedIn{MemberID: id, At: at}
}

func TestMemberRetentionDue(t *testing.T) {
	reg := registered(menteeID, domain.RoleMentee) // t0 less an hour: 2026-03-02 07:00 in Edmonton
	slot := domain.RequestSlotTaken{MemberID: menteeID, MatchID: matchID, MentorID: mentorID, At: t0}
	active := domain.RequestSlotActivated{MemberID: menteeID, MatchID: matchID, At: days(1)}
	released := domain.RequestSlotReleased{MemberID: menteeID, MatchID: matchID, At: days(400)}
	// 23:30 in Edmonton on 2027-06-01, 05:30 UTC on 2 June: the sign-in
	// counts until midnight in Edmonton.
	lateSignIn := signedIn(menteeID, time.Date(2027, 6, 2, 5, 30, 0, 0, time.UTC))
	endOfLateSignInDay := time.Date(2027, 6, 2, 0, 0, 0, 0, edmonton)
	reserved := domain.CapacitySlotReserved{MemberID: mentorID, MatchID: matchID, MenteeID: menteeID, At: t0}

	for _, tc := range []struct {
		name    string
		program func(*domain.Program)
		given   []domain.Event
		due     time.Time // zero: never due as things stand
	}{
		{name: "the rule is off by default", given: []domain.Event{reg}},
		{name: "a member who never had a match counts from the registration", program: retainFor(2), given: []domain.Event{reg},
			due: reg.At.AddDate(2, 0, 0)},
		{name: "a sign-in counts to the end of its day in the program's zone", program: retainFor(2), given: []domain.Event{reg, lateSignIn},
			due: endOfLateSignInDay.AddDate(2, 0, 0).UTC()},
		{name: "an ended match counts from the slot's release", program: retainFor(2), given: []domain.Event{reg, slot, active, released},
			due: released.At.AddDate(2, 0, 0)},
		{name: "an ended match after an old sign-in counts from the end", program: retainFor(3),
			given: []domain.Event{reg, signedIn(menteeID, days(2)), slot, active, released}, due: released.At.AddDate(3, 0, 0)},
		{name: "a sign-in after the end counts from the sign-in", program: retainFor(1),
			given: []domain.Event{reg, slot, active, released, lateSignIn}, due: endOfLateSignInDay.AddDate(1, 0, 0).UTC()},
		{name: "a pending request is never due", program: retainFor(1), given: []domain.Event{reg, slot}},
		{name: "an active match is never due", program: retainFor(1), given: []domain.Event{reg, slot, active}},
		{name: "a mentor holding capacity is never due", program: retainFor(1), given: []domain.Event{registered(mentorID, domain.RoleMentor), reserved}},
		{name: "a mentor whose match ended", program: retainFor(1),
			given: []domain.Event{registered(mentorID, domain.RoleMentor), reserved, domain.CapacitySlotReleased{MemberID: mentorID, MatchID: matchID, At: days(30)}},
			due:   days(30).AddDate(1, 0, 0)},
		{name: "staff are not subject to it", program: retainFor(1), given: []domain.Event{registered(staffID, domain.RoleStaff)}},
		{name: "an erased member is not due again", program: retainFor(1),
			given: []domain.Event{reg, domain.MemberErased{MemberID: menteeID, Role: domain.RoleMentee, At: days(1)}}},
		{name: "an unknown member is not due", program: retainFor(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.DefaultProgram()
			if tc.program != nil {
				tc.program(&p)
			}
			due, ok := memberState(tc.given...).RetentionDue(p)
			if ok != !tc.due.IsZero() || !due.Equal(tc.due) {
				t.Errorf("RetentionDue = %v, %v; want %v, %v", due, ok, tc.due, !tc.due.IsZero())
			}
		})
	}
}

func TestProgramRetentionDueCountsCalendarYears(t *testing.T) {
	p := domain.DefaultProgram()
	p.RetentionYears = 1
	// 29 February 2028 has no day a year on: the rule counts to 1 March.
	leap := time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)
	if due, _ := p.RetentionDue(leap, time.Time{}); !due.Equal(time.Date(2029, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("a year after %v is %v", leap, due)
	}
	// A sign-in before the last activity changes nothing.
	if due, _ := p.RetentionDue(leap, leap.AddDate(0, -2, 0)); !due.Equal(time.Date(2029, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("an older sign-in moved the due time to %v", due)
	}
	if got, want := p.RetentionReason(), "retention: 1 year without a match or a sign-in"; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	p.RetentionYears = 7
	if got, want := p.RetentionReason(), "retention: 7 years without a match or a sign-in"; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
}

func TestRecordSignIn(t *testing.T) {
	reg := registered(menteeID, domain.RoleMentee)
	// 15:00 UTC is 08:00 in Edmonton; 06:30 UTC the next day is still
	// 23:30 of the same day there.
	first := domain.RecordSignIn{MemberID: menteeID, Actor: mentee, At: t0}
	sameDay := domain.RecordSignIn{MemberID: menteeID, Actor: mentee, At: t0.Add(15*time.Hour + 30*time.Minute)}
	nextDay := domain.RecordSignIn{MemberID: menteeID, Actor: mentee, At: t0.Add(17 * time.Hour)}
	runMemberCases(t, []memberCase{
		{name: "the first sign-in is recorded", program: retainFor(1), given: []domain.Event{reg}, when: first, then: []domain.Event{signedIn(menteeID, t0)}},
		{name: "it is recorded with the rule off too, so that turning it on counts from real sign-ins", given: []domain.Event{reg}, when: first,
			then: []domain.Event{signedIn(menteeID, t0)}},
		{name: "another sign-in the same day records nothing", program: retainFor(1), given: []domain.Event{reg, signedIn(menteeID, t0)}, when: sameDay},
		{name: "the next day's first sign-in is recorded", program: retainFor(1), given: []domain.Event{reg, signedIn(menteeID, t0)}, when: nextDay,
			then: []domain.Event{signedIn(menteeID, nextDay.At)}},
		{name: "a sign-in dated before the last one records nothing", program: retainFor(1), given: []domain.Event{reg, signedIn(menteeID, days(3))}, when: nextDay},
		{name: "a mentor's sign-in is recorded", given: []domain.Event{registered(mentorID, domain.RoleMentor)},
			when: domain.RecordSignIn{MemberID: mentorID, Actor: mentor, At: t0}, then: []domain.Event{signedIn(mentorID, t0)}},
		{name: "staff sign-ins are not recorded", given: []domain.Event{registered(staffID, domain.RoleStaff)},
			when: domain.RecordSignIn{MemberID: staffID, Actor: staff, At: t0}},
		{name: "nobody signs in for another member", given: []domain.Event{reg},
			when: domain.RecordSignIn{MemberID: menteeID, Actor: staff, At: t0}, err: refused(domain.CodeNotYourAccount)},
		{name: "an unknown member is refused", when: first, err: refused(domain.CodeMemberNotFound)},
		{name: "an erased member is refused", given: []domain.Event{reg, domain.MemberErased{MemberID: menteeID, Role: domain.RoleMentee, At: days(1)}},
			when: first, err: refused(domain.CodeMemberErased)},
		{name: "the time is required", given: []domain.Event{reg}, when: domain.RecordSignIn{MemberID: menteeID, Actor: mentee}, err: badInput("at")},
	})
}

func TestTheProgramErasesOnlyWhenTheRuleSaysSo(t *testing.T) {
	reg := registered(menteeID, domain.RoleMentee)
	slot := domain.RequestSlotTaken{MemberID: menteeID, MatchID: matchID, MentorID: mentorID, At: t0}
	active := domain.RequestSlotActivated{MemberID: menteeID, MatchID: matchID, At: days(1)}
	released := domain.RequestSlotReleased{MemberID: menteeID, MatchID: matchID, At: days(100)}
	eraseAt := func(at time.Time) domain.EraseMember {
		return domain.EraseMember{MemberID: menteeID, Actor: system, Reason: "retention: 2 years without a match or a sign-in", At: at}
	}
	erasedAt := func(at time.Time) domain.MemberErased {
		return domain.MemberErased{MemberID: menteeID, Role: domain.RoleMentee, ActorRole: domain.RoleSystem,
			Reason: "retention: 2 years without a match or a sign-in", At: at}
	}
	due := released.At.AddDate(2, 0, 0)
	runMemberCases(t, []memberCase{
		{name: "a member never matched, due since the registration", program: retainFor(2), given: []domain.Event{reg},
			when: eraseAt(reg.At.AddDate(2, 0, 0)), then: []domain.Event{erasedAt(reg.At.AddDate(2, 0, 0))}},
		{name: "an ended match and an old sign-in: due", program: retainFor(2), given: []domain.Event{reg, signedIn(menteeID, days(2)), slot, active, released},
			when: eraseAt(due), then: []domain.Event{erasedAt(due)}},
		{name: "a moment early is refused", program: retainFor(2), given: []domain.Event{reg, slot, active, released},
			when: eraseAt(due.Add(-time.Second)), err: refused(domain.CodeRetentionNotDue)},
		{name: "a recent sign-in is refused", program: retainFor(2), given: []domain.Event{reg, slot, active, released, signedIn(menteeID, due.Add(-time.Hour))},
			when: eraseAt(due), err: refused(domain.CodeRetentionNotDue)},
		{name: "an open match is refused", program: retainFor(2), given: []domain.Event{reg, slot, active},
			when: eraseAt(days(4000)), err: refused(domain.CodeMemberHasOpenMatch)},
		{name: "the rule off is refused", given: []domain.Event{reg}, when: eraseAt(days(40000)), err: refused(domain.CodeRetentionNotDue)},
		{name: "staff accounts are refused", program: retainFor(2), given: []domain.Event{registered(staffID, domain.RoleStaff)},
			when: func() domain.EraseMember { c := eraseAt(days(4000)); c.MemberID = staffID; return c }(), err: refused(domain.CodeRetentionNotDue)},
		{name: "an erased member decides nothing", program: retainFor(2), given: []domain.Event{reg, erasedAt(reg.At.AddDate(2, 0, 0))},
			when: eraseAt(reg.At.AddDate(3, 0, 0))},
		{name: "staff erase whenever, the rule on or off", program: retainFor(2), given: []domain.Event{reg, signedIn(menteeID, days(1))},
			when: domain.EraseMember{MemberID: menteeID, Actor: staff, Reason: "Asked", At: days(2)},
			then: []domain.Event{domain.MemberErased{MemberID: menteeID, Role: domain.RoleMentee, ErasedBy: staffID, ActorRole: domain.RoleStaff, Reason: "Asked", At: days(2)}}},
	})
}
