package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/loadgen"
)

// A short soak through the command: the mixed load runs in windows while
// the subscribers listen, the server is sampled after each window, every
// subscriber hears the last update, and the table shows the change from
// the first sample to the last.
func TestLoadgenSoakSamplesTheServer(t *testing.T) {
	ts := startServer(t, "", "--signup-limit", "off")
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"loadgen", "--url", ts.URL, "--soak", "3s", "--sample-every", "1s", "--clients", "2", "--subscribers", "20"},
		func(string) string { return "" }, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"goroutines", "open files", "change from", " 0 errors", "subscribers: 20 listening, 0 missed the last update"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("the soak's table lacks %q:\n%s", want, out.String())
		}
	}
}

// The soak's samples read what the server's /metrics says, and the
// subscribers count the updates the load sends to their match.
func TestSoakCountsSubscriptionsAndUpdates(t *testing.T) {
	ts := startServer(t, "", "--signup-limit", "off")
	ctx := context.Background()
	target, err := loadgen.NewTarget(ts.URL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	fx, err := loadgen.NewFixture(ctx, target, loadgen.FixtureOptions{Pairs: 1, Free: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := loadgen.Soak(ctx, fx, loadgen.SoakConfig{Duration: 1500 * time.Millisecond, Every: 500 * time.Millisecond, Subscribers: 10, Clients: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Samples) < 3 || res.Ops == 0 || res.Errors != 0 || res.Subscribers != 10 || res.Dropped != 0 || res.Updates < 10 {
		t.Fatalf("soak: %+v", res)
	}
	if first, last := res.Samples[0], res.Samples[len(res.Samples)-1]; last.Events <= first.Events {
		t.Fatalf("no events appended under the load: %+v then %+v", first, last)
	}
	for _, s := range res.Samples {
		if s.Subscriptions != 10 || s.RSS <= 0 || s.Heap <= 0 || s.GCGoal <= 0 || s.Goroutines <= 0 || s.OpenFiles <= 0 {
			t.Fatalf("sample: %+v", s)
		}
	}
}
