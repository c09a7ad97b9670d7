package projections

import (
	"maps"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
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
	// ProfileSaved is when the member last changed their own profile
	// (staff editing it do not count); zero when never. A review is due
	// while ReviewRequested is later.
	ProfileSaved time.Time
	// ClosureRequested is when the member asked staff to close the
	// account, with ClosureNote; zero when no request waits.
	ClosureRequested time.Time
	ClosureNote      string
	// ErasedAt is when the member's personal data was erased; zero while
	// the member is not.
	ErasedAt time.Time
}

// Erased reports whether the member's personal data was erased.
func (m *MemberView) Erased() bool { return !m.ErasedAt.IsZero() }

// ReviewDue reports whether the member was asked to review the profile
// after a match ended and has not saved it since.
func (m *MemberView) ReviewDue() bool {
	return !m.ReviewRequested.IsZero() && m.ProfileSaved.Before(m.ReviewRequested)
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
	c.Slots = maps.Clone(m.Slots)
	return &c
}

// Members is the read model of accounts and profiles, with the mentor
// search index.
type Members struct {
	checkpoint
	members map[uuid.UUID]*MemberView
	index   *searchIndex
	// cow keeps the views and postings a save captured as they were
	// while it encodes them (see freeze).
	cow membersCOW
}

var _ Projection = (*Members)(nil)

// NewMembers returns an empty members read model.
func NewMembers() *Members {
	return &Members{members: map[uuid.UUID]*MemberView{}, index: newSearchIndex()}
}

// Name implements Projection.
func (p *Members) Name() string { return "members" }

// Apply implements Projection.
func (p *Members) Apply(events []Event) error {
	p.applyEach(events, func(ev *Event) { EvolveMembers(membersTable{p}, ev) })
	return nil
}

// membersTable is the in-memory table the shared evolution edits: views
// are edited in place (queries hand out copies), except those a save in
// progress captured, which are copied first, and the search index follows
// every change.
type membersTable struct{ p *Members }

func (t membersTable) Get(id uuid.UUID) *MemberView {
	m := t.p.members[id]
	if m != nil && t.p.cow.saves > 0 {
		m = t.p.writable(m)
	}
	return m
}

func (t membersTable) Insert(m *MemberView) {
	t.p.members[m.ID] = m
	if t.p.cow.saves > 0 {
		t.p.cow.views[m.ID] = struct{}{}
	}
	if m.Role == domain.RoleMentor {
		t.p.copyPostings(&m.Profile)
		t.p.index.add(m)
	}
}

func (t membersTable) Reindex(m *MemberView, old *domain.Profile) {
	if m.Role != domain.RoleMentor {
		return
	}
	if old != nil {
		t.p.copyPostings(old)
		t.p.copyPostings(&m.Profile)
		t.p.index.reprofile(m, old)
	}
	t.p.index.setOpen(m)
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
func (p *Members) Member(id uuid.UUID) (*MemberView, bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m, ok := p.members[id]
	if !ok {
		return nil, false, nil
	}
	return m.clone(), true, nil
}

// MembersByID returns copies of the views of the given members, in order;
// unknown IDs give nil. It takes the lock once for the whole list, which
// the GraphQL layer's batch loader relies on.
func (p *Members) MembersByID(ids []uuid.UUID) ([]*MemberView, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*MemberView, len(ids))
	for i, id := range ids {
		if m, ok := p.members[id]; ok {
			out[i] = m.clone()
		}
	}
	return out, nil
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

// Scan returns copies of the members keep accepts, in no order. keep runs
// under the read model's lock and must not call back into it.
func (p *Members) Scan(keep func(*MemberView) bool) ([]*MemberView, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []*MemberView
	for _, m := range p.members {
		if keep(m) {
			out = append(out, m.clone())
		}
	}
	return out, nil
}
