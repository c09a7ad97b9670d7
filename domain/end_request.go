package domain

import (
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/refusal"
)

// CodeEndAlreadyRequested reports a request to end a match while the
// partner's earlier request still waits for staff.
const CodeEndAlreadyRequested refusal.Code = "END_ALREADY_REQUESTED"

// RequestMatchEnd is a partner asking staff to end an active match early,
// with one of the program's end reasons ("Graceful Exit" when it is not a
// good fit) and an optional note for staff. Staff then end it (EndMatch),
// naming the partner who asked.
type RequestMatchEnd struct {
	MatchID uuid.UUID
	Actor   Actor
	Reason  string
	Note    string
	At      time.Time
}

func (c RequestMatchEnd) match() uuid.UUID { return c.MatchID }

// MatchEndRequested records a partner's request that staff end the match.
type MatchEndRequested struct {
	MatchID     uuid.UUID `json:"matchId"`
	MenteeID    uuid.UUID `json:"menteeId"`
	MentorID    uuid.UUID `json:"mentorId"`
	RequestedBy uuid.UUID `json:"requestedBy"`
	Reason      string    `json:"reason"`
	Note        string    `json:"note,omitempty"`
	At          time.Time `json:"at"`
}

// EventType names the event.
func (MatchEndRequested) EventType() string { return "MatchEndRequested" }

// MatchOf implements MatchEvent.
func (e MatchEndRequested) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e MatchEndRequested) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

func (MatchEndRequested) changesMatch() {}

// EndRequestedBy returns the partner who asked staff to end the match and
// is still waiting; uuid.Nil when no request waits.
func (m Match) EndRequestedBy() uuid.UUID { return m.endRequestedBy }

// cleanEndReason checks an early end's reason: one of the program's, and
// never the term's end, which only the program records.
func cleanEndReason(p Program, reason string) (string, error) {
	switch reason {
	case "":
		return "", invalid("reason", "is required")
	case EndReasonTermCompleted:
		return "", invalid("reason", "%s is recorded by the program itself when the term is over", reason)
	}
	return cleanChoice("reason", reason, p.EndReasons)
}

func decideRequestEnd(p Program, m Match, c RequestMatchEnd) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	reason, err := cleanEndReason(p, c.Reason)
	if err != nil {
		return nil, err
	}
	note, err := cleanNotes("note", c.Note, p.Limits.RequestMessageLength, false)
	if err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if !c.Actor.is(m.menteeID, RoleMentee) && !c.Actor.is(m.mentorID, RoleMentor) {
		return nil, refuse(CodeNotAPartner, "only the partners of this match may ask staff to end it")
	}
	switch {
	case m.status.Terminal():
		return nil, m.terminalError()
	case m.status != StatusActive:
		return nil, refuse(CodeMatchNotActive, "a pending request is cancelled or declined, not ended")
	case m.endRequestedBy != uuid.Nil:
		return nil, refuse(CodeEndAlreadyRequested, "staff already have a request to end this match")
	}
	return []Event{MatchEndRequested{
		MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, RequestedBy: c.Actor.ID, Reason: reason, Note: note, At: c.At.UTC(),
	}}, nil
}
