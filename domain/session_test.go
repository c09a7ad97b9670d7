package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

func TestLogSession(t *testing.T) {
	// The match was made on 3 March 2026 (accepted at days(1)); today is
	// 10 March.
	today := days(8)
	details := domain.SessionDetails{Date: date(t, "2026-03-05"), Minutes: 60, Notes: " Talked about licensing. ", Value: 4}
	log := domain.LogSession{MatchID: matchID, SessionID: sessionID, Actor: mentee, Details: details, At: today}
	withLog := func(f func(*domain.LogSession)) domain.LogSession { c := log; f(&c); return c }
	withDetails := func(f func(*domain.SessionDetails)) domain.LogSession {
		return withLog(func(c *domain.LogSession) { f(&c.Details) })
	}
	logged := func(author uuid.UUID, d domain.SessionDetails) domain.SessionLogged {
		return domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: author, Details: d, At: today}
	}
	clean := details
	clean.Notes = "Talked about licensing."
	// Only the date is required; the length, notes and value are not.
	required := domain.SessionDetails{Date: date(t, "2026-03-05"), Minutes: 45}

	runMatchCases(t, []matchCase{
		{name: "the mentee logs a session", given: active(), when: log, then: []domain.Event{logged(menteeID, clean)}},
		{
			name: "the mentor logs a session", given: active(), when: withLog(func(c *domain.LogSession) { c.Actor = mentor }),
			then: []domain.Event{logged(mentorID, clean)},
		},
		{
			name: "notes and value are optional", given: active(), when: withLog(func(c *domain.LogSession) { c.Details = required }),
			then: []domain.Event{logged(menteeID, required)},
		},
		{
			name: "a one-minute session is taken", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Minutes = 1 }),
			then: []domain.Event{logged(menteeID, func() domain.SessionDetails { d := clean; d.Minutes = 1; return d }())},
		},
		{
			name: "a session on the day the match was made is taken", given: active(),
			when: withDetails(func(d *domain.SessionDetails) { d.Date = date(t, "2026-03-03") }),
			then: []domain.Event{logged(menteeID, func() domain.SessionDetails { d := clean; d.Date = date(t, "2026-03-03"); return d }())},
		},
		{
			name: "a session today is taken", given: active(),
			when: withDetails(func(d *domain.SessionDetails) { d.Date = date(t, "2026-03-10") }),
			then: []domain.Event{logged(menteeID, func() domain.SessionDetails { d := clean; d.Date = date(t, "2026-03-10"); return d }())},
		},
		{
			name: "lengths at the limits are taken", given: active(),
			when: withDetails(func(d *domain.SessionDetails) { d.Minutes, d.Value, d.Notes = 600, 5, strings.Repeat("n", 4000) }),
			then: []domain.Event{logged(menteeID, domain.SessionDetails{Date: details.Date, Minutes: 600, Value: 5, Notes: strings.Repeat("n", 4000)})},
		},
		{name: "logging the same session again decides nothing", given: with(active(), logged(menteeID, clean)), when: log},
		{
			name: "another session under the same ID is refused", given: with(active(), logged(menteeID, clean)),
			when: withDetails(func(d *domain.SessionDetails) { d.Minutes = 30 }), err: refused(domain.CodeSessionExists),
		},
		{
			name: "the partner's session ID is not reused", given: with(active(), logged(mentorID, clean)),
			when: log, err: refused(domain.CodeSessionExists),
		},
		{name: "an outsider does not log", given: active(), when: withLog(func(c *domain.LogSession) { c.Actor = otherMentee }), err: refused(domain.CodeNotAPartner)},
		{name: "staff do not log", given: active(), when: withLog(func(c *domain.LogSession) { c.Actor = staff }), err: refused(domain.CodeNotAPartner)},
		{
			name: "a partner's ID in the wrong role does not log", given: active(),
			when: withLog(func(c *domain.LogSession) { c.Actor = domain.Actor{ID: mentorID, Role: domain.RoleMentee} }),
			err:  refused(domain.CodeNotAPartner),
		},
		{name: "a pending match has no sessions", given: pending(), when: log, err: refused(domain.CodeMatchNotActive)},
		{name: "an ended match takes no sessions", given: with(active(), ended(days(7), "MOVED")), when: log, err: refused(domain.CodeTerminalState)},
		{name: "a match that was never requested is not found", when: log, err: refused(domain.CodeMatchNotFound)},
		{name: "the session ID is required", given: active(), when: withLog(func(c *domain.LogSession) { c.SessionID = uuid.Nil }), err: badInput("sessionId")},
		{name: "the date is required", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Date = domain.Date{} }), err: badInput("date")},
		{name: "a date before the match was made is refused", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Date = date(t, "2026-03-02") }), err: badInput("date")},
		{name: "a date after today is refused", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Date = date(t, "2026-03-11") }), err: badInput("date")},
		{
			name: "the date is the only required field", given: active(),
			when: withLog(func(c *domain.LogSession) { c.Details = domain.SessionDetails{Date: required.Date} }),
			then: []domain.Event{logged(menteeID, domain.SessionDetails{Date: required.Date})},
		},
		{name: "a negative length is refused", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Minutes = -1 }), err: badInput("minutes")},
		{name: "a length over 600 minutes is refused", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Minutes = 601 }), err: badInput("minutes")},
		{name: "a value over 5 is refused", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Value = 6 }), err: badInput("value")},
		{name: "a negative value is refused", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Value = -1 }), err: badInput("value")},
		{name: "notes have a length limit", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Notes = strings.Repeat("n", 4001) }), err: badInput("notes")},
		{name: "notes must be UTF-8", given: active(), when: withDetails(func(d *domain.SessionDetails) { d.Notes = "\xfe" }), err: badInput("notes")},
	})
}

// TestSessionDaysUseTheProgramTimeZone logs a session on the evening the
// match was made in Toronto, which is already the next day in UTC.
func TestSessionDaysUseTheProgramTimeZone(t *testing.T) {
	eastern := time.FixedZone("EST", -5*3600)
	acceptedAt := time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC) // 2 March, 21:00 in Toronto
	given := []domain.Event{requested(t0), accepted(acceptedAt)}
	log := domain.LogSession{
		MatchID: matchID, SessionID: sessionID, Actor: mentor,
		Details: domain.SessionDetails{Date: date(t, "2026-03-02"), Minutes: 60}, At: acceptedAt.Add(time.Hour),
	}
	runMatchCases(t, []matchCase{
		{
			name: "in the program's time zone the session is on the day the match was made", given: given, when: log,
			program: func(p *domain.Program) { p.Location = eastern },
			then: []domain.Event{domain.SessionLogged{
				MatchID: matchID, SessionID: sessionID, AuthorID: mentorID, Details: log.Details, At: log.At,
			}},
		},
		{name: "in UTC the same session is before the match", given: given, when: log, err: badInput("date")},
	})
}

func TestEditSession(t *testing.T) {
	first := domain.SessionDetails{Date: date(t, "2026-03-05"), Minutes: 60, Notes: "Licensing.", Value: 4}
	second := domain.SessionDetails{Date: date(t, "2026-03-06"), Minutes: 90, Notes: "Licensing and ethics.", Value: 5}
	logged := domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: first, At: days(5)}
	edited := domain.SessionEdited{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: second, At: days(8)}
	edit := domain.EditSession{MatchID: matchID, SessionID: sessionID, Actor: mentee, Details: second, At: days(8)}
	withEdit := func(f func(*domain.EditSession)) domain.EditSession { c := edit; f(&c); return c }
	runMatchCases(t, []matchCase{
		{name: "the author edits a session", given: with(active(), logged), when: edit, then: []domain.Event{edited}},
		{name: "saving unchanged details decides nothing", given: with(active(), logged, edited), when: edit},
		{
			name: "every edit is kept as its own event", given: with(active(), logged, edited),
			when: withEdit(func(c *domain.EditSession) { c.Details = first; c.At = days(9) }),
			then: []domain.Event{domain.SessionEdited{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: first, At: days(9)}},
		},
		{name: "the partner does not edit the author's session", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.Actor = mentor }), err: refused(domain.CodeNotSessionAuthor)},
		{name: "an outsider does not edit", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.Actor = otherMentee }), err: refused(domain.CodeNotAPartner)},
		{name: "staff do not edit", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.Actor = staff }), err: refused(domain.CodeNotAPartner)},
		{name: "a session never logged is not found", given: active(), when: edit, err: refused(domain.CodeSessionNotFound)},
		{name: "sessions of an ended match are not edited", given: with(active(), logged, ended(days(7), "MOVED")), when: edit, err: refused(domain.CodeTerminalState)},
		{name: "an edit keeps the date rules", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.Details.Date = date(t, "2026-04-01") }), err: badInput("date")},
		{name: "an edit keeps the value rules", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.Details.Value = 9 }), err: badInput("value")},
		{name: "an edit needs the session ID", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.SessionID = uuid.Nil }), err: badInput("sessionId")},
		{name: "an edit needs the date", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.Details.Date = domain.Date{} }), err: badInput("date")},
		{
			name: "an edit may leave the length out", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.Details.Minutes = 0 }),
			then: []domain.Event{domain.SessionEdited{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: domain.SessionDetails{Date: second.Date, Notes: second.Notes, Value: second.Value}, At: days(8)}},
		},
		{name: "an edit keeps the length limit", given: with(active(), logged), when: withEdit(func(c *domain.EditSession) { c.Details.Minutes = 601 }), err: badInput("minutes")},
	})
}

// Sessions stored without a length still load, and their author gives the
// length later by an edit.
func TestSessionsWithoutLengthStillLoad(t *testing.T) {
	stored := []byte(`{"matchId":"` + matchID.String() + `","sessionId":"` + sessionID.String() + `","authorId":"` + menteeID.String() +
		`","details":{"date":"2026-03-05","notes":"Licensing."},"at":"2026-03-07T15:00:00Z"}`)
	e, err := domain.Decode("SessionLogged", domain.SchemaVersion, stored)
	if err != nil {
		t.Fatal(err)
	}
	old := domain.SessionDetails{Date: date(t, "2026-03-05"), Notes: "Licensing."}
	if diff := cmp.Diff(domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: old, At: days(5)}, e); diff != "" {
		t.Fatalf("stored session decoded differently (-want +got):\n%s", diff)
	}
	withLength := old
	withLength.Minutes = 30
	edit := domain.EditSession{MatchID: matchID, SessionID: sessionID, Actor: mentee, Details: withLength, At: days(8)}
	runMatchCases(t, []matchCase{
		{
			name: "the author adds the length", given: with(active(), e), when: edit,
			then: []domain.Event{domain.SessionEdited{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: withLength, At: days(8)}},
		},
		{
			name: "saving it again without the length decides nothing", given: with(active(), e),
			when: domain.EditSession{MatchID: matchID, SessionID: sessionID, Actor: mentee, Details: old, At: days(8)},
		},
	})
}
