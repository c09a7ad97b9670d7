package domain

import (
	"time"

	"github.com/google/uuid"
)

// PrivacyStream holds the program's record of who was shown members'
// personal data in bulk, and why: exports and reports show auditors and
// staff the audit view of events (see AuditView), and a staff member or
// the operator who needs the personal fields asks for them with a reason,
// which is kept here for good.
const PrivacyStream = "privacy"

// RevealPersonalData asks to be shown members' personal data in bulk,
// such as an export of events with their contact details and texts.
type RevealPersonalData struct {
	// Actor is a staff member, or the system for the operator at the
	// command line.
	Actor Actor
	// Reason says why the personal data is needed: required, one line.
	Reason string
	// Scope says what is shown, such as the export's query.
	Scope string
	At    time.Time
}

// PersonalDataRevealed records that an actor was shown personal data in
// bulk, for a reason.
type PersonalDataRevealed struct {
	// ActorID is the staff member; uuid.Nil for the operator.
	ActorID   uuid.UUID `json:"actorId"`
	ActorRole Role      `json:"actorRole"`
	Reason    string    `json:"reason"`
	Scope     string    `json:"scope"`
	At        time.Time `json:"at"`
}

// EventType names the event.
func (PersonalDataRevealed) EventType() string { return "PersonalDataRevealed" }

// reasonLength and scopeLength bound the record's texts.
const (
	reasonLength = 500
	scopeLength  = 2000
)

// DecideRevealPersonalData records a staff member's or the operator's
// reason to be shown personal data. It reads no state: every request is
// recorded.
func DecideRevealPersonalData(c RevealPersonalData) ([]Event, error) {
	if c.Actor.Role != RoleStaff && !c.Actor.IsSystem() {
		return nil, refuse(CodeStaffOnly, "only staff may be shown members' personal data in bulk")
	}
	if c.At.IsZero() {
		return nil, invalid("at", "is required")
	}
	reason, err := cleanLine("reason", c.Reason, reasonLength, true)
	if err != nil {
		return nil, err
	}
	scope, err := cleanLine("scope", c.Scope, scopeLength, false)
	if err != nil {
		return nil, err
	}
	return []Event{PersonalDataRevealed{ActorID: c.Actor.ID, ActorRole: c.Actor.Role, Reason: reason, Scope: scope, At: c.At.UTC()}}, nil
}
