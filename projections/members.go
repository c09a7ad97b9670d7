package projections

import (
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// MemberView is what the read side knows of one account.
type MemberView struct {
	ID           uuid.UUID
	Role         domain.Role
	Email        string
	RegisteredAt time.Time
	Profile      domain.Profile
	// Capacity and Accepting are a mentor's settings.
	Capacity  int
	Accepting bool
	// Slots are the member's held slots by match: a mentee's pending or
	// active requests, a mentor's reserved capacity.
	Slots map[uuid.UUID]domain.SlotState
	// ReviewRequested is when the member was last asked to review their
	// profile after a match ended; zero when never.
	ReviewRequested time.Time
}

// CapacityUsed counts a mentor's reserved capacity.
func (m *MemberView) CapacityUsed() int { return m.count(domain.SlotReserved) }

// PendingRequests counts a mentee's pending requests.
func (m *MemberView) PendingRequests() int { return m.count(domain.SlotPending) }

// ActiveMatches counts a mentee's active matches.
func (m *MemberView) ActiveMatches() int { return m.count(domain.SlotActive) }

// Open reports whether a mentor takes new requests now: accepting, with
// free capacity.
func (m *MemberView) Open() bool {
	return m.Role == domain.RoleMentor && m.Accepting && m.CapacityUsed() < m.Capacity
}

func (m *MemberView) count(s domain.SlotState) int {
	n := 0
	for _, st := range m.Slots {
		if st == s {
			n++
		}
	}
	return n
}

func (m *MemberView) clone() *MemberView {
	c := *m
	c.Slots = make(map[uuid.UUID]domain.SlotState, len(m.Slots))
	for k, v := range m.Slots {
		c.Slots[k] = v
	}
	return &c
}

// Members is the read model of accounts and profiles, with the mentor
// search index.
type Members struct {
	mu      sync.RWMutex
	pos     eventstore.Position
	last    uuid.UUID // the ID of the event at pos, to check a snapshot against the log
	members map[uuid.UUID]*MemberView
	index   *searchIndex
}

var _ Projection = (*Members)(nil)

// NewMembers returns an empty members read model.
func NewMembers() *Members {
	return &Members{members: map[uuid.UUID]*MemberView{}, index: newSearchIndex()}
}

// Name implements Projection.
func (p *Members) Name() string { return "members" }

// Position implements Projection.
func (p *Members) Position() eventstore.Position {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pos
}

// Apply implements Projection.
func (p *Members) Apply(events []Event) error {
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

func (p *Members) apply(ev *Event) {
	switch e := ev.Data.(type) {
	case domain.MemberRegistered:
		if _, ok := p.members[e.MemberID]; ok {
			return
		}
		m := &MemberView{ID: e.MemberID, Role: e.Role, Email: e.Email, RegisteredAt: e.At,
			Profile: domain.Profile{Name: e.Name}, Capacity: e.Capacity, Accepting: e.Accepting}
		p.members[e.MemberID] = m
		if m.Role == domain.RoleMentor {
			p.index.add(m)
		}
	case domain.ProfileUpdated:
		if m, ok := p.members[e.MemberID]; ok {
			old := m.Profile
			m.Profile = e.Profile
			if m.Role == domain.RoleMentor {
				p.index.reprofile(m, &old)
			}
		}
	case domain.MentorCapacityChanged:
		p.change(e.MemberID, func(m *MemberView) { m.Capacity = e.Capacity })
	case domain.MentorAvailabilityChanged:
		p.change(e.MemberID, func(m *MemberView) { m.Accepting = e.Accepting })
	case domain.RequestSlotTaken:
		p.change(e.MemberID, func(m *MemberView) { m.setSlot(e.MatchID, domain.SlotPending) })
	case domain.RequestSlotActivated:
		p.change(e.MemberID, func(m *MemberView) { m.setSlot(e.MatchID, domain.SlotActive) })
	case domain.RequestSlotReleased:
		p.change(e.MemberID, func(m *MemberView) { m.dropSlot(e.MatchID) })
	case domain.CapacitySlotReserved:
		p.change(e.MemberID, func(m *MemberView) { m.setSlot(e.MatchID, domain.SlotReserved) })
	case domain.CapacitySlotReleased:
		p.change(e.MemberID, func(m *MemberView) { m.dropSlot(e.MatchID) })
	case domain.ProfileReviewRequested:
		if m, ok := p.members[e.MenteeID]; ok {
			m.ReviewRequested = e.At
		}
		if m, ok := p.members[e.MentorID]; ok {
			m.ReviewRequested = e.At
		}
	}
}

// change edits a member's settings or slots in place and refreshes whether
// a mentor is open for requests. Views handed out by queries are copies,
// so editing in place is safe.
func (p *Members) change(id uuid.UUID, edit func(*MemberView)) {
	m, ok := p.members[id]
	if !ok {
		return
	}
	edit(m)
	if m.Role == domain.RoleMentor {
		p.index.setOpen(m)
	}
}

// setSlot records a slot. Members without slots hold no map at all, which
// keeps a program of many idle members small.
func (m *MemberView) setSlot(match uuid.UUID, s domain.SlotState) {
	if m.Slots == nil {
		m.Slots = make(map[uuid.UUID]domain.SlotState, 1)
	}
	m.Slots[match] = s
}

func (m *MemberView) dropSlot(match uuid.UUID) {
	delete(m.Slots, match)
	if len(m.Slots) == 0 {
		m.Slots = nil
	}
}

// Member returns a copy of a member's view.
func (p *Members) Member(id uuid.UUID) (*MemberView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m, ok := p.members[id]
	if !ok {
		return nil, false
	}
	return m.clone(), true
}

// MembersByID returns copies of the views of the given members, in order;
// unknown IDs give nil. It takes the lock once for the whole list, which
// the GraphQL layer's batch loader relies on.
func (p *Members) MembersByID(ids []uuid.UUID) []*MemberView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*MemberView, len(ids))
	for i, id := range ids {
		if m, ok := p.members[id]; ok {
			out[i] = m.clone()
		}
	}
	return out
}

// Count returns how many members hold each role.
func (p *Members) Count() map[domain.Role]int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := map[domain.Role]int{}
	for _, m := range p.members {
		out[m.Role]++
	}
	return out
}
