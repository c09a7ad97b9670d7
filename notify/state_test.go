package notify

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/statecodec"
)

// testSaveEvery makes the notifiers of these tests save their state every
// few events, so that a history of a few hundred events saves many times.
const testSaveEvery = 40

// crash ends n as a crash would: the outbox file closes without the save
// that Close makes.
func crash(t *testing.T, n *Notifier) {
	t.Helper()
	if err := n.outbox.Close(); err != nil {
		t.Fatal(err)
	}
}

// sameEmails checks that got holds the emails of want, each sent once.
func sameEmails(t *testing.T, what string, want, got *recordingSender) {
	t.Helper()
	wanted, _ := want.byID()
	sent, twice := got.byID()
	if len(twice) > 0 {
		t.Errorf("%s: sent more than once: %v", what, twice)
	}
	if len(wanted) < 50 {
		t.Fatalf("%s: only %d emails: the history tests little", what, len(wanted))
	}
	if diff := cmp.Diff(wanted, sent); diff != "" {
		t.Errorf("%s: emails (-full read +restored):\n%s", what, diff)
	}
}

// A notifier that crashed after a save, restored and fed the rest of the
// log, composes the emails a notifier that read the whole log composes:
// the same Message-IDs, each sent once, with the same names, addresses
// and dates.
func TestRestoredDirectoryComposesAsTheWholeLog(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			w := newWorld(t, seed)
			// full's outbox starts before the first request, and full
			// learns the whole log when it first catches up, at the end.
			fullSent := &recordingSender{}
			full := w.open(t.TempDir(), w.store, fullSent, zerolog.Nop())
			dir, sent := t.TempDir(), &recordingSender{}
			n := w.open(dir, w.store, sent, zerolog.Nop())
			const steps = 1000
			crashAt := steps/4 + w.r.IntN(steps/2)
			for i := range steps {
				w.step()
				if i%4 == 0 {
					w.tick(n)
				}
				if i != crashAt {
					continue
				}
				saved := n.stateAt
				if saved == 0 || saved == w.head() {
					t.Fatalf("state saved at %d with the head at %d: want a tail to read", saved, w.head())
				}
				crash(t, n)
				n = w.open(dir, w.store, sent, zerolog.Nop())
				if err := n.load(w.ctx); err != nil {
					t.Fatal(err)
				}
				if n.read.Pos != saved {
					t.Fatalf("restored at %d, want the saved %d", n.read.Pos, saved)
				}
			}
			w.tick(n)
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			n = w.open(dir, w.store, sent, zerolog.Nop())
			w.tick(n)
			if n.stateAt != w.head() {
				t.Fatalf("after a clean restart the state is at %d, want the head %d", n.stateAt, w.head())
			}
			w.tick(full)
			sameEmails(t, "restored", fullSent, sent)
			if diff := cmp.Diff(full.composer.members, n.composer.members, cmp.AllowUnexported(person{})); diff != "" {
				t.Errorf("members (-full read +restored):\n%s", diff)
			}
			if diff := cmp.Diff(full.composer.matches, n.composer.matches, cmp.AllowUnexported(matchDates{})); diff != "" {
				t.Errorf("matches (-full read +restored):\n%s", diff)
			}
		})
	}
}

// A restart loads the saved directory and reads only the events after it.
func TestRestartReadsOnlyTheTail(t *testing.T) {
	w := newWorld(t, 7)
	dir, sent := t.TempDir(), &recordingSender{}
	fullSent := &recordingSender{}
	full := w.open(t.TempDir(), w.store, fullSent, zerolog.Nop())
	n := w.open(dir, w.store, sent, zerolog.Nop())
	for range 300 {
		w.step()
	}
	w.tick(n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	saved := w.head()
	for range 300 {
		w.step()
	}
	store := &countingStore{Store: w.store}
	n = w.open(dir, store, sent, zerolog.Nop())
	w.tick(n)
	events, first := store.read()
	if first != saved+1 || events != int(w.head()-saved) {
		t.Errorf("the restart read %d events from position %d, want %d from %d", events, first, w.head()-saved, saved+1)
	}
	w.tick(full)
	sameEmails(t, "after the restart", fullSent, sent)
}

// editState changes the outbox file in dir.
func editState(t *testing.T, dir string, edit func(meta *bbolt.Bucket) error) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error { return edit(tx.Bucket(bucketMeta)) }); err != nil {
		t.Fatal(err)
	}
}

// resealed returns a state changed by change, with its checksum made
// right again, as another build could have written it.
func resealed(v []byte, change func(body []byte)) []byte {
	body := bytes.Clone(v[:len(v)-4])
	change(body)
	return binary.BigEndian.AppendUint32(body, crc32.Checksum(body, castagnoli))
}

// A directory that is missing, damaged, of another format, of another log
// or past the outbox's position is ignored with a log line; the notifier
// learns from the whole log instead, sends nothing twice, loses nothing,
// and saves a good directory again.
func TestUnusableDirectoryIsIgnored(t *testing.T) {
	checkpointID := func(body []byte) []byte {
		_, n := binary.Uvarint(body[len(stateMagic)+1:])
		return body[len(stateMagic)+1+n:]
	}
	tests := []struct {
		name string
		edit func(meta *bbolt.Bucket) error
		log  string
	}{
		{"missing", func(meta *bbolt.Bucket) error { return meta.Delete(keyState) }, "no saved directory"},
		{"corrupt", func(meta *bbolt.Bucket) error {
			v := bytes.Clone(meta.Get(keyState))
			v[len(v)/2] ^= 0xff
			return meta.Put(keyState, v)
		}, "checksum mismatch"},
		{"truncated", func(meta *bbolt.Bucket) error {
			v := meta.Get(keyState)
			return meta.Put(keyState, bytes.Clone(v[:len(v)/2]))
		}, "checksum mismatch"},
		{"not a directory", func(meta *bbolt.Bucket) error { return meta.Put(keyState, []byte("{}")) }, "not a saved directory"},
		{"of an older format", func(meta *bbolt.Bucket) error {
			return meta.Put(keyState, resealed(meta.Get(keyState), func(body []byte) { body[len(stateMagic)] = stateFormat - 1 }))
		}, "format 0, this build reads 1"},
		{"of another log", func(meta *bbolt.Bucket) error {
			return meta.Put(keyState, resealed(meta.Get(keyState), func(body []byte) { checkpointID(body)[0] ^= 0xff }))
		}, "the state is of another log"},
		{"past the outbox", func(meta *bbolt.Bucket) error {
			// The outbox position goes back: its emails after that are
			// composed again, and must not be sent again.
			v := meta.Get(keyPosition)
			return meta.Put(keyPosition, binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(v)-40))
		}, "is past the outbox position"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 11)
			fullSent, sent := &recordingSender{}, &recordingSender{}
			full := w.open(t.TempDir(), w.store, fullSent, zerolog.Nop())
			dir := t.TempDir()
			n := w.open(dir, w.store, sent, zerolog.Nop())
			for range 400 {
				w.step()
			}
			w.tick(n)
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			editState(t, dir, tc.edit)
			for range 100 {
				w.step()
			}
			var logs bytes.Buffer
			store := &countingStore{Store: w.store}
			n = w.open(dir, store, sent, zerolog.New(&logs))
			w.tick(n)
			if !strings.Contains(logs.String(), tc.log) || !strings.Contains(logs.String(), "from the whole log") {
				t.Errorf("log lacks %q:\n%s", tc.log, logs.String())
			}
			if events, first := store.read(); first != 1 || events != int(w.head()) {
				t.Errorf("read %d events from position %d, want the whole log of %d", events, first, w.head())
			}
			w.tick(full)
			sameEmails(t, "after the full read", fullSent, sent)
			// The next start finds a good directory again.
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			logs.Reset()
			n = w.open(dir, w.store, sent, zerolog.New(&logs))
			w.tick(n)
			if !strings.Contains(logs.String(), "directory restored") {
				t.Errorf("no directory restored:\n%s", logs.String())
			}
		})
	}
}

// A restored notifier still stops at an event that does not decode after
// the saved position, after the bounded retries, and never skips it.
func TestRestoredNotifierStopsAtAnUndecodableEvent(t *testing.T) {
	w := newWorld(t, 5)
	dir, sent := t.TempDir(), &recordingSender{}
	n := w.open(dir, w.store, sent, zerolog.Nop())
	for range 200 {
		w.step()
	}
	w.tick(n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	saved := w.head()
	bad := eventstore.EventData{ID: uuid.New(), Type: "MatchRequested", SchemaVersion: 1, Data: []byte(`{"matchId": 42}`)}
	res, err := w.store.Append(w.ctx, domain.MatchStream(uuid.New()), eventstore.Any(), bad)
	if err != nil {
		t.Fatal(err)
	}
	// A request after the event, whose email must wait for it.
	var after uuid.UUID
	for i := 0; after == uuid.Nil && i < len(w.mentees)*len(w.mentors); i++ {
		mentee, mentor := w.mentees[i%len(w.mentees)], w.mentors[i/len(w.mentees)]
		after, _, _ = w.svc.RequestMatch(w.ctx, command.Request{Actor: mentee}, mentor.ID, "")
	}
	if after == uuid.Nil {
		t.Fatal("no mentee could request a match")
	}
	at := fmt.Sprintf("position %d", res.LastPosition)
	for restart := range 2 {
		store := &countingStore{Store: w.store}
		n = w.open(dir, store, sent, zerolog.Nop())
		if err := n.Tick(w.ctx); err == nil || !strings.Contains(err.Error(), at) {
			t.Fatalf("restart %d: tick returned %v, want the event at %s", restart, err, at)
		}
		if err := n.Healthy(); err == nil || !strings.Contains(err.Error(), at) {
			t.Fatalf("restart %d: Healthy = %v, want a stop at %s", restart, err, at)
		}
		if err := n.Tick(w.ctx); err == nil {
			t.Fatalf("restart %d: a second tick passed the event", restart)
		}
		if _, first := store.read(); first != saved+1 {
			t.Errorf("restart %d: read from %d, want %d", restart, first, saved+1)
		}
		if es, err := n.Outbox().ForMatch(after); err != nil || len(es) != 0 {
			t.Errorf("restart %d: the request after the event has emails %+v (%v): the event was skipped", restart, es, err)
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// benchNotifier returns a notifier, its outbox in a temporary directory,
// whose directory knows members members, each with a profile, and
// matches open matches.
func benchNotifier(b *testing.B, members, matches int) *Notifier {
	b.Helper()
	outbox, err := OpenOutbox(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = outbox.Close() })
	s, err := Settings{FrontendURL: "https://mentoring.example.org"}.normalized()
	if err != nil {
		b.Fatal(err)
	}
	n := &Notifier{outbox: outbox, composer: newComposer(s)}
	for i := range members {
		contact := domain.Contact{Email: fmt.Sprintf("member.%d@home.example", i), PreferredMethod: domain.ContactEmail}
		if i%2 == 0 {
			contact.Phone, contact.PreferredMethod = fmt.Sprintf("+1 604 555 %04d", i%10000), domain.ContactPhone
		}
		n.composer.members[uuid.New()] = person{name: fmt.Sprintf("Member Number %d", i), email: fmt.Sprintf("member%d@members.example.org", i), contact: contact}
	}
	for i := range matches {
		d := matchDates{requestedAt: at.Add(time.Duration(i) * time.Minute)}
		if i%2 == 0 {
			d.acceptedAt = d.requestedAt.Add(time.Hour)
		}
		n.composer.matches[uuid.New()] = d
	}
	n.read = statecodec.Checkpoint{Pos: eventstore.Position(members * 10), ID: uuid.New(), Stream: "match-" + uuid.NewString(), Revision: 3}
	n.composed = n.read.Pos
	return n
}

// BenchmarkDirectory measures encoding, decoding, saving (one fsynced
// bbolt transaction) and loading the directory of 100,000 members and
// 60,000 open matches.
func BenchmarkDirectory(b *testing.B) {
	n := benchNotifier(b, 100_000, 60_000)
	state := encodeState(n.composer, n.read)
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			state = encodeState(n.composer, n.read)
		}
		b.ReportMetric(float64(len(state)), "bytes")
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := decodeState(state, n.composer.settings); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			if err := n.saveState(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			_, err := n.outbox.LoadState(func(v []byte) error {
				_, _, err := decodeState(v, n.composer.settings)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
