package domain

import (
	"github.com/google/uuid"
)

// SessionDetails are what a partner records about a meeting. The guide
// makes the session date the only required field: the length, the notes and
// the value may be filled in later by an edit. Members claim CPD hours from
// the length, so a session without one counts no hours until it has one.
// The zero Minutes and the zero Value mean "not recorded".
type SessionDetails struct {
	// Date is the day of the meeting: not before the day the match was
	// made and not after today.
	Date Date `json:"date"`
	// Minutes is the meeting's length, 1 to the program's limit, or 0 when
	// the author did not record it.
	Minutes int `json:"minutes,omitempty"`
	// Notes is what was discussed; private to the author.
	Notes string `json:"notes,omitempty"`
	// Value is the perceived value of the meeting, 1 to 5, or 0 when the
	// author did not rate it.
	Value int `json:"value,omitempty"`
}

// clean checks the details on their own; checkDate checks the date against
// the match.
func (d SessionDetails) clean(p Program) (SessionDetails, error) {
	if d.Date.IsZero() {
		return SessionDetails{}, invalid("date", "is required")
	}
	if d.Minutes != 0 && (d.Minutes < 1 || d.Minutes > p.Limits.SessionMinutes) {
		return SessionDetails{}, invalid("minutes", "must be from 1 to %d (got %d)", p.Limits.SessionMinutes, d.Minutes)
	}
	notes, err := cleanNotes("notes", d.Notes, p.Limits.SessionNotesLength, false)
	if err != nil {
		return SessionDetails{}, err
	}
	d.Notes = notes
	if err := checkRating("value", d.Value); err != nil {
		return SessionDetails{}, err
	}
	return d, nil
}

// checkDate refuses a session dated before the day the match was made or
// after today, both in the program's time zone.
func (m Match) checkDate(p Program, d Date, today Date) error {
	if made := p.Today(m.acceptedAt); d.Before(made) {
		return invalid("date", "must not be before %s, the day the match was made", made)
	}
	if d.After(today) {
		return invalid("date", "must not be after today (%s)", today)
	}
	return nil
}

func checkSessionID(id uuid.UUID) error {
	if id == uuid.Nil {
		return invalid("sessionId", "is required")
	}
	return nil
}

func decideLogSession(p Program, m Match, c LogSession) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if err := checkSessionID(c.SessionID); err != nil {
		return nil, err
	}
	details, err := c.Details.clean(p)
	if err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if err := m.checkActive(c.Actor); err != nil {
		return nil, err
	}
	if err := m.checkDate(p, details.Date, p.Today(c.At)); err != nil {
		return nil, err
	}
	if s, ok := m.sessions.find(c.SessionID); ok {
		if s.authorID == c.Actor.ID && s.details == details {
			return nil, nil
		}
		return nil, refuse(CodeSessionExists, "a different session was logged under this ID")
	}
	return []Event{SessionLogged{
		MatchID: m.id, SessionID: c.SessionID, AuthorID: c.Actor.ID, Details: details, At: c.At.UTC(),
	}}, nil
}

func decideEditSession(p Program, m Match, c EditSession) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if err := checkSessionID(c.SessionID); err != nil {
		return nil, err
	}
	details, err := c.Details.clean(p)
	if err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if err := m.checkActive(c.Actor); err != nil {
		return nil, err
	}
	s, ok := m.sessions.find(c.SessionID)
	if !ok {
		return nil, refuse(CodeSessionNotFound, "no such session on this match")
	}
	if s.authorID != c.Actor.ID {
		return nil, refuse(CodeNotSessionAuthor, "only the author of a session may edit it")
	}
	if err := m.checkDate(p, details.Date, p.Today(c.At)); err != nil {
		return nil, err
	}
	if s.details == details {
		return nil, nil
	}
	return []Event{SessionEdited{
		MatchID: m.id, SessionID: c.SessionID, AuthorID: c.Actor.ID, Details: details, At: c.At.UTC(),
	}}, nil
}
