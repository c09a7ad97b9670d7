// Package eventstore defines the contract every event store engine fulfils:
// appends guarded by an expected stream revision, reads of one stream or of
// the whole log in global order, and catch-up subscriptions that turn live.
//
// The package holds types and interfaces only. Engines live in subpackages
// named after what they wrap (bolt, kurrent), and every engine runs the
// shared conformance suite in eventstore/conformance.
package eventstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Position is an event's place in the global log. Positions grow with commit
// order; the embedded engine numbers events 1, 2, 3, ..., while other engines
// may leave gaps (KurrentDB's are offsets in its log). Position 0 (Start)
// stands before every event, so "everything after Start" is the whole log.
type Position uint64

// Start is the position before the first event of the log.
const Start Position = 0

// Revision is an event's place in its own stream, counting from 0.
type Revision uint64

// Defaults for the limits every engine enforces.
const (
	// DefaultMaxEventSize caps the data plus metadata of one event.
	DefaultMaxEventSize = 1 << 20
	// MaxStreamNameLength caps a stream name in bytes.
	MaxStreamNameLength = 256
	// MaxEventTypeLength caps an event type name in bytes.
	MaxEventTypeLength = 128
	// DefaultRetryWindow is how many of a stream's newest events an append
	// with a loose expectation (Any, StreamExists) searches for its own
	// event IDs, to answer a retry with the first attempt's result.
	DefaultRetryWindow = 64
)

// Metadata is the part of the envelope that says who caused an event, why and
// when. Engines store it as given, except RecordedAt, which they set.
type Metadata struct {
	// ActorID identifies the account that caused the event ("system" for
	// process managers).
	ActorID string `json:"actorId,omitempty"`
	// ActorRole is the role the actor acted in (MENTEE, MENTOR, STAFF, ...).
	ActorRole string `json:"actorRole,omitempty"`
	// CorrelationID ties together every event caused by one request.
	CorrelationID string `json:"correlationId,omitempty"`
	// CausationID names the command or event that directly caused this one.
	CausationID string `json:"causationId,omitempty"`
	// OccurredAt is domain time, taken from the injected clock.
	OccurredAt time.Time `json:"occurredAt"`
	// RecordedAt is when the engine stored the event; engines set it.
	RecordedAt time.Time `json:"recordedAt"`
}

// EventData is an event offered to Append.
type EventData struct {
	// ID identifies the event. Retrying an append with the same IDs is
	// idempotent, so IDs that a retry must reproduce are derived
	// deterministically from their cause.
	ID uuid.UUID
	// Type is the stable type name, such as "MatchRequested".
	Type string
	// SchemaVersion is the version of Data's shape for this Type (1 or more).
	SchemaVersion int
	// Data is the JSON body.
	Data json.RawMessage
	// Metadata is the envelope's who, why and when.
	Metadata Metadata
}

// RecordedEvent is an event as stored, with its stream revision and global
// position. Engines may share Data and Hash between readers, so callers must
// treat them as read-only.
type RecordedEvent struct {
	ID            uuid.UUID
	Stream        string
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	// Revision is the event's place in its stream.
	Revision Revision
	// Position is the event's place in the global log.
	Position Position
	// Hash is the tamper-evidence hash over the predecessor's hash and this
	// event's stored bytes; engines that keep no chain leave it empty.
	Hash []byte
}

// AppendResult tells where an append's events landed.
type AppendResult struct {
	// FirstRevision and LastRevision are the revisions of the first and the
	// last appended event.
	FirstRevision Revision
	LastRevision  Revision
	// FirstPosition and LastPosition are their global positions. Waiting
	// until a projection reaches LastPosition gives read-your-writes.
	FirstPosition Position
	LastPosition  Position
}

// Direction orders a stream read.
type Direction int

// The two read directions.
const (
	Forwards Direction = iota
	Backwards
)

// ReadStreamOptions select part of one stream.
type ReadStreamOptions struct {
	Direction Direction
	// From is the first revision to return. Reading backwards with FromEnd
	// set starts at the last event instead.
	From    Revision
	FromEnd bool
	// Limit caps the number of events; 0 means no limit.
	Limit int
}

// Store is the port every engine implements. All methods are safe for
// concurrent use.
type Store interface {
	// Append writes events to a stream atomically if the stream's state
	// matches expected. It returns only once the events are durable.
	// Appending events that are already stored with the same IDs at the
	// same place succeeds again without duplicating them.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)
	// ReadStream returns events of one stream. A stream that was never
	// written gives ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, opts ReadStreamOptions) ([]RecordedEvent, error)
	// ReadAll returns up to limit events after from (exclusive), in global
	// order. A limit of 0 or less means the engine's default batch size.
	ReadAll(ctx context.Context, from Position, limit int) ([]RecordedEvent, error)
	// SubscribeAll delivers every event after from (exclusive) in global
	// order: first the stored ones, then new ones as they are appended.
	SubscribeAll(ctx context.Context, from Position) (Subscription, error)
	// Head returns the position of the last event in the log (Start when
	// the log is empty).
	Head(ctx context.Context) (Position, error)
	// Close releases the engine. Calls after Close return ErrClosed.
	Close() error
}

// Subscription is a catch-up subscription on the whole log.
type Subscription interface {
	// Events yields events in global order. It is closed when the
	// subscription ends; Err then tells why.
	Events() <-chan RecordedEvent
	// Err is nil after a clean end (the context was cancelled or Close was
	// called) and the cause otherwise. Call it after Events is closed.
	Err() error
	// Close ends the subscription and waits for its goroutine.
	Close()
}
