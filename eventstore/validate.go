package eventstore

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ValidateReadStream checks a stream read's arguments, so that every engine
// refuses the same bad input with the same errors.
func ValidateReadStream(stream string, opts ReadStreamOptions) error {
	if err := ValidateStreamName(stream); err != nil {
		return fmt.Errorf("read stream: %w", err)
	}
	if opts.Limit < 0 {
		return fmt.Errorf("read stream %q: %w: negative limit %d", stream, ErrInvalidReadOptions, opts.Limit)
	}
	if opts.Direction != Forwards && opts.Direction != Backwards {
		return fmt.Errorf("read stream %q: %w: unknown direction %d", stream, ErrInvalidReadOptions, opts.Direction)
	}
	return nil
}

// ValidateAppend checks an append's arguments against the contract's rules,
// so that every engine refuses the same bad input with the same errors before
// writing anything.
func ValidateAppend(stream string, expected ExpectedRevision, events []EventData, maxEventSize int) error {
	if err := ValidateStreamName(stream); err != nil {
		return err
	}
	if !expected.Valid() {
		return fmt.Errorf("%w: kind %d", ErrInvalidExpectedRevision, expected.Kind)
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: an append needs at least one event", ErrInvalidEvent)
	}
	if maxEventSize <= 0 {
		maxEventSize = DefaultMaxEventSize
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, ev := range events {
		if ev.ID == uuid.Nil {
			return fmt.Errorf("%w: event %d has no ID", ErrInvalidEvent, i)
		}
		if _, dup := seen[ev.ID]; dup {
			return fmt.Errorf("%w: event ID %s appears twice in one append", ErrInvalidEvent, ev.ID)
		}
		seen[ev.ID] = struct{}{}
		if ev.Type == "" || len(ev.Type) > MaxEventTypeLength || !utf8.ValidString(ev.Type) {
			return fmt.Errorf("%w: event %d has an empty, oversized or non-UTF-8 type", ErrInvalidEvent, i)
		}
		if ev.SchemaVersion < 1 || ev.SchemaVersion > 1<<16 {
			return fmt.Errorf("%w: event %d has schema version %d (want 1..65536)", ErrInvalidEvent, i, ev.SchemaVersion)
		}
		size := len(ev.Data) + len(ev.Type) + len(ev.Metadata.ActorID) + len(ev.Metadata.ActorRole) +
			len(ev.Metadata.CorrelationID) + len(ev.Metadata.CausationID)
		if size > maxEventSize {
			return fmt.Errorf("%w: event %d is %d bytes, the limit is %d", ErrEventTooLarge, i, size, maxEventSize)
		}
		if len(ev.Data) > 0 && !json.Valid(ev.Data) {
			return fmt.Errorf("%w: event %d data is not valid JSON", ErrInvalidEvent, i)
		}
	}
	return nil
}

// ValidateStreamName checks a stream name: 1 to MaxStreamNameLength bytes of
// UTF-8 without control characters, not starting with '$' (reserved for the
// engines' own streams).
func ValidateStreamName(stream string) error {
	if stream == "" {
		return fmt.Errorf("%w: empty", ErrInvalidStreamName)
	}
	if len(stream) > MaxStreamNameLength {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidStreamName, len(stream), MaxStreamNameLength)
	}
	if !utf8.ValidString(stream) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalidStreamName)
	}
	if stream[0] == '$' {
		return fmt.Errorf("%w: names starting with '$' are reserved", ErrInvalidStreamName)
	}
	for _, r := range stream {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: control character", ErrInvalidStreamName)
		}
	}
	return nil
}

// SameEvent reports whether a stored event has the contents an append
// offers again under the same ID: type, schema version and data. Metadata
// is left out, so that a retry made later, with a new recorded-at time or
// correlation, is still the same append; every engine judges retries alike.
func SameEvent(stored *RecordedEvent, ev *EventData) bool {
	return stored.Type == ev.Type &&
		stored.SchemaVersion == ev.SchemaVersion &&
		string(stored.Data) == string(ev.Data)
}
