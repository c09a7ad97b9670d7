package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/loadgen"
)

// The load generator sets itself up through the API of a real server,
// runs every workload in both loops, and hears each update on every
// subscriber.
func TestLoadgenMeasuresARealServer(t *testing.T) {
	dir := t.TempDir()
	runSeed(t, "--mentors", "40", "--mentees", "40", "--events", "1500", "--data-dir", dir)
	ts := startServer(t, dir)
	ctx := context.Background()
	target, err := loadgen.NewTarget(ts.URL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := target.WaitReady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	fx, err := loadgen.NewFixture(ctx, target, loadgen.FixtureOptions{Pairs: 4, Free: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []loadgen.Config{
		{Workload: loadgen.Raw},
		{Workload: loadgen.Search},
		{Workload: loadgen.Mutation},
		{Workload: loadgen.Mixed},
		{Workload: loadgen.Mutation, Rate: 50},
	} {
		cfg.Clients, cfg.Duration, cfg.Warmup = 4, 700*time.Millisecond, 100*time.Millisecond
		res, err := loadgen.Run(ctx, fx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", cfg.Workload, err)
		}
		l := res.Latency
		if res.Ops == 0 || res.Throughput <= 0 || res.Errors != 0 || res.Missed != 0 {
			t.Errorf("%s at rate %v: %d ops, %.0f/s, %d errors %v, %d missed", cfg.Workload, cfg.Rate, res.Ops, res.Throughput, res.Errors, res.Codes, res.Missed)
		}
		if !(0 < l.P50 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) || l.N != res.Ops {
			t.Errorf("%s: latencies out of order: %+v", cfg.Workload, l)
		}
	}
	if bad, err := fx.Verify(ctx); err != nil || bad != 0 {
		t.Fatalf("read-your-writes: %d matches read back fewer sessions (%v)", bad, err)
	}

	sub, err := loadgen.Subscribers(ctx, fx, loadgen.SubscriberConfig{Subscribers: 5, Updates: 3})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Subscribers != 5 || sub.Failed != 0 || sub.Updates != 3 || sub.Delivered != 15 || sub.Lost != 0 || sub.AllReached.N != 3 {
		t.Fatalf("fan-out: %+v", sub)
	}
	if d := sub.Delivery; !(0 < d.P50 && d.P50 <= d.P99 && d.P99 <= d.Max) || sub.RSSBefore <= 0 || sub.RSSAfter <= 0 {
		t.Fatalf("fan-out figures: %+v", sub)
	}
}

func TestLoadgenCommandPrintsATable(t *testing.T) {
	ts := startServer(t, "")
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"loadgen", "--url", ts.URL, "--workload", "raw", "--clients", "2", "--duration", "300ms", "--warmup", "0s", "--subscribers", "2", "--updates", "2"},
		func(string) string { return "" }, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"workload", "p99", "raw", "2 clients", "fan-out", "2 subscribers", "KiB RSS per idle subscriber"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("the table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLoadgenRefusesOtherHostsAndBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", "http://example.org"}, "loopback"},
		{[]string{"--rate", "fast"}, "--rate"},
		{[]string{"--workload", "everything"}, "unknown workload"},
		{[]string{"--clients", "0"}, "--clients"},
		{[]string{"--rate", "150%", "--suite"}, "share"},
		{[]string{"--rate", "25%", "--workload", "mutation"}, "only --suite"},
	} {
		err := run(context.Background(), append([]string{"loadgen"}, c.args...), func(string) string { return "" }, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error about %s", c.args, err, c.want)
		}
	}
	if r, share, err := parseRate("5000/s"); err != nil || r != 5000 || share != 0 {
		t.Fatalf("5000/s: %v %v %v", r, share, err)
	}
	if r, share, err := parseRate("25%"); err != nil || r != 0 || share != 0.25 {
		t.Fatalf("25%%: %v %v %v", r, share, err)
	}
}

// The suite offers its open loop a quarter of the throughput its closed
// loop of mutations just reached, and says so in the row.
func TestLoadgenSuiteOpensAtAQuarterOfTheClosedLoop(t *testing.T) {
	ts := startServer(t, "")
	ctx := context.Background()
	target, err := loadgen.NewTarget(ts.URL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := target.WaitReady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	rows, err := loadgen.RunSuite(ctx, target, loadgen.SuiteOptions{Clients: 2, Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond, Subscribers: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("want raw, search and two mutation rows, got %+v", rows)
	}
	closed, open := rows[2], rows[3]
	if closed.Name != loadgen.Mutation || open.Name != loadgen.Mutation || closed.Throughput <= 0 {
		t.Fatalf("rows: %+v", rows)
	}
	want := fmt.Sprintf("%.0f/s open, 2 in flight (1/4 of the closed loop's %.0f/s)", math.Round(closed.Throughput/4), closed.Throughput)
	if open.Load != want {
		t.Fatalf("open loop %q, want %q", open.Load, want)
	}
	// A machine busy with other tests may fall behind even a quarter of
	// the pace it just kept, which the row reports as missed sends; only
	// failed answers fail the test.
	if open.Ops == 0 || strings.Contains(open.Note, "×") {
		t.Fatalf("the open loop at a quarter of the closed loop's pace failed: %+v", open)
	}
}
