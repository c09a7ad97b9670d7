package eventstore

import "fmt"

// ExpectedKind says what an append expects of a stream's state.
type ExpectedKind uint8

// The expected-revision kinds. The zero value is invalid on purpose, so that
// a forgotten expectation is an error rather than a silent Any.
const (
	// ExpectAny appends whatever the stream's state.
	ExpectAny ExpectedKind = iota + 1
	// ExpectNoStream appends only to a stream that has no events.
	ExpectNoStream
	// ExpectStreamExists appends only to a stream with at least one event.
	ExpectStreamExists
	// ExpectExact appends only when the stream's last revision is Revision.
	ExpectExact
)

// ExpectedRevision is the optimistic-concurrency guard of an append.
type ExpectedRevision struct {
	Kind     ExpectedKind
	Revision Revision
}

// Any expects nothing of the stream.
func Any() ExpectedRevision { return ExpectedRevision{Kind: ExpectAny} }

// NoStream expects the stream to have no events.
func NoStream() ExpectedRevision { return ExpectedRevision{Kind: ExpectNoStream} }

// StreamExists expects the stream to have at least one event.
func StreamExists() ExpectedRevision { return ExpectedRevision{Kind: ExpectStreamExists} }

// Exact expects the stream's last event to be at revision r.
func Exact(r Revision) ExpectedRevision { return ExpectedRevision{Kind: ExpectExact, Revision: r} }

// Valid reports whether e is one of the four kinds.
func (e ExpectedRevision) Valid() bool {
	return e.Kind >= ExpectAny && e.Kind <= ExpectExact
}

// String renders e for error messages.
func (e ExpectedRevision) String() string {
	switch e.Kind {
	case ExpectAny:
		return "any"
	case ExpectNoStream:
		return "no stream"
	case ExpectStreamExists:
		return "stream exists"
	case ExpectExact:
		return fmt.Sprintf("revision %d", e.Revision)
	default:
		return "invalid"
	}
}

// Matches reports whether a stream whose last revision is last (exists false
// when it has no events) satisfies e.
func (e ExpectedRevision) Matches(exists bool, last Revision) bool {
	switch e.Kind {
	case ExpectAny:
		return true
	case ExpectNoStream:
		return !exists
	case ExpectStreamExists:
		return exists
	case ExpectExact:
		return exists && last == e.Revision
	default:
		return false
	}
}
