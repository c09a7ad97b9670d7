package redis_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/projections/readmodeltest"
	"github.com/mentorship/mentorship/projections/redis"
	"github.com/mentorship/mentorship/seed"
)

// privateRedis is a redis-server of the test's own on a free port, which
// the test kills and starts again on the same port and append-only file.
type privateRedis struct {
	t        *testing.T
	bin, dir string
	port     int
	cmd      *exec.Cmd
	addr     string
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if strings.EqualFold(os.Getenv("CI"), "true") {
			t.Fatalf("no redis-server to start: %v", err)
		}
		t.Skipf("no redis-server to start: %v (set CI=true to make this a failure)", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	r := &privateRedis{t: t, bin: bin, dir: t.TempDir(), port: port, addr: "127.0.0.1:" + strconv.Itoa(port)}
	r.start()
	t.Cleanup(r.kill)
	return r
}

// start runs the server with every write in its append-only file before
// it is acknowledged, as a Redis that keeps read models must.
func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: r.addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server did not start on %s: %v", r.addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill stops the server without warning, perhaps in the middle of a
// transaction.
func (r *privateRedis) kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Redis dies while the projector is catching up on the log and comes back
// a moment later. The projector goes on by itself from the checkpoint that
// Redis kept with the state, and the read models end exactly those of the
// log: nothing applied twice, nothing skipped, whatever batch the kill
// interrupted.
func TestRedisDiesWhileProjecting(t *testing.T) {
	rs := startPrivateRedis(t)
	store, svc, clk := readmodeltest.NewProgram(t)
	ctx := context.Background()
	if _, err := seed.Generate(ctx, store, svc.Program(), seed.Options{Mentors: 100, Mentees: 300, Events: 8000, Seed: 5, Days: 200, End: clk.Now(), Workers: 2}); err != nil {
		t.Fatal(err)
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: rs.addr, MaxRetries: -1})
	defer c.Close()
	rm := redis.New(c, redis.Options{Prefix: "fault", Owner: "projector", LeaseTTL: time.Second, Logger: zerolog.Nop()})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = rm.Run(runCtx, store, redis.RunOptions{Project: true}) }()
	defer func() { cancel(); <-done }()

	// Kill Redis once the read models are part of the way through.
	deadline := time.Now().Add(30 * time.Second)
	for rm.Reached() < head/10 {
		if time.Now().After(deadline) {
			t.Fatalf("the projector reached only position %d of %d", rm.Reached(), head)
		}
		time.Sleep(time.Millisecond)
	}
	rs.kill()
	killedAt := rm.Reached()
	if killedAt >= head {
		t.Fatalf("the projector was done (position %d) before Redis was killed; the history is too short to interrupt it", killedAt)
	}
	short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	if err := rm.WaitFor(short, head); err == nil {
		t.Fatal("read-your-writes did not wait while Redis was gone")
	}
	rs.start()
	wait, stopWait := context.WithTimeout(ctx, 60*time.Second)
	defer stopWait()
	if err := rm.WaitFor(wait, head); err != nil {
		t.Fatalf("the projector did not finish after Redis came back (killed at %d of %d): %v", killedAt, head, err)
	}
	events := readmodeltest.Events(t, store)
	readmodeltest.Compare(t, svc.Program(), clk.Now(), events, readmodeltest.Reference(t, events), models(rm))
	t.Logf("killed at position %d of %d", killedAt, head)
}
