// Command benchserve measures the built server from outside, the way an
// operator runs it: how long it takes to be ready and how much memory it
// holds, embedded and with the Redis read models, and the load
// generator's suite against it. `make bench` runs it after the Go
// benchmarks; internal/benchtable reads what it prints.
//
//	go run ./internal/benchserve --bin bin/mentorship --cache .bench-data
//
// Seeding a million events through the program's commands takes minutes,
// so the seeded data directories are kept in --cache, one per size, and
// copied for every start: a start never sees what an earlier one wrote.
//
// It prints the load generator's table, then one table of starts:
//
//	start             data                                   ready      RSS       Go heap
//	empty             no events                              35 ms      43 MiB    6 MiB
//	embedded-first    100000 mentors, 20000 mentees, ...     1520 ms    ...
//
// The starts are: empty (the same binary on an empty data directory, the
// baseline of every start), embedded-first (the load data, no snapshot:
// the read models are built from the log), redis-cold and redis-warm (the
// load data with the Redis read models, first on an empty namespace, then
// again on what the first start built), and on the million events
// embedded-first again, then embedded-restart (the next start, after
// every follower of the first caught up and a graceful stop saved their
// states). RSS and the Go heap are read
// --settle after ready for the empty and embedded-restart starts, which
// the memory target compares, and at ready for the others.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchserve:", err)
		os.Exit(1)
	}
}

// size is one seeded program.
type size struct{ mentors, mentees, events int }

func (s size) String() string {
	return fmt.Sprintf("%d mentors, %d mentees, %d events", s.mentors, s.mentees, s.events)
}

type config struct {
	bin, cache, redisURL string
	load, restart        size
	clients              int
	duration, warmup     time.Duration
	subscribers          int
	settle               time.Duration
	only                 string
	log                  io.Writer
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchserve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.bin, "bin", "bin/mentorship", "the server binary")
	fs.StringVar(&c.cache, "cache", ".bench-data", "where the seeded data directories are kept between runs")
	fs.StringVar(&c.redisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis for the Redis read models' rows; empty skips them")
	fs.IntVar(&c.load.mentors, "load-mentors", 100000, "mentors of the load generator's program")
	fs.IntVar(&c.load.mentees, "load-mentees", 20000, "mentees of the load generator's program")
	fs.IntVar(&c.load.events, "load-events", 400000, "events of the load generator's program")
	fs.IntVar(&c.restart.mentors, "restart-mentors", 25000, "mentors of the restarted program")
	fs.IntVar(&c.restart.mentees, "restart-mentees", 75000, "mentees of the restarted program")
	fs.IntVar(&c.restart.events, "restart-events", 1000000, "events of the restarted program")
	fs.IntVar(&c.clients, "clients", 64, "the load generator's clients")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long each load is measured")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "how long each load runs first")
	fs.IntVar(&c.subscribers, "subscribers", 10000, "the fan-out's subscribers")
	fs.DurationVar(&c.settle, "settle", 5*time.Second, "how long after ready the memory of the empty and the restarted server is read")
	fs.StringVar(&c.only, "only", "", "load, redis or restart: run only that part")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch c.only {
	case "", "load", "redis", "restart":
	default:
		return fmt.Errorf("--only %q: want load, redis or restart", c.only)
	}
	c.log = stderr
	work, err := os.MkdirTemp("", "mentorship-benchserve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	var starts []startRow
	empty, err := measureStart(ctx, c, filepath.Join(work, "empty"), nil, "empty", "no events")
	if err != nil {
		return err
	}
	empty.stop()
	starts = append(starts, empty.row)

	if c.only == "" || c.only == "load" {
		row, err := loadPart(ctx, c, work, stdout)
		if err != nil {
			return err
		}
		starts = append(starts, row)
	}
	if (c.only == "" || c.only == "redis") && c.redisURL != "" {
		rows, err := redisPart(ctx, c, work, stdout)
		starts = append(starts, rows...)
		if err != nil {
			return err
		}
	}
	if c.only == "" || c.only == "restart" {
		rows, err := restartPart(ctx, c, work)
		starts = append(starts, rows...)
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout)
	return printStarts(stdout, starts)
}

// loadPart starts the server on a copy of the load data, which has no
// snapshot yet, and runs the load generator's suite against it.
func loadPart(ctx context.Context, c config, work string, stdout io.Writer) (startRow, error) {
	seeded, err := seed(ctx, c, c.load)
	if err != nil {
		return startRow{}, err
	}
	dir := filepath.Join(work, "load")
	if err := copyDir(seeded, dir); err != nil {
		return startRow{}, err
	}
	s, err := measureStart(ctx, c, dir, nil, "embedded-first", c.load.String())
	if err != nil {
		return startRow{}, err
	}
	defer s.stop()
	fmt.Fprintf(c.log, "server at %s; running the load generator's suite\n", s.url)
	err = s.loadgen(ctx, c, stdout, "--suite", "--subscribers", strconv.Itoa(c.subscribers))
	return s.row, err
}

// redisPart starts the server with the Redis read models on a fresh copy
// of the load data in a namespace of its own, cold and then warm, and
// runs the search workload against the cold start.
func redisPart(ctx context.Context, c config, work string, stdout io.Writer) ([]startRow, error) {
	seeded, err := seed(ctx, c, c.load)
	if err != nil {
		return nil, err
	}
	opts, err := redis.ParseURL(c.redisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	if err := rc.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("reaching Redis at %s: %w", c.redisURL, err)
	}
	prefix := fmt.Sprintf("benchserve-%d-%d", os.Getpid(), time.Now().UnixNano())
	defer dropPrefix(context.WithoutCancel(ctx), rc, prefix)
	dir := filepath.Join(work, "redis")
	if err := copyDir(seeded, dir); err != nil {
		return nil, err
	}
	args := []string{"--redis-url", c.redisURL, "--redis-prefix", prefix}
	var rows []startRow
	cold, err := measureStart(ctx, c, dir, args, "redis-cold", c.load.String()+", empty Redis")
	if err != nil {
		return nil, err
	}
	rows = append(rows, cold.row)
	fmt.Fprintf(c.log, "server with Redis read models at %s; running searches\n", cold.url)
	var out strings.Builder
	err = cold.loadgen(ctx, c, &out, "--workload", "search")
	cold.stop()
	if err != nil {
		return rows, err
	}
	// The row is renamed so that the table tells it from the embedded
	// search's.
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "search "); ok {
			fmt.Fprintln(stdout, "search-redis  "+strings.TrimLeft(rest, " "))
		}
	}
	warm, err := measureStart(ctx, c, dir, args, "redis-warm", c.load.String()+", Redis kept")
	if err != nil {
		return rows, err
	}
	warm.stop()
	return append(rows, warm.row), nil
}

// restartPart starts the server on a copy of the million events once,
// stops it gracefully (which saves the snapshots) and measures the next
// start.
func restartPart(ctx context.Context, c config, work string) ([]startRow, error) {
	seeded, err := seed(ctx, c, c.restart)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(work, "restart")
	if err := copyDir(seeded, dir); err != nil {
		return nil, err
	}
	first, err := measureStart(ctx, c, dir, nil, "embedded-first", c.restart.String())
	if err != nil {
		return nil, err
	}
	// A restart follows a run: every follower of the log (the read
	// models, the notifier, the process manager) has caught up and the
	// time rules due on this data have fired, so that what the next start
	// measures is the start and not the rest of the first one's work.
	fmt.Fprintf(c.log, "first start on %s ready in %d ms; waiting for every follower to catch up before restarting\n", c.restart, first.row.ready.Milliseconds())
	if err := first.waitSettled(ctx, 5*time.Minute); err != nil {
		first.stop()
		return []startRow{first.row}, err
	}
	first.stop()
	again, err := measureStart(ctx, c, dir, nil, "embedded-restart", c.restart.String()+", after a graceful stop")
	if err != nil {
		return []startRow{first.row}, err
	}
	again.stop()
	return []startRow{first.row, again.row}, nil
}

// seed returns the data directory of a seeded program, seeding it into
// the cache first when no earlier run did.
func seed(ctx context.Context, c config, s size) (string, error) {
	root := filepath.Join(c.cache, fmt.Sprintf("seed-%d-%d-%d", s.mentors, s.mentees, s.events))
	data := filepath.Join(root, "data")
	if _, err := os.Stat(filepath.Join(root, "complete")); err == nil {
		fmt.Fprintf(c.log, "using the seeded %s kept in %s\n", s, root)
		return data, nil
	}
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(c.log, "seeding %s into %s (kept for later runs)\n", s, root)
	start := time.Now()
	cmd := exec.CommandContext(ctx, c.bin, "seed", "--data-dir", data, "--mentors", strconv.Itoa(s.mentors),
		"--mentees", strconv.Itoa(s.mentees), "--events", strconv.Itoa(s.events))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("seeding %s: %w\n%s", s, err, out)
	}
	fmt.Fprintf(c.log, "seeded in %.0f s\n", time.Since(start).Seconds())
	return data, os.WriteFile(filepath.Join(root, "complete"), nil, 0o644)
}

// copyDir copies the regular files of src into dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// startRow is one measured start.
type startRow struct {
	name, data string
	ready      time.Duration
	rss, heap  float64 // MiB; -1 when unread
}

// server is a running server process.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	logs *os.File
	row  startRow
}

var listening = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// measureStart starts the server on dir and measures how long it takes
// to answer 200 on /readyz, then its memory c.settle later.
func measureStart(ctx context.Context, c config, dir string, extra []string, name, data string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logs, err := os.Create(dir + ".log")
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--demo=false", "--log-level", "warn",
		"--log-format", "json", "--signup-limit", "off", "--max-subscriptions", "100000"}, extra...)
	cmd := exec.Command(c.bin, args...)
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan error, 1), logs: logs, row: startRow{name: name, data: data, rss: -1, heap: -1}}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u := listening.FindString(sc.Text()); u != "" {
				select {
				case urls <- u:
				default:
				}
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	fail := func(err error) (*server, error) {
		s.stop()
		tail, _ := os.ReadFile(logs.Name())
		return nil, fmt.Errorf("%s: %w\n%s", name, err, lastLines(string(tail), 20))
	}
	deadline := time.After(5 * time.Minute)
	select {
	case s.url = <-urls:
	case err := <-s.done:
		s.done <- err
		return fail(fmt.Errorf("the server exited before listening: %v", err))
	case <-deadline:
		return fail(errors.New("the server did not listen within 5 minutes"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fail(fmt.Errorf("the server exited before it was ready: %v", err))
		case <-deadline:
			return fail(errors.New("the server was not ready within 5 minutes"))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	s.row.ready = time.Since(started)
	// The memory rows are read after the server settles; the other starts
	// are read at once, to keep the run short.
	if name == "empty" || name == "embedded-restart" {
		select {
		case <-time.After(c.settle):
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
	s.row.rss = rssMiB(cmd.Process.Pid)
	s.row.heap = heapMiB(client, s.url)
	return s, nil
}

// loadgen runs the load generator of the same binary against s.
func (s *server) loadgen(ctx context.Context, c config, stdout io.Writer, args ...string) error {
	args = append([]string{"loadgen", "--url", s.url, "--clients", strconv.Itoa(c.clients),
		"--duration", c.duration.String(), "--warmup", c.warmup.String()}, args...)
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, c.log
	return cmd.Run()
}

// waitSettled waits until every follower of the log reports no lag in
// three reads of the server's metrics in a row, half a second apart.
func (s *server) waitSettled(ctx context.Context, limit time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(limit)
	calm := 0
	for calm < 3 {
		if time.Now().After(deadline) {
			return fmt.Errorf("the followers did not catch up within %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		lag, seen, err := followerLag(client, s.url)
		switch {
		case err != nil:
			return err
		case seen && lag == 0:
			calm++
		default:
			calm = 0
		}
	}
	return nil
}

// followerLag sums mentorship_follower_lag_events over the followers;
// seen is false when the server reports none.
func followerLag(client *http.Client, url string) (lag float64, seen bool, err error) {
	err = metrics(client, url, func(name string, v float64) {
		if strings.HasPrefix(name, "mentorship_follower_lag_events{") {
			lag, seen = lag+v, true
		}
	})
	return lag, seen, err
}

// metrics reads the server's metrics and hands each sample's name (with
// its labels) and value to fn.
func metrics(client *http.Client, url string, fn func(name string, v float64)) error {
	resp, err := client.Get(url + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return fmt.Errorf("reading the metric %q: %w", line, err)
		}
		fn(line[:i], v)
	}
	return sc.Err()
}

// stop ends the server gracefully, as an operator would, and waits.
func (s *server) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.done:
			s.done <- err
		case <-time.After(time.Minute):
			_ = s.cmd.Process.Kill()
		}
	}
	s.logs.Close()
}

// rssMiB reads the resident memory of a process; -1 when it cannot.
func rssMiB(pid int) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return -1
}

// heapMiB reads the Go heap in use from the server's metrics; -1 when it
// cannot.
func heapMiB(client *http.Client, url string) float64 {
	heap := -1.0
	err := metrics(client, url, func(name string, v float64) {
		if name == "go_memstats_heap_inuse_bytes" {
			heap = v / (1 << 20)
		}
	})
	if err != nil {
		return -1
	}
	return heap
}

// dropPrefix deletes the keys of one namespace.
func dropPrefix(ctx context.Context, rc *redis.Client, prefix string) {
	iter := rc.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			rc.Unlink(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rc.Unlink(ctx, keys...)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// printStarts writes the starts' table, which internal/benchtable reads.
func printStarts(w io.Writer, rows []startRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "start\tdata\tready\tRSS\tGo heap")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d ms\t%s\t%s\n", r.name, r.data, r.ready.Milliseconds(), mib(r.rss), mib(r.heap))
	}
	return tw.Flush()
}

func mib(v float64) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", v)
}
