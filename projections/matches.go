package projections

import (
	"cmp"
	"slices"
	"sync"
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
	NudgeRequested         bool
	NudgeRequestedAt       time.Time
	LastNudgeAt            time.Time
	ReminderDue            bool
	SessionCount           int
	FirstSessionAt         time.Time
	Documents              []DocumentView
	// Position is the global position of the match's latest event.
	Position eventstore.Position
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
	mu        sync.RWMutex
	pos       eventstore.Position
	last      uuid.UUID // the ID of the event at pos, to check a snapshot against the log
	matches   map[uuid.UUID]*MatchView
	byMember  map[uuid.UUID][]uuid.UUID // in request order
	sessions  map[uuid.UUID]*SessionView
	byAuthor  map[uuid.UUID][]uuid.UUID // session IDs per author
	resources map[uuid.UUID]*ResourceView
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

// Position implements Projection.
func (p *Matches) Position() eventstore.Position {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pos
}

// Apply implements Projection.
func (p *Matches) Apply(events []Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range events {
		ev := &events[i]
		if ev.Position <= p.pos {
			continue
		}
		p.apply(ev)
		p.pos, p.last = ev.Position, ev.ID
	}
	return nil
}

func (p *Matches) apply(ev *Event) {
	edit := func(id uuid.UUID, f func(*MatchView)) {
		if m, ok := p.matches[id]; ok {
			f(m)
			m.Position = ev.Position
		}
	}
	switch e := ev.Data.(type) {
	case domain.MatchRequested:
		if _, ok := p.matches[e.MatchID]; ok {
			return
		}
		p.matches[e.MatchID] = &MatchView{ID: e.MatchID, MenteeID: e.MenteeID, MentorID: e.MentorID,
			Status: domain.StatusPending, Message: e.Message, RequestedAt: e.At, Position: ev.Position}
		p.byMember[e.MenteeID] = append(p.byMember[e.MenteeID], e.MatchID)
		if e.MentorID != e.MenteeID {
			p.byMember[e.MentorID] = append(p.byMember[e.MentorID], e.MatchID)
		}
	case domain.MatchAccepted:
		edit(e.MatchID, func(m *MatchView) { m.Status, m.AcceptedAt = domain.StatusActive, e.At })
	case domain.MatchDeclined:
		edit(e.MatchID, func(m *MatchView) {
			m.Status, m.ClosedAt, m.DeclineReason = domain.StatusDeclined, e.At, e.Reason
		})
	case domain.MatchCancelled:
		edit(e.MatchID, func(m *MatchView) { m.Status, m.ClosedAt = domain.StatusCancelled, e.At })
	case domain.NudgeRequested:
		edit(e.MatchID, func(m *MatchView) { m.NudgeRequested, m.NudgeRequestedAt = true, e.At })
	case domain.MentorNudged:
		edit(e.MatchID, func(m *MatchView) { m.NudgeRequested, m.LastNudgeAt = false, e.At })
	case domain.ResponseWindowElapsed:
		edit(e.MatchID, func(m *MatchView) { m.WindowElapsed = true })
	case domain.FirstMeetingReminderDue:
		edit(e.MatchID, func(m *MatchView) { m.ReminderDue = true })
	case domain.MatchEnded:
		edit(e.MatchID, func(m *MatchView) {
			m.Status, m.ClosedAt, m.EndReason, m.EndRequestedBy = domain.StatusEnded, e.At, e.Reason, e.RequestedBy
		})
	case domain.SessionLogged:
		edit(e.MatchID, func(m *MatchView) {
			m.SessionCount++
			if m.FirstSessionAt.IsZero() {
				m.FirstSessionAt = e.At
			}
		})
		if _, ok := p.sessions[e.SessionID]; !ok {
			p.sessions[e.SessionID] = &SessionView{ID: e.SessionID, MatchID: e.MatchID, AuthorID: e.AuthorID, Details: e.Details, LoggedAt: e.At, Revisions: 1}
			p.byAuthor[e.AuthorID] = append(p.byAuthor[e.AuthorID], e.SessionID)
		}
	case domain.SessionEdited:
		if s, ok := p.sessions[e.SessionID]; ok {
			s.Details, s.EditedAt = e.Details, e.At
			s.Revisions++
		}
		edit(e.MatchID, func(*MatchView) {})
	case domain.DocumentAdded:
		edit(e.MatchID, func(m *MatchView) {
			m.Documents = append(m.Documents, DocumentView{ID: e.DocumentID, Name: e.Name, Version: e.Version, Size: e.Size,
				ContentType: e.ContentType, SHA256: e.SHA256, UploaderID: e.UploaderID, AddedAt: e.At})
		})
	case domain.DocumentRemoved:
		edit(e.MatchID, func(m *MatchView) {
			for i := range m.Documents {
				if m.Documents[i].ID == e.DocumentID {
					m.Documents[i].Removed = true
				}
			}
		})
	case domain.ResourcePublished:
		p.resources[e.ResourceID] = &ResourceView{ID: e.ResourceID, Title: e.Title, Description: e.Description,
			URL: e.URL, Text: e.Text, Audience: e.Audience, PublishedAt: e.At}
	case domain.ResourceRetired:
		if r, ok := p.resources[e.ResourceID]; ok {
			r.Retired = true
		}
	}
}

// Match returns a copy of one match.
func (p *Matches) Match(id uuid.UUID) (*MatchView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m, ok := p.matches[id]
	if !ok {
		return nil, false
	}
	return m.clone(), true
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

func (g MatchGroup) has(s domain.MatchStatus) bool {
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
func (p *Matches) MatchesOf(member uuid.UUID, group MatchGroup) []*MatchView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []*MatchView
	ids := p.byMember[member]
	for i := len(ids) - 1; i >= 0; i-- {
		if m := p.matches[ids[i]]; group.has(m.Status) {
			out = append(out, m.clone())
		}
	}
	return out
}

// SessionsOf returns an author's sessions, optionally of one match (nil for
// all), ordered by session date then log time.
func (p *Matches) SessionsOf(author uuid.UUID, match uuid.UUID) []SessionView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []SessionView
	for _, id := range p.byAuthor[author] {
		s := p.sessions[id]
		if match == uuid.Nil || s.MatchID == match {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b SessionView) int {
		if a.Details.Date.Before(b.Details.Date) {
			return -1
		}
		if b.Details.Date.Before(a.Details.Date) {
			return 1
		}
		return a.LoggedAt.Compare(b.LoggedAt)
	})
	return out
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
}

// CPDSummary sums an author's logged minutes, in total, per match and for
// sessions dated from..to inclusive (zero dates leave that end open).
func (p *Matches) CPDSummary(author uuid.UUID, from, to domain.Date) CPD {
	c := CPD{ByMatch: map[uuid.UUID]int{}}
	for _, s := range p.SessionsOf(author, uuid.Nil) {
		c.TotalMinutes += s.Details.Minutes
		c.ByMatch[s.MatchID] += s.Details.Minutes
		d := s.Details.Date
		if (from.IsZero() || !d.Before(from)) && (to.IsZero() || !d.After(to)) {
			c.InRangeMinutes += s.Details.Minutes
		}
	}
	return c
}

// Resources returns the live resources for a role's audience (all for
// staff), newest first.
func (p *Matches) Resources(role domain.Role) []ResourceView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []ResourceView
	for _, r := range p.resources {
		if r.Retired || (role != domain.RoleStaff && !r.Audience.Includes(role)) {
			continue
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ResourceView) int { return b.PublishedAt.Compare(a.PublishedAt) })
	return out
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
}

// Queue computes the staff queue at now.
func (p *Matches) Queue(program domain.Program, now time.Time, pendingDays int) StaffQueue {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var q StaffQueue
	for _, m := range p.matches {
		switch m.Status {
		case domain.StatusPending:
			if now.Sub(m.RequestedAt) > time.Duration(pendingDays)*24*time.Hour {
				q.PendingOlderThan = append(q.PendingOlderThan, m.clone())
			}
			if m.NudgeRequested {
				q.NudgeRequests = append(q.NudgeRequests, m.clone())
			}
		case domain.StatusActive:
			if m.SessionCount == 0 && !now.Before(program.FirstMeetingReminderAt(m.AcceptedAt)) {
				q.NoFirstSession = append(q.NoFirstSession, m.clone())
			}
			if end := program.TermEnd(m.AcceptedAt); !now.After(end) && end.Sub(now) <= 30*24*time.Hour {
				q.EndingSoon = append(q.EndingSoon, m.clone())
			}
		}
	}
	byAge := func(a, b *MatchView) int {
		return cmp.Or(a.RequestedAt.Compare(b.RequestedAt), cmp.Compare(a.ID.String(), b.ID.String()))
	}
	for _, l := range [][]*MatchView{q.PendingOlderThan, q.NudgeRequests, q.NoFirstSession, q.EndingSoon} {
		slices.SortFunc(l, byAge)
	}
	return q
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
func (p *Matches) Dashboard(program domain.Program, now time.Time) Dashboard {
	p.mu.RLock()
	defer p.mu.RUnlock()
	d := Dashboard{Position: p.pos}
	var responses []float64
	accepted := 0
	for _, m := range p.matches {
		switch m.Status {
		case domain.StatusPending:
			d.Pending++
		case domain.StatusActive:
			d.Active++
		case domain.StatusDeclined:
			d.Declined++
		case domain.StatusCancelled:
			d.Cancelled++
		case domain.StatusEnded:
			d.Ended++
		}
		if !m.AcceptedAt.IsZero() {
			accepted++
			responses = append(responses, m.AcceptedAt.Sub(m.RequestedAt).Hours()/24)
		} else if m.Status == domain.StatusDeclined {
			responses = append(responses, m.ClosedAt.Sub(m.RequestedAt).Hours()/24)
		}
	}
	if answered := accepted + d.Declined; answered > 0 {
		d.AcceptanceRate = float64(accepted) / float64(answered)
		d.DeclineRate = float64(d.Declined) / float64(answered)
	}
	if len(responses) > 0 {
		slices.Sort(responses)
		mid := len(responses) / 2
		d.MedianDaysToResponse = responses[mid]
		if len(responses)%2 == 0 {
			d.MedianDaysToResponse = (responses[mid-1] + responses[mid]) / 2
		}
	}
	today := program.Today(now)
	for _, s := range p.sessions {
		if s.Details.Date.Year() == today.Year() && s.Details.Date.Month() == today.Month() {
			d.SessionsThisMonth++
			d.MinutesThisMonth += s.Details.Minutes
		}
	}
	return d
}

// Session returns one meeting log by ID.
func (p *Matches) Session(id uuid.UUID) (SessionView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s, ok := p.sessions[id]
	if !ok {
		return SessionView{}, false
	}
	return *s, true
}

// MatchesByID returns copies of the given matches in order; unknown IDs
// give nil. It takes the lock once for the whole list.
func (p *Matches) MatchesByID(ids []uuid.UUID) []*MatchView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*MatchView, len(ids))
	for i, id := range ids {
		if m, ok := p.matches[id]; ok {
			out[i] = m.clone()
		}
	}
	return out
}

// Resource returns one resource by ID, retired or not.
func (p *Matches) Resource(id uuid.UUID) (ResourceView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.resources[id]
	if !ok {
		return ResourceView{}, false
	}
	return *r, true
}
