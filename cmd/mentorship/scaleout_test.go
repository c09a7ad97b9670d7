package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	redisrm "github.com/mentorship/mentorship/projections/redis"
)

// The child half of the scale-out test: with MENTORSHIP_TEST_CHILD_SERVE
// set, the test binary is a server process, so that the test can kill it
// without warning.
func init() {
	raw := os.Getenv("MENTORSHIP_TEST_CHILD_SERVE")
	if raw == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childServer is `mentorship serve` in a process of its own.
type childServer struct {
	URL  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
	// dir is the server's data directory.
	dir string
}

func startChild(t *testing.T, extra ...string) *childServer {
	t.Helper()
	// The instances share the master key of the members' data keys.
	dir := t.TempDir()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json", "--log-level", "info", "--demo=false", "--master-key-url", testMasterKey}, extra...)
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MENTORSHIP_TEST_CHILD_SERVE="+string(raw))
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childServer{cmd: cmd, logs: logs, dir: dir}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server %d logs:\n%s", cmd.Process.Pid, logs.String())
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "http://"); i >= 0 {
			c.URL = strings.Fields(sc.Text()[i:])[0]
			break
		}
	}
	if c.URL == "" {
		_ = cmd.Wait()
		t.Fatalf("server did not start:\n%s", logs.String())
	}
	go func() { _, _ = bufio.NewReader(stdout).WriteTo(new(bytes.Buffer)) }()
	return c
}

// waitSubscribers waits until a server counts n open subscriptions: a
// subscribe message is handled asynchronously, so a change made right after
// sending it could otherwise come before anyone listens.
func waitSubscribers(t *testing.T, url string, n int) {
	t.Helper()
	want := fmt.Sprintf("mentorship_live_subscriptions %d", n)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get(t, url+"/metrics")
		if strings.Contains(body, want+"\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the metrics", want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitReady waits until a server answers 200 on /readyz: an instance that
// joins keeps its own search index, which catches up with the shared log
// after it listens.
func waitReady(t *testing.T, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, body := get(t, url+"/readyz")
		if status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within %v: %d %s", within, status, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// leaseHolders returns the process IDs holding the projections' leases.
func leaseHolders(t *testing.T, c *goredis.Client, ns string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, p := range []string{"members", "matches"} {
		tok, err := c.Get(context.Background(), redisrm.Key(ns, p, "lease")).Result()
		if err != nil {
			continue
		}
		owner, _, _ := strings.Cut(tok, "#")
		_, pid, _ := strings.Cut(owner, ":")
		out[p], _ = strconv.Atoi(pid)
	}
	return out
}

// Two API instances share one event store (KurrentDB, here its protocol
// test server) and one Redis. A token from one works on the other; a
// mutation through one reaches a subscription on the other; killing the
// instance that projects hands projection to the survivor, and the shared
// read models stay exactly those of the log.
func TestTwoInstancesShareReadModelsAndLiveUpdates(t *testing.T) {
	rc, ns := redistest.Client(t)
	kdb := kurrenttest.New(t)
	shared := []string{"--kurrentdb-url", kdb.ConnectionString(), "--redis-url", redistest.URL(), "--redis-prefix", ns}
	a := startChild(t, shared...)
	b := startChild(t, append(shared, "--workers=false")...)

	mentee := &client{t: t, url: a.URL}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	mentor := &client{t: t, url: b.URL}
	d = mentor.gql(`mutation { registerMentor(input: {name: "Grace", email: "grace@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	mentor.token = dig(d, "registerMentor", "token").(string)
	mentorID := dig(d, "registerMentor", "viewer", "id").(string)
	// Sign-ins are shared: the mentee's token works on b.
	if d := (&client{t: t, url: b.URL, token: mentee.token}).gql(`{ viewer { role } }`, nil); dig(d, "viewer", "role") != "MENTEE" {
		t.Fatalf("the mentee on b: %v", d)
	}

	// The mentor listens on b.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(m map[string]any) {
		if err := wsjson.Write(ctx, conn, m); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + mentor.token}})
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { myMatchUpdates { type match { status } } }`}})
	waitSubscribers(t, b.URL, 1)

	// The mentee asks through a.
	d = mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "Would you mentor me?"}) { match { id status } userErrors { code } } }`, map[string]any{"m": mentorID})
	matchID := dig(d, "requestMatch", "match", "id").(string)
	for {
		var m map[string]any
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			t.Fatalf("no update on b: %v", err)
		}
		if m["type"] == "ping" {
			send(map[string]any{"type": "pong"})
			continue
		}
		if m["type"] != "next" {
			continue
		}
		if got := dig(m["payload"], "data", "myMatchUpdates", "type"); got != "MatchRequested" {
			t.Fatalf("update on b: %v", m)
		}
		break
	}
	// Read-your-writes on b, whoever projects.
	d = mentor.gql(`mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { status } userErrors { code } } }`, map[string]any{"id": matchID})
	if dig(d, "acceptMatch", "match", "status") != "ACTIVE" {
		t.Fatalf("accept on b: %v", d)
	}

	// Kill the instance that projects the matches, without warning.
	holders := leaseHolders(t, rc, ns)
	dead, alive := a, b
	if holders["matches"] == b.cmd.Process.Pid {
		dead, alive = b, a
	} else if holders["matches"] != a.cmd.Process.Pid {
		t.Fatalf("lease holders %v are neither %d nor %d", holders, a.cmd.Process.Pid, b.cmd.Process.Pid)
	}
	if err := dead.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = dead.cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h := leaseHolders(t, rc, ns)
		if h["members"] == alive.cmd.Process.Pid && h["matches"] == alive.cmd.Process.Pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no takeover: holders %v, survivor %d", h, alive.cmd.Process.Pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mentee.url, mentor.url = alive.URL, alive.URL
	today := time.Now().UTC().Format("2006-01-02")
	mentee.gql(`mutation($id: ID!, $d: Date!) { addSession(input: {matchId: $id, date: $d, minutes: 60, value: 4}) { session { id } userErrors { code } } }`, map[string]any{"id": matchID, "d": today})
	if d := mentee.gql(`{ cpdSummary { totalHours } }`, nil); dig(d, "cpdSummary", "totalHours") != float64(1) {
		t.Fatalf("CPD after the takeover: %v", d)
	}

	// The shared read models are exactly those of the log.
	store, err := kurrent.Open(context.Background(), kdb.ConnectionString(), kurrent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, closeKeys, err := openKeys(context.Background(), config.Config{MasterKeyURL: testMasterKey}, store, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeKeys()
	events := readmodeltest.Events(t, sealStore(store, keys))
	rm := redisrm.New(rc, redisrm.Options{Prefix: ns, Logger: zerolog.Nop()})
	got := readmodeltest.Models{Members: rm.Members, Matches: rm.Matches,
		Position: func() (eventstore.Position, error) {
			members, err := rm.Members.Position()
			if err != nil {
				return 0, err
			}
			matches, err := rm.Matches.Position()
			return min(members, matches), err
		}}
	readmodeltest.Compare(t, domain.DefaultProgram(), time.Now(), events, readmodeltest.Reference(t, events), got)
}

// The server runs on a Redis Cluster (one node holding every slot, which
// still refuses commands across slots): sign-ins, the read models and
// read-your-writes work through the cluster client.
func TestServeOnRedisCluster(t *testing.T) {
	c, ns := redistest.Cluster(t)
	addr := c.Options().Addrs[0]
	ts := startServer(t, "", "--redis-url", "redis://"+addr+"?addr="+addr, "--redis-prefix", ns)
	mentee, mentor, mentorID := signUpPair(t, ts.URL)
	if d := mentee.gql(`{ searchMentors { totalCount } }`, nil); dig(d, "searchMentors", "totalCount") != float64(1) {
		t.Fatalf("search on the cluster: %v", d)
	}
	d := mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id status } userErrors { code } } }`, map[string]any{"m": mentorID})
	if dig(d, "requestMatch", "match", "status") != "PENDING" {
		t.Fatalf("request on the cluster: %v", d)
	}
	if d := mentor.gql(`{ myMatches(group: PENDING) { totalCount } }`, nil); dig(d, "myMatches", "totalCount") != float64(1) {
		t.Fatalf("the mentor's view on the cluster: %v", d)
	}
}

// Each instance answers the mentor search from an index of its own that
// follows the log. A profile change made through one instance is found
// by that instance's search as soon as the mutation answers
// (read-your-writes), and by the other's once its index reaches the
// change; a change that removes the word is followed the same way.
func TestSearchFollowsTheLogOnEveryInstance(t *testing.T) {
	_, ns := redistest.Client(t)
	kdb := kurrenttest.New(t)
	shared := []string{"--kurrentdb-url", kdb.ConnectionString(), "--redis-url", redistest.URL(), "--redis-prefix", ns}
	a := startChild(t, shared...)
	b := startChild(t, append(shared, "--workers=false")...)

	mentor := &client{t: t, url: a.URL}
	d := mentor.gql(`mutation { registerMentor(input: {name: "Grace", email: "grace@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentor.token = dig(d, "registerMentor", "token").(string)
	mentee := &client{t: t, url: a.URL}
	d = mentee.gql(`mutation { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)

	found := func(c *client, url, word string) float64 {
		c.url = url
		d := c.gql(`query($w: String) { searchMentors(input: {words: $w}) { totalCount } }`, map[string]any{"w": word})
		n, _ := dig(d, "searchMentors", "totalCount").(float64)
		return n
	}
	eventually := func(url, word string, want float64) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for found(mentee, url, word) != want {
			if time.Now().After(deadline) {
				t.Fatalf("search %q on %s: never %v", word, url, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, step := range []struct{ bio, gone, now string }{
		{"Permafrost and glaciology.", "", "permafrost"},
		{"Tunnels under rivers.", "permafrost", "tunnels"},
	} {
		mentor.url = a.URL
		mentor.gql(`mutation($b: String) { updateProfile(input: {biography: $b}) { userErrors { code } } }`, map[string]any{"b": step.bio})
		// A search through the instance that answered shows the change
		// at once: the mutation waited for that instance's index.
		if n := found(mentee, a.URL, step.now); n != 1 {
			t.Fatalf("search %q on the instance that changed the profile: %v", step.now, n)
		}
		if step.gone != "" {
			if n := found(mentee, a.URL, step.gone); n != 0 {
				t.Fatalf("search %q after the word left the profile: %v", step.gone, n)
			}
		}
		eventually(b.URL, step.now, 1)
		if step.gone != "" {
			eventually(b.URL, step.gone, 0)
		}
	}
}
