package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"
)

// Event is a fact decided by one of the deciders. Each event type is a
// plain struct with JSON tags whose name and shape never change once
// stored; a new shape gets a new schema version and an upcast on read.
type Event interface {
	// EventType returns the stable type name stored with the event, such
	// as "MatchRequested".
	EventType() string
}

// SchemaVersion is the schema version of every event type's current shape.
const SchemaVersion = 1

// ErrUnknownEventType is returned by Decode for a type name that this
// package does not define, such as the events of other packages that share
// the store; readers of the whole log skip those.
var ErrUnknownEventType = errors.New("unknown event type")

// EncodedEvent is an event as the store keeps it.
type EncodedEvent struct {
	// Type is the stable type name.
	Type string
	// SchemaVersion is the version of Data's shape.
	SchemaVersion int
	// Data is the event as JSON.
	Data json.RawMessage
}

// decoders maps every event type name to the function that reads its
// current schema version; zeros maps it to the type's zero value, which
// answers the routing questions below before an event is decoded.
var decoders, zeros = newRegistry(
	decoder[MemberRegistered],
	decoder[ProfileUpdated],
	decoder[MentorCapacityChanged],
	decoder[MentorAvailabilityChanged],
	decoder[RequestSlotTaken],
	decoder[RequestSlotActivated],
	decoder[RequestSlotReleased],
	decoder[CapacitySlotReserved],
	decoder[CapacitySlotReleased],
	decoder[MatchRequested],
	decoder[MatchAccepted],
	decoder[MatchDeclined],
	decoder[MatchCancelled],
	decoder[NudgeRequested],
	decoder[MentorNudged],
	decoder[ResponseWindowElapsed],
	decoder[FirstMeetingReminderDue],
	decoder[MatchEnded],
	decoder[ProfileReviewRequested],
	decoder[SessionLogged],
	decoder[SessionEdited],
	decoder[DocumentAdded],
	decoder[DocumentRemoved],
	decoder[ResourcePublished],
	decoder[ResourceRetired],
	decoder[PersonalDataRevealed],
	decoder[MatchEndRequested],
	decoder[AccountClosureRequested],
	decoder[MemberErased],
	decoder[MemberSignedIn],
)

type decodeFunc func(data []byte) (Event, error)

func decoder[E Event](data []byte) (Event, error) {
	var e E
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return e, nil
}

func newRegistry(fns ...decodeFunc) (map[string]decodeFunc, map[string]Event) {
	m := make(map[string]decodeFunc, len(fns))
	z := make(map[string]Event, len(fns))
	for _, fn := range fns {
		// Decoding an empty object gives the type's zero value, whose
		// EventType names the entry.
		e, err := fn([]byte("{}"))
		if err != nil {
			panic(fmt.Sprintf("domain: event registry: %v", err))
		}
		m[e.EventType()] = fn
		z[e.EventType()] = e
	}
	return m, z
}

// EventTypes returns the type names of every event the package defines, in
// sorted order.
func EventTypes() []string {
	return slices.Sorted(maps.Keys(decoders))
}

// ZeroEvent returns the zero value of the event type named typ, so that a
// reader can ask what events of that type are (the routing interfaces
// below) before decoding one; false for a name the package does not
// define.
func ZeroEvent(typ string) (Event, bool) {
	e, ok := zeros[typ]
	return e, ok
}

// Is reports whether the events of type typ implement I, one of the
// routing interfaces below: readers of the log use it to skip the events
// they do not follow without decoding them. It is false for a name the
// package does not define.
func Is[I any](typ string) bool {
	e, ok := zeros[typ]
	if !ok {
		return false
	}
	_, ok = e.(I)
	return ok
}

// The routing interfaces say what an event is about, so that the packages
// that react to events (read models, the subscription hub, the notifier,
// the process manager) route them by what the domain says and never by
// lists of type names. Every event type implements those that apply to it;
// a test checks them against the events' fields and the evolve functions.

// MatchEvent is an event about one match: it names the match. The match's
// own events and the slot events of its partners' streams are.
type MatchEvent interface {
	Event
	// MatchOf returns the match the event is about.
	MatchOf() uuid.UUID
}

// MemberEvent is an event of one member's stream: it names the member.
type MemberEvent interface {
	Event
	// MemberOf returns the member whose stream records the event.
	MemberOf() uuid.UUID
}

// PartnerEvent is a match event that names both partners, so that whoever
// tells them of it need not look the match up.
type PartnerEvent interface {
	MatchEvent
	// Partners returns the match's mentee and mentor.
	Partners() (mentee, mentor uuid.UUID)
}

// PrivateEvent is a match event that only its author may hear of, such as
// a meeting log, which is private to whoever logged it.
type PrivateEvent interface {
	MatchEvent
	// Author returns the partner the event is private to.
	Author() uuid.UUID
}

// MatchChange is a match event that changes what the match shows (its
// status, requests, nudges, reminders, meetings and documents): the events
// a match's followers hear of, and after which the match's view is at the
// event's position. Slot events only point at a match from a member's
// stream, and ProfileReviewRequested, recorded once the match is over,
// asks the partners about their own profiles; neither is one.
type MatchChange interface {
	MatchEvent
	changesMatch()
}

// StatusEvent is a match event that moves the match to a status.
type StatusEvent interface {
	MatchChange
	// MatchStatus returns the status the match has after the event.
	MatchStatus() MatchStatus
}

// SlotEvent is an event of a member's stream that takes, activates or
// releases the member's slot for a match.
type SlotEvent interface {
	MatchEvent
	MemberEvent
	// SlotState returns the state the member's slot for the match has
	// after the event.
	SlotState() SlotState
}

// Notice is a match event that the program tells the partners, or staff,
// of by email (the member guide's emails: a request to review, the
// answer, the nudges, the reminders, the end).
type Notice interface {
	PartnerEvent
	notice()
}

// TimeRuleEvent is a match event that starts, settles or stops one of the
// program's time rules (the response window, the first-meeting reminder,
// the one-year term, the profile review after the end): the events the
// rules' scheduler follows.
type TimeRuleEvent interface {
	MatchEvent
	timeRule()
}

// DirectoryEvent is a member event that changes how the program names and
// reaches the member: the name, the email, the contact information.
type DirectoryEvent interface {
	MemberEvent
	directory()
}

// ClosureEvent is a member event that changes the staff's queue of
// accounts asking to be closed: the request, and the erasure that ends it.
type ClosureEvent interface {
	MemberEvent
	closure()
}

// RetentionEvent is a member event that the retention rule counts from:
// the registration starts the count, a sign-in starts it again, and the
// erasure ends it.
type RetentionEvent interface {
	MemberEvent
	retention()
}

// Encode turns an event into its stored form.
func Encode(e Event) (EncodedEvent, error) {
	if e == nil {
		return EncodedEvent{}, errors.New("encode event: nil event")
	}
	typ := e.EventType()
	if _, ok := decoders[typ]; !ok {
		return EncodedEvent{}, fmt.Errorf("encode event: %w %q", ErrUnknownEventType, typ)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return EncodedEvent{}, fmt.Errorf("encode event %s: %w", typ, err)
	}
	return EncodedEvent{Type: typ, SchemaVersion: SchemaVersion, Data: data}, nil
}

// Decode turns a stored event back into its Go value. Unknown type names
// give an error wrapping ErrUnknownEventType.
func Decode(typ string, schemaVersion int, data []byte) (Event, error) {
	fn, ok := decoders[typ]
	if !ok {
		return nil, fmt.Errorf("decode event: %w %q", ErrUnknownEventType, typ)
	}
	if schemaVersion != SchemaVersion {
		return nil, fmt.Errorf("decode event %s: unknown schema version %d", typ, schemaVersion)
	}
	e, err := fn(data)
	if err != nil {
		return nil, fmt.Errorf("decode event %s: %w", typ, err)
	}
	return e, nil
}

// Fold applies events to state in order with evolve, as the command side
// does with the events it loaded before deciding.
func Fold[S any](state S, evolve func(S, Event) S, events ...Event) S {
	for _, e := range events {
		state = evolve(state, e)
	}
	return state
}
