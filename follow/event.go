// Package follow is the one runtime for everything that follows the event
// log: the read models, the subscription hub, the notifier and the process
// manager are followers, each an evolve function over decoded events that
// keeps its position with its state. A Runner catches them up by reading
// the log in parallel chunks, then feeds them the live stream; it retries a
// failing batch a bounded number of times and then stops the follower at
// the exact event, never skipping it, and says where on Healthy; it tells
// how far every follower got (Reached, WaitFor), saves the state of those
// that keep it in memory, and reports the same metrics for all.
package follow

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Event is a stored event decoded once for every follower.
type Event struct {
	Position eventstore.Position
	// ID is the stored event's ID. A follower keeps the ID of the last
	// event it applied, so that a saved state can be checked against the
	// log.
	ID       uuid.UUID
	Stream   string
	Revision eventstore.Revision
	Type     string
	Meta     eventstore.Metadata
	// Data is the decoded domain event; nil for types the domain does not
	// define.
	Data domain.Event
}

// Decode turns a stored event into an Event. Unknown types decode with nil
// Data; a known type that fails to decode is an error.
func Decode(rec eventstore.RecordedEvent) (Event, error) {
	return decode(rec, nil)
}

// decode is Decode with the interner of the goroutine decoding (nil for
// none).
func decode(rec eventstore.RecordedEvent, in *interner) (Event, error) {
	ev := Event{Position: rec.Position, ID: rec.ID, Stream: rec.Stream, Revision: rec.Revision, Type: rec.Type, Meta: rec.Metadata}
	if data, ok := fastDecode(rec.Type, rec.SchemaVersion, rec.Data, in); ok {
		ev.Data = data
		return ev, nil
	}
	data, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
	switch {
	case errors.Is(err, domain.ErrUnknownEventType):
	case err != nil:
		return ev, fmt.Errorf("position %d: %w", rec.Position, err)
	default:
		ev.Data = data
	}
	return ev, nil
}

// DecodeError is a stored event that cannot be decoded. Catching up stops
// at it: no follower may skip an event.
type DecodeError struct {
	Position eventstore.Position
	Err      error
}

func (e *DecodeError) Error() string { return e.Err.Error() }

func (e *DecodeError) Unwrap() error { return e.Err }
