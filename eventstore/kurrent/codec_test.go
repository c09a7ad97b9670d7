package kurrent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
)

func testEvent() eventstore.EventData {
	return eventstore.EventData{
		ID:            uuid.MustParse("0b4b9c1e-7f6a-4d0e-9a51-3c2d1e0f9a8b"),
		Type:          "MatchRequested",
		SchemaVersion: 2,
		Data:          []byte(`{"mentor":"m-1"}`),
		Metadata: eventstore.Metadata{
			ActorID:       "a-1",
			ActorRole:     "MENTEE",
			CorrelationID: "c-1",
			CausationID:   "d-1",
			OccurredAt:    time.Date(2026, 3, 4, 5, 6, 7, 8000, time.FixedZone("CET", 3600)),
		},
	}
}

// The stored metadata and what the hash covers are a format that outlives
// the code, so they are pinned byte for byte.
func TestStoredMetadataFormat(t *testing.T) {
	ev := testEvent()
	prev := sha256.Sum256([]byte("previous"))
	meta, hash := encodeMeta("match-1", &ev, prev[:])
	const base = `{"eventId":"0b4b9c1e-7f6a-4d0e-9a51-3c2d1e0f9a8b","stream":"match-1","type":"MatchRequested","schemaVersion":2,` +
		`"actorId":"a-1","actorRole":"MENTEE","correlationId":"c-1","causationId":"d-1","occurredAt":"2026-03-04T04:06:07.000008Z"}`
	want := sha256.Sum256(append(append(prev[:], ev.Data...), base...))
	if string(hash) != string(want[:]) {
		t.Fatalf("hash %x, want %x", hash, want)
	}
	wantMeta := base[:len(base)-1] + `,"hash":"` + hex.EncodeToString(want[:]) + `"}`
	if string(meta) != wantMeta {
		t.Fatalf("stored metadata\n got %s\nwant %s", meta, wantMeta)
	}
	if got := withoutHash(meta); string(got) != base {
		t.Fatalf("metadata without the hash: %s", got)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	ev := testEvent()
	meta, hash := encodeMeta("match-1", &ev, nil)
	created := time.Date(2026, 3, 4, 5, 6, 8, 0, time.UTC)
	got, err := decode(&esdb.RecordedEvent{
		EventID: ev.ID, EventType: ev.Type, StreamID: "ns-match-1", EventNumber: 4,
		Position: esdb.Position{Commit: 9000, Prepare: 9000}, CreatedDate: created,
		Data: ev.Data, UserMetadata: meta,
	}, "match-1")
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := ev.Metadata
	wantMeta.OccurredAt = ev.Metadata.OccurredAt.UTC()
	wantMeta.RecordedAt = created
	if got.ID != ev.ID || got.Stream != "match-1" || got.Type != ev.Type || got.SchemaVersion != 2 ||
		string(got.Data) != string(ev.Data) || got.Metadata != wantMeta || got.Revision != 4 ||
		got.Position != 9000 || string(got.Hash) != string(hash) {
		t.Fatalf("decoded %+v", got)
	}
	if _, err := decode(&esdb.RecordedEvent{Position: esdb.Position{Commit: noPosition}}, "s"); err == nil {
		t.Fatal("an event without a global position was accepted")
	}
	if _, err := decode(&esdb.RecordedEvent{Position: esdb.Position{Commit: 1}, UserMetadata: []byte("{")}, "s"); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("unreadable metadata: got %v, want ErrCorrupt", err)
	}
}

func TestChainCheckCatchesEveryStoredField(t *testing.T) {
	ev := testEvent()
	meta0, hash0 := encodeMeta("match-1", &ev, nil)
	ev2 := testEvent()
	ev2.ID = uuid.New()
	meta1, _ := encodeMeta("match-1", &ev2, hash0)
	stored := func() []*esdb.RecordedEvent {
		return []*esdb.RecordedEvent{
			{EventID: ev.ID, EventType: ev.Type, EventNumber: 0, Data: []byte(ev.Data), UserMetadata: append([]byte(nil), meta0...)},
			{EventID: ev2.ID, EventType: ev2.Type, EventNumber: 1, Data: []byte(ev2.Data), UserMetadata: append([]byte(nil), meta1...)},
		}
	}
	verify := func(evs []*esdb.RecordedEvent) error {
		var c chain
		for _, e := range evs {
			if err := c.check("match-1", e); err != nil {
				return err
			}
		}
		return nil
	}
	if err := verify(stored()); err != nil {
		t.Fatalf("untouched chain: %v", err)
	}
	for name, tamper := range map[string]func([]*esdb.RecordedEvent){
		"data":            func(evs []*esdb.RecordedEvent) { evs[0].Data = []byte(`{"mentor":"m-2"}`) },
		"type":            func(evs []*esdb.RecordedEvent) { evs[1].EventType = "MatchDeclined" },
		"ID":              func(evs []*esdb.RecordedEvent) { evs[0].EventID = uuid.New() },
		"other metadata":  func(evs []*esdb.RecordedEvent) { evs[0].UserMetadata[len(`{"eventId":"`)+40] ^= 1 },
		"hash":            func(evs []*esdb.RecordedEvent) { evs[1].UserMetadata[len(evs[1].UserMetadata)-4] ^= 1 },
		"order":           func(evs []*esdb.RecordedEvent) { evs[0], evs[1] = evs[1], evs[0] },
		"a missing event": func(evs []*esdb.RecordedEvent) { evs[1].EventNumber = 2 },
	} {
		evs := stored()
		tamper(evs)
		if err := verify(evs); !errors.Is(err, eventstore.ErrCorrupt) {
			t.Errorf("tampered %s: got %v, want ErrCorrupt", name, err)
		}
	}
}
