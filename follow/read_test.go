package follow_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
)

func appendEvent(t *testing.T, s eventstore.Store, e domain.Event) eventstore.Position {
	t.Helper()
	enc, err := domain.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Append(context.Background(), "member-"+uuid.NewString(), eventstore.NoStream(),
		eventstore.EventData{ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data})
	if err != nil {
		t.Fatal(err)
	}
	return res.LastPosition
}

func openStore(t *testing.T) eventstore.Store {
	t.Helper()
	s, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Read hands on, in order and in pages, exactly the events after from up
// to to that keep chooses, and stops at an event that does not decode
// without skipping it.
func TestReadHandsOnTheRangeAndStopsAtAnUndecodableEvent(t *testing.T) {
	s := openStore(t)
	var positions []eventstore.Position
	for i := range 2500 {
		var e domain.Event = domain.MemberSignedIn{MemberID: uuid.New()}
		if i%3 == 0 {
			e = domain.MemberErased{MemberID: uuid.New(), ErasedBy: uuid.New(), Reason: "r"}
		}
		positions = append(positions, appendEvent(t, s, e))
	}
	var got []eventstore.Position
	keep := func(typ string) bool { return typ == domain.MemberErased{}.EventType() }
	to, err := follow.Read(context.Background(), s, positions[9], positions[2400], keep, func(batch []follow.Event) error {
		if len(batch) > follow.ReadPage {
			t.Fatalf("a batch of %d events", len(batch))
		}
		for _, ev := range batch {
			if _, ok := ev.Data.(domain.MemberErased); !ok {
				t.Fatalf("handed on a %s", ev.Type)
			}
			got = append(got, ev.Position)
		}
		return nil
	})
	if err != nil || to != positions[2400] {
		t.Fatalf("Read: %d, %v", to, err)
	}
	var want []eventstore.Position
	for i := 10; i <= 2400; i++ {
		if i%3 == 0 {
			want = append(want, positions[i])
		}
	}
	if len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("read %d events from %d to %d, want %d from %d to %d", len(got), got[0], got[len(got)-1], len(want), want[0], want[len(want)-1])
	}

	bad, err := s.Append(context.Background(), "member-"+uuid.NewString(), eventstore.NoStream(),
		eventstore.EventData{ID: uuid.New(), Type: domain.MemberErased{}.EventType(), SchemaVersion: domain.SchemaVersion, Data: json.RawMessage(`{"memberId":7}`)})
	if err != nil {
		t.Fatal(err)
	}
	after := appendEvent(t, s, domain.MemberErased{MemberID: uuid.New(), ErasedBy: uuid.New(), Reason: "r"})
	n := 0
	to, err = follow.Read(context.Background(), s, positions[len(positions)-1], after, nil, func(batch []follow.Event) error {
		n += len(batch)
		return nil
	})
	var de *follow.DecodeError
	if !errors.As(err, &de) || de.Position != bad.LastPosition || n != 0 || to != positions[len(positions)-1] {
		t.Fatalf("Read over an undecodable event: at %d, %d handed on, %v", to, n, err)
	}
}
