package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentilesAreNearestRank(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	got := percentiles(samples)
	want := Percentiles{P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond, N: 100}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("percentiles (-want +got):\n%s", diff)
	}
	if got := percentiles([]time.Duration{7}); got.P50 != 7 || got.P99 != 7 || got.Max != 7 {
		t.Fatalf("one sample: %+v", got)
	}
	if got := percentiles(nil); got != (Percentiles{}) {
		t.Fatalf("no samples: %+v", got)
	}
}

func TestTargetsAreLoopbackOnly(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9000/", "http://127.3.2.1"} {
		if _, err := NewTarget(u, 1); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://example.org", "http://10.0.0.1:8080", "http://0.0.0.0:8080", "ftp://127.0.0.1", "127.0.0.1:8080", ""} {
		if _, err := NewTarget(u, 1); err == nil {
			t.Errorf("%s: accepted", u)
		}
	}
}

func TestMetricReadsTheUnlabelledValue(t *testing.T) {
	body := []byte("# HELP process_resident_memory_bytes Resident memory size in bytes.\n" +
		"# TYPE process_resident_memory_bytes gauge\n" +
		"process_resident_memory_bytes_total{x=\"1\"} 5\n" +
		"process_resident_memory_bytes 1.2345678e+08\n")
	got, err := metric(body, "process_resident_memory_bytes")
	if err != nil || got != 123456780 {
		t.Fatalf("got %d, %v", got, err)
	}
	if _, err := metric(body, "go_goroutines"); err == nil {
		t.Fatal("a missing metric was found")
	}
}

// CPU seconds keep their fraction, and the fan-out's row shows them per
// update.
func TestServerCPUPerUpdateIsReadAndShown(t *testing.T) {
	got, err := metricFloat([]byte("process_cpu_seconds_total 12.34\n"), "process_cpu_seconds_total")
	if err != nil || got != 12.34 {
		t.Fatalf("got %v, %v", got, err)
	}
	row := SubscriberRow(SubscriberResult{Subscribers: 10, Updates: 2, ServerCPUPerUpdate: 1500 * time.Microsecond})
	if !strings.Contains(row.Note, "server CPU 1.50ms per update") {
		t.Fatalf("note: %s", row.Note)
	}
}

func TestUserErrorsAndGraphQLErrorsFailAnOperation(t *testing.T) {
	answers := map[string]string{
		"refused": `{"data":{"requestMatch":{"match":null,"userErrors":[{"code":"PENDING_REQUEST_EXISTS","message":"no"}]}}}`,
		"error":   `{"errors":[{"message":"sign in","extensions":{"code":"UNAUTHENTICATED"}}],"data":null}`,
		"fine":    `{"data":{"addSession":{"session":{"id":"S"},"userErrors":[]}}}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(answers[r.Header.Get("Authorization")[len("Bearer "):]]))
	}))
	defer srv.Close()
	target, err := NewTarget(srv.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	for token, code := range map[string]string{"refused": "PENDING_REQUEST_EXISTS", "error": "UNAUTHENTICATED", "fine": ""} {
		err := target.graphql(context.Background(), token, "{}", nil, nil)
		if got := ""; err != nil {
			got = codeOf(err)
			if got != code {
				t.Errorf("%s: code %q, want %q", token, got, code)
			}
		} else if code != "" {
			t.Errorf("%s: no error, want %s", token, code)
		}
	}
}

// livez is a server whose /livez answers after a delay and counts calls.
func livez(t *testing.T, delay time.Duration) (*Fixture, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		time.Sleep(delay)
		_, _ = w.Write([]byte("ok\n"))
	}))
	t.Cleanup(srv.Close)
	target, err := NewTarget(srv.URL, 8)
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{target: target}, &calls
}

func TestClosedLoopKeepsEachClientBusy(t *testing.T) {
	fx, calls := livez(t, 2*time.Millisecond)
	res, err := Run(context.Background(), fx, Config{Workload: Raw, Clients: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops == 0 || res.Errors != 0 || res.Throughput <= 0 || int64(res.Ops) > calls.Load() {
		t.Fatalf("result %+v after %d calls", res, calls.Load())
	}
	// Four clients each waiting 2 ms cannot exceed 2,000 operations a
	// second.
	if res.Throughput > 2000 {
		t.Fatalf("throughput %.0f/s beyond what four clients can do", res.Throughput)
	}
	l := res.Latency
	if !(2*time.Millisecond <= l.P50 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) {
		t.Fatalf("latencies %+v", l)
	}
}

// An open loop keeps sending at its rate when the server is slow, and the
// queue shows in the latencies, counted from when each request was due.
func TestOpenLoopCountsFromTheIntendedTime(t *testing.T) {
	fx, _ := livez(t, 20*time.Millisecond)
	res, err := Run(context.Background(), fx, Config{Workload: Raw, Clients: 2, Rate: 400, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Two clients at 20 ms each serve 100 a second of the 400 due: the
	// requests queue, so the later ones wait far longer than 20 ms.
	if res.Ops == 0 || res.Latency.Max < 200*time.Millisecond {
		t.Fatalf("result %+v: the queue does not show", res)
	}
	if res.Ops+res.Missed != 200 {
		t.Fatalf("%d answered and %d missed of the 200 due", res.Ops, res.Missed)
	}
	if res.Achieved < 50 || res.Achieved > 150 {
		t.Fatalf("achieved %.0f/s, want about the 100/s two slow clients serve", res.Achieved)
	}
	if row := RowOf(res); !strings.Contains(row.Note, "overloaded") || row.Throughput != res.Achieved {
		t.Fatalf("the row does not say the server fell behind: %+v", row)
	}

	fast, _ := livez(t, 0)
	res, err = Run(context.Background(), fast, Config{Workload: Raw, Clients: 4, Rate: 200, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 100 || res.Missed != 0 || res.Errors != 0 {
		t.Fatalf("result %+v, want the 100 due in 0.5 s at 200/s", res)
	}
}

func TestWorkloadsCheckTheFixture(t *testing.T) {
	fx, _ := livez(t, 0)
	for _, w := range []string{Search, Mutation, Mixed, "bogus"} {
		if _, err := Run(context.Background(), fx, Config{Workload: w, Clients: 1, Duration: time.Millisecond}); err == nil {
			t.Errorf("%s ran without accounts", w)
		}
	}
	if _, err := Subscribers(context.Background(), fx, SubscriberConfig{Subscribers: 1}); err == nil || !strings.Contains(err.Error(), "pair") {
		t.Fatalf("subscribers without a match: %v", err)
	}
}

func TestFDBudgetLeavesRoomForTheRest(t *testing.T) {
	if n, note := fdBudget(10); n != 10 || note != "" {
		t.Fatalf("10 subscribers: %d %q", n, note)
	}
	n, note := fdBudget(1 << 30)
	if n >= 1<<30 || !strings.Contains(note, "ulimit -n") {
		t.Fatalf("a billion subscribers: %d %q", n, note)
	}
}

// The fan-out baseline connects its clients, delivers every update to each
// and times them.
func TestRawFanOutDeliversEveryUpdate(t *testing.T) {
	res, err := RawFanOut(context.Background(), 50, 5)
	if err != nil {
		t.Fatal(err)
	}
	if res.Subscribers != 50 || res.Updates != 5 || res.Delivered != 250 || res.Lost != 0 || res.Failed != 0 {
		t.Fatalf("result %+v", res)
	}
	if res.Delivery.P99 <= 0 || res.AllReached.Max < res.Delivery.P99 {
		t.Fatalf("timings %+v, %+v", res.Delivery, res.AllReached)
	}
	if row := RawFanOutRow(res); row.Name != "raw-ws" || !strings.Contains(row.Note, "5 updates") {
		t.Fatalf("row %+v", row)
	}
}

// fakeMetrics serves /metrics whose collections count one more every
// perGC reads, with a heap that is swept down to live over the reads after
// each collection and grows by a little with every read.
func fakeMetrics(t *testing.T, perGC int64, live int64) *Fixture {
	t.Helper()
	var reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := reads.Add(1)
		gcs := int64(0)
		if perGC > 0 {
			gcs = n / perGC
		}
		// Unswept garbage goes as the reads since the collection go on;
		// each read leaves 1 KiB.
		since := n
		if perGC > 0 {
			since = n % perGC
		}
		heap := live + since<<10 + max(0, 3-since)*(50<<20)
		fmt.Fprintf(w, "process_resident_memory_bytes %d\ngo_memstats_heap_alloc_bytes %d\ngo_memstats_stack_inuse_bytes %d\ngo_gc_duration_seconds_count %d\n", 1000+n, heap, 4096, gcs)
	}))
	t.Cleanup(srv.Close)
	target, err := NewTarget(srv.URL, 8)
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{target: target}
}

// The memory of the idle subscribers is read after two collections and the
// sweep that follows them, whatever garbage the heap held at the call; the
// resident memory is the call's.
func TestSettledMemoryWaitsForACollectionAndItsSweep(t *testing.T) {
	const live = 100 << 20
	fx := fakeMetrics(t, 200, live)
	m, err := fx.settledMemory(context.Background(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !m.collected || m.gcs < 2 || m.rss != 1001 {
		t.Fatalf("reading %+v, want one after two collections with the first read's RSS", m)
	}
	if garbage := m.live - live - 4096; garbage < 0 || garbage > 64<<10 {
		t.Fatalf("reading %+v holds %d bytes of garbage, want what a few reads left", m, garbage)
	}
}

func TestSettledMemoryGivesUpWithoutACollection(t *testing.T) {
	fx := fakeMetrics(t, 0, 100<<20)
	m, err := fx.settledMemory(context.Background(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if m.collected || m.live == 0 {
		t.Fatalf("reading %+v, want the last one, not collected", m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fx.settledMemory(ctx, time.Second); err == nil {
		t.Fatal("a cancelled measurement returned no error")
	}
}

func TestParseMemoryNeedsEveryFigure(t *testing.T) {
	body := []byte("process_resident_memory_bytes 5e+06\ngo_memstats_heap_alloc_bytes 3e+06\ngo_memstats_stack_inuse_bytes 1e+06\ngo_gc_duration_seconds_count 7\n")
	m, err := parseMemory(body)
	if err != nil || m != (memory{rss: 5e6, live: 4e6, gcs: 7}) {
		t.Fatalf("got %+v, %v", m, err)
	}
	if _, err := parseMemory(body[:bytes.LastIndex(body[:len(body)-1], []byte("\n"))+1]); err == nil {
		t.Fatal("a body without the collections count was read")
	}
}
