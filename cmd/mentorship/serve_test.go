package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

// testServer is a real server started through run on a free port.
type testServer struct {
	URL     string
	DataDir string
	stop    context.CancelFunc
	done    chan error
}

// testMasterKey is a master key given to test servers that need one.
const testMasterKey = "base64key://AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// startServer runs `mentorship serve` on a free port and waits until it
// listens. The server stops when the test ends.
func startServer(t *testing.T, dataDir string, extra ...string) *testServer {
	t.Helper()
	return startServerLogging(t, dataDir, io.Discard, extra...)
}

// startServerLogging is startServer with the server's log going to logs.
func startServerLogging(t *testing.T, dataDir string, logs io.Writer, extra ...string) *testServer {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	ts := &testServer{DataDir: dataDir, stop: cancel, done: make(chan error, 1)}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json", "--log-level", "warn", "--demo=false"}, extra...)
	// Production and KurrentDB need a master key given to the server.
	if (slices.Contains(extra, "production") || slices.Contains(extra, "--kurrentdb-url")) && !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--master-key-url") }) {
		args = append(args, "--master-key-url", testMasterKey)
	}
	go func() {
		err := run(ctx, args, func(string) string { return "" }, strings.NewReader(""), pw, logs)
		pw.CloseWithError(err)
		ts.done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "http://"); i >= 0 {
			ts.URL = strings.Fields(line[i:])[0]
			break
		}
	}
	if ts.URL == "" {
		cancel()
		t.Fatalf("server did not start: %v", <-ts.done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() { ts.Stop(t) })
	return ts
}

// Stop shuts the server down and checks that it stopped cleanly.
func (ts *testServer) Stop(t *testing.T) {
	t.Helper()
	if ts.stop == nil {
		return
	}
	ts.stop()
	ts.stop = nil
	select {
	case err := <-ts.done:
		if err != nil {
			t.Errorf("server stopped with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("server did not stop within 15 s")
	}
}

// gqlResponse is a GraphQL response with its data left raw.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func postGraphQL(t *testing.T, url, query string, vars map[string]any, header http.Header) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out gqlResponse
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON (%d): %s", res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestServeAnswersHealthMetricsAndGraphQL(t *testing.T) {
	ts := startServer(t, "")
	if code, body := get(t, ts.URL+"/livez"); code != 200 || body != "ok\n" {
		t.Fatalf("/livez: %d %q", code, body)
	}
	if code, body := get(t, ts.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	code, res := postGraphQL(t, ts.URL, `{ version { version goVersion environment } }`, nil, nil)
	if code != 200 || len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"environment":"development"`) {
		t.Fatalf("version query: %d %s %+v", code, res.Data, res.Errors)
	}
	code, body := get(t, ts.URL+"/metrics")
	if code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics: %d", code)
	}

	// A sign-up appends events; the store's metrics count and time them.
	code, res = postGraphQL(t, ts.URL, `mutation { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil, nil)
	if code != 200 || len(res.Errors) > 0 {
		t.Fatalf("sign-up: %d %+v", code, res.Errors)
	}
	_, body = get(t, ts.URL+"/metrics")
	for _, series := range []string{
		`mentorship_eventstore_appends_total{outcome="ok"} `,
		`mentorship_eventstore_events_appended_total `,
		`mentorship_eventstore_append_duration_seconds_count `,
		`mentorship_eventstore_commit_appends_count `,
		`mentorship_eventstore_commit_duration_seconds_count `,
	} {
		if n := metricValue(body, series); n < 1 {
			t.Errorf("/metrics: %s is %v after a sign-up, want at least 1", series, n)
		}
	}
}

// metricValue reads the value of the series that starts with prefix in a
// Prometheus text exposition, or -1 when it is missing.
func metricValue(body, prefix string) float64 {
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

func TestServeStopsOnCancelAndReleasesTheStore(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	ts.Stop(t)
	// The store's lock is gone: a second server opens the same directory.
	startServer(t, dir)
}

func TestSecondServerOnTheSameDataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	startServer(t, dir)
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "another") {
		t.Fatalf("second server: got %v, want a clear lock error", err)
	}
}

func TestUnknownCommandAndBadFlags(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, nil, io.Discard, &stderr); err == nil || !strings.Contains(stderr.String(), "unknown command") {
		t.Fatalf("unknown command: %v %q", err, stderr.String())
	}
	err := run(context.Background(), []string{"serve", "--env", "staging"}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--env") {
		t.Fatalf("bad flag value: %v", err)
	}
}

func TestGraphiQLIsServedFromEmbeddedAssets(t *testing.T) {
	ts := startServer(t, "")
	code, body := get(t, ts.URL+"/")
	if code != 200 || !strings.Contains(body, "assets/graphiql.min.js") || strings.Contains(body, "cdn") {
		t.Fatalf("GraphiQL page: %d", code)
	}
	for _, asset := range []string{"graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"} {
		if code, body := get(t, ts.URL+"/assets/"+asset); code != 200 || len(body) < 1000 {
			t.Fatalf("asset %s: %d, %d bytes", asset, code, len(body))
		}
	}
	prod := startServer(t, "", "--env", "production")
	if code, _ := get(t, prod.URL+"/"); code != 404 {
		t.Fatalf("GraphiQL in production: %d", code)
	}
	_, res := postGraphQL(t, prod.URL, `{ __schema { types { name } } }`, nil, nil)
	if len(res.Errors) == 0 {
		t.Fatal("introspection answered in production")
	}
}

// An event that does not decode stops what reads it, never skipped, and
// /readyz says so with the event's position, so that an orchestrator takes
// the instance out of service.
func TestReadyzReportsAnEventThatDoesNotDecode(t *testing.T) {
	dir := t.TempDir()
	// A first start makes the data directory's member keys, as for any
	// directory a server wrote.
	startServer(t, dir).Stop(t)
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := conformance.Event("Unrelated", map[string]int{"n": 1})
	if _, err := s.Append(ctx, "other", eventstore.NoStream(), good); err != nil {
		t.Fatal(err)
	}
	bad := conformance.Event("MatchRequested", map[string]any{"matchId": 12, "menteeId": "not an ID"})
	res, err := s.Append(ctx, domain.MatchStream(uuid.New()), eventstore.NoStream(), bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, dir)
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get(t, ts.URL+"/readyz")
		if code == http.StatusServiceUnavailable && strings.Contains(body, strconv.FormatUint(uint64(res.LastPosition), 10)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz: %d %q, want 503 naming position %d", code, body, res.LastPosition)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
