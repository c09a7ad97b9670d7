package eventstore

import "context"

// ReadBuffer is memory a BufferedReader reads events into, which the
// caller keeps from one read to the next.
type ReadBuffer struct {
	Events []RecordedEvent
	Bytes  []byte
}

// BufferedReader is an engine that can read the log into memory the caller
// keeps, so that a reader of the whole log (a rebuild) does not allocate
// every event it reads afresh.
type BufferedReader interface {
	// ReadAllInto is ReadAll reading into buf: the slice returned, and
	// the Data and Hash of its events, may lie in buf's memory, and are
	// only valid until buf is used again. The events' strings are their
	// own.
	ReadAllInto(ctx context.Context, from Position, limit int, buf *ReadBuffer) ([]RecordedEvent, error)
}
