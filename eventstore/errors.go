package eventstore

import (
	"errors"
	"fmt"
)

// Sentinel errors. Engines wrap them so that callers test with errors.Is.
var (
	// ErrClosed is returned by every call on a closed store.
	ErrClosed = errors.New("event store is closed")
	// ErrStreamNotFound is returned when reading a stream with no events.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrInvalidStreamName is returned for an empty, oversized or
	// malformed stream name.
	ErrInvalidStreamName = errors.New("invalid stream name")
	// ErrInvalidEvent is returned for an event that breaks the envelope's
	// rules (missing ID or type, bad JSON, bad schema version).
	ErrInvalidEvent = errors.New("invalid event")
	// ErrEventTooLarge is returned for an event over the size limit.
	ErrEventTooLarge = errors.New("event too large")
	// ErrInvalidExpectedRevision is returned for an expected revision that
	// is none of the four kinds.
	ErrInvalidExpectedRevision = errors.New("invalid expected revision")
	// ErrInvalidReadOptions is returned for a read with a negative limit
	// or an unknown direction.
	ErrInvalidReadOptions = errors.New("invalid read options")
	// ErrIdempotencyConflict is returned when events with already stored IDs
	// are appended again with different contents.
	ErrIdempotencyConflict = errors.New("event IDs already stored with different contents")
	// ErrCorrupt is returned when stored data fails its integrity checks.
	ErrCorrupt = errors.New("event store data is corrupt")
	// ErrLocked is returned when another process holds the data directory.
	ErrLocked = errors.New("event store is locked by another process")
	// ErrShorterLog is returned when opening a log that holds less than
	// the rest of its data directory proves it held: a head record, a
	// read model's snapshot or a worker's saved state names a position
	// past its end or an event it does not hold there. Serving it would
	// present lost or removed events as if they had never happened, so
	// the store refuses until the operator restores the log or accepts
	// the loss explicitly.
	ErrShorterLog = errors.New("event log is shorter than its data directory proves")
	// ErrUnavailable is returned by an append that the store cannot take
	// now for want of resources, such as a full disk. Nothing of the
	// append was acknowledged; the same append may succeed later, so
	// callers report it as a temporary failure rather than a fault.
	ErrUnavailable = errors.New("event store cannot take changes now")
)

// WrongExpectedRevisionError reports an append whose expectation did not
// match the stream.
type WrongExpectedRevisionError struct {
	Stream   string
	Expected ExpectedRevision
	// ActualExists is false when the stream has no events.
	ActualExists bool
	// Actual is the stream's last revision when ActualExists.
	Actual Revision
}

func (e *WrongExpectedRevisionError) Error() string {
	actual := "no stream"
	if e.ActualExists {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("wrong expected revision on stream %q: expected %s, actual %s", e.Stream, e.Expected, actual)
}

// ErrWrongExpectedRevision matches any *WrongExpectedRevisionError with
// errors.Is.
var ErrWrongExpectedRevision = errors.New("wrong expected revision")

// Is lets errors.Is(err, ErrWrongExpectedRevision) match.
func (e *WrongExpectedRevisionError) Is(target error) bool { return target == ErrWrongExpectedRevision }

// ErrReadOnly is returned by appends to a store opened for inspection only.
var ErrReadOnly = errors.New("event store is read-only")
