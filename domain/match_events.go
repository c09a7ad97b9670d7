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
