package projections_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections"
	redisrm "github.com/mentorship/mentorship/projections/redis"
)

// million is the history the rebuild, restart and memory benchmarks run
// on: 100,000 profiles (25,000 mentors, 75,000 mentees) and 1,000,000
// events in all.
var million = workload{Mentors: 25_000, Mentees: 75_000, Events: 1_000_000, Shards: 8, Seed: 1}

// restartTail is how many events a restart finds after the snapshots: the
// runner's default snapshot spacing, the most a crash leaves.
const restartTail = follow.DefaultSaveEvery

func openStore(b *testing.B, dir string) *bolt.Store {
	b.Helper()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// readAll reads the whole log page by page, as a rebuild does.
func readAll(b *testing.B, s eventstore.Store) int {
	n := 0
	from := eventstore.Start
	for {
		page, err := s.ReadAll(context.Background(), from, 4096)
		if err != nil {
			b.Fatal(err)
		}
		if len(page) == 0 {
			return n
		}
		n += len(page)
		from = page[len(page)-1].Position
	}
}

// BenchmarkRebuild rebuilds both read models from 1,000,000 events, beside
// reading the same events raw from the store.
func BenchmarkRebuild(b *testing.B) {
	dir := dataset(b, million)
	s := openStore(b, dir)
	defer s.Close()
	b.Run("baseline=read-raw", func(b *testing.B) {
		n := 0
		for b.Loop() {
			n += readAll(b, s)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("rebuild", func(b *testing.B) {
		n := 0
		for b.Loop() {
			got, err := follow.Rebuild(context.Background(), s, 0, nil, projections.NewMembers(), projections.NewMatches())
			if err != nil {
				b.Fatal(err)
			}
			n += got
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
}

// snapshotsFor returns the snapshots of a million-event directory of
// workload w taken restartTail events before the head, made on first use.
func snapshotsFor(b *testing.B, dir string, w workload) string {
	b.Helper()
	snaps := filepath.Join(dir, "bench-snapshots")
	if _, err := os.Stat(projections.SnapshotPath(snaps, projections.NewMatches())); err == nil {
		return snaps
	}
	s, closeLog := openLog(b, dir, w)
	defer closeLog()
	members, matches := projections.NewMembers(), projections.NewMatches()
	if _, err := follow.Rebuild(context.Background(), s, eventstore.Position(w.Events-restartTail), nil, members, matches); err != nil {
		b.Fatal(err)
	}
	for _, p := range []projections.Projection{members, matches} {
		info, err := projections.SaveSnapshot(snaps, p)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("snapshot of %s: %d bytes, captured under the lock in %v, written in %v", p.Name(), info.Bytes, info.Locked, info.Took)
	}
	return snaps
}

// BenchmarkRestart is a restart to ready with 1,000,000 events stored:
// open the store, load the snapshots, catch up the tail of restartTail
// events. The baseline opens the store alone.
func BenchmarkRestart(b *testing.B) {
	dir := dataset(b, million)
	snaps := snapshotsFor(b, dir, million)
	ctx := context.Background()
	b.Run("baseline=open-store", func(b *testing.B) {
		for b.Loop() {
			s := openStore(b, dir)
			if _, err := s.Head(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			_ = s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/restart")
	})
	b.Run("restart", func(b *testing.B) { benchRestart(b, dir, snaps, million) })
}

// benchRestart times the server's path to ready on the dataset of w in
// dir; see restartOnce.
func benchRestart(b *testing.B, dir, snaps string, w workload) {
	for b.Loop() {
		restartOnce(b, dir, snaps, w)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/restart")
}

// restartOnce opens the log of the dataset of w in dir (through the
// members' keys when it is sealed), loads the snapshots in snaps (all at
// once) and catches up from them, as the server does, and returns how long
// that took. Closing everything afterwards is left out of the timer.
func restartOnce(b *testing.B, dir, snaps string, w workload) time.Duration {
	ctx := context.Background()
	start := time.Now()
	s, closeLog := openLog(b, dir, w)
	members, matches := projections.NewMembers(), projections.NewMatches()
	runner := follow.NewRunner(s, follow.Options{Logger: zerolog.Nop()}, projections.WithSnapshots(s, snaps, members, matches)...)
	if loaded := runner.Load(ctx); len(loaded) != 2 {
		b.Fatalf("%d snapshots loaded, want 2", len(loaded))
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx) }()
	head, _ := s.Head(ctx)
	if err := runner.WaitFor(ctx, head); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	closeLog()
	b.StartTimer()
	return took
}

// searchWorld is 100,000 mentors with profiles, applied straight to the
// read model, with queries of three biography words and two filters taken
// from random mentors' profiles, so that every query finds someone, asked by
// a mentee with a profile, so that hits are ranked by overlap with it.
type searchWorld struct {
	members *projections.Members
	events  []projections.Event
	queries []projections.SearchQuery
	bios    []benchBio
}

type benchBio struct {
	id                              int
	name, discipline, province, bio string
}

var searchSetup = sync.OnceValue(func() *searchWorld {
	const mentors = 100_000
	sw := &searchWorld{members: projections.NewMembers()}
	var batch []projections.Event
	pos := eventstore.Position(0)
	var viewer uuid.UUID
	r := rand.New(rand.NewPCG(4, 4))
	_ = generate(workload{Mentors: mentors, Mentees: 1, Events: 2*mentors + 2, Seed: 4}, func(_ string, _ eventstore.ExpectedRevision, events ...eventstore.EventData) error {
		for _, e := range events {
			pos++
			ev, err := follow.Decode(eventstore.RecordedEvent{Position: pos, ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data})
			if err != nil {
				panic(err)
			}
			batch = append(batch, ev)
			if reg, ok := ev.Data.(domain.MemberRegistered); ok && reg.Role == domain.RoleMentee {
				viewer = reg.MemberID
			}
			if pr, ok := ev.Data.(domain.ProfileUpdated); ok && pr.Profile.Biography != "" && len(sw.bios) < mentors {
				sw.bios = append(sw.bios, benchBio{len(sw.bios), pr.Profile.Name, pr.Profile.Discipline, pr.Profile.Location.Province, pr.Profile.Biography})
			}
		}
		return nil
	})
	if err := sw.members.Apply(batch); err != nil {
		panic(err)
	}
	sw.events = batch
	for range 2000 {
		b := sw.bios[r.IntN(len(sw.bios))]
		words := projections.Words(b.bio)
		// The searching mentee's focus areas and skills rank the hits.
		q := projections.SearchQuery{Viewer: viewer, Disciplines: []string{b.discipline}, Provinces: []string{b.province}}
		var picked []string
		for range 3 {
			picked = append(picked, words[r.IntN(len(words))])
		}
		q.Words = strings.Join(picked, " ")
		sw.queries = append(sw.queries, q)
	}
	return sw
})

func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100]
}

// BenchmarkSearchMentors searches 100,000 mentor profiles with three
// biography words and two filters, reporting latency percentiles in
// process, beside PostgreSQL's own execution time for the same full-text
// search over the same biographies when PostgreSQL is reachable.
func BenchmarkSearchMentors(b *testing.B) {
	sw := searchSetup()
	b.Run("in-process", func(b *testing.B) { measureSearch(b, sw, sw.members.SearchMentors) })
	b.Run("baseline=postgresql", func(b *testing.B) {
		postgresBaseline(b, sw)
	})
	b.Run("redis", func(b *testing.B) {
		c, ns := redistest.Client(b)
		rm := redisrm.New(c, redisrm.Options{Prefix: ns, Logger: zerolog.Nop()})
		start := time.Now()
		if err := rm.Apply(context.Background(), sw.events); err != nil {
			b.Fatal(err)
		}
		applied := float64(len(sw.events)) / time.Since(start).Seconds()
		measureSearch(b, sw, rm.Members.SearchMentors)
		b.ReportMetric(applied, "applied-events/s")
	})
}

// measureSearch runs the search world's queries through search and
// reports the latency percentiles and the hits per query.
func measureSearch(b *testing.B, sw *searchWorld, search func(projections.SearchQuery) (projections.SearchResult, error)) {
	lat := make([]time.Duration, 0, b.N)
	hits, i := 0, 0
	for b.Loop() {
		q := sw.queries[i%len(sw.queries)]
		start := time.Now()
		res, err := search(q)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		hits += res.Total
		i++
	}
	p50, p99 := percentiles(lat)
	b.ReportMetric(float64(p50.Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(p99.Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(float64(hits)/float64(b.N), "hits/query")
}

// rssProbe, in a child process the memory benchmark starts, measures the
// resident memory of the read models of a data directory and prints it.
func rssProbe() bool {
	dir, mode := os.Getenv("MENTORSHIP_RSS_PROBE_DIR"), os.Getenv("MENTORSHIP_RSS_PROBE_MODE")
	if dir == "" {
		return false
	}
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	members, matches := projections.NewMembers(), projections.NewMatches()
	if mode == "restart" {
		for _, p := range []projections.Projection{members, matches} {
			if _, err := projections.LoadSnapshot(s, filepath.Join(dir, "bench-snapshots"), p); err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
		}
	}
	runner := follow.NewRunner(s, follow.Options{Logger: zerolog.Nop()}, members, matches)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	head, _ := s.Head(ctx)
	if err := runner.WaitFor(ctx, head); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	cancel()
	<-done
	runtime.GC()
	debug.FreeOSMemory()
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "RssAnon:") || strings.HasPrefix(line, "RssFile:") {
			fmt.Println(line)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("HeapInuse: %d kB\n", ms.HeapInuse/1024)
	runtime.KeepAlive(members)
	runtime.KeepAlive(matches)
	_ = s.Close()
	os.Exit(0)
	return true
}

// BenchmarkMemory measures the resident memory of the read models of
// 100,000 profiles and 1,000,000 events, after GC, in a fresh process: once
// rebuilt from the log, once restarted from snapshots. The store's file is
// memory-mapped, so the pages a rebuild read count as RssFile; RssAnon is
// the Go heap and runtime.
func BenchmarkMemory(b *testing.B) {
	dir := dataset(b, million)
	snapshotsFor(b, dir, million)
	for _, mode := range []string{"rebuilt", "restart"} {
		b.Run(mode, func(b *testing.B) {
			var out []byte
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "MENTORSHIP_RSS_PROBE_DIR="+dir, "MENTORSHIP_RSS_PROBE_MODE="+mode)
				var err error
				if out, err = cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v: %s", err, out)
				}
			}
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) < 2 {
					continue
				}
				kb, err := strconv.ParseFloat(f[1], 64)
				if err != nil {
					continue
				}
				b.ReportMetric(kb/1024, strings.TrimSuffix(f[0], ":")+"-MiB")
			}
		})
	}
}

// BenchmarkRecommendMentors ranks the open mentors of 100,000 for a
// mentee, as recommendedMentors does: a scan of the members for the open
// mentors, then the explained score of each.
func BenchmarkRecommendMentors(b *testing.B) {
	sw := searchSetup()
	viewer, ok, _ := sw.members.Member(sw.queries[0].Viewer)
	if !ok {
		b.Fatal("no mentee")
	}
	for b.Loop() {
		best := &projections.Recommender{Mentee: viewer, N: 10}
		if _, err := sw.members.Scan(best.Consider); err != nil {
			b.Fatal(err)
		}
		top, err := sw.members.MembersByID(best.Top())
		if err != nil {
			b.Fatal(err)
		}
		var recs []projections.Recommendation
		for _, v := range top {
			recs = append(recs, projections.Score(viewer, v))
		}
		if len(recs) != 10 {
			b.Fatalf("%d recommendations", len(recs))
		}
	}
}
