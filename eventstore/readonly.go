package eventstore

import "context"

// ReadOnly wraps a store so that every append fails with ErrReadOnly, for a
// server that only shows a copy of the program as it was.
func ReadOnly(s Store) Store { return readOnly{s} }

type readOnly struct{ Store }

func (readOnly) Append(context.Context, string, ExpectedRevision, ...EventData) (AppendResult, error) {
	return AppendResult{}, ErrReadOnly
}
