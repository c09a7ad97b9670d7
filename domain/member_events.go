package domain

import (
	"time"

	"github.com/google/uuid"
)

// MemberRegistered records a new account and its role, which never changes.
// A mentor starts with the program's default capacity and accepting
// requests.
type MemberRegistered struct {
	MemberID uuid.UUID `json:"memberId"`
	Role     Role      `json:"role"`
	// Name starts the member's profile.
	Name string `json:"name"`
	// Email is the account's email, where the program writes to.
	Email string `json:"email"`
	// Capacity is a mentor's starting capacity; 0 for other roles.
	Capacity int `json:"capacity,omitempty"`
	// Accepting is whether a mentor starts accepting requests.
	Accepting bool      `json:"accepting,omitempty"`
	At        time.Time `json:"at"`
}

// ProfileUpdated records the whole profile as the member saved it.
type ProfileUpdated struct {
	MemberID uuid.UUID `json:"memberId"`
	Profile  Profile   `json:"profile"`
	At       time.Time `json:"at"`
}

// MentorCapacityChanged records how many mentees a mentor takes at once.
type MentorCapacityChanged struct {
	MemberID uuid.UUID `json:"memberId"`
	Capacity int       `json:"capacity"`
	At       time.Time `json:"at"`
}

// MentorAvailabilityChanged records a mentor switching new requests on or
// off.
type MentorAvailabilityChanged struct {
	MemberID  uuid.UUID `json:"memberId"`
	Accepting bool      `json:"accepting"`
	At        time.Time `json:"at"`
}

// RequestSlotTaken records that a mentee's request holds one of the
// mentee's slots. It carries the whole request, so that a process manager
// can finish recording the request on the match stream after a crash.
type RequestSlotTaken struct {
	MemberID uuid.UUID `json:"memberId"`
	MatchID  uuid.UUID `json:"matchId"`
	MentorID uuid.UUID `json:"mentorId"`
	Message  string    `json:"message,omitempty"`
	At       time.Time `json:"at"`
}

// RequestSlotActivated records that the mentee's pending slot became an
// active one because the mentor accepted.
type RequestSlotActivated struct {
	MemberID uuid.UUID `json:"memberId"`
	MatchID  uuid.UUID `json:"matchId"`
	At       time.Time `json:"at"`
}

// RequestSlotReleased records that a mentee's slot is free again because
// the match was declined, cancelled or ended.
type RequestSlotReleased struct {
	MemberID uuid.UUID `json:"memberId"`
	MatchID  uuid.UUID `json:"matchId"`
	At       time.Time `json:"at"`
}

// CapacitySlotReserved records that a mentor's accept of a match holds one
// unit of the mentor's capacity. It is recorded before the acceptance
// itself, so a process manager that finds it without an accepted match
// finishes the accept or, once the match is over, releases the slot.
type CapacitySlotReserved struct {
	MemberID uuid.UUID `json:"memberId"`
	MatchID  uuid.UUID `json:"matchId"`
	MenteeID uuid.UUID `json:"menteeId"`
	At       time.Time `json:"at"`
}

// CapacitySlotReleased records that a mentor's capacity slot is free again
// because the match ended or never became active.
type CapacitySlotReleased struct {
	MemberID uuid.UUID `json:"memberId"`
	MatchID  uuid.UUID `json:"matchId"`
	At       time.Time `json:"at"`
}

// EventType names the event.
func (MemberRegistered) EventType() string { return "MemberRegistered" }

// EventType names the event.
func (ProfileUpdated) EventType() string { return "ProfileUpdated" }

// EventType names the event.
func (MentorCapacityChanged) EventType() string { return "MentorCapacityChanged" }

// EventType names the event.
func (MentorAvailabilityChanged) EventType() string { return "MentorAvailabilityChanged" }

// EventType names the event.
func (RequestSlotTaken) EventType() string { return "RequestSlotTaken" }

// EventType names the event.
func (RequestSlotActivated) EventType() string { return "RequestSlotActivated" }

// EventType names the event.
func (RequestSlotReleased) EventType() string { return "RequestSlotReleased" }

// EventType names the event.
func (CapacitySlotReserved) EventType() string { return "CapacitySlotReserved" }

// EventType names the event.
func (CapacitySlotReleased) EventType() string { return "CapacitySlotReleased" }

// What the member events are, for routing: see the interfaces in event.go.

// MemberOf implements MemberEvent.
func (e MemberRegistered) MemberOf() uuid.UUID { return e.MemberID }

func (MemberRegistered) directory() {}

func (MemberRegistered) retention() {}

// MemberOf implements MemberEvent.
func (e ProfileUpdated) MemberOf() uuid.UUID { return e.MemberID }

func (ProfileUpdated) directory() {}

// MemberOf implements MemberEvent.
func (e MentorCapacityChanged) MemberOf() uuid.UUID { return e.MemberID }

// MemberOf implements MemberEvent.
func (e MentorAvailabilityChanged) MemberOf() uuid.UUID { return e.MemberID }

// MatchOf implements MatchEvent.
func (e RequestSlotTaken) MatchOf() uuid.UUID { return e.MatchID }

// MemberOf implements MemberEvent.
func (e RequestSlotTaken) MemberOf() uuid.UUID { return e.MemberID }

// SlotState implements SlotEvent.
func (RequestSlotTaken) SlotState() SlotState { return SlotPending }

// MatchOf implements MatchEvent.
func (e RequestSlotActivated) MatchOf() uuid.UUID { return e.MatchID }

// MemberOf implements MemberEvent.
func (e RequestSlotActivated) MemberOf() uuid.UUID { return e.MemberID }

// SlotState implements SlotEvent.
func (RequestSlotActivated) SlotState() SlotState { return SlotActive }

// MatchOf implements MatchEvent.
func (e RequestSlotReleased) MatchOf() uuid.UUID { return e.MatchID }

// MemberOf implements MemberEvent.
func (e RequestSlotReleased) MemberOf() uuid.UUID { return e.MemberID }

// SlotState implements SlotEvent.
func (RequestSlotReleased) SlotState() SlotState { return SlotReleased }

// MatchOf implements MatchEvent.
func (e CapacitySlotReserved) MatchOf() uuid.UUID { return e.MatchID }

// MemberOf implements MemberEvent.
func (e CapacitySlotReserved) MemberOf() uuid.UUID { return e.MemberID }

// SlotState implements SlotEvent.
func (CapacitySlotReserved) SlotState() SlotState { return SlotReserved }

// MatchOf implements MatchEvent.
func (e CapacitySlotReleased) MatchOf() uuid.UUID { return e.MatchID }

// MemberOf implements MemberEvent.
func (e CapacitySlotReleased) MemberOf() uuid.UUID { return e.MemberID }

// SlotState implements SlotEvent.
func (CapacitySlotReleased) SlotState() SlotState { return SlotReleased }
