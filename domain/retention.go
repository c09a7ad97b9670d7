package domain

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/refusal"
)

// Retention: when Program.RetentionYears is set, the program erases a
// mentee or mentor who has had nothing to do with it for that many years:
// no match ended, no sign-in, since. The rule needs to know when members
// sign in, which the accounts service alone sees, so sign-ins go on the
// member's stream as MemberSignedIn, at most once per calendar day of the
// program's time zone: a member's stream, not a separate store of the
// accounts service, is what every engine and every instance shares, what
// the process manager already follows, and what the erasure decides
// against, so that a member signing in while the rule erases them is
// settled by the stream's revision like any other race.
//
// The process manager schedules the rule; the member's stream decides it.
// EraseMember by the system actor is refused unless Member.RetentionDue
// says the member is due, so a manager working from a stale picture never
// erases a member who signed in a moment ago.

// MaxRetentionYears bounds Program.RetentionYears.
const MaxRetentionYears = 50

// CodeRetentionNotDue refuses the program's own erasure of a member whom
// the retention rule does not (yet) make due.
const CodeRetentionNotDue refusal.Code = "RETENTION_NOT_DUE"

// RecordSignIn records that a member signed in. The accounts service
// decides it, with the member as the actor, after each successful
// sign-in; only the first one of a calendar day is recorded.
type RecordSignIn struct {
	MemberID uuid.UUID
	Actor    Actor
	At       time.Time
}

func (c RecordSignIn) member() uuid.UUID { return c.MemberID }

// MemberSignedIn records a mentee's or mentor's first sign-in of a
// calendar day in the program's time zone. It holds no personal data.
type MemberSignedIn struct {
	MemberID uuid.UUID `json:"memberId"`
	At       time.Time `json:"at"`
}

// EventType names the event.
func (MemberSignedIn) EventType() string { return "MemberSignedIn" }

// MemberOf implements MemberEvent.
func (e MemberSignedIn) MemberOf() uuid.UUID { return e.MemberID }

func (MemberSignedIn) retention() {}

// LastSignIn returns when the member's last recorded sign-in was: the
// first of its day. It is zero when none was recorded.
func (m Member) LastSignIn() time.Time { return m.signedInAt }

// RetentionDue returns when the program's retention rule erases the
// member, and false when it does not as things stand: the rule is off,
// the member is not a registered mentee or mentor, is erased already, or
// holds a slot (a pending request, an active match, an accept in flight).
// The years count from the latest of the registration, the last sign-in
// and the last slot released, which is when a match of theirs ended or
// their request was declined or cancelled.
func (m Member) RetentionDue(p Program) (time.Time, bool) {
	if !m.Registered() || m.erased || (m.role != RoleMentee && m.role != RoleMentor) {
		return time.Time{}, false
	}
	for _, s := range m.slots {
		if s.held() {
			return time.Time{}, false
		}
	}
	return p.RetentionDue(latest(m.registeredAt, m.leftAt), m.signedInAt)
}

// RetentionDue returns when the retention rule erases a member who was
// last active at active (registered, or left a match) and last signed in
// at signedIn (zero when never), and false when the rule is off. Only the
// first sign-in of a day is recorded, so a sign-in counts until the end of
// its day in the program's time zone; the years are calendar years there,
// as the term's months are.
func (p Program) RetentionDue(active, signedIn time.Time) (time.Time, bool) {
	if p.RetentionYears <= 0 {
		return time.Time{}, false
	}
	from := active
	if !signedIn.IsZero() {
		y, m, d := signedIn.In(p.Location).Date()
		from = latest(from, time.Date(y, m, d+1, 0, 0, 0, 0, p.Location))
	}
	return from.In(p.Location).AddDate(p.RetentionYears, 0, 0).UTC(), true
}

// RetentionReason is the reason recorded with an erasure by the retention
// rule.
func (p Program) RetentionReason() string {
	unit := "years"
	if p.RetentionYears == 1 {
		unit = "year"
	}
	return fmt.Sprintf("retention: %d %s without a match or a sign-in", p.RetentionYears, unit)
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func decideRecordSignIn(p Program, m Member, c RecordSignIn) ([]Event, error) {
	if err := checkBasics("memberId", c.MemberID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if !m.Registered() {
		return nil, refuse(CodeMemberNotFound, "no such member")
	}
	if !c.Actor.is(m.id, m.role) {
		return nil, refuse(CodeNotYourAccount, "members sign in to their own account")
	}
	// Staff and auditors are not subject to the rule: nothing to record.
	if m.role != RoleMentee && m.role != RoleMentor {
		return nil, nil
	}
	if !m.signedInAt.IsZero() && !p.Today(c.At).After(p.Today(m.signedInAt)) {
		return nil, nil
	}
	return []Event{MemberSignedIn{MemberID: m.id, At: c.At.UTC()}}, nil
}

// checkRetention refuses the program's own erasure of a member whom the
// retention rule does not make due at.
func checkRetention(p Program, m Member, at time.Time) error {
	due, ok := m.RetentionDue(p)
	if !ok {
		return refuse(CodeRetentionNotDue, "the program erases a member only under its retention rule, which does not apply to this member")
	}
	if at.Before(due) {
		return refuse(CodeRetentionNotDue, "the retention rule makes this member due on %s, not before", due.Format(time.RFC3339))
	}
	return nil
}
