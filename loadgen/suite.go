package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the results table.
type Row struct {
	// Name says what was measured, such as "mutation" or "subscribers".
	Name string
	// Load says how: clients, a rate, or subscribers.
	Load string
	// Ops and Throughput count the answered operations; zero for fan-out.
	Ops        int
	Throughput float64
	// Latency are the latencies; for fan-out, the deliveries.
	Latency Percentiles
	// Errors counts failures; Note explains them and any limit hit.
	Errors int
	Note   string
}

// RowOf turns a load's result into a table row.
func RowOf(r Result) Row {
	load := fmt.Sprintf("%d clients", r.Config.Clients)
	if r.Config.Rate > 0 {
		load = fmt.Sprintf("%.0f/s open, %d in flight", r.Config.Rate, r.Config.Clients)
	}
	row := Row{Name: r.Config.Workload, Load: load, Ops: r.Ops, Throughput: r.Throughput, Latency: r.Latency, Errors: r.Errors}
	var notes []string
	if len(r.Codes) > 0 {
		var codes []string
		for _, c := range slices.Sorted(maps.Keys(r.Codes)) {
			codes = append(codes, fmt.Sprintf("%s×%d", c, r.Codes[c]))
		}
		notes = append(notes, strings.Join(codes, " "))
	}
	if r.Config.Rate > 0 && (r.Missed > 0 || r.Achieved < 0.95*r.Config.Rate) {
		row.Errors += r.Missed
		row.Throughput = r.Achieved
		notes = append(notes, fmt.Sprintf("overloaded: answered %.0f/s of the %.0f/s asked, latency counts the queue; %d due were never sent", r.Achieved, r.Config.Rate, r.Missed))
		if r.Ops == 0 {
			row.Latency = r.Backlog
			notes = append(notes, "latencies of the warm-up's requests, the only ones answered")
		}
	}
	row.Note = strings.Join(notes, "; ")
	return row
}

// fanOut names the fan-out's row, rawFanOut its baseline's.
const (
	fanOut    = "fan-out"
	rawFanOut = "raw-ws"
)

// RawFanOutRow turns the fan-out baseline's result into a table row.
func RawFanOutRow(r SubscriberResult) Row {
	row := Row{Name: rawFanOut, Load: fmt.Sprintf("%d subscribers", r.Subscribers), Latency: r.Delivery, Errors: r.Failed + r.Lost}
	notes := []string{fmt.Sprintf("baseline: a bare WebSocket broadcast in the generator's process; %d updates, all reached p50 %s p99 %s", r.Updates, ms(r.AllReached.P50), ms(r.AllReached.P99))}
	if r.Note != "" {
		notes = append(notes, r.Note)
	}
	row.Note = strings.Join(notes, "; ")
	return row
}

// SubscriberRow turns a fan-out result into a table row.
func SubscriberRow(r SubscriberResult) Row {
	row := Row{
		Name: fanOut, Load: fmt.Sprintf("%d subscribers", r.Subscribers), Latency: r.Delivery, Errors: r.Failed + r.Lost,
	}
	notes := []string{
		fmt.Sprintf("%d updates, all reached p50 %s p99 %s max %s", r.Updates, ms(r.AllReached.P50), ms(r.AllReached.P99), ms(r.AllReached.Max)),
		fmt.Sprintf("%.1f KiB RSS per idle subscriber (%s → %s), %.1f KiB live Go heap and stacks", r.BytesPerSubscriber/1024, mib(r.RSSBefore), mib(r.RSSAfter), r.HeapPerSubscriber/1024),
	}
	if r.ServerCPUPerUpdate > 0 {
		notes = append(notes, fmt.Sprintf("server CPU %s per update", ms(r.ServerCPUPerUpdate)))
	}
	if r.Failed > 0 || r.Lost > 0 {
		notes = append(notes, fmt.Sprintf("%d never subscribed, %d deliveries lost", r.Failed, r.Lost))
	}
	if r.Note != "" {
		notes = append(notes, r.Note)
	}
	row.Note = strings.Join(notes, "; ")
	return row
}

// PrintTable writes rows as an aligned table.
func PrintTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tload\tops\tops/s\tp50\tp95\tp99\tmax\terrors\tnotes")
	for _, r := range rows {
		ops, tput, p95 := "-", "-", "-"
		if r.Name != fanOut && r.Name != rawFanOut {
			ops, tput = fmt.Sprint(r.Ops), fmt.Sprintf("%.0f", r.Throughput)
			p95 = ms(r.Latency.P95)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Name, r.Load, ops, tput,
			ms(r.Latency.P50), p95, ms(r.Latency.P99), ms(r.Latency.Max), r.Errors, r.Note)
	}
	return tw.Flush()
}

// SuiteOptions describe the benchmark suite.
type SuiteOptions struct {
	// Clients is the closed loops' client count (64 when 0).
	Clients int
	// Rate is the open-loop mutation rate. When it is 0 the rate is
	// Share of the closed-loop mutation throughput just measured, so that
	// the open loop's latency is read at a load the server carries on
	// any machine.
	Rate float64
	// Share is the open loop's share of the closed loop's throughput when
	// Rate is 0 (a quarter when 0).
	Share float64
	// Duration and Warmup time each load (10 s and 2 s when 0).
	Duration, Warmup time.Duration
	// Subscribers is the fan-out's subscriber count (10,000 when 0;
	// negative skips it).
	Subscribers int
	// Updates is how many updates the fan-out times (20 when 0).
	Updates int
	// Log receives progress lines.
	Log io.Writer
}

// RunSuite sets up a fixture and runs the benchmark loads one after the
// other: the raw HTTP baseline, searches and durable mutations with
// Clients clients, mutations at Rate per second (or at Share of the
// closed loop's throughput), and the fan-out to
// Subscribers. It returns one row per load, and the first error; the rows
// measured before it are kept.
func RunSuite(ctx context.Context, t *Target, opts SuiteOptions) ([]Row, error) {
	if opts.Clients <= 0 {
		opts.Clients = 64
	}
	if opts.Share <= 0 {
		opts.Share = 0.25
	}
	if opts.Duration <= 0 {
		opts.Duration = 10 * time.Second
	}
	if opts.Warmup <= 0 {
		opts.Warmup = 2 * time.Second
	}
	if opts.Subscribers == 0 {
		opts.Subscribers = 10000
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	fx, err := NewFixture(ctx, t, FixtureOptions{Pairs: opts.Clients, Log: opts.Log})
	if err != nil {
		return nil, err
	}
	loads := []Config{
		{Workload: Raw, Clients: opts.Clients},
		{Workload: Search, Clients: opts.Clients},
		{Workload: Mutation, Clients: opts.Clients},
		{Workload: Mutation, Clients: opts.Clients, Rate: opts.Rate},
	}
	var rows []Row
	closed := 0.0
	for i, cfg := range loads {
		cfg.Duration, cfg.Warmup, cfg.Seed = opts.Duration, opts.Warmup, uint64(i)
		share := ""
		if cfg.Workload == Mutation && cfg.Rate == 0 && i == len(loads)-1 {
			if closed <= 0 {
				return rows, errors.New("loadgen: no closed-loop mutation throughput to take the open loop's rate from")
			}
			cfg.Rate = math.Round(opts.Share * closed)
			share = fmt.Sprintf(" (%s of the closed loop's %.0f/s)", shareWord(opts.Share), closed)
		}
		fmt.Fprintf(opts.Log, "running %s with %s for %v\n", cfg.Workload, RowOf(Result{Config: cfg}).Load, cfg.Warmup+cfg.Duration)
		res, err := Run(ctx, fx, cfg)
		if err != nil {
			return rows, err
		}
		row := RowOf(res)
		row.Load += share
		rows = append(rows, row)
		if cfg.Workload == Mutation && cfg.Rate == 0 {
			closed = res.Throughput
		}
	}
	if bad, err := fx.Verify(ctx); err != nil {
		return rows, err
	} else if bad > 0 {
		rows[len(rows)-1].Note = strings.TrimPrefix(rows[len(rows)-1].Note+fmt.Sprintf("; %d matches read back fewer sessions than were logged", bad), "; ")
	}
	if opts.Subscribers > 0 {
		fmt.Fprintf(opts.Log, "timing a bare WebSocket broadcast to %d clients\n", opts.Subscribers)
		raw, err := RawFanOut(ctx, opts.Subscribers, opts.Updates)
		if err != nil {
			return rows, err
		}
		rows = append(rows, RawFanOutRow(raw))
		fmt.Fprintf(opts.Log, "holding %d subscribers\n", opts.Subscribers)
		res, err := Subscribers(ctx, fx, SubscriberConfig{Subscribers: opts.Subscribers, Updates: opts.Updates})
		if err != nil {
			return rows, err
		}
		rows = append(rows, SubscriberRow(res))
	}
	return rows, nil
}

// shareWord names a share of the closed loop: "1/4" for 0.25.
func shareWord(s float64) string {
	if inv := 1 / s; math.Abs(inv-math.Round(inv)) < 1e-9 {
		return fmt.Sprintf("1/%.0f", inv)
	}
	return fmt.Sprintf("%.0f%%", s*100)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

func mib(b int64) string {
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}
