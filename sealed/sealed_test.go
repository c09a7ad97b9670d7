package sealed_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
	"github.com/mentorship/mentorship/sealed"
)

const prefix = "\x01t1:"

// fakeKeys "seals" by encoding member and text in base64 (no secrecy; the
// keyring's own tests cover the cipher), and forgets erased members.
type fakeKeys struct {
	mu     sync.Mutex
	erased map[uuid.UUID]bool
	fail   error
	forgot []uuid.UUID
}

func (k *fakeKeys) Seal(_ context.Context, member uuid.UUID, text string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return "", k.fail
	}
	if k.erased[member] {
		return "", errors.New("erased")
	}
	return prefix + base64.RawURLEncoding.EncodeToString(append(member[:], text...)), nil
}

func (k *fakeKeys) Open(_ context.Context, s string) (string, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return "", false, k.fail
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, prefix))
	if err != nil || len(b) < 16 {
		return "", false, errors.New("not sealed")
	}
	if k.erased[uuid.UUID(b[:16])] {
		return "", true, nil
	}
	return string(b[16:]), false, nil
}

func (k *fakeKeys) IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }

func (k *fakeKeys) Forget(member uuid.UUID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.forgot = append(k.forgot, member)
}

func (k *fakeKeys) erase(id uuid.UUID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.erased[id] = true
}

func open(t *testing.T) (*sealed.Store, eventstore.Store, *fakeKeys) {
	t.Helper()
	raw, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	keys := &fakeKeys{erased: map[uuid.UUID]bool{}}
	return sealed.Wrap(raw, keys, prefix), raw, keys
}

func data(t *testing.T, e domain.Event) eventstore.EventData {
	t.Helper()
	enc, err := domain.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data,
		Metadata: eventstore.Metadata{OccurredAt: time.Now()}}
}

func decode(t *testing.T, rec eventstore.RecordedEvent) domain.Event {
	t.Helper()
	e, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	mentee = uuid.MustParse("00000000-0000-0000-0000-00000000000a")
	mentor = uuid.MustParse("00000000-0000-0000-0000-00000000000b")
	match  = uuid.MustParse("00000000-0000-0000-0000-0000000000cc")
	at     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func TestPersonalTextsAreSealedAtRestAndOpenOnRead(t *testing.T) {
	ctx := context.Background()
	s, raw, keys := open(t)
	reg := domain.MemberRegistered{MemberID: mentee, Role: domain.RoleMentee, Name: `Zoë "Q" O'Brien`, Email: "zoe@example.org", At: at}
	profile := domain.ProfileUpdated{MemberID: mentee, Profile: domain.Profile{
		Name: "Zoë O'Brien", Biography: "Dams and\nrivers </script> \u2028",
		Contact: domain.Contact{Email: "zoe.home@example.org", Phone: "+1 613 555 0100"},
	}, At: at}
	ended := domain.MatchEnded{MatchID: match, MenteeID: mentee, MentorID: mentor, Reason: "MOVED", Note: "Zoë moved to Yukon", At: at}
	accepted := domain.MatchAccepted{MatchID: match, MenteeID: mentee, MentorID: mentor, At: at}
	for _, e := range []domain.Event{reg, profile} {
		if _, err := s.Append(ctx, "member-a", eventstore.Any(), data(t, e)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Append(ctx, "match-c", eventstore.Any(), data(t, accepted), data(t, ended)); err != nil {
		t.Fatal(err)
	}

	// At rest: no personal text, but types, IDs and list values readable.
	stored, err := raw.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, rec := range stored {
		all = append(all, rec.Data...)
	}
	for _, clear := range []string{"Zo", "zoe", "O'Brien", "O\\u0027Brien", "Dams", "613", "Yukon"} {
		if bytes.Contains(all, []byte(clear)) {
			t.Errorf("the stored log holds %q in the clear:\n%s", clear, all)
		}
	}
	for _, readable := range []string{mentee.String(), `"MOVED"`, `"MENTEE"`} {
		if !bytes.Contains(all, []byte(readable)) {
			t.Errorf("the stored log lost %s, which is not personal", readable)
		}
	}

	// Every read path gives the events back as appended.
	want := []domain.Event{reg, profile, accepted, ended}
	check := func(name string, recs []eventstore.RecordedEvent) {
		t.Helper()
		var got []domain.Event
		for _, rec := range recs {
			got = append(got, decode(t, rec))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	recs, err := s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	check("ReadAll", recs)
	a, _ := s.ReadStream(ctx, "member-a", eventstore.ReadStreamOptions{})
	c, _ := s.ReadStream(ctx, "match-c", eventstore.ReadStreamOptions{})
	check("ReadStream", append(a, c...))
	sub, err := s.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	var subbed []eventstore.RecordedEvent
	for rec := range sub.Events() {
		subbed = append(subbed, rec)
		if len(subbed) == 4 {
			break
		}
	}
	sub.Close()
	check("SubscribeAll", subbed)

	// Erasing the mentee: their texts read as "", the mentor's stay, and
	// a note about both partners is gone with either.
	keys.erase(mentee)
	recs, err = s.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	gotReg := decode(t, recs[0]).(domain.MemberRegistered)
	if gotReg.Name != "" || gotReg.Email != "" || gotReg.MemberID != mentee || gotReg.Role != domain.RoleMentee {
		t.Errorf("after erasure: %+v", gotReg)
	}
	gotProfile := decode(t, recs[1]).(domain.ProfileUpdated)
	if gotProfile.Profile.Biography != "" || gotProfile.Profile.Contact.Phone != "" {
		t.Errorf("after erasure: %+v", gotProfile)
	}
	if got := decode(t, recs[3]).(domain.MatchEnded); got.Note != "" || got.Reason != "MOVED" {
		t.Errorf("after erasing one partner, the note about both reads %q (reason %q)", got.Note, got.Reason)
	}
}

func TestARetryStoresTheSameBytes(t *testing.T) {
	ctx := context.Background()
	s, raw, _ := open(t)
	ev := data(t, domain.MatchRequested{MatchID: match, MenteeID: mentee, MentorID: mentor, Message: "Hello", At: at})
	first, err := s.Append(ctx, "match-c", eventstore.NoStream(), ev)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Append(ctx, "match-c", eventstore.NoStream(), ev)
	if err != nil {
		t.Fatalf("a retried append was refused: %v", err)
	}
	if first != again {
		t.Errorf("retry answered %+v, first %+v", again, first)
	}
	if recs, _ := raw.ReadAll(ctx, eventstore.Start, 0); len(recs) != 1 {
		t.Errorf("%d events stored after a retry", len(recs))
	}
}

func TestAFailedSealAppendsNothing(t *testing.T) {
	ctx := context.Background()
	s, raw, keys := open(t)
	keys.fail = errors.New("key store down")
	_, err := s.Append(ctx, "member-a", eventstore.Any(),
		data(t, domain.MatchAccepted{MatchID: match, MenteeID: mentee, MentorID: mentor, At: at}),
		data(t, domain.MemberRegistered{MemberID: mentee, Role: domain.RoleMentee, Name: "Ada", Email: "ada@example.org", At: at}))
	if err == nil || !strings.Contains(err.Error(), "key store down") {
		t.Fatalf("append with the keys down: %v", err)
	}
	if h, _ := raw.Head(ctx); h != eventstore.Start {
		t.Errorf("a refused append left events, head %d", h)
	}
	keys.fail = nil
	if _, err := s.Append(ctx, "member-a", eventstore.Any(), data(t, domain.MemberRegistered{MemberID: mentee, Role: domain.RoleMentee, Name: "Ada", Email: "ada@example.org", At: at})); err != nil {
		t.Fatal(err)
	}
	keys.fail = errors.New("key store down")
	if _, err := s.ReadAll(ctx, eventstore.Start, 0); err == nil {
		t.Error("a read whose texts could not be opened succeeded: it would hand ciphertext to the read models")
	}
}

func TestOnlyWholeSealedStringsAreOpened(t *testing.T) {
	ctx := context.Background()
	s, _, keys := open(t)
	good, _ := keys.Seal(ctx, mentee, "x")
	marker, _ := json.Marshal(prefix)
	inner := string(marker[1 : len(marker)-1])
	for _, doc := range []string{
		`{"a":"\\` + inner + `AAAA"}`, // an escaped backslash before the marker: typed text
		`{"a":"x` + inner + `AAAA"}`,  // not at the start of the string
		`{"a":"` + inner + `AA AA"}`,  // not base64 to the end of the string
		`{"a":"plain"}`,
	} {
		got, err := s.OpenData(ctx, json.RawMessage(doc))
		if err != nil || string(got) != doc {
			t.Errorf("OpenData(%s) = %s, %v; want it unchanged", doc, got, err)
		}
	}
	g, _ := json.Marshal(map[string]string{"a": good, "b": "ok"})
	got, err := s.OpenData(ctx, g)
	if err != nil || string(got) != `{"a":"x","b":"ok"}` {
		t.Errorf("OpenData(%s) = %s, %v", g, got, err)
	}
}

// The wrapper keeps the store's contract for events that are not the
// domain's.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		MaxEventSize: 64 << 10,
		Open: func(t *testing.T) (eventstore.Store, func(*testing.T) eventstore.Store) {
			dir := t.TempDir()
			keys := &fakeKeys{erased: map[uuid.UUID]bool{}}
			open := func(t *testing.T) eventstore.Store {
				raw, err := bolt.Open(dir, bolt.Options{MaxEventSize: 64 << 10})
				if err != nil {
					t.Fatal(err)
				}
				return sealed.Wrap(raw, keys, prefix)
			}
			return open(t), open
		},
	})
}

// An instance that reads another instance's erasure drops its cached key
// before it reads on.
func TestReadingAnErasureForgetsTheCachedKey(t *testing.T) {
	ctx := context.Background()
	s, _, keys := open(t)
	if _, err := s.Append(ctx, "member-a", eventstore.Any(), data(t, domain.MemberErased{MemberID: mentee, Role: domain.RoleMentee, Reason: "r", At: at})); err != nil {
		t.Fatal(err)
	}
	for _, read := range []func() error{
		func() error { _, err := s.ReadAll(ctx, eventstore.Start, 0); return err },
		func() error { _, err := s.ReadStream(ctx, "member-a", eventstore.ReadStreamOptions{}); return err },
		func() error {
			sub, err := s.SubscribeAll(ctx, eventstore.Start)
			if err != nil {
				return err
			}
			<-sub.Events()
			sub.Close()
			return nil
		},
	} {
		keys.mu.Lock()
		keys.forgot = nil
		keys.mu.Unlock()
		if err := read(); err != nil {
			t.Fatal(err)
		}
		keys.mu.Lock()
		got := keys.forgot
		keys.mu.Unlock()
		if len(got) != 1 || got[0] != mentee {
			t.Errorf("forgot %v, want the erased member", got)
		}
	}
}

// A subscription opens the events ahead of its reader, so that a reader
// draining what arrived gets a group commit's events in one batch, in
// order and opened.
func TestSubscriptionHoldsOpenedEventsForItsReader(t *testing.T) {
	ctx := context.Background()
	s, _, _ := open(t)
	const n = 50
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = data(t, domain.MatchEnded{MatchID: match, MenteeID: mentee, MentorID: mentor, Reason: "MOVED", Note: fmt.Sprint("note ", i), At: at})
	}
	if _, err := s.Append(ctx, "match-c", eventstore.Any(), evs...); err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	first := <-sub.Events()
	deadline := time.Now().Add(10 * time.Second)
	for len(sub.Events()) < n-1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d events waiting for the reader, want %d", len(sub.Events()), n-1)
		}
		time.Sleep(time.Millisecond)
	}
	batch := eventstore.Drain(sub, first, 1024)
	if len(batch) != n {
		t.Fatalf("drained %d events, want %d", len(batch), n)
	}
	for i, rec := range batch {
		if got := decode(t, rec).(domain.MatchEnded).Note; got != fmt.Sprint("note ", i) {
			t.Fatalf("event %d: note %q", i, got)
		}
	}
}
