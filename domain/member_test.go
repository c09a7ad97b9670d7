package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

func TestRegisterMember(t *testing.T) {
	reg := func(id uuid.UUID, actor domain.Actor, role domain.Role) domain.RegisterMember {
		return domain.RegisterMember{MemberID: id, Actor: actor, Role: role, Name: " Ada Lovelace ", Email: "ada@example.org", At: t0}
	}
	done := func(id uuid.UUID, role domain.Role) domain.MemberRegistered {
		return domain.MemberRegistered{MemberID: id, Role: role, Name: "Ada Lovelace", Email: "ada@example.org", At: t0}
	}
	mentorDone := done(mentorID, domain.RoleMentor)
	mentorDone.Capacity, mentorDone.Accepting = 1, true
	withReg := func(c domain.RegisterMember, f func(*domain.RegisterMember)) domain.RegisterMember { f(&c); return c }
	selfMentee := reg(menteeID, mentee, domain.RoleMentee)

	runMemberCases(t, []memberCase{
		{name: "a mentee registers", when: selfMentee, then: []domain.Event{done(menteeID, domain.RoleMentee)}},
		{name: "a mentor registers with the default capacity, accepting requests", when: reg(mentorID, mentor, domain.RoleMentor), then: []domain.Event{mentorDone}},
		{
			name: "the default capacity follows the program setting", when: reg(mentorID, mentor, domain.RoleMentor),
			program: func(p *domain.Program) { p.DefaultMentorCapacity = 3 },
			then:    []domain.Event{func() domain.Event { e := mentorDone; e.Capacity = 3; return e }()},
		},
		{name: "staff register a mentor", when: reg(mentorID, staff, domain.RoleMentor), then: []domain.Event{mentorDone}},
		{name: "the system registers a mentee", when: reg(menteeID, system, domain.RoleMentee), then: []domain.Event{done(menteeID, domain.RoleMentee)}},
		{name: "the operator registers staff", when: reg(staffID, system, domain.RoleStaff), then: []domain.Event{done(staffID, domain.RoleStaff)}},
		{name: "the operator registers auditors", when: reg(auditorID, system, domain.RoleAuditor), then: []domain.Event{done(auditorID, domain.RoleAuditor)}},
		{name: "registering again decides nothing", given: []domain.Event{done(menteeID, domain.RoleMentee)}, when: selfMentee},
		{
			name: "the role is fixed at registration", given: []domain.Event{done(menteeID, domain.RoleMentee)},
			when: reg(menteeID, staff, domain.RoleMentor), err: refused(domain.CodeAlreadyRegistered),
		},
		{
			name: "another email under the same ID is refused", given: []domain.Event{done(menteeID, domain.RoleMentee)},
			when: withReg(selfMentee, func(c *domain.RegisterMember) { c.Email = "other@example.org" }), err: refused(domain.CodeAlreadyRegistered),
		},
		{name: "staff do not create staff", when: reg(staffID, staff, domain.RoleStaff), err: refused(domain.CodeSystemOnly)},
		{name: "members do not create auditors", when: reg(menteeID, mentee, domain.RoleAuditor), err: refused(domain.CodeSystemOnly)},
		{name: "a mentee does not register someone else", when: reg(otherMenteeID, mentee, domain.RoleMentee), err: refused(domain.CodeNotYourAccount)},
		{name: "a mentee account does not register as a mentor", when: reg(menteeID, mentee, domain.RoleMentor), err: refused(domain.CodeNotYourAccount)},
		{name: "auditors do not register members", when: reg(menteeID, auditor, domain.RoleMentee), err: refused(domain.CodeNotYourAccount)},
		{name: "the member ID is required", when: reg(uuid.Nil, system, domain.RoleMentee), err: badInput("memberId")},
		{name: "the role must be known", when: reg(menteeID, system, "ADMIN"), err: badInput("role")},
		{name: "nobody registers as the system", when: reg(menteeID, system, domain.RoleSystem), err: badInput("role")},
		{name: "the name is required", when: withReg(selfMentee, func(c *domain.RegisterMember) { c.Name = "" }), err: badInput("name")},
		{name: "a name of invisible characters only is no name", when: withReg(selfMentee, func(c *domain.RegisterMember) { c.Name = "\u200b\u200b\u2060" }), err: badInput("name")},
		{name: "a name of Hangul fillers and spaces is no name", when: withReg(selfMentee, func(c *domain.RegisterMember) { c.Name = "\u3164 \u3164" }), err: badInput("name")},
		{name: "the name has a length limit", when: withReg(selfMentee, func(c *domain.RegisterMember) { c.Name = repeat("n", 201) }), err: badInput("name")},
		{name: "the email is required", when: withReg(selfMentee, func(c *domain.RegisterMember) { c.Email = "" }), err: badInput("email")},
		{name: "the email must be an address", when: withReg(selfMentee, func(c *domain.RegisterMember) { c.Email = "ada at example" }), err: badInput("email")},
		{name: "the email has no display name", when: withReg(selfMentee, func(c *domain.RegisterMember) { c.Email = "Ada <ada@example.org>" }), err: badInput("email")},
	})
}

// fullProfile is a valid profile with every field set, written sloppily
// (padding, duplicates, unsorted sets) to show the cleaning.
func fullProfile() domain.Profile {
	return domain.Profile{
		Name:              " Grace Hopper ",
		Designation:       "P.Eng.",
		Discipline:        "SOFTWARE",
		Industry:          "TECHNOLOGY",
		Location:          domain.Location{City: " Calgary ", Province: "AB"},
		YearsOfExperience: 25,
		Languages:         []string{"fr", "en", "en"},
		Biography:         "Compilers.\r\nNavy.",
		Focus:             []string{"LEADERSHIP", "CAREER_DEVELOPMENT"},
		Skills:            map[string]int{"COMMUNICATION": 5, "LEADERSHIP": 4},
		Preferences: domain.Preferences{
			MeetingFormats:   []string{"VIDEO", "IN_PERSON"},
			MeetingFrequency: "MONTHLY",
			Partner: domain.PartnerPreferences{
				Disciplines: []string{"SOFTWARE"}, Industries: []string{"TECHNOLOGY"}, Provinces: []string{"BC", "AB"},
				Languages: []string{"en"}, MinYearsOfExperience: 2, Notes: "Curious people.",
			},
		},
		Contact: domain.Contact{Email: "grace@example.org", Phone: "+1 (403) 555-0100", PreferredMethod: domain.ContactPhone},
	}
}

func cleanedProfile() domain.Profile {
	p := fullProfile()
	p.Name = "Grace Hopper"
	p.Location.City = "Calgary"
	p.Languages = []string{"en", "fr"}
	p.Biography = "Compilers.\nNavy."
	p.Focus = []string{"CAREER_DEVELOPMENT", "LEADERSHIP"}
	p.Preferences.MeetingFormats = []string{"IN_PERSON", "VIDEO"}
	p.Preferences.Partner.Provinces = []string{"AB", "BC"}
	return p
}

func TestUpdateProfile(t *testing.T) {
	update := func(actor domain.Actor, f func(*domain.Profile)) domain.UpdateProfile {
		pr := fullProfile()
		if f != nil {
			f(&pr)
		}
		return domain.UpdateProfile{MemberID: mentorID, Actor: actor, Profile: pr, At: t0}
	}
	updated := domain.ProfileUpdated{MemberID: mentorID, Profile: cleanedProfile(), At: t0}
	reg := []domain.Event{registered(mentorID, domain.RoleMentor)}
	bad := func(field string, f func(*domain.Profile)) memberCase {
		return memberCase{name: "bad " + field, given: reg, when: update(mentor, f), err: badInput(field)}
	}
	cases := []memberCase{
		{name: "a mentor saves a profile, cleaned", given: reg, when: update(mentor, nil), then: []domain.Event{updated}},
		{
			name: "a mentee saves a profile", given: []domain.Event{registered(menteeID, domain.RoleMentee)},
			when: domain.UpdateProfile{MemberID: menteeID, Actor: mentee, Profile: fullProfile(), At: t0},
			then: []domain.Event{domain.ProfileUpdated{MemberID: menteeID, Profile: cleanedProfile(), At: t0}},
		},
		{name: "staff save a member's profile", given: reg, when: update(staff, nil), then: []domain.Event{updated}},
		{
			name: "only the name is required", given: reg, when: domain.UpdateProfile{MemberID: mentorID, Actor: mentor, Profile: domain.Profile{Name: "G"}, At: t0},
			then: []domain.Event{domain.ProfileUpdated{MemberID: mentorID, Profile: domain.Profile{Name: "G"}, At: t0}},
		},
		{name: "saving an unchanged profile decides nothing", given: with(reg, updated), when: update(mentor, nil)},
		{name: "a member who never registered is not found", when: update(mentor, nil), err: refused(domain.CodeMemberNotFound)},
		{name: "another member does not save it", given: reg, when: update(otherMentor, nil), err: refused(domain.CodeNotYourAccount)},
		{name: "auditors do not save it", given: reg, when: update(auditor, nil), err: refused(domain.CodeNotYourAccount)},
		{
			name: "staff accounts have no profile", given: []domain.Event{registered(staffID, domain.RoleStaff)},
			when: domain.UpdateProfile{MemberID: staffID, Actor: staff, Profile: fullProfile(), At: t0}, err: refused(domain.CodeNoProfile),
		},
		{
			name: "a biography at the limit is taken", given: reg,
			when: update(mentor, func(p *domain.Profile) { p.Biography = repeat("é", 4000) }),
			then: []domain.Event{func() domain.Event {
				e := updated
				e.Profile.Biography = repeat("é", 4000)
				return e
			}()},
		},
		bad("name", func(p *domain.Profile) { p.Name = "  " }),
		bad("name", func(p *domain.Profile) { p.Name = "a\nb" }),
		bad("name", func(p *domain.Profile) { p.Name = repeat("n", 201) }),
		bad("biography", func(p *domain.Profile) { p.Biography = "bad \xff" }),
		bad("designation", func(p *domain.Profile) { p.Designation = "PhD" }),
		bad("discipline", func(p *domain.Profile) { p.Discipline = "ALCHEMY" }),
		bad("industry", func(p *domain.Profile) { p.Industry = "PIRACY" }),
		bad("location.city", func(p *domain.Profile) { p.Location.City = repeat("c", 101) }),
		bad("location.province", func(p *domain.Profile) { p.Location.Province = "XX" }),
		bad("yearsOfExperience", func(p *domain.Profile) { p.YearsOfExperience = -1 }),
		bad("yearsOfExperience", func(p *domain.Profile) { p.YearsOfExperience = 71 }),
		bad("languages", func(p *domain.Profile) { p.Languages = []string{"klingon"} }),
		bad("languages", func(p *domain.Profile) { p.Languages = []string{""} }),
		bad("biography", func(p *domain.Profile) { p.Biography = repeat("b", 4001) }),
		bad("focus", func(p *domain.Profile) { p.Focus = []string{"FAME"} }),
		bad("skills.JUGGLING", func(p *domain.Profile) { p.Skills = map[string]int{"JUGGLING": 3} }),
		bad("skills.LEADERSHIP", func(p *domain.Profile) { p.Skills = map[string]int{"LEADERSHIP": 0} }),
		bad("skills.LEADERSHIP", func(p *domain.Profile) { p.Skills = map[string]int{"LEADERSHIP": 6} }),
		bad("skills.LEADERSHIP", func(p *domain.Profile) { p.Skills = map[string]int{"LEADERSHIP": 3, " LEADERSHIP": 4} }),
		bad("preferences.meetingFormats", func(p *domain.Profile) { p.Preferences.MeetingFormats = []string{"TELEPATHY"} }),
		bad("preferences.meetingFrequency", func(p *domain.Profile) { p.Preferences.MeetingFrequency = "HOURLY" }),
		bad("preferences.partner.disciplines", func(p *domain.Profile) { p.Preferences.Partner.Disciplines = []string{"ALCHEMY"} }),
		bad("preferences.partner.industries", func(p *domain.Profile) { p.Preferences.Partner.Industries = []string{"PIRACY"} }),
		bad("preferences.partner.provinces", func(p *domain.Profile) { p.Preferences.Partner.Provinces = []string{"XX"} }),
		bad("preferences.partner.languages", func(p *domain.Profile) { p.Preferences.Partner.Languages = []string{"klingon"} }),
		bad("preferences.partner.minYearsOfExperience", func(p *domain.Profile) { p.Preferences.Partner.MinYearsOfExperience = 99 }),
		bad("preferences.partner.notes", func(p *domain.Profile) { p.Preferences.Partner.Notes = repeat("n", 1001) }),
		bad("contact.email", func(p *domain.Profile) { p.Contact.Email = "grace@" }),
		bad("contact.phone", func(p *domain.Profile) { p.Contact.Phone = "call me" }),
		bad("contact.phone", func(p *domain.Profile) { p.Contact.Phone = "555-01" }),
		bad("contact.phone", func(p *domain.Profile) { p.Contact.Phone = "403+555-0100" }),
		bad("contact.phone", func(p *domain.Profile) { p.Contact.Phone = "1234567890123456" }),
		bad("contact.phone", func(p *domain.Profile) { p.Contact.Phone = "" }),
		bad("contact.email", func(p *domain.Profile) { p.Contact.Email, p.Contact.PreferredMethod = "", domain.ContactEmail }),
		bad("contact.preferredMethod", func(p *domain.Profile) { p.Contact.PreferredMethod = "PIGEON" }),
	}
	runMemberCases(t, cases)
}

// A profile saved with a mentor's capacity and switch is one decision: all
// of its events or, when any part is refused, none.
func TestUpdateProfileWithMentorSettings(t *testing.T) {
	n := func(v int) *int { return &v }
	yes, no := func() *bool { b := true; return &b }(), func() *bool { b := false; return &b }()
	save := func(actor domain.Actor, id uuid.UUID, capacity *int, accepting *bool) domain.UpdateProfile {
		return domain.UpdateProfile{MemberID: id, Actor: actor, Profile: fullProfile(), Capacity: capacity, AcceptingRequests: accepting, At: t0}
	}
	updated := domain.ProfileUpdated{MemberID: mentorID, Profile: cleanedProfile(), At: t0}
	reg := []domain.Event{registered(mentorID, domain.RoleMentor)}
	menteeReg := []domain.Event{registered(menteeID, domain.RoleMentee)}
	reserved := func(match, mentee uuid.UUID) domain.CapacitySlotReserved {
		return domain.CapacitySlotReserved{MemberID: mentorID, MatchID: match, MenteeID: mentee, At: t0}
	}
	capacity := func(c int) domain.MentorCapacityChanged {
		return domain.MentorCapacityChanged{MemberID: mentorID, Capacity: c, At: t0}
	}
	paused := domain.MentorAvailabilityChanged{MemberID: mentorID, Accepting: false, At: t0}
	runMemberCases(t, []memberCase{
		{name: "a mentor saves profile, capacity and switch at once", given: reg, when: save(mentor, mentorID, n(3), no), then: []domain.Event{updated, capacity(3), paused}},
		{name: "staff save all three for a mentor", given: reg, when: save(staff, mentorID, n(2), no), then: []domain.Event{updated, capacity(2), paused}},
		{name: "unchanged settings add no events to a changed profile", given: reg, when: save(mentor, mentorID, n(1), yes), then: []domain.Event{updated}},
		{name: "a changed capacity is saved with an unchanged profile", given: with(reg, updated), when: save(mentor, mentorID, n(4), nil), then: []domain.Event{capacity(4)}},
		{name: "nothing changed decides nothing", given: with(reg, updated), when: save(mentor, mentorID, n(1), yes)},
		{name: "a capacity of 0 refuses the whole update", given: reg, when: save(mentor, mentorID, n(0), no), err: badInput("capacity")},
		{name: "a capacity over the maximum refuses the whole update", given: reg, when: save(mentor, mentorID, n(999), nil), err: badInput("capacity")},
		{
			name: "a capacity below the mentees held refuses the whole update", given: with(reg, capacity(2), reserved(matchID, menteeID), reserved(otherMatchID, otherMenteeID)),
			when: save(mentor, mentorID, n(1), no), err: &wantRefusal{Code: domain.CodeCapacityBelowActive, Field: "capacity"},
		},
		{name: "a mentee's capacity refuses the whole update", given: menteeReg, when: save(mentee, menteeID, n(2), nil), err: &wantRefusal{Code: domain.CodeNotAMentor, Field: "capacity"}},
		{name: "a mentee's switch refuses the whole update", given: menteeReg, when: save(mentee, menteeID, nil, yes), err: &wantRefusal{Code: domain.CodeNotAMentor, Field: "acceptingRequests"}},
		{
			name: "a bad profile refuses good settings", given: reg,
			when: func() domain.UpdateProfile { c := save(mentor, mentorID, n(2), no); c.Profile.Name = " "; return c }(), err: badInput("name"),
		},
		{name: "another member changes none of it", given: reg, when: save(otherMentor, mentorID, n(2), no), err: refused(domain.CodeNotYourAccount)},
	})
}

func repeat(s string, n int) string {
	out := make([]byte, 0, len(s)*n)
	for range n {
		out = append(out, s...)
	}
	return string(out)
}

func TestSetMentorCapacity(t *testing.T) {
	set := func(actor domain.Actor, n int) domain.SetMentorCapacity {
		return domain.SetMentorCapacity{MemberID: mentorID, Actor: actor, Capacity: n, At: t0}
	}
	reg := []domain.Event{registered(mentorID, domain.RoleMentor)}
	reserved := func(match, mentee uuid.UUID) domain.CapacitySlotReserved {
		return domain.CapacitySlotReserved{MemberID: mentorID, MatchID: match, MenteeID: mentee, At: t0}
	}
	runMemberCases(t, []memberCase{
		{name: "a mentor sets a capacity", given: reg, when: set(mentor, 3), then: []domain.Event{domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 3, At: t0}}},
		{name: "staff set a mentor's capacity", given: reg, when: set(staff, 2), then: []domain.Event{domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 2, At: t0}}},
		{name: "setting the same capacity decides nothing", given: reg, when: set(mentor, 1)},
		{
			name:  "capacity may go down to the mentees in hand",
			given: with(reg, domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 3, At: t0}, reserved(matchID, menteeID), reserved(otherMatchID, otherMenteeID)),
			when:  set(mentor, 2), then: []domain.Event{domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 2, At: t0}},
		},
		{
			name:  "capacity may not go below the mentees in hand",
			given: with(reg, domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 3, At: t0}, reserved(matchID, menteeID), reserved(otherMatchID, otherMenteeID)),
			when:  set(mentor, 1), err: refused(domain.CodeCapacityBelowActive),
		},
		{
			name:  "released slots do not count",
			given: with(reg, reserved(matchID, menteeID), domain.CapacitySlotReleased{MemberID: mentorID, MatchID: matchID, At: t0}),
			when:  set(mentor, 2), then: []domain.Event{domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 2, At: t0}},
		},
		{name: "zero is refused", given: reg, when: set(mentor, 0), err: badInput("capacity")},
		{name: "more than the program's maximum is refused", given: reg, when: set(mentor, 11), err: badInput("capacity")},
		{name: "mentees have no capacity", given: []domain.Event{registered(menteeID, domain.RoleMentee)}, when: domain.SetMentorCapacity{MemberID: menteeID, Actor: mentee, Capacity: 2, At: t0}, err: refused(domain.CodeNotAMentor)},
		{name: "another mentor does not set it", given: reg, when: set(otherMentor, 2), err: refused(domain.CodeNotYourAccount)},
		{name: "a mentor who never registered is not found", when: set(mentor, 2), err: refused(domain.CodeMemberNotFound)},
	})
}

func TestSetAcceptingRequests(t *testing.T) {
	set := func(actor domain.Actor, on bool) domain.SetAcceptingRequests {
		return domain.SetAcceptingRequests{MemberID: mentorID, Actor: actor, Accepting: on, At: t0}
	}
	reg := []domain.Event{registered(mentorID, domain.RoleMentor)}
	off := domain.MentorAvailabilityChanged{MemberID: mentorID, Accepting: false, At: t0}
	runMemberCases(t, []memberCase{
		{name: "a mentor stops accepting requests", given: reg, when: set(mentor, false), then: []domain.Event{off}},
		{name: "and starts again", given: with(reg, off), when: set(mentor, true), then: []domain.Event{domain.MentorAvailabilityChanged{MemberID: mentorID, Accepting: true, At: t0}}},
		{name: "staff switch it for the mentor", given: reg, when: set(staff, false), then: []domain.Event{off}},
		{name: "switching to the current setting decides nothing", given: reg, when: set(mentor, true)},
		{name: "mentees have no switch", given: []domain.Event{registered(menteeID, domain.RoleMentee)}, when: domain.SetAcceptingRequests{MemberID: menteeID, Actor: mentee, At: t0}, err: refused(domain.CodeNotAMentor)},
		{name: "another mentor does not switch it", given: reg, when: set(otherMentor, false), err: refused(domain.CodeNotYourAccount)},
		{name: "the time is required", given: reg, when: domain.SetAcceptingRequests{MemberID: mentorID, Actor: mentor}, err: badInput("at")},
	})
}

func TestReserveRequestSlot(t *testing.T) {
	req := domain.RequestMatch{MatchID: matchID, Actor: mentee, MentorID: mentorID, Message: " Hi ", At: t0}
	mentorReg := registered(mentorID, domain.RoleMentor)
	openMentor := memberState(mentorReg)
	reserve := func(f func(*domain.ReserveRequestSlot)) domain.ReserveRequestSlot {
		c := domain.ReserveRequestSlot{Request: req, Mentor: openMentor}
		if f != nil {
			f(&c)
		}
		return c
	}
	reg := []domain.Event{registered(menteeID, domain.RoleMentee)}
	taken := func(match, mentor uuid.UUID) domain.RequestSlotTaken {
		return domain.RequestSlotTaken{MemberID: menteeID, MatchID: match, MentorID: mentor, Message: "Hi", At: t0}
	}
	activated := func(match uuid.UUID) domain.RequestSlotActivated {
		return domain.RequestSlotActivated{MemberID: menteeID, MatchID: match, At: t0}
	}
	released := func(match uuid.UUID) domain.RequestSlotReleased {
		return domain.RequestSlotReleased{MemberID: menteeID, MatchID: match, At: t0}
	}
	limits := func(pending, active int) func(*domain.Program) {
		return func(p *domain.Program) { p.MaxPendingRequests, p.MaxActiveMatches = pending, active }
	}
	runMemberCases(t, []memberCase{
		{name: "a mentee takes a request slot", given: reg, when: reserve(nil), then: []domain.Event{taken(matchID, mentorID)}},
		{name: "taking it again for the same request decides nothing", given: with(reg, taken(matchID, mentorID)), when: reserve(nil)},
		{name: "a match ID used for another mentor is refused", given: with(reg, taken(matchID, otherMentorID)), when: reserve(nil), err: refused(domain.CodeMatchExists)},
		{name: "repeating the request after its slot was released decides nothing", given: with(reg, taken(matchID, mentorID), released(matchID)), when: reserve(nil)},
		{name: "a second pending request is refused", given: with(reg, taken(otherMatchID, otherMentorID)), when: reserve(nil), err: refused(domain.CodePendingRequestExists)},
		{
			name: "after a decline or cancel the mentee requests again", given: with(reg, taken(otherMatchID, mentorID), released(otherMatchID)),
			when: reserve(nil), then: []domain.Event{taken(matchID, mentorID)},
		},
		{
			name: "a mentee with an active match is at the default limit", given: with(reg, taken(otherMatchID, otherMentorID), activated(otherMatchID)),
			when: reserve(nil), err: refused(domain.CodeActiveMatchLimit),
		},
		{
			name: "after the match ends the mentee requests again", given: with(reg, taken(otherMatchID, otherMentorID), activated(otherMatchID), released(otherMatchID)),
			when: reserve(nil), then: []domain.Event{taken(matchID, mentorID)},
		},
		{
			name: "a program allowing two active matches lets the mentee request a second", program: limits(1, 2),
			given: with(reg, taken(otherMatchID, otherMentorID), activated(otherMatchID)),
			when:  reserve(nil), then: []domain.Event{taken(matchID, mentorID)},
		},
		{
			name: "pending requests count towards the active limit, since any may be accepted", program: limits(2, 2),
			given: with(reg, taken(otherMatchID, otherMentorID), activated(otherMatchID), taken(thirdMatchID, otherMentorID)),
			when:  reserve(nil), err: refused(domain.CodeActiveMatchLimit),
		},
		{
			name: "a program allowing two pending requests takes a second", program: limits(2, 2),
			given: with(reg, taken(otherMatchID, otherMentorID)),
			when:  reserve(nil), then: []domain.Event{taken(matchID, mentorID)},
		},
		{name: "a mentee who never registered is not found", when: reserve(nil), err: refused(domain.CodeMemberNotFound)},
		{
			name: "a mentor account acting as a mentee does not request", given: []domain.Event{registered(menteeID, domain.RoleMentor)},
			when: reserve(nil), err: refused(domain.CodeOnlyMenteesRequest),
		},
		{
			name: "mentors do not request", given: []domain.Event{mentorReg},
			when: reserve(func(c *domain.ReserveRequestSlot) { c.Request.Actor = mentor; c.Request.MentorID = otherMentorID }),
			err:  refused(domain.CodeOnlyMenteesRequest),
		},
		{
			name: "nobody requests themselves", given: reg,
			when: reserve(func(c *domain.ReserveRequestSlot) { c.Request.MentorID = menteeID; c.Mentor = memberState(reg...) }),
			err:  refused(domain.CodeCannotRequestSelf),
		},
		{
			name: "a mentor who never registered is not found", given: reg,
			when: reserve(func(c *domain.ReserveRequestSlot) { c.Mentor = domain.Member{} }),
			err:  &wantRefusal{Code: domain.CodeMemberNotFound, Field: "mentorId"},
		},
		{
			name: "a mentee account is not a mentor", given: reg,
			when: reserve(func(c *domain.ReserveRequestSlot) {
				c.Request.MentorID = otherMenteeID
				c.Mentor = memberState(registered(otherMenteeID, domain.RoleMentee))
			}),
			err: &wantRefusal{Code: domain.CodeNotAMentor, Field: "mentorId"},
		},
		{
			name: "a staff account is not a mentor", given: reg,
			when: reserve(func(c *domain.ReserveRequestSlot) {
				c.Request.MentorID = staffID
				c.Mentor = memberState(registered(staffID, domain.RoleStaff))
			}),
			err: &wantRefusal{Code: domain.CodeNotAMentor, Field: "mentorId"},
		},
		{
			name: "a mentor who is not accepting is not requested", given: reg,
			when: reserve(func(c *domain.ReserveRequestSlot) {
				c.Mentor = memberState(mentorReg, domain.MentorAvailabilityChanged{MemberID: mentorID, Accepting: false, At: t0})
			}),
			err: refused(domain.CodeMentorNotAccepting),
		},
		{
			name: "a mentor at capacity is not requested", given: reg,
			when: reserve(func(c *domain.ReserveRequestSlot) {
				c.Mentor = memberState(mentorReg, domain.CapacitySlotReserved{MemberID: mentorID, MatchID: otherMatchID, MenteeID: otherMenteeID, At: t0})
			}),
			err: refused(domain.CodeMentorAtCapacity),
		},
		{
			name: "a mentor with room left is requested", given: reg,
			when: reserve(func(c *domain.ReserveRequestSlot) {
				c.Mentor = memberState(mentorReg,
					domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 2, At: t0},
					domain.CapacitySlotReserved{MemberID: mentorID, MatchID: otherMatchID, MenteeID: otherMenteeID, At: t0})
			}),
			then: []domain.Event{taken(matchID, mentorID)},
		},
		{
			name: "the request's message is checked before anything is written", given: reg,
			when: reserve(func(c *domain.ReserveRequestSlot) { c.Request.Message = repeat("m", 1001) }),
			err:  badInput("message"),
		},
		{name: "the mentor ID is required", given: reg, when: reserve(func(c *domain.ReserveRequestSlot) { c.Request.MentorID = uuid.Nil }), err: badInput("mentorId")},
	})
}

func TestReserveRequestSlotRefusesStateOfAnotherMentor(t *testing.T) {
	mentee := memberState(registered(menteeID, domain.RoleMentee))
	cmd := domain.ReserveRequestSlot{
		Request: domain.RequestMatch{MatchID: matchID, Actor: domain.Actor{ID: menteeID, Role: domain.RoleMentee}, MentorID: mentorID, At: t0},
		Mentor:  memberState(registered(otherMentorID, domain.RoleMentor)),
	}
	_, err := domain.DecideMember(domain.DefaultProgram(), mentee, cmd)
	var de *refusal.Error
	if err == nil || errors.As(err, &de) {
		t.Fatalf("got %v, want an error that is not a refusal", err)
	}
}

func TestReserveCapacitySlot(t *testing.T) {
	acc := domain.AcceptMatch{MatchID: matchID, Actor: mentor, At: days(1)}
	reg := []domain.Event{registered(mentorID, domain.RoleMentor)}
	reserve := func(m domain.Match) domain.ReserveCapacitySlot {
		return domain.ReserveCapacitySlot{Accept: acc, Match: m}
	}
	reserved := func(match, mentee uuid.UUID) domain.CapacitySlotReserved {
		return domain.CapacitySlotReserved{MemberID: mentorID, MatchID: match, MenteeID: mentee, At: days(1)}
	}
	busy := reserved(otherMatchID, otherMenteeID)
	runMemberCases(t, []memberCase{
		{name: "the mentor reserves a capacity slot for a pending match", given: reg, when: reserve(matchState(pending()...)), then: []domain.Event{reserved(matchID, menteeID)}},
		{name: "reserving again for the same match decides nothing", given: with(reg, reserved(matchID, menteeID)), when: reserve(matchState(pending()...))},
		{name: "a retried accept of an active match decides nothing", given: with(reg, reserved(matchID, menteeID)), when: reserve(matchState(active()...))},
		{name: "accepting beyond capacity is refused", given: with(reg, busy), when: reserve(matchState(pending()...)), err: refused(domain.CodeCapacityReached)},
		{
			name: "a raised capacity makes room", given: with(reg, busy, domain.MentorCapacityChanged{MemberID: mentorID, Capacity: 2, At: t0}),
			when: reserve(matchState(pending()...)), then: []domain.Event{reserved(matchID, menteeID)},
		},
		{
			name: "a released slot makes room", given: with(reg, busy, domain.CapacitySlotReleased{MemberID: mentorID, MatchID: otherMatchID, At: t0}),
			when: reserve(matchState(pending()...)), then: []domain.Event{reserved(matchID, menteeID)},
		},
		{
			name: "a mentor who stopped accepting new requests may still accept one received", given: with(reg, domain.MentorAvailabilityChanged{MemberID: mentorID, At: t0}),
			when: reserve(matchState(pending()...)), then: []domain.Event{reserved(matchID, menteeID)},
		},
		{name: "a match that was never requested is not found", given: reg, when: reserve(domain.Match{}), err: refused(domain.CodeMatchNotFound)},
		{
			name: "another mentor's match is not accepted", given: []domain.Event{registered(otherMentorID, domain.RoleMentor)},
			when: domain.ReserveCapacitySlot{Accept: domain.AcceptMatch{MatchID: matchID, Actor: otherMentor, At: days(1)}, Match: matchState(pending()...)},
			err:  refused(domain.CodeNotRequestedMentor),
		},
		{name: "a cancelled match is not accepted", given: reg, when: reserve(matchState(with(pending(), cancelled(days(1)))...)), err: refused(domain.CodeTerminalState)},
		{name: "a cancelled match is not accepted even with its slot held", given: with(reg, reserved(matchID, menteeID)), when: reserve(matchState(with(pending(), cancelled(days(1)))...)), err: refused(domain.CodeTerminalState)},
		{name: "an active match without a slot is no longer pending", given: reg, when: reserve(matchState(active()...)), err: refused(domain.CodeMatchNotPending)},
		{name: "a mentor who never registered is not found", when: reserve(matchState(pending()...)), err: refused(domain.CodeMemberNotFound)},
		{name: "the time is required", given: reg, when: domain.ReserveCapacitySlot{Accept: domain.AcceptMatch{MatchID: matchID, Actor: mentor}, Match: matchState(pending()...)}, err: badInput("at")},
	})
}

func TestSyncSlot(t *testing.T) {
	menteeReg := registered(menteeID, domain.RoleMentee)
	mentorReg := registered(mentorID, domain.RoleMentor)
	taken := domain.RequestSlotTaken{MemberID: menteeID, MatchID: matchID, MentorID: mentorID, At: t0}
	activated := domain.RequestSlotActivated{MemberID: menteeID, MatchID: matchID, At: days(2)}
	menteeReleased := domain.RequestSlotReleased{MemberID: menteeID, MatchID: matchID, At: days(2)}
	reserved := domain.CapacitySlotReserved{MemberID: mentorID, MatchID: matchID, MenteeID: menteeID, At: days(1)}
	mentorReleased := domain.CapacitySlotReleased{MemberID: mentorID, MatchID: matchID, At: days(2)}
	sync := func(member uuid.UUID, matchEvents ...domain.Event) domain.SyncSlot {
		return domain.SyncSlot{MemberID: member, MatchID: matchID, Match: matchState(matchEvents...), At: days(2)}
	}
	strangers := domain.MatchRequested{MatchID: matchID, MenteeID: otherMenteeID, MentorID: otherMentorID, At: t0}

	runMemberCases(t, []memberCase{
		{name: "a pending match keeps the mentee's pending slot", given: []domain.Event{menteeReg, taken}, when: sync(menteeID, pending()...)},
		{name: "an accepted match makes the mentee's slot active", given: []domain.Event{menteeReg, taken}, when: sync(menteeID, active()...), then: []domain.Event{activated}},
		{name: "an active slot stays active", given: []domain.Event{menteeReg, taken, activated}, when: sync(menteeID, active()...)},
		{name: "a declined match releases the mentee's slot", given: []domain.Event{menteeReg, taken}, when: sync(menteeID, with(pending(), declined(days(1)))...), then: []domain.Event{menteeReleased}},
		{name: "a cancelled match releases the mentee's slot", given: []domain.Event{menteeReg, taken}, when: sync(menteeID, with(pending(), cancelled(days(1)))...), then: []domain.Event{menteeReleased}},
		{name: "an ended match releases the mentee's active slot", given: []domain.Event{menteeReg, taken, activated}, when: sync(menteeID, with(active(), ended(days(2), "MOVED"))...), then: []domain.Event{menteeReleased}},
		{name: "an ended match releases a slot whose activation was missed", given: []domain.Event{menteeReg, taken}, when: sync(menteeID, with(active(), ended(days(2), "MOVED"))...), then: []domain.Event{menteeReleased}},
		{name: "a released slot stays released", given: []domain.Event{menteeReg, taken, menteeReleased}, when: sync(menteeID, with(pending(), cancelled(days(1)))...)},
		{name: "a slot whose request is not recorded yet is left alone", given: []domain.Event{menteeReg, taken}, when: sync(menteeID)},
		{name: "a slot whose match ID belongs to other members is released", given: []domain.Event{menteeReg, taken}, when: sync(menteeID, strangers), then: []domain.Event{menteeReleased}},
		{name: "a member without a slot for the match has nothing to sync", given: []domain.Event{menteeReg}, when: sync(menteeID, with(pending(), cancelled(days(1)))...)},
		{name: "an accepted match keeps the mentor's slot", given: []domain.Event{mentorReg, reserved}, when: sync(mentorID, active()...)},
		{name: "a pending match keeps the mentor's slot, an accept may be in flight", given: []domain.Event{mentorReg, reserved}, when: sync(mentorID, pending()...)},
		{name: "an ended match releases the mentor's slot", given: []domain.Event{mentorReg, reserved}, when: sync(mentorID, with(active(), ended(days(2), domain.EndReasonTermCompleted))...), then: []domain.Event{mentorReleased}},
		{name: "an accept that lost to a cancel gives its slot back", given: []domain.Event{mentorReg, reserved}, when: sync(mentorID, with(pending(), cancelled(days(1)))...), then: []domain.Event{mentorReleased}},
		{name: "a released mentor slot stays released", given: []domain.Event{mentorReg, reserved, mentorReleased}, when: sync(mentorID, with(pending(), cancelled(days(1)))...)},
		{name: "a member who never registered is not found", when: sync(menteeID, pending()...), err: refused(domain.CodeMemberNotFound)},
		{name: "the member ID is required", given: []domain.Event{menteeReg}, when: domain.SyncSlot{MatchID: matchID, At: t0}, err: badInput("memberId")},
		{name: "the match ID is required", given: []domain.Event{menteeReg}, when: domain.SyncSlot{MemberID: menteeID, At: t0}, err: badInput("matchId")},
		{name: "the time is required", given: []domain.Event{menteeReg}, when: domain.SyncSlot{MemberID: menteeID, MatchID: matchID}, err: badInput("at")},
	})
}

func TestSyncSlotRefusesStateOfAnotherMatch(t *testing.T) {
	m := memberState(registered(menteeID, domain.RoleMentee))
	_, err := domain.DecideMember(domain.DefaultProgram(), m, domain.SyncSlot{MemberID: menteeID, MatchID: otherMatchID, Match: matchState(pending()...), At: t0})
	var de *refusal.Error
	if err == nil || errors.As(err, &de) {
		t.Fatalf("got %v, want an error that is not a refusal", err)
	}
	_, err = domain.DecideMember(domain.DefaultProgram(), m, domain.SyncSlot{MemberID: otherMenteeID, MatchID: matchID, At: t0})
	if err == nil || errors.As(err, &de) {
		t.Fatalf("state of another member: got %v, want an error that is not a refusal", err)
	}
}

func TestMemberState(t *testing.T) {
	reg := registered(menteeID, domain.RoleMentee)
	m := memberState(reg,
		domain.ProfileUpdated{MemberID: menteeID, Profile: cleanedProfile(), At: t0},
		domain.RequestSlotTaken{MemberID: menteeID, MatchID: otherMatchID, MentorID: otherMentorID, At: t0},
		domain.RequestSlotActivated{MemberID: menteeID, MatchID: otherMatchID, At: t0},
		domain.RequestSlotTaken{MemberID: menteeID, MatchID: matchID, MentorID: mentorID, At: t0},
		domain.RequestSlotTaken{MemberID: menteeID, MatchID: thirdMatchID, MentorID: mentorID, At: t0},
		domain.RequestSlotReleased{MemberID: menteeID, MatchID: thirdMatchID, At: t0},
	)
	if m.ID() != menteeID || !m.Registered() || m.Role() != domain.RoleMentee || m.Email() != reg.Email || !m.RegisteredAt().Equal(reg.At) {
		t.Errorf("account: %v %v %v %v %v", m.ID(), m.Registered(), m.Role(), m.Email(), m.RegisteredAt())
	}
	if m.Name() != "Grace Hopper" {
		t.Errorf("Name = %q; the profile's name replaces the registration's", m.Name())
	}
	if diff := cmp.Diff(cleanedProfile(), m.Profile()); diff != "" {
		t.Errorf("Profile (-want +got):\n%s", diff)
	}
	if m.PendingRequests() != 1 || m.ActiveMatches() != 1 || m.CapacityUsed() != 0 {
		t.Errorf("counts: pending %d, active %d, capacity used %d", m.PendingRequests(), m.ActiveMatches(), m.CapacityUsed())
	}
	want := []domain.Slot{
		{MatchID: matchID, PartnerID: mentorID, State: domain.SlotPending},
		{MatchID: otherMatchID, PartnerID: otherMentorID, State: domain.SlotActive},
	}
	if diff := cmp.Diff(want, m.Slots()); diff != "" {
		t.Errorf("Slots (-want +got):\n%s", diff)
	}

	// Changing what Profile returned leaves the state alone.
	pr := m.Profile()
	pr.Languages[0] = "xx"
	pr.Skills["LEADERSHIP"] = 1
	if diff := cmp.Diff(cleanedProfile(), m.Profile()); diff != "" {
		t.Errorf("the state changed through a returned profile (-want +got):\n%s", diff)
	}

	mentorState := memberState(registered(mentorID, domain.RoleMentor))
	if mentorState.Capacity() != 1 || !mentorState.Accepting() {
		t.Errorf("a new mentor: capacity %d, accepting %v", mentorState.Capacity(), mentorState.Accepting())
	}
	if (domain.Member{}).Registered() {
		t.Error("the zero Member is not registered")
	}
}

// TestEvolveMemberKeepsEarlierStates checks that evolving never changes a
// state that was already handed out.
func TestEvolveMemberKeepsEarlierStates(t *testing.T) {
	before := memberState(registered(menteeID, domain.RoleMentee),
		domain.RequestSlotTaken{MemberID: menteeID, MatchID: matchID, MentorID: mentorID, At: t0})
	after := domain.EvolveMember(before, domain.RequestSlotReleased{MemberID: menteeID, MatchID: matchID, At: t0})
	if before.PendingRequests() != 1 {
		t.Error("evolving changed the earlier state")
	}
	if after.PendingRequests() != 0 {
		t.Error("the new state still holds the slot")
	}
}

// A member edits the profile one section at a time: the fields a patch
// leaves out keep their values, a field set to its zero value is cleared,
// and the name cannot be cleared.
func TestUpdateProfileBySection(t *testing.T) {
	reg := []domain.Event{registered(mentorID, domain.RoleMentor)}
	saved := domain.ProfileUpdated{MemberID: mentorID, Profile: cleanedProfile(), At: t0}
	patch := func(p domain.ProfilePatch) domain.UpdateProfile {
		return domain.UpdateProfile{MemberID: mentorID, Actor: mentor, Patch: &p, At: t0.Add(time.Hour)}
	}
	want := func(f func(*domain.Profile)) []domain.Event {
		pr := cleanedProfile()
		f(&pr)
		return []domain.Event{domain.ProfileUpdated{MemberID: mentorID, Profile: pr, At: t0.Add(time.Hour)}}
	}
	runMemberCases(t, []memberCase{
		{
			name: "a biography edit keeps every other field", given: with(reg, saved),
			when: patch(domain.ProfilePatch{Biography: domain.To("Water resources engineer.")}),
			then: want(func(p *domain.Profile) { p.Biography = "Water resources engineer." }),
		},
		{
			name: "the name alone changes the name alone", given: with(reg, saved),
			when: patch(domain.ProfilePatch{Name: domain.To("Grace H.")}),
			then: want(func(p *domain.Profile) { p.Name = "Grace H." }),
		},
		{
			name: "a cleared field is cleared and the rest kept", given: with(reg, saved),
			when: patch(domain.ProfilePatch{ContactPhone: domain.To(""), ContactPreferredWay: domain.To(domain.ContactEmail)}),
			then: want(func(p *domain.Profile) { p.Contact.Phone = ""; p.Contact.PreferredMethod = domain.ContactEmail }),
		},
		{
			name: "a skills section replaces the assessment", given: with(reg, saved),
			when: patch(domain.ProfilePatch{Skills: domain.To(map[string]int{"LEADERSHIP": 2})}),
			then: want(func(p *domain.Profile) { p.Skills = map[string]int{"LEADERSHIP": 2} }),
		},
		{name: "an empty patch decides nothing", given: with(reg, saved), when: patch(domain.ProfilePatch{})},
		{name: "the name is not cleared", given: with(reg, saved), when: patch(domain.ProfilePatch{Name: domain.To("")}), err: badInput("name")},
		{
			name: "a patched field keeps its rules", given: with(reg, saved),
			when: patch(domain.ProfilePatch{Discipline: domain.To("Astrology")}), err: badInput("discipline"),
		},
		{name: "another member does not patch it", given: with(reg, saved), when: func() domain.UpdateProfile {
			c := patch(domain.ProfilePatch{Biography: domain.To("x")})
			c.Actor = otherMentor
			return c
		}(), err: refused(domain.CodeNotYourAccount)},
	})
}
