package projections

import (
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// MatchView is what the read side knows of one match. Session notes are not
// part of it; Sessions holds them for their authors.
type MatchView struct {
	ID, MenteeID, MentorID uuid.UUID
	Status                 domain.MatchStatus
	Message                string
	RequestedAt            time.Time
	AcceptedAt             time.Time
	ClosedAt               time.Time
	DeclineReason          string
	EndReason              string
	EndRequestedBy         uuid.UUID
	WindowElapsed          bool
	// EndAsk is a partner's request that staff end the match, while it
	// waits; nil otherwise.
	EndAsk           *EndAsk
	NudgeRequested   bool
	NudgeRequestedAt time.Time
	LastNudgeAt      time.Time
	ReminderDue      bool
	SessionCount     int
	FirstSessionAt   time.Time
	Documents        []DocumentView
	// Position is the global position of the match's latest event.
	Position eventstore.Position
}

// EndAsk is a partner's waiting request that staff end a match.
type EndAsk struct {
	By     uuid.UUID
	Reason string
	// Note is the partner's note for staff.
	Note string
	At   time.Time
}

// DocumentView is one version of a document shared on a match.
type DocumentView struct {
	ID          uuid.UUID
	Name        string
	Version     int
	Size        int64
	ContentType string
	SHA256      string
	UploaderID  uuid.UUID
	AddedAt     time.Time
	Removed     bool
}

func (m *MatchView) clone() *MatchView {
	c := *m
	c.Documents = slices.Clone(m.Documents)
	if m.EndAsk != nil {
		// Erasing a member blanks the note in place.
		ask := *m.EndAsk
		c.EndAsk = &ask
	}
	return &c
}

// SessionView is one meeting log as its author last saved it.
type SessionView struct {
	ID        uuid.UUID
	MatchID   uuid.UUID
	AuthorID  uuid.UUID
	Details   domain.SessionDetails
	LoggedAt  time.Time
	EditedAt  time.Time
	Revisions int
}

// ResourceView is a published program resource.
type ResourceView struct {
	ID          uuid.UUID
	Title       string
	Description string
	URL         string
	Text        string
	Audience    domain.Audience
	PublishedAt time.Time
	Retired     bool
}

// Matches is the read model of matches, their sessions and the program's
// resources.
type Matches struct {
	checkpoint
	matches   map[uuid.UUID]*MatchView
	byMember  map[uuid.UUID][]uuid.UUID // in request order
	sessions  map[uuid.UUID]*SessionView
	byAuthor  map[uuid.UUID][]uuid.UUID // session IDs per author
	resources map[uuid.UUID]*ResourceView
	// cow keeps the matches and sessions a save captured as they were
	// while it encodes them (see freeze).
	cow matchesCOW
}

var _ Projection = (*Matches)(nil)

// NewMatches returns an empty matches read model.
func NewMatches() *Matches {
	return &Matches{
		matches: map[uuid.UUID]*MatchView{}, byMember: map[uuid.UUID][]uuid.UUID{},
		sessions: map[uuid.UUID]*SessionView{}, byAuthor: map[uuid.UUID][]uuid.UUID{},
		resources: map[uuid.UUID]*ResourceView{},
	}
}

// Name implements Projection.
func (p *Matches) Name() string { return "matches" }

// Apply implements Projection.
func (p *Matches) Apply(events []Event) error {
	p.applyEach(events, func(ev *Event) { EvolveMatches(matchesTable{p}, ev) })
	return nil
}

// matchesTable is the in-memory table the shared evolution edits in place
// (queries hand out copies), except for the matches and sessions a save
// in progress captured, which are copied first.
type matchesTable struct{ p *Matches }

func (t matchesTable) Match(id uuid.UUID) *MatchView {
	m := t.p.matches[id]
	if m != nil && t.p.cow.saves > 0 {
		m = t.p.writableMatch(m)
	}
	return m
}

func (t matchesTable) InsertMatch(m *MatchView) {
	t.p.matches[m.ID] = m
	if t.p.cow.saves > 0 {
		t.p.cow.matches[m.ID] = struct{}{}
	}
	t.p.byMember[m.MenteeID] = append(t.p.byMember[m.MenteeID], m.ID)
	if m.MentorID != m.MenteeID {
		t.p.byMember[m.MentorID] = append(t.p.byMember[m.MentorID], m.ID)
	}
}

func (t matchesTable) Session(id uuid.UUID) *SessionView {
	s := t.p.sessions[id]
	if s != nil && t.p.cow.saves > 0 {
		s = t.p.writableSession(s)
	}
	return s
}

func (t matchesTable) InsertSession(s *SessionView) {
	t.p.sessions[s.ID] = s
	if t.p.cow.saves > 0 {
		t.p.cow.sessions[s.ID] = struct{}{}
	}
	t.p.byAuthor[s.AuthorID] = append(t.p.byAuthor[s.AuthorID], s.ID)
}

func (t matchesTable) Resource(id uuid.UUID) *ResourceView { return t.p.resources[id] }

// EraseMember implements MemberEraser.
func (t matchesTable) EraseMember(id uuid.UUID) {
	for _, mid := range t.p.byMember[id] {
		if m := t.Match(mid); m != nil {
			EraseTexts(m, id)
		}
	}
	for _, sid := range t.p.byAuthor[id] {
		if s := t.Session(sid); s != nil {
			s.Details.Notes = ""
		}
	}
}

func (t matchesTable) PutResource(r *ResourceView) { t.p.resources[r.ID] = r }

// Match returns a copy of one match.
func (p *Matches) Match(id uuid.UUID) (*MatchView, bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m, ok := p.matches[id]
	if !ok {
		return nil, false, nil
	}
	return m.clone(), true, nil
}

// MatchGroup selects matches by stage, as "My Pending Matches", "My Active
// Matches" and past matches show them.
type MatchGroup int

// The match groups.
const (
	AllMatches MatchGroup = iota
	PendingMatches
	ActiveMatches
	PastMatches
)

// Has reports whether a match of status s belongs to the group.
func (g MatchGroup) Has(s domain.MatchStatus) bool {
	switch g {
	case PendingMatches:
		return s == domain.StatusPending
	case ActiveMatches:
		return s == domain.StatusActive
	case PastMatches:
		return s.Terminal()
	default:
		return true
	}
}

// MatchesOf returns copies of a member's matches in a group, newest request
// first.
func (p *Matches) MatchesOf(member uuid.UUID, group MatchGroup) ([]*MatchView, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []*MatchView
	ids := p.byMember[member]
	for i := len(ids) - 1; i >= 0; i-- {
		if m := p.matches[ids[i]]; group.Has(m.Status) {
			out = append(out, m.clone())
		}
	}
	return out, nil
}

// SessionsOf returns an author's sessions, optionally of one match (nil for
// all), ordered by session date then log time.
func (p *Matches) SessionsOf(author uuid.UUID, match uuid.UUID) ([]SessionView, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []SessionView
	for _, id := range p.byAuthor[author] {
		s := p.sessions[id]
		if match == uuid.Nil || s.MatchID == match {
			out = append(out, *s)
		}
	}
	SortSessions(out)
	return out, nil
}

// CPD is a member's continuing-professional-development hours from their
// own meeting logs.
type CPD struct {
	// TotalMinutes counts every logged minute.
	TotalMinutes int
	// InRangeMinutes counts minutes of sessions dated within the range.
	InRangeMinutes int
	// ByMatch counts minutes per match.
	ByMatch map[uuid.UUID]int
	// WithoutLength counts the sessions with no length recorded, which
	// count no minutes until their author adds one; InRangeWithoutLength
	// counts those dated within the range.
	WithoutLength, InRangeWithoutLength int
}

// CPDSummary sums an author's logged minutes, in total, per match and for
// sessions dated from..to inclusive (zero dates leave that end open).
func (p *Matches) CPDSummary(author uuid.UUID, from, to domain.Date) (CPD, error) {
	sessions, err := p.SessionsOf(author, uuid.Nil)
	return SumCPD(sessions, from, to), err
}

// Resources returns the live resources for a role's audience (all for
// staff), newest first.
func (p *Matches) Resources(role domain.Role) ([]ResourceView, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return ResourcesFor(maps.Values(p.resources), role), nil
}

// StaffQueue lists what needs staff attention at a moment.
type StaffQueue struct {
	// PendingOlderThan are pending requests waiting longer than asked.
	PendingOlderThan []*MatchView
	// NudgeRequests are pending requests whose mentee asked for a nudge.
	NudgeRequests []*MatchView
	// NoFirstSession are active matches with no session logged three weeks
	// (the program's reminder delay) after acceptance.
	NoFirstSession []*MatchView
	// EndingSoon are active matches whose term ends within 30 days.
	EndingSoon []*MatchView
	// EndRequests are active matches a partner asked staff to end.
	EndRequests []*MatchView
}

// Queue computes the staff queue at now.
func (p *Matches) Queue(program domain.Program, now time.Time, pendingDays int) (StaffQueue, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return QueueOf(maps.Values(p.matches), program, now, pendingDays), nil
}

// Dashboard are the program's counters.
type Dashboard struct {
	Pending, Active, Declined, Cancelled, Ended int
	// AcceptanceRate and DeclineRate are shares of answered requests.
	AcceptanceRate, DeclineRate float64
	// MedianDaysToResponse is the median time from request to answer.
	MedianDaysToResponse float64
	// SessionsThisMonth and MinutesThisMonth count meeting logs dated in
	// the current calendar month.
	SessionsThisMonth int
	MinutesThisMonth  int
	// Position is the read model's position when computed.
	Position eventstore.Position
}

// Dashboard computes the counters at now.
func (p *Matches) Dashboard(program domain.Program, now time.Time) (Dashboard, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return DashboardOf(maps.Values(p.matches), maps.Values(p.sessions), program, now, p.pos), nil
}

// Session returns one meeting log by ID.
func (p *Matches) Session(id uuid.UUID) (SessionView, bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s, ok := p.sessions[id]
	if !ok {
		return SessionView{}, false, nil
	}
	return *s, true, nil
}

// MatchesByID returns copies of the given matches in order; unknown IDs
// give nil. It takes the lock once for the whole list.
func (p *Matches) MatchesByID(ids []uuid.UUID) ([]*MatchView, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*MatchView, len(ids))
	for i, id := range ids {
		if m, ok := p.matches[id]; ok {
			out[i] = m.clone()
		}
	}
	return out, nil
}

// Resource returns one resource by ID, retired or not.
func (p *Matches) Resource(id uuid.UUID) (ResourceView, bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.resources[id]
	if !ok {
		return ResourceView{}, false, nil
	}
	return *r, true, nil
}
