package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
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
// current schema version.
var decoders = newRegistry(
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

func newRegistry(fns ...decodeFunc) map[string]decodeFunc {
	m := make(map[string]decodeFunc, len(fns))
	for _, fn := range fns {
		// Decoding an empty object gives the type's zero value, whose
		// EventType names the entry.
		e, err := fn([]byte("{}"))
		if err != nil {
			panic(fmt.Sprintf("domain: event registry: %v", err))
		}
		m[e.EventType()] = fn
	}
	return m
}

// EventTypes returns the type names of every event the package defines, in
// sorted order.
func EventTypes() []string {
	return slices.Sorted(maps.Keys(decoders))
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
