// Package model holds the Go types behind the GraphQL schema: the ones
// gqlgen generates (models_gen.go) and the hand-written ones below, which
// carry the IDs that field resolvers need.
package model

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Kinds of global IDs.
const (
	KindMember   = "Member"
	KindMatch    = "Match"
	KindSession  = "Session"
	KindResource = "Resource"
	KindDocument = "Document"
)

// ErrBadID is returned for an ID that is malformed or names another kind
// of object.
var ErrBadID = errors.New("invalid ID")

// GlobalID makes the opaque Relay ID of an object.
func GlobalID(kind string, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + id.String()))
}

// ParseGlobalID reads a Relay ID, returning its kind and UUID.
func ParseGlobalID(id string) (string, uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", uuid.Nil, fmt.Errorf("%w: %q", ErrBadID, id)
	}
	kind, raw, ok := strings.Cut(string(b), ":")
	u, err := uuid.Parse(raw)
	if !ok || err != nil {
		return "", uuid.Nil, fmt.Errorf("%w: %q", ErrBadID, id)
	}
	return kind, u, nil
}

// ParseID reads a Relay ID that must be of kind.
func ParseID(id, kind string) (uuid.UUID, error) {
	k, u, err := ParseGlobalID(id)
	if err != nil {
		return uuid.Nil, err
	}
	if k != kind {
		return uuid.Nil, fmt.Errorf("%w: %q is a %s ID, not a %s ID", ErrBadID, id, k, kind)
	}
	return u, nil
}

// Member is a mentee or mentor as the API shows them. Contact is resolved
// separately, because only some viewers may see it.
type Member struct {
	ID                string              `json:"id"`
	Role              Role                `json:"role"`
	Name              string              `json:"name"`
	Designation       *string             `json:"designation"`
	Discipline        *string             `json:"discipline"`
	Industry          *string             `json:"industry"`
	Location          *Location           `json:"location"`
	YearsOfExperience *int                `json:"yearsOfExperience"`
	Languages         []string            `json:"languages"`
	Biography         *string             `json:"biography"`
	Focus             []string            `json:"focus"`
	Preferences       *MeetingPreferences `json:"preferences"`
	Capacity          *int                `json:"capacity"`
	AcceptingRequests *bool               `json:"acceptingRequests"`
	Available         bool                `json:"available"`
	Affinity          *int                `json:"affinity"`
	Erased            bool                `json:"erased"`

	// MemberID is the member's UUID.
	MemberID uuid.UUID `json:"-"`
	// Private is the member's contact information, shown only to those
	// allowed to see it.
	Private domain.Contact `json:"-"`
	// Closure is the member's waiting request to close the account, shown
	// only to the member and staff.
	Closure *ClosureRequest `json:"-"`
	// SkillRatings is the Skills Self-Assessment, skill to rating, which
	// Skills lists.
	SkillRatings map[string]int `json:"-"`
}

// Skills lists the member's skill ratings by skill. The list is built
// when an answer asks for it, so that a page of members that does not (a
// search's) does not sort every member's ratings.
func (m *Member) Skills() []*SkillRating {
	ratings := make([]SkillRating, 0, len(m.SkillRatings))
	for skill, rating := range m.SkillRatings {
		ratings = append(ratings, SkillRating{Skill: skill, Rating: rating})
	}
	slices.SortFunc(ratings, func(a, b SkillRating) int { return strings.Compare(a.Skill, b.Skill) })
	list := make([]*SkillRating, len(ratings))
	for i := range ratings {
		list[i] = &ratings[i]
	}
	return list
}

// IsNode marks Member as a Node.
func (Member) IsNode() {}

// GetID returns the member's global ID.
func (m Member) GetID() string { return m.ID }

// Match is a match as the API shows it. The partners, sessions and
// documents are resolved separately.
type Match struct {
	ID            string      `json:"id"`
	Status        MatchStatus `json:"status"`
	Message       *string     `json:"message"`
	RequestedAt   time.Time   `json:"requestedAt"`
	AcceptedAt    *time.Time  `json:"acceptedAt"`
	ClosedAt      *time.Time  `json:"closedAt"`
	DeclineReason *string     `json:"declineReason"`
	EndReason     *string     `json:"endReason"`
	// WindowElapsedMarked is whether the log records the end of the
	// response window; the field resolver also checks the clock.
	WindowElapsedMarked bool       `json:"-"`
	NudgeRequested      bool       `json:"nudgeRequested"`
	LastNudgedAt        *time.Time `json:"lastNudgedAt"`
	Position            Position   `json:"position"`

	MatchID  uuid.UUID `json:"-"`
	MenteeID uuid.UUID `json:"-"`
	MentorID uuid.UUID `json:"-"`
	// EndAsk is a partner's waiting request that staff end the match.
	EndAsk *EndAsk `json:"-"`
	// HasSessions is whether any session was logged on the match up to
	// Position: a partner's position then leaves out the other's.
	HasSessions bool `json:"-"`
}

// EndAsk is a partner's request that staff end a match, as stored.
type EndAsk struct {
	By     uuid.UUID
	Reason string
	Note   *string
	At     time.Time
}

// IsNode marks Match as a Node.
func (Match) IsNode() {}

// GetID returns the match's global ID.
func (m Match) GetID() string { return m.ID }

// Session is a meeting log, shown only to its author.
type Session struct {
	ID        string     `json:"id"`
	Date      Date       `json:"date"`
	Minutes   *int       `json:"minutes"`
	Notes     *string    `json:"notes"`
	Value     *int       `json:"value"`
	LoggedAt  time.Time  `json:"loggedAt"`
	EditedAt  *time.Time `json:"editedAt"`
	Revisions int        `json:"revisions"`

	MatchID uuid.UUID `json:"-"`
}

// IsNode marks Session as a Node.
func (Session) IsNode() {}

// GetID returns the session's global ID.
func (s Session) GetID() string { return s.ID }

// Document is one version of a shared document.
type Document struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Version     int       `json:"version"`
	Size        int       `json:"size"`
	ContentType string    `json:"contentType"`
	Sha256      string    `json:"sha256"`
	UploadedAt  time.Time `json:"uploadedAt"`
	Removed     bool      `json:"removed"`
	DownloadURL string    `json:"downloadUrl"`

	UploaderID uuid.UUID `json:"-"`
}

// IsNode marks Document as a Node.
func (Document) IsNode() {}

// GetID returns the document's global ID.
func (d Document) GetID() string { return d.ID }

// Viewer is the signed-in account.
type Viewer struct {
	ID   string `json:"id"`
	Role Role   `json:"role"`

	Actor domain.Actor `json:"-"`
}

// MatchMinutes is one match's CPD minutes.
type MatchMinutes struct {
	Minutes int       `json:"minutes"`
	MatchID uuid.UUID `json:"-"`
}

// MatchUpdate is a change to a match pushed to subscribers.
type MatchUpdate struct {
	Position Position  `json:"position"`
	Type     string    `json:"type"`
	MatchID  uuid.UUID `json:"-"`
}

// Date is a calendar day in the API.
type Date = domain.Date

// MarshalDate writes a Date as YYYY-MM-DD.
func MarshalDate(d domain.Date) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d.String())) })
}

// UnmarshalDate reads a YYYY-MM-DD string.
func UnmarshalDate(v any) (domain.Date, error) {
	s, ok := v.(string)
	if !ok {
		return domain.Date{}, errors.New("a date is a YYYY-MM-DD string")
	}
	d, err := domain.ParseDate(s)
	if err != nil {
		return domain.Date{}, fmt.Errorf("a date is a YYYY-MM-DD string: %w", err)
	}
	return d, nil
}

// Position is a global log position in the API.
type Position = eventstore.Position

// MarshalPosition writes a position as a decimal string.
func MarshalPosition(p eventstore.Position) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(strconv.FormatUint(uint64(p), 10))) })
}

// UnmarshalPosition reads a decimal string (or a non-negative integer).
func UnmarshalPosition(v any) (eventstore.Position, error) {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseUint(x, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("a position is at most 18446744073709551615")
		}
		if err != nil {
			return 0, errors.New("a position is a decimal string")
		}
		return eventstore.Position(n), nil
	case int64:
		if x >= 0 {
			return eventstore.Position(x), nil
		}
	case int:
		if x >= 0 {
			return eventstore.Position(x), nil
		}
	}
	return 0, errors.New("a position is a decimal string")
}
