package kurrent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
)

// storedMeta is the user metadata every event carries on the server. Its
// JSON encoding, without the hash, is what the hash covers, so the field
// order here is part of the stored format. The event's ID, stream (without
// the namespace) and type are repeated from the server's own fields so that
// the hash covers them too: changing an event's type or moving it to
// another stream breaks the chain.
type storedMeta struct {
	EventID       uuid.UUID `json:"eventId"`
	Stream        string    `json:"stream"`
	Type          string    `json:"type"`
	SchemaVersion int       `json:"schemaVersion"`
	ActorID       string    `json:"actorId,omitempty"`
	ActorRole     string    `json:"actorRole,omitempty"`
	CorrelationID string    `json:"correlationId,omitempty"`
	CausationID   string    `json:"causationId,omitempty"`
	OccurredAt    time.Time `json:"occurredAt"`
}

// readMeta is storedMeta as read back, hash included.
type readMeta struct {
	storedMeta
	Hash string `json:"hash"`
}

// hashField opens the hash member that encodeMeta appends as the last member
// of the metadata object.
const hashField = `,"hash":"`

// encodeMeta returns the user metadata to store for ev in stream and the
// event's hash, chained to prev, the hash of the stream's previous event
// (nil for the first event of a stream). The hash is SHA-256 over prev, the
// data bytes and the metadata bytes as they are stored minus the hash
// member.
func encodeMeta(stream string, ev *eventstore.EventData, prev []byte) (meta, hash []byte) {
	m := storedMeta{
		EventID:       ev.ID,
		Stream:        stream,
		Type:          ev.Type,
		ActorID:       ev.Metadata.ActorID,
		ActorRole:     ev.Metadata.ActorRole,
		CorrelationID: ev.Metadata.CorrelationID,
		CausationID:   ev.Metadata.CausationID,
		SchemaVersion: ev.SchemaVersion,
	}
	if !ev.Metadata.OccurredAt.IsZero() {
		m.OccurredAt = ev.Metadata.OccurredAt.UTC()
	}
	base, err := json.Marshal(m)
	if err != nil {
		// storedMeta holds strings, an int, a UUID and a time.Time, whose
		// encoding fails only for years outside 0..9999.
		panic(fmt.Sprintf("encode event metadata: %v", err))
	}
	hash = chainHash(prev, ev.Data, base)
	meta = make([]byte, 0, len(base)+len(hashField)+hex.EncodedLen(len(hash))+2)
	meta = append(meta, base[:len(base)-1]...)
	meta = append(meta, hashField...)
	meta = hex.AppendEncode(meta, hash)
	meta = append(meta, '"', '}')
	return meta, hash
}

// chainHash links an event's stored bytes to its predecessor's hash.
func chainHash(prev, data, metaWithoutHash []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(data)
	h.Write(metaWithoutHash)
	return h.Sum(nil)
}

// withoutHash returns stored metadata minus the hash member that
// encodeMeta appended, or nil when meta has no such member.
func withoutHash(meta []byte) []byte {
	i := bytes.LastIndex(meta, []byte(hashField))
	if i < 0 {
		return nil
	}
	out := make([]byte, 0, i+1)
	out = append(out, meta[:i]...)
	return append(out, '}')
}

// isSystem reports whether an event belongs to the server rather than to
// the application: KurrentDB's own streams and event types start with '$'.
func isSystem(stream, eventType string) bool {
	return strings.HasPrefix(stream, "$") || strings.HasPrefix(eventType, "$")
}

// noPosition is what servers from before 2022 report as the global position
// of an event read from its stream; later ones report the real position.
const noPosition = math.MaxUint64

// decode turns a server event into the contract's form. stream is the name
// without the store's namespace.
func decode(e *esdb.RecordedEvent, stream string) (eventstore.RecordedEvent, error) {
	if e.Position.Commit == noPosition {
		return eventstore.RecordedEvent{}, fmt.Errorf("event %d of stream %q came without its global position, which this engine needs and servers from 2022 on report", e.EventNumber, stream)
	}
	var m readMeta
	if len(e.UserMetadata) > 0 {
		if err := json.Unmarshal(e.UserMetadata, &m); err != nil {
			return eventstore.RecordedEvent{}, fmt.Errorf("%w: metadata of event %d of stream %q: %v", eventstore.ErrCorrupt, e.EventNumber, stream, err)
		}
	}
	var hash []byte
	if m.Hash != "" {
		var err error
		if hash, err = hex.DecodeString(m.Hash); err != nil {
			return eventstore.RecordedEvent{}, fmt.Errorf("%w: hash of event %d of stream %q: %v", eventstore.ErrCorrupt, e.EventNumber, stream, err)
		}
	}
	return eventstore.RecordedEvent{
		ID:            e.EventID,
		Stream:        stream,
		Type:          e.EventType,
		SchemaVersion: m.SchemaVersion,
		Data:          json.RawMessage(e.Data),
		Metadata: eventstore.Metadata{
			ActorID:       m.ActorID,
			ActorRole:     m.ActorRole,
			CorrelationID: m.CorrelationID,
			CausationID:   m.CausationID,
			OccurredAt:    m.OccurredAt.UTC(),
			RecordedAt:    e.CreatedDate.UTC(),
		},
		Revision: eventstore.Revision(e.EventNumber),
		Position: eventstore.Position(e.Position.Commit),
		Hash:     hash,
	}, nil
}

// allPosition is the server position of a contract position. KurrentDB
// reports an event's commit and prepare positions as equal, so a position
// taken from an event names that event on the server.
func allPosition(p eventstore.Position) esdb.AllPosition {
	if p == eventstore.Start {
		return esdb.Start{}
	}
	return esdb.Position{Commit: uint64(p), Prepare: uint64(p)}
}
