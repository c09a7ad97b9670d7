package redistest

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Nodes is a Redis Cluster of several redis-server processes of the test's
// own: primaries that share the 16,384 hash slots, each with replicas,
// created by redis-cli --cluster create as an operator would. A test may
// kill a primary without warning to force a failover. The processes are
// killed when the test ends.
type Nodes struct {
	t        testing.TB
	replicas int
	Client   *redis.ClusterClient
	procs    map[string]*node
}

type node struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// NodeTimeout is how long the cluster takes a silent primary for failed,
// after which one of its replicas takes over.
const NodeTimeout = 1 * time.Second

// StartCluster starts primaries × (1 + replicas) nodes and creates the
// cluster. Without redis-server and redis-cli the test fails under CI and
// is skipped elsewhere.
func StartCluster(t testing.TB, primaries, replicas int) *Nodes {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "no redis-server to start cluster nodes: %v", err)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		missing(t, "no redis-cli to create a cluster: %v", err)
	}
	n := &Nodes{t: t, replicas: replicas, procs: map[string]*node{}}
	t.Cleanup(func() {
		if n.Client != nil {
			_ = n.Client.Close()
		}
		for _, p := range n.procs {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var addrs []string
	for range primaries * (1 + replicas) {
		addrs = append(addrs, n.startNode(ctx, bin))
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	n.Client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 16})
	n.WaitHealthy(ctx)
	return n
}

// startNode starts one cluster node on a free port and waits until it
// answers; a node that exits at once (another process took the port
// between the probe and the start) is started again on another port.
func (n *Nodes) startNode(ctx context.Context, bin string) string {
	n.t.Helper()
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			n.t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		dir := n.t.TempDir()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-node-timeout", strconv.Itoa(int(NodeTimeout/time.Millisecond)),
			"--dir", dir, "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0")
		if err := cmd.Start(); err != nil {
			n.t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		addr := "127.0.0.1:" + strconv.Itoa(port)
		c := redis.NewClient(&redis.Options{Addr: addr})
		for {
			if c.Ping(ctx).Err() == nil {
				_ = c.Close()
				n.procs[addr] = &node{cmd: cmd, exited: exited}
				return addr
			}
			select {
			case <-exited:
			case <-ctx.Done():
				_ = c.Close()
				n.t.Fatalf("the cluster node on %s did not start", addr)
			case <-time.After(10 * time.Millisecond):
				continue
			}
			break
		}
		_ = c.Close()
		if attempt == 3 {
			n.t.Fatalf("no cluster node started after %d attempts", attempt+1)
		}
	}
}

// WaitHealthy waits until every live node says the cluster is ok, every
// slot has a live primary that the client knows, and every primary's
// replicas are in sync (a replica that never synced does not take over).
func (n *Nodes) WaitHealthy(ctx context.Context) {
	n.t.Helper()
	for {
		ok := true
		for addr := range n.procs {
			c := redis.NewClient(&redis.Options{Addr: addr})
			info, err := c.ClusterInfo(ctx).Result()
			_ = c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				ok = false
				break
			}
		}
		if ok {
			n.Client.ReloadState(ctx)
			err := n.Client.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
				info, err := c.Info(ctx, "replication").Result()
				if err != nil {
					return err
				}
				if n.replicas == 0 {
					return nil
				}
				if strings.Contains(info, "connected_slaves:0") || !strings.Contains(info, "state=online") || strings.Contains(info, "state=wait_bgsave") || strings.Contains(info, "state=send_bulk") {
					return errors.New("replicas not in sync")
				}
				return nil
			})
			if err == nil {
				return
			}
		}
		if ctx.Err() != nil {
			n.t.Fatalf("the cluster did not become healthy: %v", ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PrimaryOf returns the address of the primary that holds key's slot.
func (n *Nodes) PrimaryOf(ctx context.Context, key string) string {
	n.t.Helper()
	slot, err := n.Client.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		n.t.Fatal(err)
	}
	// CLUSTER SLOTS is deprecated in favour of CLUSTER SHARDS as of Redis
	// 7.0, and still answers on every version the tests run against; its
	// answer names each range's primary first, which is all this needs.
	//lint:ignore SA1019 see above
	slots, err := n.Client.ClusterSlots(ctx).Result()
	if err != nil {
		n.t.Fatal(err)
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr
		}
	}
	n.t.Fatalf("no primary holds slot %d", slot)
	return ""
}

// Kill stops a node without warning, as a crash or a lost host would.
func (n *Nodes) Kill(addr string) {
	n.t.Helper()
	p, ok := n.procs[addr]
	if !ok {
		n.t.Fatalf("no node %s", addr)
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	delete(n.procs, addr)
}
