package projections_test

import (
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
			if m.Role == domain.RoleMentee {
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
