package domain_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

func TestAccountClosureAndErasure(t *testing.T) {
	reg := registered(menteeID, domain.RoleMentee)
	ask := domain.RequestAccountClosure{MemberID: menteeID, Actor: mentee, Note: " Moving abroad. ", At: days(2)}
	asked := domain.AccountClosureRequested{MemberID: menteeID, Note: "Moving abroad.", At: days(2)}
	erase := domain.EraseMember{MemberID: menteeID, Actor: staff, Reason: "Asked to close the account", At: days(3)}
	erased := domain.MemberErased{MemberID: menteeID, Role: domain.RoleMentee, ErasedBy: staffID, ActorRole: domain.RoleStaff, Reason: "Asked to close the account", At: days(3)}
	erasedAsked := erased
	erasedAsked.ClosureRequested = true
	slot := domain.RequestSlotTaken{MemberID: menteeID, MatchID: matchID, MentorID: mentorID, At: t0}
	active := domain.RequestSlotActivated{MemberID: menteeID, MatchID: matchID, At: days(1)}
	released := domain.RequestSlotReleased{MemberID: menteeID, MatchID: matchID, At: days(1)}
	withErase := func(f func(*domain.EraseMember)) domain.EraseMember { c := erase; f(&c); return c }
	zoe := domain.MemberRegistered{MemberID: menteeID, Role: domain.RoleMentee, Name: "Zoë O'Brien", Email: "zoe@example.org", At: t0}
	zoeProfile := domain.ProfileUpdated{MemberID: menteeID, Profile: domain.Profile{Name: "Zoë O'Brien",
		Contact: domain.Contact{Email: "zq.home@example.org", Phone: "+1 (613) 555-0199"}}, At: t0}

	runMemberCases(t, []memberCase{
		{name: "a member asks to close the account", given: []domain.Event{reg}, when: ask, then: []domain.Event{asked}},
		{name: "asking twice is refused", given: []domain.Event{reg, asked}, when: ask, err: refused(domain.CodeClosureAlreadyRequested)},
		{name: "nobody asks for another member", given: []domain.Event{reg}, when: func() domain.RequestAccountClosure { c := ask; c.Actor = staff; return c }(), err: refused(domain.CodeNotYourAccount)},
		{name: "an unknown member cannot ask", when: ask, err: refused(domain.CodeMemberNotFound)},
		{name: "staff erase a member without matches", given: []domain.Event{reg}, when: erase, then: []domain.Event{erased}},
		{name: "the erasure says the member had asked", given: []domain.Event{reg, asked}, when: erase, then: []domain.Event{erasedAsked}},
		{name: "a member whose matches are over is erased", given: []domain.Event{reg, slot, active, released}, when: erase, then: []domain.Event{erased}},
		{name: "a member with a pending request is not erased", given: []domain.Event{reg, slot}, when: erase, err: refused(domain.CodeMemberHasOpenMatch)},
		{name: "a member with an active match is not erased", given: []domain.Event{reg, slot, active}, when: erase, err: refused(domain.CodeMemberHasOpenMatch)},
		{
			name:  "a mentor holding capacity is not erased",
			given: []domain.Event{registered(mentorID, domain.RoleMentor), domain.CapacitySlotReserved{MemberID: mentorID, MatchID: matchID, MenteeID: menteeID, At: t0}},
			when:  withErase(func(c *domain.EraseMember) { c.MemberID = mentorID }), err: refused(domain.CodeMemberHasOpenMatch),
		},
		{name: "erasing again decides nothing", given: []domain.Event{reg, erased}, when: erase},
		{name: "members do not erase", given: []domain.Event{reg}, when: withErase(func(c *domain.EraseMember) { c.Actor = mentee }), err: refused(domain.CodeStaffOnly)},
		{name: "auditors do not erase", given: []domain.Event{reg}, when: withErase(func(c *domain.EraseMember) { c.Actor = auditor }), err: refused(domain.CodeStaffOnly)},
		{name: "the program erases under its retention rule", given: []domain.Event{reg}, program: func(p *domain.Program) { p.RetentionYears = 1 },
			when: withErase(func(c *domain.EraseMember) { c.Actor, c.At = system, reg.At.AddDate(1, 0, 0) }),
			then: []domain.Event{func() domain.Event {
				e := erased
				e.ErasedBy, e.ActorRole, e.At = uuid.Nil, domain.RoleSystem, reg.At.AddDate(1, 0, 0)
				return e
			}()}},
		{name: "the program erases nobody without the retention rule", given: []domain.Event{reg},
			when: withErase(func(c *domain.EraseMember) { c.Actor, c.At = system, reg.At.AddDate(40, 0, 0) }), err: refused(domain.CodeRetentionNotDue)},
		{name: "the reason is required", given: []domain.Event{reg}, when: withErase(func(c *domain.EraseMember) { c.Reason = " " }), err: badInput("reason")},
		{name: "the reason has a length limit", given: []domain.Event{reg}, when: withErase(func(c *domain.EraseMember) { c.Reason = repeat("r", 201) }), err: badInput("reason")},
		{name: "an unknown member is not erased", when: erase, err: refused(domain.CodeMemberNotFound)},
		{
			name: "staff do not erase themselves", given: []domain.Event{registered(staffID, domain.RoleStaff)},
			when: withErase(func(c *domain.EraseMember) { c.MemberID = staffID }), err: refused(domain.CodeCannotEraseSelf),
		},
		{name: "an erased member's profile is not saved", given: []domain.Event{reg, erased},
			when: domain.UpdateProfile{MemberID: menteeID, Actor: staff, Profile: domain.Profile{Name: "Back"}, At: days(4)}, err: refused(domain.CodeMemberErased)},
		{name: "an erased member does not register again", given: []domain.Event{reg, erased},
			when: domain.RegisterMember{MemberID: menteeID, Actor: system, Role: domain.RoleMentee, Name: "Ada", Email: "ada@example.org", At: days(4)}, err: refused(domain.CodeMemberErased)},
		{name: "the reason does not quote the member's email", given: []domain.Event{reg}, when: withErase(func(c *domain.EraseMember) { c.Reason = "asked by " + reg.Email }), err: badInput("reason")},
		{name: "the reason does not quote the member's name", given: []domain.Event{zoe}, when: withErase(func(c *domain.EraseMember) { c.Reason = "zoë o'brien asked" }), err: badInput("reason")},
		{name: "the reason does not quote a part of the name", given: []domain.Event{zoe}, when: withErase(func(c *domain.EraseMember) { c.Reason = "Asked by O'Brien." }), err: badInput("reason")},
		{name: "the reason does not quote the phone", given: []domain.Event{zoe, zoeProfile}, when: withErase(func(c *domain.EraseMember) { c.Reason = "called 613-555-0199" }), err: badInput("reason")},
		{name: "the reason does not quote the contact email", given: []domain.Event{zoe, zoeProfile}, when: withErase(func(c *domain.EraseMember) { c.Reason = "wrote from ZQ.home@example.org" }), err: badInput("reason")},
		{name: "a word of the name inside another word is no quote", given: []domain.Event{zoe}, when: withErase(func(c *domain.EraseMember) { c.Reason = "Zoëtrope policy" }),
			then: []domain.Event{func() domain.Event { e := erased; e.Reason = "Zoëtrope policy"; return e }()}},
		{name: "an erased member does not ask to close again", given: []domain.Event{reg, erased}, when: ask, err: refused(domain.CodeMemberErased)},
	})
}

func TestErasedMemberStateKeepsNoPersonalData(t *testing.T) {
	m := memberState(registered(menteeID, domain.RoleMentee),
		domain.AccountClosureRequested{MemberID: menteeID, At: days(1)},
		domain.MemberErased{MemberID: menteeID, Role: domain.RoleMentee, At: days(2)})
	if !m.Erased() || m.Email() != "" || m.Name() != domain.ErasedName || !m.ClosureRequestedAt().IsZero() {
		t.Fatalf("erased member: erased=%v email=%q name=%q closure=%v", m.Erased(), m.Email(), m.Name(), m.ClosureRequestedAt())
	}
}

func TestAnErasedMentorIsNotRequested(t *testing.T) {
	mentorState := memberState(registered(mentorID, domain.RoleMentor), domain.MemberErased{MemberID: mentorID, Role: domain.RoleMentor, At: days(1)})
	_, err := domain.DecideMember(domain.DefaultProgram(), memberState(registered(menteeID, domain.RoleMentee)), domain.ReserveRequestSlot{
		Request: domain.RequestMatch{MatchID: matchID, Actor: mentee, MentorID: mentorID, At: days(2)}, Mentor: mentorState,
	})
	want := refused(domain.CodeMemberErased)
	want.Field = "mentorId"
	checkDecision(t, nil, err, nil, want)
}
