// Package redistest gives tests a real Redis and a key namespace of their
// own. The server is MENTORSHIP_TEST_REDIS_URL (redis://127.0.0.1:6379/0 when
// unset). A test that needs Redis fails when it cannot reach it under CI
// (CI=true), because there a missing Redis is a broken setup; elsewhere it
// is skipped, so that a developer without Redis can still run the rest.
package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// missing fails the test under CI, where a missing Redis is a broken
// setup, and skips it elsewhere.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if strings.EqualFold(os.Getenv("CI"), "true") {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (set CI=true to make this a failure)", args...)
}

// URL is the Redis the tests use.
func URL() string {
	if u := os.Getenv("MENTORSHIP_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Client connects to the test Redis and returns a client and a namespace no
// other test uses. The namespace's keys are deleted when the test ends.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("test redis url: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		missing(t, "redis at %s is not reachable: %v", URL(), err)
	}
	ns := "test-" + uuid.NewString()[:8]
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, "*"+ns+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		_ = c.Close()
	})
	return c, ns
}

// Cluster starts a one-node Redis Cluster (all 16,384 slots on one
// redis-server in cluster mode) for the test and returns a cluster client
// and a namespace. Cluster mode refuses a multi-key command or script
// whose keys span hash slots even on one node, so it checks a key layout
// the way a real cluster would. The server is stopped when the test ends.
// Without a redis-server binary the test fails under CI=true and is
// skipped elsewhere.
func Cluster(t testing.TB) (*redis.ClusterClient, string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "no redis-server to start a cluster node: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
		"--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--dir", dir, "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	node := redis.NewClient(&redis.Options{Addr: addr})
	defer node.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for node.Ping(ctx).Err() != nil {
		if ctx.Err() != nil {
			t.Fatalf("the cluster node did not start on %s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := node.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("assigning the slots: %v", err)
	}
	for {
		info, err := node.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the cluster did not become ready: %v %q", err, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { _ = c.Close() })
	return c, "test-" + uuid.NewString()[:8]
}
