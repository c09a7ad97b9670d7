package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

func TestRequestMatch(t *testing.T) {
	req := domain.RequestMatch{MatchID: matchID, Actor: mentee, MentorID: mentorID, Message: "  Hello, could we talk?  ", At: t0}
	withReq := func(f func(*domain.RequestMatch)) domain.RequestMatch {
		r := req
		f(&r)
		return r
	}
	runMatchCases(t, []matchCase{
		{
			name: "a mentee requests a mentor, with the message trimmed",
			when: req,
			then: []domain.Event{domain.MatchRequested{
				MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Message: "Hello, could we talk?", At: t0,
			}},
		},
		{
			name: "the time is stored in UTC",
			when: withReq(func(r *domain.RequestMatch) { r.At = t0.In(time.FixedZone("MST", -7*3600)); r.Message = "" }),
			then: []domain.Event{requested(t0)},
		},
		{
			name:  "repeating the request while it is pending decides nothing",
			given: pending(),
			when:  req,
		},
		{
			name:  "a match ID already used for another mentor is refused",
			given: []domain.Event{domain.MatchRequested{MatchID: matchID, MenteeID: menteeID, MentorID: otherMentorID, At: t0}},
			when:  req,
			err:   refused(domain.CodeMatchExists),
		},
		{
			name:  "repeating the request after its decline decides nothing",
			given: with(pending(), declined(days(2))),
			when:  req,
		},
		{
			name:  "a match ID already used by another mentee is refused",
			given: []domain.Event{domain.MatchRequested{MatchID: matchID, MenteeID: otherMenteeID, MentorID: mentorID, At: t0}},
			when:  req,
			err:   refused(domain.CodeMatchExists),
		},
		{name: "mentors do not request", when: withReq(func(r *domain.RequestMatch) { r.Actor = otherMentor }), err: refused(domain.CodeOnlyMenteesRequest)},
		{name: "staff do not request", when: withReq(func(r *domain.RequestMatch) { r.Actor = staff }), err: refused(domain.CodeOnlyMenteesRequest)},
		{name: "the system does not request", when: withReq(func(r *domain.RequestMatch) { r.Actor = system }), err: refused(domain.CodeOnlyMenteesRequest)},
		{name: "nobody requests themselves", when: withReq(func(r *domain.RequestMatch) { r.MentorID = menteeID }), err: refused(domain.CodeCannotRequestSelf)},
		{name: "the match ID is required", when: withReq(func(r *domain.RequestMatch) { r.MatchID = uuid.Nil }), err: badInput("matchId")},
		{name: "the mentor ID is required", when: withReq(func(r *domain.RequestMatch) { r.MentorID = uuid.Nil }), err: badInput("mentorId")},
		{name: "the time is required", when: withReq(func(r *domain.RequestMatch) { r.At = time.Time{} }), err: badInput("at")},
		{name: "the actor needs an ID", when: withReq(func(r *domain.RequestMatch) { r.Actor.ID = uuid.Nil }), err: badInput("actor")},
		{name: "the actor needs a known role", when: withReq(func(r *domain.RequestMatch) { r.Actor.Role = "ROOT" }), err: badInput("actor")},
		{
			name: "the message has a length limit",
			when: withReq(func(r *domain.RequestMatch) { r.Message = strings.Repeat("é", 1001) }),
			err:  badInput("message"),
		},
		{
			name: "a message at the limit is taken",
			when: withReq(func(r *domain.RequestMatch) { r.Message = strings.Repeat("é", 1000) }),
			then: []domain.Event{domain.MatchRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Message: strings.Repeat("é", 1000), At: t0}},
		},
		{name: "the message must be UTF-8", when: withReq(func(r *domain.RequestMatch) { r.Message = "bad \xff byte" }), err: badInput("message")},
		{name: "the message holds no control characters", when: withReq(func(r *domain.RequestMatch) { r.Message = "bell \a" }), err: badInput("message")},
		{
			name: "the message keeps line breaks",
			when: withReq(func(r *domain.RequestMatch) { r.Message = "Hello,\r\n\tthanks" }),
			then: []domain.Event{domain.MatchRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Message: "Hello,\n\tthanks", At: t0}},
		},
	})
}

func TestAcceptMatch(t *testing.T) {
	acc := domain.AcceptMatch{MatchID: matchID, Actor: mentor, At: days(1)}
	as := func(a domain.Actor) domain.AcceptMatch { c := acc; c.Actor = a; return c }
	runMatchCases(t, []matchCase{
		{name: "the requested mentor accepts a pending match", given: pending(), when: acc, then: []domain.Event{accepted(days(1))}},
		{name: "accepting an active match again decides nothing", given: active(), when: acc},
		{name: "a match that was never requested is not found", when: acc, err: refused(domain.CodeMatchNotFound)},
		{name: "another mentor does not accept", given: pending(), when: as(otherMentor), err: refused(domain.CodeNotRequestedMentor)},
		{name: "the mentee does not accept", given: pending(), when: as(mentee), err: refused(domain.CodeNotRequestedMentor)},
		{name: "the mentor's ID in another role does not accept", given: pending(), when: as(domain.Actor{ID: mentorID, Role: domain.RoleStaff}), err: refused(domain.CodeNotRequestedMentor)},
		{name: "staff do not accept for the mentor", given: pending(), when: as(staff), err: refused(domain.CodeNotRequestedMentor)},
		{name: "a cancelled match stays cancelled", given: with(pending(), cancelled(days(1))), when: acc, err: refused(domain.CodeTerminalState)},
		{name: "a declined match stays declined", given: with(pending(), declined(days(1))), when: acc, err: refused(domain.CodeTerminalState)},
		{name: "an ended match stays ended", given: with(active(), ended(days(30), "MOVED")), when: acc, err: refused(domain.CodeTerminalState)},
		{name: "the match ID is required", given: pending(), when: domain.AcceptMatch{Actor: mentor, At: days(1)}, err: badInput("matchId")},
		{name: "the time is required", given: pending(), when: domain.AcceptMatch{MatchID: matchID, Actor: mentor}, err: badInput("at")},
	})
}

func TestDeclineMatch(t *testing.T) {
	dec := domain.DeclineMatch{MatchID: matchID, Actor: mentor, Reason: "SCHEDULE_CONFLICT", Message: " Sorry, not this season. ", At: days(2)}
	withDec := func(f func(*domain.DeclineMatch)) domain.DeclineMatch { c := dec; f(&c); return c }
	runMatchCases(t, []matchCase{
		{
			name: "the mentor declines with a reason and a message", given: pending(), when: dec,
			then: []domain.Event{domain.MatchDeclined{
				MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Reason: "SCHEDULE_CONFLICT", Message: "Sorry, not this season.", At: days(2),
			}},
		},
		{
			name: "reason and message are optional", given: pending(),
			when: withDec(func(c *domain.DeclineMatch) { c.Reason, c.Message = "", "" }),
			then: []domain.Event{declined(days(2))},
		},
		{name: "declining a declined match again decides nothing", given: with(pending(), declined(days(1))), when: dec},
		{name: "the mentee does not decline", given: pending(), when: withDec(func(c *domain.DeclineMatch) { c.Actor = mentee }), err: refused(domain.CodeNotRequestedMentor)},
		{name: "another mentor does not decline", given: pending(), when: withDec(func(c *domain.DeclineMatch) { c.Actor = otherMentor }), err: refused(domain.CodeNotRequestedMentor)},
		{name: "an active match is no longer pending", given: active(), when: dec, err: refused(domain.CodeMatchNotPending)},
		{name: "a cancelled match stays cancelled", given: with(pending(), cancelled(days(1))), when: dec, err: refused(domain.CodeTerminalState)},
		{name: "an ended match stays ended", given: with(active(), ended(days(9), "OTHER")), when: dec, err: refused(domain.CodeTerminalState)},
		{name: "a match that was never requested is not found", when: dec, err: refused(domain.CodeMatchNotFound)},
		{name: "the reason comes from the program's list", given: pending(), when: withDec(func(c *domain.DeclineMatch) { c.Reason = "BORED" }), err: badInput("reason")},
		{name: "the message has a length limit", given: pending(), when: withDec(func(c *domain.DeclineMatch) { c.Message = strings.Repeat("x", 1001) }), err: badInput("message")},
	})
}

func TestCancelMatch(t *testing.T) {
	cancel := domain.CancelMatch{MatchID: matchID, Actor: mentee, At: days(3)}
	as := func(a domain.Actor) domain.CancelMatch { c := cancel; c.Actor = a; return c }
	runMatchCases(t, []matchCase{
		{name: "the mentee cancels a pending request", given: pending(), when: cancel, then: []domain.Event{cancelled(days(3))}},
		{name: "cancelling a cancelled match again decides nothing", given: with(pending(), cancelled(days(1))), when: cancel},
		{name: "the mentor does not cancel", given: pending(), when: as(mentor), err: refused(domain.CodeNotRequestingMentee)},
		{name: "another mentee does not cancel", given: pending(), when: as(otherMentee), err: refused(domain.CodeNotRequestingMentee)},
		{name: "staff do not cancel for the mentee", given: pending(), when: as(staff), err: refused(domain.CodeNotRequestingMentee)},
		{name: "an accepted match is no longer pending", given: active(), when: cancel, err: refused(domain.CodeMatchNotPending)},
		{name: "a declined match stays declined", given: with(pending(), declined(days(1))), when: cancel, err: refused(domain.CodeTerminalState)},
		{name: "a match that was never requested is not found", when: cancel, err: refused(domain.CodeMatchNotFound)},
	})
}

// TestAcceptRacingCancel decides an accept and a cancel against the same
// loaded state, as two concurrent commands would: whichever is appended
// first wins, and the other, decided again on the reloaded stream, is
// refused.
func TestAcceptRacingCancel(t *testing.T) {
	p := domain.DefaultProgram()
	loaded := matchState(pending()...)
	acc := domain.AcceptMatch{MatchID: matchID, Actor: mentor, At: days(1)}
	cancel := domain.CancelMatch{MatchID: matchID, Actor: mentee, At: days(1)}
	accEvents, err := domain.DecideMatch(p, loaded, acc)
	if err != nil || len(accEvents) != 1 {
		t.Fatalf("accept on the loaded state: %v, %v", accEvents, err)
	}
	cancelEvents, err := domain.DecideMatch(p, loaded, cancel)
	if err != nil || len(cancelEvents) != 1 {
		t.Fatalf("cancel on the loaded state: %v, %v", cancelEvents, err)
	}

	afterAccept := domain.Fold(loaded, domain.EvolveMatch, accEvents...)
	_, err = domain.DecideMatch(p, afterAccept, cancel)
	if got := refusal.CodeOf(err); got != domain.CodeMatchNotPending {
		t.Errorf("cancel after the accept won: code %q, want %q", got, domain.CodeMatchNotPending)
	}
	afterCancel := domain.Fold(loaded, domain.EvolveMatch, cancelEvents...)
	_, err = domain.DecideMatch(p, afterCancel, acc)
	if got := refusal.CodeOf(err); got != domain.CodeTerminalState {
		t.Errorf("accept after the cancel won: code %q, want %q", got, domain.CodeTerminalState)
	}
}

func TestRequestNudge(t *testing.T) {
	ask := func(at time.Time) domain.RequestNudge {
		return domain.RequestNudge{MatchID: matchID, Actor: mentee, At: at}
	}
	nudgeRequested := domain.NudgeRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: days(14)}
	nudged := domain.MentorNudged{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, StaffID: staffID, At: days(15)}
	runMatchCases(t, []matchCase{
		{
			name: "the mentee asks for a nudge once 14 days passed", given: pending(), when: ask(days(14)),
			then: []domain.Event{nudgeRequested},
		},
		{name: "a nudge request before day 14 is refused", given: pending(), when: ask(days(14, -time.Second)), err: refused(domain.CodeWindowNotElapsed)},
		{
			name: "the window follows the program setting", given: pending(), when: ask(days(7)),
			program: func(p *domain.Program) { p.ResponseWindow = 7 * 24 * time.Hour },
			then:    []domain.Event{domain.NudgeRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: days(7)}},
		},
		{name: "a second request while staff have not nudged is refused", given: with(pending(), nudgeRequested), when: ask(days(16)), err: refused(domain.CodeNudgeAlreadyRequested)},
		{
			name: "after staff nudged, the mentee may ask again", given: with(pending(), nudgeRequested, nudged), when: ask(days(20)),
			then: []domain.Event{domain.NudgeRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: days(20)}},
		},
		{name: "the mentor does not ask", given: pending(), when: domain.RequestNudge{MatchID: matchID, Actor: mentor, At: days(15)}, err: refused(domain.CodeNotRequestingMentee)},
		{name: "another mentee does not ask", given: pending(), when: domain.RequestNudge{MatchID: matchID, Actor: otherMentee, At: days(15)}, err: refused(domain.CodeNotRequestingMentee)},
		{name: "an active match needs no nudge", given: active(), when: ask(days(15)), err: refused(domain.CodeMatchNotPending)},
		{name: "a cancelled match stays cancelled", given: with(pending(), cancelled(days(15))), when: ask(days(16)), err: refused(domain.CodeTerminalState)},
		{name: "a match that was never requested is not found", when: ask(days(15)), err: refused(domain.CodeMatchNotFound)},
	})
}

func TestNudgeMentor(t *testing.T) {
	nudge := func(at time.Time) domain.NudgeMentor {
		return domain.NudgeMentor{MatchID: matchID, Actor: staff, Note: " Called the mentor. ", At: at}
	}
	nudged := func(at time.Time) domain.MentorNudged {
		return domain.MentorNudged{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, StaffID: staffID, Note: "Called the mentor.", At: at}
	}
	runMatchCases(t, []matchCase{
		{name: "staff nudge the mentor of a pending match", given: pending(), when: nudge(days(15)), then: []domain.Event{nudged(days(15))}},
		{name: "staff may nudge before the window is over", given: pending(), when: nudge(days(3)), then: []domain.Event{nudged(days(3))}},
		{name: "a second nudge within 7 days is refused", given: with(pending(), nudged(days(15))), when: nudge(days(22, -time.Second)), err: refused(domain.CodeNudgeTooSoon)},
		{name: "a second nudge 7 days later is taken", given: with(pending(), nudged(days(15))), when: nudge(days(22)), then: []domain.Event{nudged(days(22))}},
		{
			name: "the spacing follows the program setting", given: with(pending(), nudged(days(15))), when: nudge(days(16)),
			program: func(p *domain.Program) { p.NudgeSpacing = 24 * time.Hour },
			then:    []domain.Event{nudged(days(16))},
		},
		{name: "mentees do not nudge", given: pending(), when: domain.NudgeMentor{MatchID: matchID, Actor: mentee, At: days(15)}, err: refused(domain.CodeStaffOnly)},
		{name: "the system does not nudge", given: pending(), when: domain.NudgeMentor{MatchID: matchID, Actor: system, At: days(15)}, err: refused(domain.CodeStaffOnly)},
		{name: "auditors do not nudge", given: pending(), when: domain.NudgeMentor{MatchID: matchID, Actor: auditor, At: days(15)}, err: refused(domain.CodeStaffOnly)},
		{name: "an active match is not nudged", given: active(), when: nudge(days(15)), err: refused(domain.CodeMatchNotPending)},
		{name: "a declined match stays declined", given: with(pending(), declined(days(2))), when: nudge(days(15)), err: refused(domain.CodeTerminalState)},
		{name: "a match that was never requested is not found", when: nudge(days(15)), err: refused(domain.CodeMatchNotFound)},
		{
			name: "the note has a length limit", given: pending(),
			when: domain.NudgeMentor{MatchID: matchID, Actor: staff, Note: strings.Repeat("n", 2001), At: days(15)},
			err:  badInput("note"),
		},
	})
}

func TestMarkResponseWindowElapsed(t *testing.T) {
	mark := func(at time.Time) domain.MarkResponseWindowElapsed {
		return domain.MarkResponseWindowElapsed{MatchID: matchID, Actor: system, At: at}
	}
	elapsed := domain.ResponseWindowElapsed{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: days(14)}
	runMatchCases(t, []matchCase{
		{name: "the system marks day 14 of a pending match", given: pending(), when: mark(days(14)), then: []domain.Event{elapsed}},
		{name: "marking before day 14 is refused", given: pending(), when: mark(days(13)), err: refused(domain.CodeWindowNotElapsed)},
		{name: "marked days late, the window still elapsed on day 14", given: pending(), when: mark(days(19)), then: []domain.Event{elapsed}},
		{name: "marking twice decides nothing", given: with(pending(), elapsed), when: mark(days(15))},
		{name: "an accepted match is not marked", given: active(), when: mark(days(14))},
		{name: "a cancelled match is not marked", given: with(pending(), cancelled(days(3))), when: mark(days(14))},
		{name: "staff do not mark", given: pending(), when: domain.MarkResponseWindowElapsed{MatchID: matchID, Actor: staff, At: days(14)}, err: refused(domain.CodeSystemOnly)},
		{name: "a match that was never requested is not found", when: mark(days(14)), err: refused(domain.CodeMatchNotFound)},
		{
			name: "the system actor has no member ID", given: pending(),
			when: domain.MarkResponseWindowElapsed{MatchID: matchID, Actor: domain.Actor{ID: staffID, Role: domain.RoleSystem}, At: days(14)},
			err:  badInput("actor"),
		},
	})
}

func TestRemindFirstMeeting(t *testing.T) {
	remind := func(at time.Time) domain.RemindFirstMeeting {
		return domain.RemindFirstMeeting{MatchID: matchID, Actor: system, At: at}
	}
	due := domain.FirstMeetingReminderDue{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: days(22)}
	logged := func(author uuid.UUID) domain.SessionLogged {
		return domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: author, Details: domain.SessionDetails{Date: date(t, "2026-03-05")}, At: days(3)}
	}
	runMatchCases(t, []matchCase{
		{name: "21 days after the acceptance without a session, the reminder is due", given: active(), when: remind(days(22)), then: []domain.Event{due}},
		{name: "before 21 days it is not due", given: active(), when: remind(days(22, -time.Second)), err: refused(domain.CodeReminderNotDue)},
		{name: "recorded days late, it is dated when it fell due", given: active(), when: remind(days(30)), then: []domain.Event{due}},
		{name: "a session by the mentee makes it unneeded", given: with(active(), logged(menteeID)), when: remind(days(22))},
		{name: "a session by the mentor makes it unneeded", given: with(active(), logged(mentorID)), when: remind(days(22))},
		{name: "it is recorded once", given: with(active(), due), when: remind(days(23))},
		{name: "an ended match needs no reminder", given: with(active(), ended(days(10), "MOVED")), when: remind(days(22))},
		{name: "a pending match needs no reminder", given: pending(), when: remind(days(22))},
		{name: "staff do not record it", given: active(), when: domain.RemindFirstMeeting{MatchID: matchID, Actor: staff, At: days(22)}, err: refused(domain.CodeSystemOnly)},
	})
}

func TestCompleteTerm(t *testing.T) {
	complete := func(at time.Time) domain.CompleteTerm {
		return domain.CompleteTerm{MatchID: matchID, Actor: system, At: at}
	}
	// Accepted on 3 March 2026, the match ends on 3 March 2027.
	termEnd := time.Date(2027, 3, 3, 15, 0, 0, 0, time.UTC)
	leapAccepted := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	runMatchCases(t, []matchCase{
		{name: "the system ends an active match one year after it was made", given: active(), when: complete(termEnd), then: []domain.Event{ended(termEnd, domain.EndReasonTermCompleted)}},
		{name: "ending before the year is over is refused", given: active(), when: complete(termEnd.Add(-time.Second)), err: refused(domain.CodeTermNotCompleted)},
		{name: "run days late, the match still ends when the term did", given: active(), when: complete(termEnd.AddDate(0, 0, 3)), then: []domain.Event{ended(termEnd, domain.EndReasonTermCompleted)}},
		{
			name:  "the year is a calendar year, 366 days across 29 February",
			given: []domain.Event{requested(leapAccepted), accepted(leapAccepted)},
			when:  complete(leapAccepted.AddDate(0, 0, 365)),
			err:   refused(domain.CodeTermNotCompleted),
		},
		{
			name: "the term follows the program setting", given: active(), when: complete(time.Date(2026, 9, 3, 15, 0, 0, 0, time.UTC)),
			program: func(p *domain.Program) { p.TermMonths = 6 },
			then:    []domain.Event{ended(time.Date(2026, 9, 3, 15, 0, 0, 0, time.UTC), domain.EndReasonTermCompleted)},
		},
		{name: "a match ended early is left alone", given: with(active(), ended(days(40), "GRACEFUL_EXIT")), when: complete(termEnd)},
		{name: "a declined match is left alone", given: with(pending(), declined(days(1))), when: complete(termEnd)},
		{name: "a pending match has no term", given: pending(), when: complete(termEnd), err: refused(domain.CodeMatchNotActive)},
		{name: "staff do not complete terms", given: active(), when: domain.CompleteTerm{MatchID: matchID, Actor: staff, At: termEnd}, err: refused(domain.CodeSystemOnly)},
		{name: "a mentor does not complete terms", given: active(), when: domain.CompleteTerm{MatchID: matchID, Actor: mentor, At: termEnd}, err: refused(domain.CodeSystemOnly)},
	})
}

func TestEndMatch(t *testing.T) {
	end := domain.EndMatch{MatchID: matchID, Actor: staff, Reason: "GRACEFUL_EXIT", RequestedBy: mentorID, Note: " Not a good fit. ", At: days(30)}
	withEnd := func(f func(*domain.EndMatch)) domain.EndMatch { c := end; f(&c); return c }
	endedEarly := domain.MatchEnded{
		MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Reason: "GRACEFUL_EXIT",
		RequestedBy: mentorID, StaffID: staffID, Note: "Not a good fit.", At: days(30),
	}
	var cases []matchCase
	for _, reason := range []string{"GRACEFUL_EXIT", "GOALS_CONCLUDED", "MOVED", "OTHER"} {
		e := endedEarly
		e.Reason = reason
		cases = append(cases, matchCase{
			name: "staff end an active match with reason " + reason, given: active(),
			when: withEnd(func(c *domain.EndMatch) { c.Reason = reason }), then: []domain.Event{e},
		})
	}
	cases = append(cases, []matchCase{
		{
			name: "the mentee may be the one who asked", given: active(),
			when: withEnd(func(c *domain.EndMatch) { c.RequestedBy = menteeID }),
			then: []domain.Event{func() domain.Event { e := endedEarly; e.RequestedBy = menteeID; return e }()},
		},
		{name: "ending again with the same reason decides nothing", given: with(active(), endedEarly), when: end},
		{name: "ending again with another reason is refused", given: with(active(), endedEarly), when: withEnd(func(c *domain.EndMatch) { c.Reason = "MOVED" }), err: refused(domain.CodeTerminalState)},
		{name: "a match ended by its term stays ended", given: with(active(), ended(days(365), domain.EndReasonTermCompleted)), when: end, err: refused(domain.CodeTerminalState)},
		{name: "a cancelled match is not ended", given: with(pending(), cancelled(days(1))), when: end, err: refused(domain.CodeTerminalState)},
		{name: "a pending match is not ended", given: pending(), when: end, err: refused(domain.CodeMatchNotActive)},
		{name: "the mentee does not end matches", given: active(), when: withEnd(func(c *domain.EndMatch) { c.Actor = mentee }), err: refused(domain.CodeStaffOnly)},
		{name: "the mentor does not end matches", given: active(), when: withEnd(func(c *domain.EndMatch) { c.Actor = mentor }), err: refused(domain.CodeStaffOnly)},
		{name: "the system ends matches only by CompleteTerm", given: active(), when: withEnd(func(c *domain.EndMatch) { c.Actor = system }), err: refused(domain.CodeStaffOnly)},
		{name: "the reason is required", given: active(), when: withEnd(func(c *domain.EndMatch) { c.Reason = "" }), err: badInput("reason")},
		{name: "staff cannot claim the term is completed", given: active(), when: withEnd(func(c *domain.EndMatch) { c.Reason = domain.EndReasonTermCompleted }), err: badInput("reason")},
		{name: "the reason comes from the program's list", given: active(), when: withEnd(func(c *domain.EndMatch) { c.Reason = "FIRED" }), err: badInput("reason")},
		{name: "who asked is required, checked before the match", when: withEnd(func(c *domain.EndMatch) { c.RequestedBy = uuid.Nil }), err: badInput("requestedBy")},
		{name: "who asked must be a partner", given: active(), when: withEnd(func(c *domain.EndMatch) { c.RequestedBy = otherMenteeID }), err: badInput("requestedBy")},
		{name: "the note is required", given: active(), when: withEnd(func(c *domain.EndMatch) { c.Note = "  " }), err: badInput("note")},
		{name: "the note has a length limit", given: active(), when: withEnd(func(c *domain.EndMatch) { c.Note = strings.Repeat("n", 2001) }), err: badInput("note")},
		{name: "a match that was never requested is not found", when: end, err: refused(domain.CodeMatchNotFound)},
	}...)
	runMatchCases(t, cases)
}

func TestRequestProfileReview(t *testing.T) {
	review := func(at time.Time) domain.RequestProfileReview {
		return domain.RequestProfileReview{MatchID: matchID, Actor: system, At: at}
	}
	asked := func(at time.Time) domain.ProfileReviewRequested {
		return domain.ProfileReviewRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: at}
	}
	runMatchCases(t, []matchCase{
		{name: "after the term ends, both partners are asked", given: with(active(), ended(days(366), domain.EndReasonTermCompleted)), when: review(days(366)), then: []domain.Event{asked(days(366))}},
		{name: "after an early end, both partners are asked", given: with(active(), ended(days(40), "GOALS_CONCLUDED")), when: review(days(40)), then: []domain.Event{asked(days(40))}},
		{name: "they are asked once per match", given: with(active(), ended(days(40), "MOVED"), asked(days(40))), when: review(days(41))},
		{name: "an active match has not ended", given: active(), when: review(days(40)), err: refused(domain.CodeMatchNotEnded)},
		{name: "a declined request never made a match", given: with(pending(), declined(days(1))), when: review(days(2)), err: refused(domain.CodeMatchNotEnded)},
		{name: "staff do not ask", given: with(active(), ended(days(40), "MOVED")), when: domain.RequestProfileReview{MatchID: matchID, Actor: staff, At: days(40)}, err: refused(domain.CodeSystemOnly)},
	})
}

func TestDecideMatchRefusesStateOfAnotherMatch(t *testing.T) {
	state := matchState(pending()...)
	_, err := domain.DecideMatch(domain.DefaultProgram(), state, domain.AcceptMatch{MatchID: otherMatchID, Actor: mentor, At: days(1)})
	if err == nil || refusal.CodeOf(err) != "" {
		t.Fatalf("got %v, want an error that is not a refusal", err)
	}
	var de *refusal.Error
	if errors.As(err, &de) {
		t.Fatalf("a caller's mistake came back as a refusal: %v", err)
	}
}

func TestMatchState(t *testing.T) {
	p := domain.DefaultProgram()
	m := matchState(with(active(),
		domain.MentorNudged{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, StaffID: staffID, At: days(1)},
		ended(days(50), "MOVED"))...)
	if m.ID() != matchID || !m.Exists() || m.MenteeID() != menteeID || m.MentorID() != mentorID {
		t.Errorf("identity: %v %v %v %v", m.ID(), m.Exists(), m.MenteeID(), m.MentorID())
	}
	if m.Status() != domain.StatusEnded || !m.Status().Terminal() || m.EndReason() != "MOVED" {
		t.Errorf("status %s, reason %s", m.Status(), m.EndReason())
	}
	if !m.RequestedAt().Equal(t0) || !m.AcceptedAt().Equal(days(1)) || !m.ClosedAt().Equal(days(50)) || !m.LastNudgeAt().Equal(days(1)) {
		t.Errorf("times: %v %v %v %v", m.RequestedAt(), m.AcceptedAt(), m.ClosedAt(), m.LastNudgeAt())
	}
	if !m.IsPartner(menteeID) || !m.IsPartner(mentorID) || m.IsPartner(staffID) || m.IsPartner(uuid.Nil) {
		t.Error("IsPartner is wrong")
	}
	if m.HasSessions() || m.NudgeRequested() {
		t.Error("no session was logged and no nudge is outstanding")
	}
	if domain.StatusActive.Terminal() || domain.StatusPending.Terminal() {
		t.Error("pending and active are not terminal")
	}
	if got := p.ResponseDeadline(t0); !got.Equal(days(14)) {
		t.Errorf("ResponseDeadline = %v", got)
	}
	if got := p.NextNudgeAt(t0); !got.Equal(days(7)) {
		t.Errorf("NextNudgeAt = %v", got)
	}
	if got := p.FirstMeetingReminderAt(t0); !got.Equal(days(21)) {
		t.Errorf("FirstMeetingReminderAt = %v", got)
	}
	if zero := (domain.Match{}); zero.Exists() || zero.Status() != "" {
		t.Error("the zero Match does not exist")
	}
}

// TestEvolveMatchKeepsEarlierStates checks that evolving never changes a
// state that was already handed out, so callers may keep it.
func TestEvolveMatchKeepsEarlierStates(t *testing.T) {
	before := matchState(active()...)
	log := domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: domain.SessionDetails{Date: date(t, "2026-03-04")}, At: days(3)}
	after := domain.EvolveMatch(before, log)
	if before.HasSessions() {
		t.Error("evolving changed the earlier state")
	}
	if !after.HasSessions() {
		t.Error("the new state lacks the session")
	}
}

func TestRequestMatchEnd(t *testing.T) {
	ask := domain.RequestMatchEnd{MatchID: matchID, Actor: mentee, Reason: "GRACEFUL_EXIT", Note: " Not a good fit. ", At: days(8)}
	change := func(f func(*domain.RequestMatchEnd)) domain.RequestMatchEnd { c := ask; f(&c); return c }
	requested := domain.MatchEndRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, RequestedBy: menteeID, Reason: "GRACEFUL_EXIT", Note: "Not a good fit.", At: days(8)}
	runMatchCases(t, []matchCase{
		{name: "the mentee asks staff to end the match", given: active(), when: ask, then: []domain.Event{requested}},
		{
			name: "so may the mentor", given: active(), when: change(func(c *domain.RequestMatchEnd) { c.Actor = mentor; c.Reason = "MOVED"; c.Note = "" }),
			then: []domain.Event{domain.MatchEndRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, RequestedBy: mentorID, Reason: "MOVED", At: days(8)}},
		},
		{name: "one request waits at a time", given: with(active(), requested), when: change(func(c *domain.RequestMatchEnd) { c.Actor = mentor }), err: refused(domain.CodeEndAlreadyRequested)},
		{name: "an ended match is not asked again", given: with(active(), requested, ended(days(9), "GRACEFUL_EXIT")), when: ask, err: refused(domain.CodeTerminalState)},
		{name: "a pending match is not ended", given: pending(), when: ask, err: refused(domain.CodeMatchNotActive)},
		{name: "an outsider does not ask", given: active(), when: change(func(c *domain.RequestMatchEnd) { c.Actor = otherMentee }), err: refused(domain.CodeNotAPartner)},
		{name: "staff end matches rather than ask", given: active(), when: change(func(c *domain.RequestMatchEnd) { c.Actor = staff }), err: refused(domain.CodeNotAPartner)},
		{name: "the reason is required", given: active(), when: change(func(c *domain.RequestMatchEnd) { c.Reason = "" }), err: badInput("reason")},
		{name: "the reason is one of the program's", given: active(), when: change(func(c *domain.RequestMatchEnd) { c.Reason = "BORED" }), err: badInput("reason")},
		{name: "the term's end is the program's", given: active(), when: change(func(c *domain.RequestMatchEnd) { c.Reason = domain.EndReasonTermCompleted }), err: badInput("reason")},
	})
}
