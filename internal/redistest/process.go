package redistest

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Process is a redis-server of the test's own on a free port, which the
// test may kill without warning, as a crash or a lost host would, and
// start again on the same port and append-only file. Every write is in
// that file before it is acknowledged, as a Redis that keeps read models
// or sign-ins must be configured.
type Process struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// StartProcess starts a private redis-server, killed when the test ends.
// Without a redis-server the test fails under CI and is skipped elsewhere.
func StartProcess(t testing.TB) *Process {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "no redis-server to start: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	p := &Process{t: t, bin: bin, dir: t.TempDir(), port: port}
	p.Start()
	t.Cleanup(p.Kill)
	return p
}

// Addr is the server's host:port.
func (p *Process) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// URL is the server's redis:// URL.
func (p *Process) URL() string { return "redis://" + p.Addr() + "/0" }

// Start runs the server and waits until it answers.
func (p *Process) Start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--dir", p.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always")
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: p.Addr()})
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
			p.t.Fatalf("redis-server did not start on %s: %v", p.Addr(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill stops the server without warning, perhaps in the middle of a
// transaction.
func (p *Process) Kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}
