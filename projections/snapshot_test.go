package projections_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/projections"
)

func commandRequest(a domain.Actor) command.Request { return command.Request{Actor: a} }

// modelView is everything the query API shows of the two read models, for
// comparing models built in different ways.
type modelView struct {
	MembersPos, MatchesPos eventstore.Position
	Members                map[uuid.UUID]*projections.MemberView
	Count                  map[domain.Role]int
	Searches               []projections.SearchResult
	Matches                map[uuid.UUID]*projections.MatchView
	MatchesOf              map[uuid.UUID][]*projections.MatchView
	Sessions               map[uuid.UUID][]projections.SessionView
	Resources              []projections.ResourceView
	Dashboard              projections.Dashboard
	Queue                  projections.StaffQueue
}

func viewOf(t *testing.T, store eventstore.Store, members *projections.Members, matches *projections.Matches) modelView {
	t.Helper()
	recs, err := store.ReadAll(context.Background(), eventstore.Start, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uuid.UUID]bool{}
	var matchIDs []uuid.UUID
	for _, rec := range recs {
		ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			continue
		}
		switch e := ev.(type) {
		case domain.MemberRegistered:
			ids[e.MemberID] = true
		case domain.MatchRequested:
			matchIDs = append(matchIDs, e.MatchID)
		}
	}
	v := modelView{MembersPos: members.Position(), MatchesPos: matches.Position(), Count: members.Count(),
		Members: map[uuid.UUID]*projections.MemberView{}, Matches: map[uuid.UUID]*projections.MatchView{},
		MatchesOf: map[uuid.UUID][]*projections.MatchView{}, Sessions: map[uuid.UUID][]projections.SessionView{}}
	var viewer uuid.UUID
	for id := range ids {
		if m, ok, _ := members.Member(id); ok {
			v.Members[id] = m
			// The same mentee in every view: the smallest ID, not
			// whichever the map walk ends on.
			if m.Role == domain.RoleMentee && (viewer == uuid.Nil || bytes.Compare(id[:], viewer[:]) < 0) {
				viewer = id
			}
		}
		v.MatchesOf[id], _ = matches.MatchesOf(id, projections.AllMatches)
		v.Sessions[id], _ = matches.SessionsOf(id, uuid.Nil)
	}
	for _, id := range matchIDs {
		if m, ok, _ := matches.Match(id); ok {
			v.Matches[id] = m
		}
	}
	for _, q := range []projections.SearchQuery{
		{First: 100}, {OnlyAvailable: true, First: 100}, {Viewer: viewer, First: 100},
		{Words: "engineer", First: 100}, {Disciplines: []string{"CIVIL", "MINING"}, First: 100},
	} {
		res, err := members.SearchMentors(q)
		if err != nil {
			t.Fatal(err)
		}
		v.Searches = append(v.Searches, res)
	}
	program := domain.DefaultProgram()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	v.Resources, _ = matches.Resources(domain.RoleStaff)
	v.Dashboard, _ = matches.Dashboard(program, now)
	v.Queue, _ = matches.Queue(program, now, 7)
	return v
}

func sameModels(t *testing.T, want, got modelView) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(domain.Date{})); diff != "" {
		t.Fatalf("read models differ (-want +got):\n%s", diff)
	}
}

// randomWorld runs a random program history through the commands.
func randomWorld(t *testing.T, seed uint64, steps int) (*world, *rand.Rand) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 11))
	w := newWorld(t)
	for i := range 6 {
		mentor := w.register(t, domain.RoleMentor, fmt.Sprint("Mentor ", i))
		w.register(t, domain.RoleMentee, fmt.Sprint("Mentee ", i))
		if _, err := w.svc.UpdateProfile(context.Background(), commandRequest(mentor), mentor.ID, domain.Profile{
			Name: fmt.Sprint("Mentor ", i), Discipline: []string{"CIVIL", "MINING", "GEOLOGICAL"}[i%3],
			Biography: []string{"Geotechnical engineer working on tunnels.", "Mining engineer, open pit planning.", "Hydrogeologist and engineer."}[i%3],
			Skills:    map[string]int{"COMMUNICATION": 1 + i%5}, Languages: []string{"en", "fr"}[i%2:],
		}); err != nil {
			t.Fatal(err)
		}
	}
	for range steps {
		w.randomStep(t, r)
	}
	return w, r
}

func rebuilt(t *testing.T, store eventstore.Store, until eventstore.Position) (*projections.Members, *projections.Matches) {
	t.Helper()
	members, matches := projections.NewMembers(), projections.NewMatches()
	if _, err := follow.Rebuild(context.Background(), store, until, nil, members, matches); err != nil {
		t.Fatal(err)
	}
	return members, matches
}

func save(t *testing.T, dir string, projs ...projections.Projection) {
	t.Helper()
	for _, p := range projs {
		if _, err := projections.SaveSnapshot(dir, p); err != nil {
			t.Fatal(err)
		}
	}
}

// A snapshot loads back into the same read models.
func TestSnapshotRoundTrip(t *testing.T) {
	w, _ := randomWorld(t, 1, 200)
	members, matches := rebuilt(t, w.store, 0)
	want := viewOf(t, w.store, members, matches)
	if len(want.Members) == 0 || len(want.Matches) == 0 || want.MatchesPos == 0 {
		t.Fatal("the history is empty")
	}
	dir := t.TempDir()
	save(t, dir, members, matches)
	loadedMembers, loadedMatches := projections.NewMembers(), projections.NewMatches()
	for _, p := range []projections.Projection{loadedMembers, loadedMatches} {
		info, err := projections.LoadSnapshot(w.store, dir, p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Position != p.Position() || info.Position == 0 {
			t.Fatalf("%s loaded at %d, says %d", p.Name(), p.Position(), info.Position)
		}
	}
	sameModels(t, want, viewOf(t, w.store, loadedMembers, loadedMatches))
	// Saving the loaded models gives the same models again.
	dir2 := t.TempDir()
	save(t, dir2, loadedMembers, loadedMatches)
	again := projections.NewMembers()
	if _, err := projections.LoadSnapshot(w.store, dir2, again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Members, viewOf(t, w.store, again, loadedMatches).Members); diff != "" {
		t.Fatalf("second generation differs:\n%s", diff)
	}
}

// A damaged, truncated, foreign or unknown snapshot is refused, leaves the
// projection empty, and the runner rebuilds it from the log.
func TestBadSnapshotsAreIgnoredAndRebuilt(t *testing.T) {
	w, _ := randomWorld(t, 2, 150)
	members, matches := rebuilt(t, w.store, 0)
	want := viewOf(t, w.store, members, matches)
	good := t.TempDir()
	save(t, good, members, matches)
	path := projections.SnapshotPath(good, members)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// reseal rewrites the checksum after a deliberate change, so that only
	// the change itself is judged.
	reseal := func(b []byte) []byte {
		b = append([]byte(nil), b...)
		n := len(b) - 8
		binary.BigEndian.PutUint32(b[n:], crc32.Checksum(b[:n], crc32.MakeTable(crc32.Castagnoli)))
		return b
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0x40
	version := append([]byte(nil), data...)
	binary.BigEndian.PutUint32(version[8:], 99)
	other, _ := randomWorld(t, 3, 20)
	cases := map[string][]byte{
		"a flipped bit":           flipped,
		"truncated":               data[:len(data)-100],
		"cut after the header":    data[:40],
		"empty":                   {},
		"an unknown format":       reseal(version),
		"trailing garbage":        append(append([]byte(nil), data...), 1, 2, 3),
		"a short state, resealed": reseal(append(append([]byte(nil), data[:len(data)-12]...), data[len(data)-8:]...)),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(projections.SnapshotPath(dir, members), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			p := projections.NewMembers()
			_, err := projections.LoadSnapshot(w.store, dir, p)
			if !errors.Is(err, projections.ErrSnapshotRejected) {
				t.Fatalf("loading: %v", err)
			}
			if p.Position() != 0 || len(p.Count()) != 0 {
				t.Fatal("a refused snapshot left state behind")
			}
			// The runner logs it and rebuilds from the log.
			members, matches := projections.NewMembers(), projections.NewMatches()
			runTo(t, w.store, dir, members, matches)
			sameModels(t, want, viewOf(t, w.store, members, matches))
		})
	}
	t.Run("of another log", func(t *testing.T) {
		p := projections.NewMembers()
		_, err := projections.LoadSnapshot(other.store, good, p)
		if !errors.Is(err, projections.ErrSnapshotRejected) || p.Position() != 0 {
			t.Fatalf("loading another log's snapshot: %v", err)
		}
	})
	t.Run("none", func(t *testing.T) {
		if _, err := projections.LoadSnapshot(w.store, t.TempDir(), projections.NewMatches()); !errors.Is(err, projections.ErrNoSnapshot) {
			t.Fatalf("loading from an empty directory: %v", err)
		}
	})
}

// runTo starts a runner with snapshots in dir, as the server does, and
// waits until it has applied the whole log.
func runTo(t *testing.T, store eventstore.Store, dir string, projs ...projections.Projection) *follow.Runner {
	t.Helper()
	runner := follow.NewRunner(store, follow.Options{Logger: zerolog.Nop()}, projections.WithSnapshots(store, dir, projs...)...)
	runner.Load(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	head, err := store.Head(ctx)
	if err == nil {
		err = runner.WaitForDefault(ctx, head)
	}
	cancel()
	if rerr := <-done; err == nil {
		err = rerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return runner
}

// A snapshot taken at any point of a history, plus the log after it, gives
// the models a full rebuild gives.
func TestSnapshotPlusTailEqualsFullRebuild(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			w, r := randomWorld(t, 10+seed, 60+r64(seed)*20)
			head, err := w.store.Head(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			// The two projections are saved at different points, as
			// happens when one is saved while the other applies.
			members, _ := rebuilt(t, w.store, 1+eventstore.Position(r.IntN(int(head))))
			_, matches := rebuilt(t, w.store, 1+eventstore.Position(r.IntN(int(head))))
			save(t, dir, members, matches)
			for range 60 {
				w.randomStep(t, r)
			}
			restarted, restartedMatches := projections.NewMembers(), projections.NewMatches()
			runTo(t, w.store, dir, restarted, restartedMatches)
			full, fullMatches := rebuilt(t, w.store, 0)
			sameModels(t, viewOf(t, w.store, full, fullMatches), viewOf(t, w.store, restarted, restartedMatches))
		})
	}
}

func r64(seed uint64) int { return int(seed % 4) }

// State and checkpoint are one file: snapshots saved while events are being
// applied each load to a state that is exactly its checkpoint's, so that
// applying the tail after it gives the full models; a crash while saving
// leaves at most a temporary file that loading never reads.
func TestSnapshotStateAndCheckpointAreOne(t *testing.T) {
	w, _ := randomWorld(t, 20, 250)
	recs, err := w.store.ReadAll(context.Background(), eventstore.Start, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	events := make([]projections.Event, len(recs))
	for i, rec := range recs {
		if events[i], err = follow.Decode(rec); err != nil {
			t.Fatal(err)
		}
	}
	full, fullMatches := rebuilt(t, w.store, 0)
	want := viewOf(t, w.store, full, fullMatches)

	members, matches := projections.NewMembers(), projections.NewMatches()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range events {
			_ = members.Apply(events[i : i+1])
			_ = matches.Apply(events[i : i+1])
		}
	})
	var dirs []string
	for range 8 {
		dir := t.TempDir()
		save(t, dir, members, matches)
		dirs = append(dirs, dir)
	}
	wg.Wait()
	for _, dir := range dirs {
		// A save cut short by a crash.
		if err := os.WriteFile(filepath.Join(dir, ".members.123.tmp"), []byte("MNTRSNAP half"), 0o600); err != nil {
			t.Fatal(err)
		}
		m, ma := projections.NewMembers(), projections.NewMatches()
		runTo(t, w.store, dir, m, ma)
		sameModels(t, want, viewOf(t, w.store, m, ma))
	}
}

// The server's runner writes snapshots as it goes and when it stops, and a
// restarted runner starts from them.
func TestRunnerSavesSnapshots(t *testing.T) {
	w, r := randomWorld(t, 30, 100)
	dir := t.TempDir()
	members, matches := projections.NewMembers(), projections.NewMatches()
	runner := follow.NewRunner(w.store, follow.Options{Logger: zerolog.Nop(), SaveEvery: 25}, projections.WithSnapshots(w.store, dir, members, matches)...)
	if got := runner.Load(context.Background()); len(got) != 0 {
		t.Fatalf("loaded %d snapshots from an empty directory", len(got))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	for range 100 {
		w.randomStep(t, r)
	}
	head, _ := w.store.Head(ctx)
	if err := runner.WaitForDefault(ctx, head); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Stopping saved both projections at the head.
	m2, ma2 := projections.NewMembers(), projections.NewMatches()
	second := follow.NewRunner(w.store, follow.Options{Logger: zerolog.Nop()}, projections.WithSnapshots(w.store, dir, m2, ma2)...)
	loaded := second.Load(context.Background())
	if len(loaded) != 2 || m2.Position() != members.Position() || ma2.Position() != head || second.Reached() != head {
		t.Fatalf("after a clean stop: loaded %d snapshots, positions %d %d, reached %d, head %d", len(loaded), m2.Position(), ma2.Position(), second.Reached(), head)
	}
	sameModels(t, viewOf(t, w.store, members, matches), viewOf(t, w.store, m2, ma2))
}

// The search index a snapshot holds, loaded and then kept up to date by
// the log after it, answers every search as the index a full rebuild
// builds from the profiles.
func TestLoadedSearchIndexAnswersAsRebuilt(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			w, r := randomWorld(t, 40+seed, 80)
			head, err := w.store.Head(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			members, matches := rebuilt(t, w.store, 1+eventstore.Position(r.IntN(int(head))))
			save(t, dir, members, matches)
			for range 80 {
				w.randomStep(t, r)
			}
			restarted := projections.NewMembers()
			runTo(t, w.store, dir, restarted, projections.NewMatches())
			full, _ := rebuilt(t, w.store, 0)
			mentors, err := full.Scan(func(m *projections.MemberView) bool { return m.Role == domain.RoleMentor })
			if err != nil || len(mentors) == 0 {
				t.Fatalf("no mentors: %v", err)
			}
			everyone, _ := full.Scan(func(*projections.MemberView) bool { return true })
			pick := func(l []string) []string {
				if len(l) == 0 || r.IntN(3) == 0 {
					return nil
				}
				return []string{l[r.IntN(len(l))]}
			}
			for range 400 {
				m := mentors[r.IntN(len(mentors))]
				var q projections.SearchQuery
				if words := projections.Words(m.Profile.Biography); len(words) > 0 && r.IntN(2) == 0 {
					q.Words = words[r.IntN(len(words))]
				}
				q.Disciplines = pick([]string{m.Profile.Discipline, "CIVIL", "MINING"})
				q.Languages = pick(m.Profile.Languages)
				if r.IntN(4) == 0 {
					q.Skills = []projections.SkillFilter{{Skill: "COMMUNICATION", MinRating: 1 + r.IntN(5)}}
				}
				q.OnlyAvailable = r.IntN(3) == 0
				if r.IntN(2) == 0 {
					q.Viewer = everyone[r.IntN(len(everyone))].ID
				}
				q.First = 1 + r.IntN(8)
				want, werr := full.SearchMentors(q)
				got, gerr := restarted.SearchMentors(q)
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("%+v: errors differ: %v, %v", q, werr, gerr)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("%+v: results differ (-rebuilt +loaded):\n%s", q, diff)
				}
				if want.HasNextPage && r.IntN(2) == 0 {
					q.After = want.Hits[len(want.Hits)-1].Cursor
					want, _ = full.SearchMentors(q)
					got, _ = restarted.SearchMentors(q)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("%+v: next pages differ (-rebuilt +loaded):\n%s", q, diff)
					}
				}
			}
		})
	}
}

// historyOf returns the decoded events of a store's whole log.
func historyOf(t *testing.T, store eventstore.Store) []projections.Event {
	t.Helper()
	recs, err := store.ReadAll(context.Background(), eventstore.Start, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	events := make([]projections.Event, len(recs))
	for i, rec := range recs {
		if events[i], err = follow.Decode(rec); err != nil {
			t.Fatal(err)
		}
	}
	return events
}

// savedKinds are fresh read models of every kind that is saved.
func savedKinds() []projections.Projection {
	return []projections.Projection{projections.NewMembers(), projections.NewMatches(), projections.NewReports(time.UTC)}
}

// rebuiltTo rebuilds a fresh read model like p from the log up to pos.
func rebuiltTo(t *testing.T, store eventstore.Store, p projections.Projection, pos eventstore.Position) projections.Projection {
	t.Helper()
	var fresh projections.Projection
	switch p.(type) {
	case *projections.Members:
		fresh = projections.NewMembers()
	case *projections.Matches:
		fresh = projections.NewMatches()
	case *projections.Reports:
		fresh = projections.NewReports(time.UTC)
	default:
		t.Fatalf("no fresh read model like %s", p.Name())
	}
	if pos == eventstore.Start {
		return fresh
	}
	if _, err := follow.Rebuild(context.Background(), store, pos, nil, fresh); err != nil {
		t.Fatal(err)
	}
	return fresh
}

// checkSnapshot loads p's snapshot from dir into a fresh model and checks
// that it holds exactly the state a rebuild gives at its checkpoint.
func checkSnapshot(t *testing.T, store eventstore.Store, dir string, p projections.Projection) {
	t.Helper()
	loaded := rebuiltTo(t, store, p, eventstore.Start)
	info, err := projections.LoadSnapshot(store, dir, loaded)
	if err != nil {
		t.Fatal(err)
	}
	if diff := projections.DiffState(rebuiltTo(t, store, p, info.Position), loaded); diff != "" {
		t.Fatalf("%s snapshot at %d differs from the state rebuilt to there (-rebuilt +loaded):\n%s", p.Name(), info.Position, diff)
	}
}

// Snapshots saved while events are applied, one save often overlapping
// the next, each hold exactly the state at their checkpoint, and the
// live models, which copied what the saves held before changing it, end
// as a full rebuild.
func TestSnapshotsSavedWhileApplyingHoldTheirCheckpointsState(t *testing.T) {
	w := widerWorld(t, 21, 1500)
	events := historyOf(t, w.store)
	live := savedKinds()
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		r := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < len(events); {
			n := min(1+r.IntN(4), len(events)-i)
			for _, p := range live {
				_ = p.Apply(events[i : i+n])
			}
			i += n
			// Let the savers in between batches.
			time.Sleep(20 * time.Microsecond)
		}
	}()
	var (
		mu   sync.Mutex
		dirs []string
		wg   sync.WaitGroup
	)
	// Two savers, so that saves of one model overlap.
	for range 2 {
		wg.Go(func() {
			for done := false; !done; {
				select {
				case <-applied:
					done = true
				default:
				}
				dir := t.TempDir()
				for _, p := range live {
					if _, err := projections.SaveSnapshot(dir, p); err != nil {
						t.Error(err)
						return
					}
				}
				mu.Lock()
				dirs = append(dirs, dir)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d events, %d saves of each model", len(events), len(dirs))
	for _, dir := range dirs {
		for _, p := range live {
			checkSnapshot(t, w.store, dir, p)
		}
	}
	head, err := w.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range live {
		if diff := projections.DiffState(rebuiltTo(t, w.store, p, head), p); diff != "" {
			t.Fatalf("live %s differs from a full rebuild (-rebuilt +live):\n%s", p.Name(), diff)
		}
	}
	if !projections.IndexHoldsLiveViews(live[0].(*projections.Members)) {
		t.Fatal("the search index holds views the members map replaced")
	}
}

// gateWriter passes the snapshot's header through (pass bytes) and holds
// the first write of anything after it until opened, so that a save stops
// in the middle of encoding the state.
type gateWriter struct {
	buf     []byte
	pass    int
	held    chan struct{} // closed when a write is held
	open    chan struct{} // closed to let it go on
	heldOne sync.Once
}

func (g *gateWriter) Write(b []byte) (int, error) {
	if len(g.buf)+len(b) > g.pass {
		g.heldOne.Do(func() { close(g.held) })
		<-g.open
	}
	g.buf = append(g.buf, b...)
	return len(b), nil
}

// Events are applied while a save encodes the state: a save holds the
// model's lock only to capture the state, never while encoding or
// writing it, and what it writes is the state it captured.
func TestSavingDoesNotHoldEvents(t *testing.T) {
	w := widerWorld(t, 22, 1000)
	events := historyOf(t, w.store)
	for i, p := range append(append(savedKinds(), savedKinds()...), savedKinds()...) {
		// The save begins at a quarter, half or three quarters of the log.
		half := len(events) * (1 + i/3) / 4
		t.Run(fmt.Sprint(p.Name(), " at ", half), func(t *testing.T) {
			_ = p.Apply(events[:half])
			// The magic, the format, the name and the state's version.
			header := 8 + 4 + 1 + len(p.Name()) + 4
			gate := &gateWriter{pass: header, held: make(chan struct{}), open: make(chan struct{})}
			type saved struct {
				pos eventstore.Position
				err error
			}
			done := make(chan saved, 1)
			go func() {
				// Writing after every byte buffered holds the save
				// at its first write of the state.
				pos, err := projections.EncodeSnapshotTo(gate, p, 1)
				done <- saved{pos, err}
			}()
			select {
			case <-gate.held:
			case s := <-done:
				t.Fatalf("the save ended without writing its state: %v", s.err)
			}
			rest := make(chan struct{})
			go func() { _ = p.Apply(events[half:]); close(rest) }()
			select {
			case <-rest:
			case <-time.After(20 * time.Second):
				close(gate.open)
				t.Fatal("applying events waited for a save that was writing its state")
			}
			close(gate.open)
			s := <-done
			if s.err != nil {
				t.Fatal(s.err)
			}
			if s.pos != events[half-1].Position {
				t.Fatalf("saved at %d, not at %d where the save began", s.pos, events[half-1].Position)
			}
			dir := t.TempDir()
			if err := os.WriteFile(projections.SnapshotPath(dir, p), gate.buf, 0o600); err != nil {
				t.Fatal(err)
			}
			checkSnapshot(t, w.store, dir, p)
			if diff := projections.DiffState(rebuiltTo(t, w.store, p, events[len(events)-1].Position), p); diff != "" {
				t.Fatalf("the live model differs from a full rebuild (-rebuilt +live):\n%s", diff)
			}
		})
	}
}

// widerWorld runs a random history that, beside randomStep's commands,
// edits what events change in place: profiles (and so the search index's
// postings), meeting logs, documents, end requests, resources, and
// erasures. It checks that each kind happened.
func widerWorld(t *testing.T, seed uint64, steps int) *world {
	t.Helper()
	w, r := randomWorld(t, seed, 0)
	ctx := context.Background()
	words := []string{"tunnels", "geotechnical", "mining", "water", "engineer", "bridges", "safety", "planning", "roads", "dams"}
	var sessions [][2]uuid.UUID // match, session
	var docs [][2]uuid.UUID     // match, document
	var resources []uuid.UUID
	partner := func(m uuid.UUID) domain.Actor {
		mv, _ := w.svc.Match(ctx, m)
		if r.IntN(2) == 0 {
			return domain.Actor{ID: mv.MentorID(), Role: domain.RoleMentor}
		}
		return domain.Actor{ID: mv.MenteeID(), Role: domain.RoleMentee}
	}
	for i := range steps {
		now := w.clock.Now()
		switch n := r.IntN(20); {
		case n < 3:
			m := w.mentors[r.IntN(len(w.mentors))]
			bio := ""
			for range 2 + r.IntN(4) {
				bio += words[r.IntN(len(words))] + " "
			}
			_, _ = w.svc.UpdateProfile(ctx, commandRequest(m), m.ID, domain.Profile{
				Name: fmt.Sprint("Mentor ", i), Discipline: []string{"CIVIL", "MINING", "GEOLOGICAL"}[r.IntN(3)],
				Biography: bio, Languages: []string{"en", "fr"}[r.IntN(2):],
				Skills: map[string]int{"COMMUNICATION": 1 + r.IntN(5)},
			})
		case n < 5 && len(w.matches) > 0:
			m := w.matches[r.IntN(len(w.matches))]
			id := uuid.New()
			if _, err := w.svc.LogSession(ctx, commandRequest(partner(m)), m, id, domain.SessionDetails{Date: w.svc.Program().Today(now), Minutes: 30, Notes: "notes"}); err == nil {
				sessions = append(sessions, [2]uuid.UUID{m, id})
			}
		case n < 6 && len(sessions) > 0:
			s := sessions[r.IntN(len(sessions))]
			mv, _ := w.svc.Match(ctx, s[0])
			for _, a := range []domain.Actor{{ID: mv.MentorID(), Role: domain.RoleMentor}, {ID: mv.MenteeID(), Role: domain.RoleMentee}} {
				_, _ = w.svc.EditSession(ctx, commandRequest(a), s[0], s[1], domain.SessionDetails{Date: w.svc.Program().Today(now), Minutes: 15 * (1 + r.IntN(4)), Notes: "edited"})
			}
		case n < 7 && len(w.matches) > 0:
			m := w.matches[r.IntN(len(w.matches))]
			id := uuid.New()
			if _, err := w.svc.AddDocument(ctx, commandRequest(partner(m)), domain.AddDocument{MatchID: m, DocumentID: id, Name: "plan.pdf",
				Size: 100, ContentType: "application/pdf", SHA256: fmt.Sprintf("%064x", i), At: now}); err == nil {
				docs = append(docs, [2]uuid.UUID{m, id})
			}
		case n < 8 && len(docs) > 0:
			d := docs[r.IntN(len(docs))]
			_, _ = w.svc.RemoveDocument(ctx, commandRequest(partner(d[0])), d[0], d[1])
		case n < 9 && len(w.matches) > 0:
			m := w.matches[r.IntN(len(w.matches))]
			_, _ = w.svc.RequestMatchEnd(ctx, commandRequest(partner(m)), m, "GOALS_CONCLUDED", "please end it")
		case n < 10:
			id, _, err := w.svc.PublishResource(ctx, commandRequest(w.staff), domain.PublishResource{Title: fmt.Sprint("Guide ", i),
				URL: "https://example.org/guide", Audience: domain.Audience("BOTH"), At: now})
			if err == nil {
				resources = append(resources, id)
			}
			if len(resources) > 0 && r.IntN(2) == 0 {
				_, _ = w.svc.RetireResource(ctx, commandRequest(w.staff), resources[r.IntN(len(resources))])
			}
		case n < 11 && r.IntN(8) == 0:
			var a domain.Actor
			if r.IntN(2) == 0 {
				a = w.mentors[r.IntN(len(w.mentors))]
			} else {
				a = w.mentees[r.IntN(len(w.mentees))]
			}
			_, _ = w.svc.EraseMember(ctx, commandRequest(w.staff), a.ID, "asked to be forgotten")
		default:
			w.randomStep(t, r)
		}
		w.clock.Advance(time.Duration(r.IntN(24)) * time.Hour)
	}
	seen := map[string]bool{}
	for _, ev := range historyOf(t, w.store) {
		seen[fmt.Sprintf("%T", ev.Data)] = true
	}
	for _, e := range []domain.Event{domain.ProfileUpdated{}, domain.SessionEdited{}, domain.DocumentAdded{}, domain.DocumentRemoved{},
		domain.MatchEndRequested{}, domain.ResourceRetired{}, domain.MemberErased{}} {
		if !seen[fmt.Sprintf("%T", e)] {
			t.Fatalf("the history has no %T", e)
		}
	}
	return w
}

// A match handed out by a query, or held by a save, keeps the partner's
// note of its end request when the partner is erased afterwards: the live
// model blanks its own copy only.
func TestErasureLeavesCopiesOfEndRequestsAlone(t *testing.T) {
	matches := projections.NewMatches()
	match, mentee, mentor := uuid.New(), uuid.New(), uuid.New()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	events := []projections.Event{
		{Position: 1, ID: uuid.New(), Data: domain.MatchRequested{MatchID: match, MenteeID: mentee, MentorID: mentor, At: at}},
		{Position: 2, ID: uuid.New(), Data: domain.MatchEndRequested{MatchID: match, MenteeID: mentee, MentorID: mentor, RequestedBy: mentee, Reason: "GOALS_CONCLUDED", Note: "thanks", At: at}},
		{Position: 3, ID: uuid.New(), Data: domain.MemberErased{MemberID: mentee, Role: domain.RoleMentee}},
	}
	_ = matches.Apply(events[:2])
	before, _, _ := matches.Match(match)
	_ = matches.Apply(events[2:])
	after, _, _ := matches.Match(match)
	if before.EndAsk.Note != "thanks" || after.EndAsk.Note != "" {
		t.Fatalf("note before the erasure %q, after %q", before.EndAsk.Note, after.EndAsk.Note)
	}
}
