package domain

import (
	"time"

	"github.com/google/uuid"
)

// Every match event names both partners, so that follow-ups (emails, slot
// bookkeeping, read models) need not load the match.

// MatchRequested records a mentee's request to a mentor: the match is
// pending.
type MatchRequested struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	Message  string    `json:"message,omitempty"`
	At       time.Time `json:"at"`
}

// MatchAccepted records the mentor's acceptance: the match is active.
type MatchAccepted struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	At       time.Time `json:"at"`
}

// MatchDeclined records the mentor's decline, with an optional reason from
// the program's list and an optional message.
type MatchDeclined struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	Reason   string    `json:"reason,omitempty"`
	Message  string    `json:"message,omitempty"`
	At       time.Time `json:"at"`
}

// MatchCancelled records the mentee withdrawing a pending request.
type MatchCancelled struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	At       time.Time `json:"at"`
}

// NudgeRequested records a mentee asking staff to reach out to a mentor who
// did not answer within the response window.
type NudgeRequested struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	At       time.Time `json:"at"`
}

// MentorNudged records staff reaching out to the mentor of a pending match.
type MentorNudged struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	StaffID  uuid.UUID `json:"staffId"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"`
}

// ResponseWindowElapsed records that a request is still pending at the end
// of the mentor's response window, so the mentee may now ask for a nudge.
type ResponseWindowElapsed struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	At       time.Time `json:"at"`
}

// FirstMeetingReminderDue records that neither partner logged a session by
// the first-meeting reminder time, so both are reminded to meet.
type FirstMeetingReminderDue struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	At       time.Time `json:"at"`
}

// MatchEnded records the end of an active match. The system ends it at the
// end of its term (reason EndReasonTermCompleted); staff end it early with a
// reason from the program's list, the partner who asked and a note.
type MatchEnded struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	Reason   string    `json:"reason"`
	// RequestedBy is the partner who asked staff to end the match; zero
	// for the automatic end.
	RequestedBy uuid.UUID `json:"requestedBy,omitzero"`
	// StaffID is the staff member who ended the match; zero for the
	// automatic end.
	StaffID uuid.UUID `json:"staffId,omitzero"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at"`
}

// ProfileReviewRequested records that, the match having ended, both
// partners are asked to review their profiles.
type ProfileReviewRequested struct {
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	MentorID uuid.UUID `json:"mentorId"`
	At       time.Time `json:"at"`
}

// SessionLogged records a meeting log. It is private to its author.
type SessionLogged struct {
	MatchID   uuid.UUID      `json:"matchId"`
	SessionID uuid.UUID      `json:"sessionId"`
	AuthorID  uuid.UUID      `json:"authorId"`
	Details   SessionDetails `json:"details"`
	At        time.Time      `json:"at"`
}

// SessionEdited records the author's new version of a meeting log; earlier
// versions stay in the stream's history.
type SessionEdited struct {
	MatchID   uuid.UUID      `json:"matchId"`
	SessionID uuid.UUID      `json:"sessionId"`
	AuthorID  uuid.UUID      `json:"authorId"`
	Details   SessionDetails `json:"details"`
	At        time.Time      `json:"at"`
}

// DocumentAdded records a document shared by a partner: its metadata only,
// the bytes live in blob storage under DocumentID. A document uploaded under
// a name the match already has is the next version of that name.
type DocumentAdded struct {
	MatchID     uuid.UUID `json:"matchId"`
	DocumentID  uuid.UUID `json:"documentId"`
	UploaderID  uuid.UUID `json:"uploaderId"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"contentType"`
	// SHA256 is the hex checksum of the bytes.
	SHA256  string    `json:"sha256"`
	Version int       `json:"version"`
	At      time.Time `json:"at"`
}

// DocumentRemoved records a partner removing one version of a document.
type DocumentRemoved struct {
	MatchID    uuid.UUID `json:"matchId"`
	DocumentID uuid.UUID `json:"documentId"`
	RemovedBy  uuid.UUID `json:"removedBy"`
	// UploaderID is the partner who uploaded the version, whose personal
	// data its name is; zero in events recorded before it was kept.
	UploaderID uuid.UUID `json:"uploaderId,omitzero"`
	Name       string    `json:"name"`
	Version    int       `json:"version"`
	At         time.Time `json:"at"`
}

// EventType names the event.
func (MatchRequested) EventType() string { return "MatchRequested" }

// EventType names the event.
func (MatchAccepted) EventType() string { return "MatchAccepted" }

// EventType names the event.
func (MatchDeclined) EventType() string { return "MatchDeclined" }

// EventType names the event.
func (MatchCancelled) EventType() string { return "MatchCancelled" }

// EventType names the event.
func (NudgeRequested) EventType() string { return "NudgeRequested" }

// EventType names the event.
func (MentorNudged) EventType() string { return "MentorNudged" }

// EventType names the event.
func (ResponseWindowElapsed) EventType() string { return "ResponseWindowElapsed" }

// EventType names the event.
func (FirstMeetingReminderDue) EventType() string { return "FirstMeetingReminderDue" }

// EventType names the event.
func (MatchEnded) EventType() string { return "MatchEnded" }

// EventType names the event.
func (ProfileReviewRequested) EventType() string { return "ProfileReviewRequested" }

// EventType names the event.
func (SessionLogged) EventType() string { return "SessionLogged" }

// EventType names the event.
func (SessionEdited) EventType() string { return "SessionEdited" }

// EventType names the event.
func (DocumentAdded) EventType() string { return "DocumentAdded" }

// EventType names the event.
func (DocumentRemoved) EventType() string { return "DocumentRemoved" }

// What the match events are, for routing: see the interfaces in event.go.

// MatchOf implements MatchEvent.
func (e MatchRequested) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e MatchRequested) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

// MatchStatus implements StatusEvent.
func (MatchRequested) MatchStatus() MatchStatus { return StatusPending }

func (MatchRequested) changesMatch() {}

func (MatchRequested) notice() {}

func (MatchRequested) timeRule() {}

// MatchOf implements MatchEvent.
func (e MatchAccepted) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e MatchAccepted) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

// MatchStatus implements StatusEvent.
func (MatchAccepted) MatchStatus() MatchStatus { return StatusActive }

func (MatchAccepted) changesMatch() {}

func (MatchAccepted) notice() {}

func (MatchAccepted) timeRule() {}

// MatchOf implements MatchEvent.
func (e MatchDeclined) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e MatchDeclined) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

// MatchStatus implements StatusEvent.
func (MatchDeclined) MatchStatus() MatchStatus { return StatusDeclined }

func (MatchDeclined) changesMatch() {}

func (MatchDeclined) notice() {}

func (MatchDeclined) timeRule() {}

// MatchOf implements MatchEvent.
func (e MatchCancelled) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e MatchCancelled) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

// MatchStatus implements StatusEvent.
func (MatchCancelled) MatchStatus() MatchStatus { return StatusCancelled }

func (MatchCancelled) changesMatch() {}

func (MatchCancelled) notice() {}

func (MatchCancelled) timeRule() {}

// MatchOf implements MatchEvent.
func (e NudgeRequested) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e NudgeRequested) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

func (NudgeRequested) changesMatch() {}

func (NudgeRequested) notice() {}

// MatchOf implements MatchEvent.
func (e MentorNudged) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e MentorNudged) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

func (MentorNudged) changesMatch() {}

func (MentorNudged) notice() {}

// MatchOf implements MatchEvent.
func (e ResponseWindowElapsed) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e ResponseWindowElapsed) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

func (ResponseWindowElapsed) changesMatch() {}

func (ResponseWindowElapsed) notice() {}

func (ResponseWindowElapsed) timeRule() {}

// MatchOf implements MatchEvent.
func (e FirstMeetingReminderDue) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e FirstMeetingReminderDue) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

func (FirstMeetingReminderDue) changesMatch() {}

func (FirstMeetingReminderDue) notice() {}

func (FirstMeetingReminderDue) timeRule() {}

// MatchOf implements MatchEvent.
func (e MatchEnded) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e MatchEnded) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

// MatchStatus implements StatusEvent.
func (MatchEnded) MatchStatus() MatchStatus { return StatusEnded }

func (MatchEnded) changesMatch() {}

func (MatchEnded) notice() {}

func (MatchEnded) timeRule() {}

// MatchOf implements MatchEvent.
func (e ProfileReviewRequested) MatchOf() uuid.UUID { return e.MatchID }

// Partners implements PartnerEvent.
func (e ProfileReviewRequested) Partners() (mentee, mentor uuid.UUID) { return e.MenteeID, e.MentorID }

func (ProfileReviewRequested) notice() {}

func (ProfileReviewRequested) timeRule() {}

// MatchOf implements MatchEvent.
func (e SessionLogged) MatchOf() uuid.UUID { return e.MatchID }

// Author implements PrivateEvent.
func (e SessionLogged) Author() uuid.UUID { return e.AuthorID }

func (SessionLogged) changesMatch() {}

func (SessionLogged) timeRule() {}

// MatchOf implements MatchEvent.
func (e SessionEdited) MatchOf() uuid.UUID { return e.MatchID }

// Author implements PrivateEvent.
func (e SessionEdited) Author() uuid.UUID { return e.AuthorID }

func (SessionEdited) changesMatch() {}

// MatchOf implements MatchEvent.
func (e DocumentAdded) MatchOf() uuid.UUID { return e.MatchID }

func (DocumentAdded) changesMatch() {}

// MatchOf implements MatchEvent.
func (e DocumentRemoved) MatchOf() uuid.UUID { return e.MatchID }

func (DocumentRemoved) changesMatch() {}
