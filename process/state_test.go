package process

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/internal/statecodec"
	"github.com/mentorship/mentorship/refusal"
)

// testSaveEvery makes the managers of these tests save their state every
// few events, so that a history of a few hundred events saves many times.
const testSaveEvery = 40

// open opens a manager over the world's log with its file in dir.
func (w *world) open(dir string, store eventstore.Store, cmds Commands, log zerolog.Logger) *Manager {
	w.t.Helper()
	m, err := Open(dir, store, cmds, w.clock, Options{Logger: log, DecodeRetries: 2, DecodeRetryWait: time.Millisecond})
	if err != nil {
		w.t.Fatal(err)
	}
	m.saveEvery = testSaveEvery
	w.t.Cleanup(func() { _ = m.Close() })
	return m
}

func (w *world) tick(m *Manager) {
	w.t.Helper()
	if err := m.Tick(w.ctx); err != nil {
		w.t.Fatalf("tick: %v", err)
	}
}

func (w *world) catchUp(m *Manager) {
	w.t.Helper()
	if err := m.CatchUp(w.ctx); err != nil {
		w.t.Fatalf("catch up: %v", err)
	}
}

// crash ends m as a crash would: the file closes without the save that
// Close makes.
func crash(t *testing.T, m *Manager) {
	t.Helper()
	if err := m.st.(*File).db.Close(); err != nil {
		t.Fatal(err)
	}
}

// knowledge is what a manager knows that the log decides: the open
// matches, the members, when each rule falls due, and the follow-ups
// waiting.
type knowledge struct {
	Read      eventstore.Position
	Matches   map[uuid.UUID]match
	Members   map[uuid.UUID]member
	Due       map[string]time.Time
	FollowUps []string
}

// knows returns m's knowledge. What a run did is left out: the rules it
// fired and the retry times after failures.
func knows(m *Manager) knowledge {
	k := knowledge{Read: m.read.Pos, Matches: map[uuid.UUID]match{}, Due: map[string]time.Time{}}
	for id, mt := range m.matches {
		c := *mt
		c.fired, c.retryAt = [ruleCount]bool{}, [ruleCount]time.Time{}
		if c.idle() {
			continue
		}
		k.Matches[id] = c
		for r := range ruleCount {
			if at, ok := c.due(m.program, r); ok {
				k.Due[fmt.Sprintf("%s %s", id, r)] = at
			}
		}
	}
	if m.members != nil {
		k.Members = map[uuid.UUID]member{}
	}
	for id, mb := range m.members {
		c := member{since: mb.since, signedIn: mb.signedIn, slots: mb.slots, asked: mb.asked}
		k.Members[id] = c
		if at, ok := c.due(m.program); ok {
			k.Due[fmt.Sprintf("%s %s", id, ruleRetention)] = at
		}
	}
	for _, f := range m.followUp {
		k.FollowUps = append(k.FollowUps, fmt.Sprintf("%d %s %s %s %s", f.position, f.typ, f.matchID, f.memberID, f.at))
	}
	return k
}

// sameAsAFullRead checks that m knows what a new manager learns from the
// whole log, given the same settled position.
func (w *world) sameAsAFullRead(m *Manager, what string) {
	w.t.Helper()
	full := w.open(w.t.TempDir(), w.store, &recorder{program: m.program}, zerolog.Nop())
	full.settled = m.settled
	w.catchUp(full)
	if diff := cmp.Diff(knows(full), knows(m), cmp.AllowUnexported(match{}, slot{}, member{})); diff != "" {
		w.t.Fatalf("%s: the manager differs from a full read (-full +manager):\n%s", what, diff)
	}
}

// strictCommands is the command service, failing the test when the
// member's stream refuses an erasure the manager asked for: a manager
// caught up with the log must agree with the domain on who is due.
type strictCommands struct {
	*command.Service
	t *testing.T
}

func (w *world) strict() Commands { return strictCommands{Service: w.svc, t: w.t} }

func (s strictCommands) EraseUnderRetention(ctx context.Context, id uuid.UUID) (command.Result, error) {
	res, err := s.Service.EraseUnderRetention(ctx, id)
	if code := refusal.CodeOf(err); code != "" {
		s.t.Errorf("the erasure of member %s under the retention rule was refused: %v", id, err)
	}
	return res, err
}

// recorder is a Commands that records what the manager asks and changes
// nothing, so that two managers over one log can be asked alike.
type recorder struct {
	program domain.Program
	mu      sync.Mutex
	calls   []string
}

func (r *recorder) add(what string, id any) (command.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprint(what, " ", id))
	return command.Result{}, nil
}

func (r *recorder) Program() domain.Program { return r.program }
func (r *recorder) MarkResponseWindowElapsed(_ context.Context, id uuid.UUID) (command.Result, error) {
	return r.add("window", id)
}
func (r *recorder) RemindFirstMeeting(_ context.Context, id uuid.UUID) (command.Result, error) {
	return r.add("reminder", id)
}
func (r *recorder) CompleteTerm(_ context.Context, id uuid.UUID) (command.Result, error) {
	return r.add("term", id)
}
func (r *recorder) RequestProfileReview(_ context.Context, id uuid.UUID) (command.Result, error) {
	return r.add("review", id)
}
func (r *recorder) EraseUnderRetention(_ context.Context, id uuid.UUID) (command.Result, error) {
	return r.add("retention", id)
}
func (r *recorder) Reconcile(_ context.Context, rec eventstore.RecordedEvent) error {
	_, err := r.add("reconcile", rec.Position)
	return err
}

func (r *recorder) sorted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.calls))
}

// countingStore counts the events ReadAll returns and notes the earliest.
type countingStore struct {
	eventstore.Store
	mu     sync.Mutex
	events int
	first  eventstore.Position
}

func (s *countingStore) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadAll(ctx, from, limit)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if s.events == 0 || r.Position < s.first {
			s.first = r.Position
		}
		s.events++
	}
	return recs, err
}

// SubscribeAll counts the events the subscription delivers, as ReadAll
// counts those it reads: the runner catches up with either.
func (s *countingStore) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	sub, err := s.Store.SubscribeAll(ctx, from)
	if err != nil {
		return nil, err
	}
	return tap(ctx, sub, func(r *eventstore.RecordedEvent) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.events == 0 || r.Position < s.first {
			s.first = r.Position
		}
		s.events++
	}), nil
}

func (s *countingStore) read() (int, eventstore.Position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events, s.first
}

// A manager that crashed after a save, restored and fed the rest of the
// log, knows what a manager that read the whole log knows, and asks for
// the same rules and reconciliations.
func TestRestoredStateEqualsAFullRead(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			w := newWorld(t, seed)
			dir := t.TempDir()
			m := w.open(dir, w.store, w.strict(), zerolog.Nop())
			const steps = 1000
			crashAt := steps/4 + w.r.IntN(steps/2)
			for i := range steps {
				w.step()
				if i%4 == 0 {
					w.tick(m)
				}
				if i != crashAt {
					continue
				}
				saved := m.stateAt
				if saved == 0 {
					t.Fatalf("no state saved after %d steps", i)
				}
				// The save may have come at the head: the crash then
				// leaves events the manager has not read yet, so that the
				// restored manager has a tail to read.
				for w.head() == saved {
					w.step()
				}
				crash(t, m)
				m = w.open(dir, w.store, w.strict(), zerolog.Nop())
				if err := m.load(w.ctx); err != nil {
					t.Fatal(err)
				}
				if m.read.Pos != saved {
					t.Fatalf("restored at %d, want the saved %d", m.read.Pos, saved)
				}
				w.catchUp(m)
				w.sameAsAFullRead(m, "after the crash")
			}
			w.catchUp(m)
			w.sameAsAFullRead(m, "at the end")

			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			m = w.open(dir, w.store, w.strict(), zerolog.Nop())
			w.catchUp(m)
			if m.stateAt != w.head() {
				t.Fatalf("after a clean restart the state is at %d, want the head %d", m.stateAt, w.head())
			}
			w.sameAsAFullRead(m, "after a clean restart")

			// Both ask for the same steps, whenever they fall due.
			full := w.open(t.TempDir(), w.store, &recorder{program: m.program}, zerolog.Nop())
			full.settled = m.settled
			w.catchUp(full)
			mine, theirs := &recorder{program: m.program}, &recorder{program: m.program}
			m.cmds, full.cmds = mine, theirs
			later := w.clock.Now().Add(3 * 365 * 24 * time.Hour)
			// The erasures go a batch per run.
			for _, mgr := range []*Manager{m, full} {
				for {
					n, err := mgr.RunDue(w.ctx, later)
					if err != nil {
						t.Fatal(err)
					}
					if n == 0 {
						break
					}
				}
			}
			w.covers("ResponseWindowElapsed", "FirstMeetingReminderDue", "MatchEnded", "ProfileReviewRequested",
				"SessionLogged", "MatchDeclined", "MatchCancelled", "CapacitySlotReleased", "MemberSignedIn", "MemberErased")
			if !slices.ContainsFunc(theirs.sorted(), func(c string) bool { return strings.HasPrefix(c, "retention ") }) {
				t.Error("no member was due for the retention rule: the history tests little of it")
			}
			if len(theirs.sorted()) == 0 {
				t.Fatal("nothing was due: the history tests little")
			}
			if diff := cmp.Diff(theirs.sorted(), mine.sorted()); diff != "" {
				t.Errorf("steps asked for (-full +restored):\n%s", diff)
			}
		})
	}
}

// A restart loads the saved state and reads only the events after it.
func TestRestartReadsOnlyTheTail(t *testing.T) {
	w := newWorld(t, 7)
	for range 200 {
		w.step()
	}
	dir := t.TempDir()
	m := w.open(dir, w.store, w.strict(), zerolog.Nop())
	w.tick(m)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	saved := w.head()
	for range 100 {
		w.step()
	}
	if w.head() == saved {
		t.Fatal("no events after the save")
	}
	store := &countingStore{Store: w.store}
	m = w.open(dir, store, w.strict(), zerolog.Nop())
	w.catchUp(m)
	events, first := store.read()
	if first != saved+1 || events != int(w.head()-saved) {
		t.Errorf("the restart read %d events from position %d, want %d from %d", events, first, w.head()-saved, saved+1)
	}
	w.sameAsAFullRead(m, "after the restart")
}

// editState changes the state saved in the manager's file in dir.
func editState(t *testing.T, dir string, edit func(b *bbolt.Bucket) error) {
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

// A state that is missing, damaged, of another format or of another log
// is ignored with a log line, and the manager reads the whole log instead
// and saves a good state again.
func TestUnusableStateIsIgnored(t *testing.T) {
	// checkpointID is where the checkpoint's event ID starts.
	checkpointID := func(body []byte) []byte {
		_, n := binary.Uvarint(body[len(stateMagic)+1:])
		return body[len(stateMagic)+1+n:]
	}
	tests := []struct {
		name string
		edit func(v []byte) []byte // nil deletes the state
		log  string
	}{
		{"missing", nil, "no saved state"},
		{"corrupt", func(v []byte) []byte { v = bytes.Clone(v); v[len(v)/2] ^= 0xff; return v }, "checksum mismatch"},
		{"truncated", func(v []byte) []byte { return v[:len(v)/2] }, "checksum mismatch"},
		{"not a state", func([]byte) []byte { return []byte("{}") }, "not a saved state"},
		{"of an older format", func(v []byte) []byte {
			return resealed(v, func(body []byte) { body[len(stateMagic)] = stateFormat - 1 })
		}, fmt.Sprintf("format %d, this build reads %d", stateFormat-1, stateFormat)},
		{"of another log", func(v []byte) []byte {
			return resealed(v, func(body []byte) { checkpointID(body)[0] ^= 0xff })
		}, "the state is of another log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 11)
			for range 150 {
				w.step()
			}
			dir := t.TempDir()
			m := w.open(dir, w.store, w.strict(), zerolog.Nop())
			w.tick(m)
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			editState(t, dir, func(b *bbolt.Bucket) error {
				if tc.edit == nil {
					return b.Delete(keyState)
				}
				return b.Put(keyState, tc.edit(bytes.Clone(b.Get(keyState))))
			})
			var logs bytes.Buffer
			store := &countingStore{Store: w.store}
			m = w.open(dir, store, w.strict(), zerolog.New(&logs))
			w.catchUp(m)
			if !strings.Contains(logs.String(), tc.log) || !strings.Contains(logs.String(), "from the whole log") {
				t.Errorf("log lacks %q:\n%s", tc.log, logs.String())
			}
			if events, first := store.read(); first != 1 || events != int(w.head()) {
				t.Errorf("read %d events from position %d, want the whole log of %d", events, first, w.head())
			}
			w.sameAsAFullRead(m, "after the full read")
			// The next start finds a good state again.
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			logs.Reset()
			m = w.open(dir, w.store, w.strict(), zerolog.New(&logs))
			w.catchUp(m)
			if !strings.Contains(logs.String(), "state restored") {
				t.Errorf("no state restored:\n%s", logs.String())
			}
		})
	}
}

// A state saved with the retention rule on is not used once it is off,
// nor the other way round: the members are followed only while it is on.
func TestStateOfTheOtherRetentionSettingIsIgnored(t *testing.T) {
	w := newWorld(t, 13)
	for range 150 {
		w.step()
	}
	off := w.svc.Program()
	off.RetentionYears = 0
	dir := t.TempDir()
	for _, tc := range []struct {
		cmds Commands
		log  string
	}{
		{w.strict(), "no saved state"},
		{&recorder{program: off}, "saved with the retention rule on, which is off now"},
		{w.strict(), "saved with the retention rule off, which is on now"},
		{w.strict(), "state restored"},
	} {
		var logs bytes.Buffer
		m := w.open(dir, w.store, tc.cmds, zerolog.New(&logs))
		w.catchUp(m)
		if !strings.Contains(logs.String(), tc.log) {
			t.Errorf("log lacks %q:\n%s", tc.log, logs.String())
		}
		if (m.members != nil) != (m.program.RetentionYears > 0) {
			t.Errorf("retention %d years, members followed: %v", m.program.RetentionYears, m.members != nil)
		}
		w.sameAsAFullRead(m, tc.log)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A restored manager still stops at an event it cannot decode after the
// saved position, never skips it, and saves nothing past it.
func TestRestoredManagerStopsAtAnUndecodableEvent(t *testing.T) {
	w := newWorld(t, 5)
	for range 150 {
		w.step()
	}
	dir := t.TempDir()
	m := w.open(dir, w.store, w.strict(), zerolog.Nop())
	w.tick(m)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	saved := w.head()
	bad := eventstore.EventData{ID: uuid.New(), Type: "MatchRequested", SchemaVersion: 1, Data: []byte(`{"matchId": 42}`)}
	res, err := w.store.Append(w.ctx, domain.MatchStream(uuid.New()), eventstore.Any(), bad)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		w.step()
	}
	for restart := range 2 {
		store := &countingStore{Store: w.store}
		m = w.open(dir, store, w.strict(), zerolog.Nop())
		var stopped *follow.PoisonError
		if err := m.Tick(w.ctx); !errors.As(err, &stopped) || stopped.Position != res.LastPosition {
			t.Fatalf("restart %d: tick returned %v, want a stop at %d", restart, err, res.LastPosition)
		}
		if err := m.Healthy(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("position %d", res.LastPosition)) {
			t.Fatalf("restart %d: Healthy = %v", restart, err)
		}
		if m.read.Pos != res.LastPosition-1 {
			t.Errorf("restart %d: read up to %d, want %d", restart, m.read.Pos, res.LastPosition-1)
		}
		if _, first := store.read(); first != saved+1 {
			t.Errorf("restart %d: read from %d, want %d", restart, first, saved+1)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// benchManager returns a manager, its file in a temporary directory, that
// knows n open matches: a third pending, half active with a session
// logged in some, the rest ended and waiting for their review.
func benchManager(b *testing.B, n int) *Manager {
	b.Helper()
	m, err := Open(b.TempDir(), nil, &recorder{program: domain.DefaultProgram()}, nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.st.(*File).db.Close() })
	at := t0
	for i := range n {
		mt := &match{mentee: uuid.New(), mentor: uuid.New(), status: domain.StatusPending, requestedAt: at}
		mt.slots = []slot{{mt.mentee, domain.SlotPending}}
		switch i % 6 {
		case 2, 3, 4:
			mt.status, mt.acceptedAt, mt.hasSession = domain.StatusActive, at.Add(time.Hour), i%2 == 0
			mt.slots = []slot{{mt.mentee, domain.SlotActive}, {mt.mentor, domain.SlotReserved}}
		case 5:
			mt.status, mt.acceptedAt, mt.endedAt = domain.StatusEnded, at.Add(time.Hour), at.Add(24*time.Hour)
			mt.slots = []slot{{mt.mentee, domain.SlotReleased}, {mt.mentor, domain.SlotReleased}}
		}
		m.matches[uuid.New()] = mt
		at = at.Add(time.Minute)
	}
	m.read = statecodec.Checkpoint{Pos: eventstore.Position(n * 16), ID: uuid.New(), Stream: "match-" + uuid.NewString(), Revision: 3}
	return m
}

// BenchmarkState measures encoding, decoding, saving (one fsynced bbolt
// transaction) and loading the state of 60,000 open matches.
func BenchmarkState(b *testing.B) {
	m := benchManager(b, 60_000)
	state := m.encodeState()
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			state = m.encodeState()
		}
		b.ReportMetric(float64(len(state)), "bytes")
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.decodeState(state); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			m.stateAt = 0
			if err := m.saveState(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			err := m.st.(*File).db.View(func(tx *bbolt.Tx) error {
				_, err := m.decodeState(tx.Bucket(bucketMeta).Get(keyState))
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
