package domain

import (
	"encoding/binary"
	"fmt"
	"maps"
	"time"

	"github.com/benbjohnson/immutable"
	"github.com/google/uuid"
)

// MatchStatus is where a match stands in its lifecycle.
type MatchStatus string

// The statuses of a match. Declined, cancelled and ended are terminal:
// nothing leaves them.
const (
	// StatusPending is a request waiting for the mentor's answer.
	StatusPending MatchStatus = "PENDING"
	// StatusActive is an accepted match.
	StatusActive MatchStatus = "ACTIVE"
	// StatusDeclined is a request the mentor declined.
	StatusDeclined MatchStatus = "DECLINED"
	// StatusCancelled is a request the mentee withdrew.
	StatusCancelled MatchStatus = "CANCELLED"
	// StatusEnded is a match that ended.
	StatusEnded MatchStatus = "ENDED"
)

// Terminal reports whether s is a status nothing leaves.
func (s MatchStatus) Terminal() bool {
	return s == StatusDeclined || s == StatusCancelled || s == StatusEnded
}

// Match is the state of one match stream. Build it with EvolveMatch from
// the stream's events; the zero Match is a match that was never requested.
type Match struct {
	id          uuid.UUID
	menteeID    uuid.UUID
	mentorID    uuid.UUID
	status      MatchStatus
	requestedAt time.Time
	acceptedAt  time.Time
	closedAt    time.Time
	endReason   string

	lastNudgeAt     time.Time
	nudgeRequested  bool
	windowElapsed   bool
	reminderDue     bool
	reviewRequested bool
	// endRequestedBy is the partner whose request that staff end the
	// match waits; uuid.Nil when none does.
	endRequestedBy uuid.UUID

	sessions  sessionLog
	documents map[uuid.UUID]documentRecord
	versions  map[string]int
}

type sessionRecord struct {
	authorID uuid.UUID
	details  SessionDetails
}

type documentRecord struct {
	name       string
	version    int
	uploaderID uuid.UUID
	sha256     string
	removed    bool
}

// ID returns the match's ID.
func (m Match) ID() uuid.UUID { return m.id }

// Exists reports whether the match was requested.
func (m Match) Exists() bool { return m.id != uuid.Nil }

// MenteeID returns the requesting mentee.
func (m Match) MenteeID() uuid.UUID { return m.menteeID }

// MentorID returns the requested mentor.
func (m Match) MentorID() uuid.UUID { return m.mentorID }

// Status returns where the match stands; "" when it does not exist.
func (m Match) Status() MatchStatus { return m.status }

// RequestedAt returns when the mentee requested the match.
func (m Match) RequestedAt() time.Time { return m.requestedAt }

// AcceptedAt returns when the mentor accepted; zero if never.
func (m Match) AcceptedAt() time.Time { return m.acceptedAt }

// ClosedAt returns when the match reached its terminal status; zero if it
// has not.
func (m Match) ClosedAt() time.Time { return m.closedAt }

// EndReason returns why an ended match ended.
func (m Match) EndReason() string { return m.endReason }

// LastNudgeAt returns when staff last nudged the mentor; zero if never.
func (m Match) LastNudgeAt() time.Time { return m.lastNudgeAt }

// NudgeRequested reports whether the mentee asked for a nudge that staff
// have not given yet.
func (m Match) NudgeRequested() bool { return m.nudgeRequested }

// IsPartner reports whether member id is the match's mentee or mentor.
func (m Match) IsPartner(id uuid.UUID) bool {
	return id != uuid.Nil && (id == m.menteeID || id == m.mentorID)
}

// HasSessions reports whether either partner logged a session.
func (m Match) HasSessions() bool { return !m.sessions.empty() }

// check refuses a command on a match that does not exist, and reports a
// caller's mistake when the state is another match's.
func (m Match) check(id uuid.UUID) error {
	if !m.Exists() {
		return refuse(CodeMatchNotFound, "no such match")
	}
	if m.id != id {
		return fmt.Errorf("decide match: state of match %s given for match %s", m.id, id)
	}
	return nil
}

func (m Match) terminalError() error {
	return refuse(CodeTerminalState, "this match is %s; nothing changes it any more", m.status)
}

// EvolveMatch returns the state after e. Events of other aggregates leave
// the state as it is.
func EvolveMatch(m Match, e Event) Match {
	switch e := e.(type) {
	case MatchRequested:
		m.id, m.menteeID, m.mentorID = e.MatchID, e.MenteeID, e.MentorID
		m.status = StatusPending
		m.requestedAt = e.At
	case MatchAccepted:
		m.status = StatusActive
		m.acceptedAt = e.At
	case MatchDeclined:
		m.status = StatusDeclined
		m.closedAt = e.At
	case MatchCancelled:
		m.status = StatusCancelled
		m.closedAt = e.At
	case NudgeRequested:
		m.nudgeRequested = true
	case MentorNudged:
		m.nudgeRequested = false
		m.lastNudgeAt = e.At
	case ResponseWindowElapsed:
		m.windowElapsed = true
	case FirstMeetingReminderDue:
		m.reminderDue = true
	case MatchEnded:
		m.status = StatusEnded
		m.closedAt = e.At
		m.endReason = e.Reason
		m.endRequestedBy = uuid.Nil
	case MatchEndRequested:
		m.endRequestedBy = e.RequestedBy
	case ProfileReviewRequested:
		m.reviewRequested = true
	case SessionLogged:
		m.sessions = m.sessions.with(e.SessionID, sessionRecord{authorID: e.AuthorID, details: e.Details})
	case SessionEdited:
		m.sessions = m.sessions.with(e.SessionID, sessionRecord{authorID: e.AuthorID, details: e.Details})
	case DocumentAdded:
		m.documents = with(m.documents, e.DocumentID, documentRecord{
			name: e.Name, version: e.Version, uploaderID: e.UploaderID, sha256: e.SHA256,
		})
		m.versions = with(m.versions, e.Name, e.Version)
	case DocumentRemoved:
		if d, ok := m.documents[e.DocumentID]; ok {
			d.removed = true
			m.documents = with(m.documents, e.DocumentID, d)
		}
	}
	return m
}

// sessionLog is a match's meeting logs by session ID, as a persistent
// map: evolving adds an entry by copying a few small nodes instead of the
// whole map, and a lookup descends a few levels, so that a match gathering
// thousands of sessions stays cheap to fold and to decide on, and states
// shared by commands running at once are never changed.
type sessionLog struct {
	m *immutable.Map[uuid.UUID, sessionRecord]
}

// uuidHasher hashes session IDs for the persistent map.
type uuidHasher struct{}

func (uuidHasher) Hash(id uuid.UUID) uint32 {
	return binary.BigEndian.Uint32(id[:4]) ^ binary.BigEndian.Uint32(id[12:])
}

func (uuidHasher) Equal(a, b uuid.UUID) bool { return a == b }

func (l sessionLog) with(id uuid.UUID, rec sessionRecord) sessionLog {
	if l.m == nil {
		l.m = immutable.NewMap[uuid.UUID, sessionRecord](uuidHasher{})
	}
	return sessionLog{m: l.m.Set(id, rec)}
}

// find returns the latest record of a session.
func (l sessionLog) find(id uuid.UUID) (sessionRecord, bool) {
	if l.m == nil {
		return sessionRecord{}, false
	}
	return l.m.Get(id)
}

func (l sessionLog) empty() bool { return l.m == nil || l.m.Len() == 0 }

// with returns a copy of mp with k set to v, leaving mp untouched so that
// earlier states stay valid.
func with[K comparable, V any](mp map[K]V, k K, v V) map[K]V {
	out := maps.Clone(mp)
	if out == nil {
		out = make(map[K]V, 1)
	}
	out[k] = v
	return out
}
