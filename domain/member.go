package domain

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/refusal"
)

// SlotState is where a match's claim on a member's limits stands.
type SlotState string

// The states of a slot. A mentee's slot goes from pending to active (or
// straight to released); a mentor's goes from reserved to released.
const (
	// SlotPending is a mentee's slot held by a pending request.
	SlotPending SlotState = "PENDING"
	// SlotActive is a mentee's slot held by an active match.
	SlotActive SlotState = "ACTIVE"
	// SlotReserved is a mentor's capacity slot held by an accept in flight
	// or by an active match.
	SlotReserved SlotState = "RESERVED"
	// SlotReleased is a slot whose match no longer holds it.
	SlotReleased SlotState = "RELEASED"
)

// Slot is one match's claim on a member's limits.
type Slot struct {
	// MatchID is the match holding the slot.
	MatchID uuid.UUID
	// PartnerID is the other member of the match.
	PartnerID uuid.UUID
	// State is where the claim stands.
	State SlotState
}

func (s Slot) held() bool { return s.State != SlotReleased }

// Member is the state of one member's stream: the account, the profile, a
// mentor's capacity and switch, and the slots that enforce the limits that
// span several matches. Build it with EvolveMember from the stream's events;
// the zero Member is a member who never registered.
type Member struct {
	id           uuid.UUID
	role         Role
	email        string
	registeredAt time.Time
	profile      Profile
	capacity     int
	accepting    bool
	slots        map[uuid.UUID]Slot
	// erased is set by MemberErased; closureAskedAt by
	// AccountClosureRequested, until the member is erased.
	erased         bool
	closureAskedAt time.Time
	// signedInAt is the last recorded sign-in (MemberSignedIn) and leftAt
	// the last slot released, for the retention rule.
	signedInAt time.Time
	leftAt     time.Time
}

// ID returns the member's ID.
func (m Member) ID() uuid.UUID { return m.id }

// Registered reports whether the member registered.
func (m Member) Registered() bool { return m.id != uuid.Nil }

// Role returns the member's role.
func (m Member) Role() Role { return m.role }

// Email returns the account's email.
func (m Member) Email() string { return m.email }

// RegisteredAt returns when the member registered.
func (m Member) RegisteredAt() time.Time { return m.registeredAt }

// Name returns the member's name.
func (m Member) Name() string { return m.profile.Name }

// Profile returns a copy of the member's profile.
func (m Member) Profile() Profile { return m.profile.clone() }

// Capacity returns how many mentees a mentor takes at once.
func (m Member) Capacity() int { return m.capacity }

// Accepting reports whether a mentor accepts new requests.
func (m Member) Accepting() bool { return m.accepting }

// PendingRequests counts a mentee's pending requests.
func (m Member) PendingRequests() int { return m.count(SlotPending) }

// ActiveMatches counts a mentee's active matches.
func (m Member) ActiveMatches() int { return m.count(SlotActive) }

// CapacityUsed counts a mentor's capacity slots in use: active matches and
// accepts in flight.
func (m Member) CapacityUsed() int { return m.count(SlotReserved) }

// Slots returns the slots the member holds now, ordered by match ID.
func (m Member) Slots() []Slot {
	var out []Slot
	for _, id := range slices.SortedFunc(maps.Keys(m.slots), compareUUID) {
		if s := m.slots[id]; s.held() {
			out = append(out, s)
		}
	}
	return out
}

func (m Member) count(state SlotState) int {
	n := 0
	for _, s := range m.slots {
		if s.State == state {
			n++
		}
	}
	return n
}

func compareUUID(a, b uuid.UUID) int {
	return slices.Compare(a[:], b[:])
}

// withSlot returns m with the slot set; m's map stays untouched.
func (m Member) withSlot(s Slot) Member {
	m.slots = with(m.slots, s.MatchID, s)
	return m
}

func (m Member) withSlotState(matchID uuid.UUID, state SlotState) Member {
	s, ok := m.slots[matchID]
	if !ok {
		return m
	}
	s.State = state
	return m.withSlot(s)
}

// EvolveMember returns the state after e. Events of other aggregates leave
// the state as it is.
func EvolveMember(m Member, e Event) Member {
	switch e := e.(type) {
	case MemberRegistered:
		m.id = e.MemberID
		m.role = e.Role
		m.email = e.Email
		m.registeredAt = e.At
		m.profile = Profile{Name: e.Name}
		m.capacity = e.Capacity
		m.accepting = e.Accepting
	case ProfileUpdated:
		m.profile = e.Profile.clone()
	case MentorCapacityChanged:
		m.capacity = e.Capacity
	case MentorAvailabilityChanged:
		m.accepting = e.Accepting
	case RequestSlotTaken:
		m = m.withSlot(Slot{MatchID: e.MatchID, PartnerID: e.MentorID, State: SlotPending})
	case RequestSlotActivated:
		m = m.withSlotState(e.MatchID, SlotActive)
	case RequestSlotReleased:
		m = m.withSlotState(e.MatchID, SlotReleased)
		m.leftAt = latest(m.leftAt, e.At)
	case CapacitySlotReserved:
		m = m.withSlot(Slot{MatchID: e.MatchID, PartnerID: e.MenteeID, State: SlotReserved})
	case CapacitySlotReleased:
		m = m.withSlotState(e.MatchID, SlotReleased)
		m.leftAt = latest(m.leftAt, e.At)
	case MemberSignedIn:
		m.signedInAt = latest(m.signedInAt, e.At)
	case AccountClosureRequested:
		m.closureAskedAt = e.At
	case MemberErased:
		m.erased = true
		m.email = ""
		m.profile = Profile{Name: ErasedName}
		m.closureAskedAt = time.Time{}
		m.accepting = false
	}
	return m
}

// MemberCommand is a command decided on a member's stream.
type MemberCommand interface {
	// member returns the ID of the member whose stream the command targets.
	member() uuid.UUID
}

// RegisterMember registers an account. Mentees and mentors may register
// themselves (the actor is the new member in the registered role), or staff
// and the system may register them; staff and auditor accounts are
// registered by the system (the operator's command) only. Registering again
// with the same role and email decides nothing.
type RegisterMember struct {
	MemberID uuid.UUID
	Actor    Actor
	Role     Role
	Name     string
	Email    string
	At       time.Time
}

// UpdateProfile replaces a mentee's or mentor's profile and, for a mentor,
// may set the capacity and the accepting switch in the same decision, so
// that a form saving all three writes all of them or, when any part is
// refused, none. The member or staff may do it; saving unchanged settings
// decides nothing.
type UpdateProfile struct {
	MemberID uuid.UUID
	Actor    Actor
	// Profile is the whole profile to save, unless Patch is set.
	Profile Profile
	// Patch, when set, changes only the fields it sets, on the profile as
	// stored; Profile is then ignored.
	Patch *ProfilePatch
	// Capacity, when set, is decided as SetMentorCapacity.
	Capacity *int
	// AcceptingRequests, when set, is decided as SetAcceptingRequests.
	AcceptingRequests *bool
	At                time.Time
}

// SetMentorCapacity sets how many mentees a mentor takes at once: from 1 to
// the program's maximum, and not below the capacity in use.
type SetMentorCapacity struct {
	MemberID uuid.UUID
	Actor    Actor
	Capacity int
	At       time.Time
}

// SetAcceptingRequests switches a mentor's new requests on or off. The
// switch governs new requests only: a mentor who switched off may still
// accept requests already received, within capacity.
type SetAcceptingRequests struct {
	MemberID  uuid.UUID
	Actor     Actor
	Accepting bool
	At        time.Time
}

// ReserveRequestSlot is the first step of a match request, decided on the
// requesting mentee's stream (the stream of Request.Actor.ID). It validates
// the whole request, checks the mentee's limits, and checks the requested
// mentor as loaded by the caller from the mentor's stream. When it decides
// RequestSlotTaken, the caller decides Request on the new match stream.
// Deciding it again for the same match ID and mentor decides nothing, so a
// retried request goes on to its second step.
type ReserveRequestSlot struct {
	// Request is the request, which the caller decides next on the match
	// stream.
	Request RequestMatch
	// Mentor is the state of the requested mentor's stream.
	Mentor Member
}

// ReserveCapacitySlot is the first step of an accept, decided on the
// accepting mentor's stream (the stream of Accept.Actor.ID). It checks the
// match as loaded by the caller and the mentor's capacity. When it decides
// CapacitySlotReserved (or nothing, because the slot is already held), the
// caller decides Accept on the match stream, expecting the revision at which
// it loaded Match.
type ReserveCapacitySlot struct {
	// Accept is the acceptance, which the caller decides next on the match
	// stream.
	Accept AcceptMatch
	// Match is the state of the match stream.
	Match Match
}

// SyncSlot brings a member's slot for a match in line with the match: a
// mentee's pending slot becomes active once the match is accepted, and any
// slot is released once the match is declined, cancelled or ended (or turns
// out to belong to other members). It is the follow-up of every match event
// and the compensation of a refused accept, and it is idempotent: deciding
// it again decides nothing. A slot whose match stream has no events yet is
// left alone, because the request may still be recorded.
type SyncSlot struct {
	MemberID uuid.UUID
	MatchID  uuid.UUID
	// Match is the state of the match stream.
	Match Match
	At    time.Time
}

func (c RegisterMember) member() uuid.UUID       { return c.MemberID }
func (c UpdateProfile) member() uuid.UUID        { return c.MemberID }
func (c SetMentorCapacity) member() uuid.UUID    { return c.MemberID }
func (c SetAcceptingRequests) member() uuid.UUID { return c.MemberID }
func (c ReserveRequestSlot) member() uuid.UUID   { return c.Request.Actor.ID }
func (c ReserveCapacitySlot) member() uuid.UUID  { return c.Accept.Actor.ID }
func (c SyncSlot) member() uuid.UUID             { return c.MemberID }

// DecideMember decides cmd against the state of the member's stream. It
// returns the events to append to that stream (none when the command
// changes nothing), a *refusal.Error when a rule refuses the command, or another
// error when the caller passed the state of a different member.
func DecideMember(p Program, m Member, cmd MemberCommand) ([]Event, error) {
	if m.Registered() && cmd.member() != uuid.Nil && m.id != cmd.member() {
		return nil, fmt.Errorf("decide member: state of member %s given for member %s", m.id, cmd.member())
	}
	if m.erased {
		if c, ok := cmd.(EraseMember); ok {
			return decideErase(p, m, c)
		}
		if _, ok := cmd.(SyncSlot); !ok {
			return nil, refuse(CodeMemberErased, "this member was erased")
		}
	}
	switch c := cmd.(type) {
	case RequestAccountClosure:
		return decideRequestClosure(p, m, c)
	case EraseMember:
		return decideErase(p, m, c)
	case RecordSignIn:
		return decideRecordSignIn(p, m, c)
	case RegisterMember:
		return decideRegister(p, m, c)
	case UpdateProfile:
		return decideUpdateProfile(p, m, c)
	case SetMentorCapacity:
		return decideSetCapacity(p, m, c)
	case SetAcceptingRequests:
		return decideSetAccepting(m, c)
	case ReserveRequestSlot:
		return decideReserveRequestSlot(p, m, c)
	case ReserveCapacitySlot:
		return decideReserveCapacitySlot(m, c)
	case SyncSlot:
		return decideSyncSlot(m, c)
	default:
		return nil, fmt.Errorf("decide member: unknown command %T", cmd)
	}
}

// checkBasics validates what every command carries: the target ID, the
// actor and the time.
func checkBasics(idField string, id uuid.UUID, actor Actor, at time.Time) error {
	if id == uuid.Nil {
		return invalid(idField, "is required")
	}
	if err := actor.validate(); err != nil {
		return err
	}
	return checkAt(at)
}

func checkAt(at time.Time) error {
	if at.IsZero() {
		return invalid("at", "is required")
	}
	return nil
}

func decideRegister(p Program, m Member, c RegisterMember) ([]Event, error) {
	if err := checkBasics("memberId", c.MemberID, c.Actor, c.At); err != nil {
		return nil, err
	}
	switch c.Role {
	case RoleStaff, RoleAuditor:
		if !c.Actor.IsSystem() {
			return nil, refuse(CodeSystemOnly, "staff and auditor accounts are created by the operator")
		}
	case RoleMentee, RoleMentor:
		if !c.Actor.IsSystem() && c.Actor.Role != RoleStaff && !c.Actor.is(c.MemberID, c.Role) {
			return nil, refuse(CodeNotYourAccount, "members register their own account")
		}
	default:
		return nil, invalid("role", "%q is not one of %s, %s, %s or %s", c.Role, RoleMentee, RoleMentor, RoleStaff, RoleAuditor)
	}
	name, err := cleanLine("name", c.Name, p.Limits.NameLength, true)
	if err != nil {
		return nil, err
	}
	email, err := cleanEmail("email", c.Email, p.Limits.EmailLength, true)
	if err != nil {
		return nil, err
	}
	if m.Registered() {
		if m.role == c.Role && m.email == email {
			return nil, nil
		}
		return nil, refuse(CodeAlreadyRegistered, "this account is already registered")
	}
	e := MemberRegistered{MemberID: c.MemberID, Role: c.Role, Name: name, Email: email, At: c.At.UTC()}
	if c.Role == RoleMentor {
		e.Capacity = p.DefaultMentorCapacity
		e.Accepting = true
	}
	return []Event{e}, nil
}

// checkOwner refuses a command on an unregistered member, or by anyone but
// the member or staff.
func checkOwner(m Member, actor Actor) error {
	if !m.Registered() {
		return refuse(CodeMemberNotFound, "no such member")
	}
	if !actor.is(m.id, m.role) && actor.Role != RoleStaff {
		return refuse(CodeNotYourAccount, "only the member or staff may change this account")
	}
	return nil
}

func decideUpdateProfile(p Program, m Member, c UpdateProfile) ([]Event, error) {
	if err := checkBasics("memberId", c.MemberID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if err := checkOwner(m, c.Actor); err != nil {
		return nil, err
	}
	if m.role != RoleMentee && m.role != RoleMentor {
		return nil, refuse(CodeNoProfile, "only mentees and mentors have a profile")
	}
	profile := c.Profile
	if c.Patch != nil {
		if c.Patch.Name.Set && c.Patch.Name.Value == "" {
			return nil, invalid("name", "cannot be cleared: a member is shown by name")
		}
		profile = c.Patch.Apply(m.profile)
	}
	profile, err := profile.clean(p)
	if err != nil {
		return nil, err
	}
	var out []Event
	if !profile.equal(m.profile) {
		out = append(out, ProfileUpdated{MemberID: m.id, Profile: profile, At: c.At.UTC()})
	}
	if c.Capacity != nil {
		evs, err := decideSetCapacity(p, m, SetMentorCapacity{MemberID: c.MemberID, Actor: c.Actor, Capacity: *c.Capacity, At: c.At})
		if err != nil {
			return nil, refusal.OnField(err, "capacity")
		}
		out = append(out, evs...)
	}
	if c.AcceptingRequests != nil {
		evs, err := decideSetAccepting(m, SetAcceptingRequests{MemberID: c.MemberID, Actor: c.Actor, Accepting: *c.AcceptingRequests, At: c.At})
		if err != nil {
			return nil, refusal.OnField(err, "acceptingRequests")
		}
		out = append(out, evs...)
	}
	return out, nil
}

func checkMentor(m Member, actor Actor) error {
	if err := checkOwner(m, actor); err != nil {
		return err
	}
	if m.role != RoleMentor {
		return refuse(CodeNotAMentor, "only mentors have a capacity and accept requests")
	}
	return nil
}

func decideSetCapacity(p Program, m Member, c SetMentorCapacity) ([]Event, error) {
	if err := checkBasics("memberId", c.MemberID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if err := checkMentor(m, c.Actor); err != nil {
		return nil, err
	}
	if c.Capacity < 1 || c.Capacity > p.MaxMentorCapacity {
		return nil, invalid("capacity", "must be from 1 to %d (got %d)", p.MaxMentorCapacity, c.Capacity)
	}
	if used := m.CapacityUsed(); c.Capacity < used {
		return nil, refuse(CodeCapacityBelowActive,
			"capacity %d is below the %d mentees you have or are accepting; switch off new requests instead", c.Capacity, used)
	}
	if c.Capacity == m.capacity {
		return nil, nil
	}
	return []Event{MentorCapacityChanged{MemberID: m.id, Capacity: c.Capacity, At: c.At.UTC()}}, nil
}

func decideSetAccepting(m Member, c SetAcceptingRequests) ([]Event, error) {
	if err := checkBasics("memberId", c.MemberID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if err := checkMentor(m, c.Actor); err != nil {
		return nil, err
	}
	if c.Accepting == m.accepting {
		return nil, nil
	}
	return []Event{MentorAvailabilityChanged{MemberID: m.id, Accepting: c.Accepting, At: c.At.UTC()}}, nil
}

func decideReserveRequestSlot(p Program, m Member, c ReserveRequestSlot) ([]Event, error) {
	req, err := c.Request.clean(p)
	if err != nil {
		return nil, err
	}
	if !m.Registered() {
		return nil, refuse(CodeMemberNotFound, "no such member")
	}
	if m.role != RoleMentee {
		return nil, refuse(CodeOnlyMenteesRequest, "only mentees request matches")
	}
	if s, ok := m.slots[req.MatchID]; ok {
		if s.PartnerID == req.MentorID {
			return nil, nil
		}
		return nil, refuse(CodeMatchExists, "this match ID belongs to another request")
	}
	pending, active := m.PendingRequests(), m.ActiveMatches()
	if pending >= p.MaxPendingRequests {
		return nil, refuse(CodePendingRequestExists,
			"you already have a pending request; cancel it or wait for the mentor's answer")
	}
	if pending+active >= p.MaxActiveMatches {
		return nil, refuse(CodeActiveMatchLimit, "you already have as many matches as the program allows")
	}
	mentor := c.Mentor
	if !mentor.Registered() {
		return nil, &refusal.Error{Code: CodeMemberNotFound, Field: "mentorId", Message: "no such mentor"}
	}
	if mentor.id != req.MentorID {
		return nil, fmt.Errorf("decide member: state of member %s given for mentor %s", mentor.id, req.MentorID)
	}
	if mentor.role != RoleMentor {
		return nil, &refusal.Error{Code: CodeNotAMentor, Field: "mentorId", Message: "only mentors can be requested"}
	}
	if mentor.erased {
		return nil, &refusal.Error{Code: CodeMemberErased, Field: "mentorId", Message: "this mentor's account was closed"}
	}
	if !mentor.accepting {
		return nil, refuse(CodeMentorNotAccepting, "this mentor is not accepting requests")
	}
	if mentor.CapacityUsed() >= mentor.capacity {
		return nil, refuse(CodeMentorAtCapacity, "this mentor has no room for another mentee")
	}
	return []Event{RequestSlotTaken{
		MemberID: m.id, MatchID: req.MatchID, MentorID: req.MentorID, Message: req.Message, At: req.At,
	}}, nil
}

func decideReserveCapacitySlot(m Member, c ReserveCapacitySlot) ([]Event, error) {
	acc := c.Accept
	if err := checkBasics("matchId", acc.MatchID, acc.Actor, acc.At); err != nil {
		return nil, err
	}
	if !m.Registered() {
		return nil, refuse(CodeMemberNotFound, "no such member")
	}
	match := c.Match
	if err := match.check(acc.MatchID); err != nil {
		return nil, err
	}
	if !acc.Actor.is(match.mentorID, RoleMentor) {
		return nil, refuse(CodeNotRequestedMentor, "only the requested mentor may accept")
	}
	if match.status.Terminal() {
		return nil, match.terminalError()
	}
	if _, ok := m.slots[acc.MatchID]; ok {
		return nil, nil
	}
	if match.status != StatusPending {
		return nil, refuse(CodeMatchNotPending, "this match is no longer pending")
	}
	if m.CapacityUsed() >= m.capacity {
		return nil, refuse(CodeCapacityReached,
			"you already have %d mentees, your capacity; raise it or wait for a match to end", m.CapacityUsed())
	}
	return []Event{CapacitySlotReserved{
		MemberID: m.id, MatchID: acc.MatchID, MenteeID: match.menteeID, At: acc.At.UTC(),
	}}, nil
}

func decideSyncSlot(m Member, c SyncSlot) ([]Event, error) {
	if c.MemberID == uuid.Nil {
		return nil, invalid("memberId", "is required")
	}
	if c.MatchID == uuid.Nil {
		return nil, invalid("matchId", "is required")
	}
	if err := checkAt(c.At); err != nil {
		return nil, err
	}
	if !m.Registered() {
		return nil, refuse(CodeMemberNotFound, "no such member")
	}
	match := c.Match
	if match.Exists() && match.id != c.MatchID {
		return nil, fmt.Errorf("decide member: state of match %s given for match %s", match.id, c.MatchID)
	}
	s, ok := m.slots[c.MatchID]
	if !ok || !s.held() || !match.Exists() {
		return nil, nil
	}
	at := c.At.UTC()
	release := func() []Event {
		if s.State == SlotReserved {
			return []Event{CapacitySlotReleased{MemberID: m.id, MatchID: c.MatchID, At: at}}
		}
		return []Event{RequestSlotReleased{MemberID: m.id, MatchID: c.MatchID, At: at}}
	}
	switch ours := match.IsPartner(m.id); {
	case !ours || match.status.Terminal():
		return release(), nil
	case match.status == StatusActive && s.State == SlotPending:
		return []Event{RequestSlotActivated{MemberID: m.id, MatchID: c.MatchID, At: at}}, nil
	default:
		return nil, nil
	}
}
