package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mentorship/mentorship/loadgen"
)

// loadgenCmd drives a running server on this machine over HTTP and
// WebSocket and prints throughput and latency percentiles. It registers
// its own members through the API first.
func loadgenCmd(ctx context.Context, args []string, _ func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080", "the running server (loopback addresses only)")
	workload := fs.String("workload", loadgen.Mixed, "raw, search, mutation, mixed, or none (with --subscribers)")
	clients := fs.Int("clients", 64, "clients sending at once; with --rate, requests in flight at most")
	rate := fs.String("rate", "", "send this many requests per second whatever the answers' pace (open loop), such as 5000 or 5000/s; with --suite also a share of the closed loop's mutation throughput such as 25% (the default)")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 2*time.Second, "how long to run before measuring")
	subscribers := fs.Int("subscribers", 0, "hold this many idle WebSocket subscribers to one match and time updates reaching them all")
	updates := fs.Int("updates", 20, "how many updates the subscribers time")
	suite := fs.Bool("suite", false, "run the benchmark set: raw, search and mutation with --clients, mutation at --rate (a quarter of the closed loop's throughput by default), and --subscribers (10000 by default)")
	soak := fs.Duration("soak", 0, "run the mixed workload this long with --subscribers (1000 by default) listening, sampling the server's memory, goroutines and open files every --sample-every; fails on any error or lost subscriber")
	sampleEvery := fs.Duration("sample-every", time.Minute, "how often a soak samples the server")
	seedValue := fs.Uint64("seed", 1, "seed of the operations' random choices")
	ready := fs.Duration("ready-timeout", 2*time.Minute, "how long to wait for the server's /readyz")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadgen: unexpected argument %q", fs.Arg(0))
	}
	perSecond, share, err := parseRate(*rate)
	if err != nil {
		return err
	}
	if share > 0 && !*suite {
		return fmt.Errorf("loadgen: --rate %q is a share of the closed loop's throughput, which only --suite measures; give a rate such as 5000/s", *rate)
	}
	if *clients < 1 || *duration <= 0 || *warmup < 0 || *subscribers < 0 || *updates < 1 {
		return errors.New("loadgen: --clients, --duration and --updates must be positive, --warmup and --subscribers not negative")
	}
	if !*suite && *workload != "none" && !slices.Contains(loadgen.Workloads, *workload) {
		return fmt.Errorf("loadgen: unknown workload %q (want %s or none)", *workload, strings.Join(loadgen.Workloads, ", "))
	}
	target, err := loadgen.NewTarget(*url, *clients)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := target.WaitReady(ctx, *ready); err != nil {
		return err
	}

	if *soak > 0 {
		return soakCmd(ctx, target, loadgen.SoakConfig{
			Duration: *soak, Every: *sampleEvery, Subscribers: *subscribers, Clients: *clients, Rate: perSecond, Seed: *seedValue, Log: stderr,
		}, stdout, stderr)
	}
	if *suite {
		subs := *subscribers
		if subs == 0 {
			subs = 10000
		}
		rows, err := loadgen.RunSuite(ctx, target, loadgen.SuiteOptions{
			Clients: *clients, Rate: perSecond, Share: share, Duration: *duration, Warmup: *warmup,
			Subscribers: subs, Updates: *updates, Log: stderr,
		})
		if perr := loadgen.PrintTable(stdout, rows); err == nil {
			err = perr
		}
		return err
	}

	opts := loadgen.FixtureOptions{Log: stderr}
	switch *workload {
	case loadgen.Mutation:
		opts.Pairs = *clients
	case loadgen.Mixed:
		opts.Pairs, opts.Free = *clients, *clients
	case loadgen.Search:
		opts.Free = 1
	}
	if *subscribers > 0 {
		opts.Pairs = max(opts.Pairs, 1)
	}
	fx, err := loadgen.NewFixture(ctx, target, opts)
	if err != nil {
		return err
	}
	var rows []loadgen.Row
	if *workload != "none" {
		fmt.Fprintf(stderr, "running %s for %v\n", *workload, *warmup+*duration)
		res, err := loadgen.Run(ctx, fx, loadgen.Config{
			Workload: *workload, Clients: *clients, Rate: perSecond, Duration: *duration, Warmup: *warmup, Seed: *seedValue,
		})
		if err != nil {
			return err
		}
		rows = append(rows, loadgen.RowOf(res))
	}
	if *subscribers > 0 {
		fmt.Fprintf(stderr, "holding %d subscribers\n", *subscribers)
		res, err := loadgen.Subscribers(ctx, fx, loadgen.SubscriberConfig{Subscribers: *subscribers, Updates: *updates})
		if err != nil {
			return err
		}
		rows = append(rows, loadgen.SubscriberRow(res))
	}
	return loadgen.PrintTable(stdout, rows)
}

// soakCmd sets up a fixture for the mixed load and the subscribers, runs
// the soak and prints its table. Any failed operation or subscriber that
// stopped hearing updates fails the soak.
func soakCmd(ctx context.Context, target *loadgen.Target, cfg loadgen.SoakConfig, stdout, stderr io.Writer) error {
	fx, err := loadgen.NewFixture(ctx, target, loadgen.FixtureOptions{Pairs: cfg.Clients, Free: cfg.Clients, Log: stderr})
	if err != nil {
		return err
	}
	res, err := loadgen.Soak(ctx, fx, cfg)
	if perr := loadgen.PrintSoak(stdout, res); err == nil {
		err = perr
	}
	if err == nil && (res.Errors > 0 || res.Dropped > 0) {
		err = fmt.Errorf("loadgen: the soak saw %d failed operations and %d subscribers that missed the last update", res.Errors, res.Dropped)
	}
	return err
}

// parseRate reads "5000" or "5000/s" as a rate, and "25%" as a share of
// the closed loop's throughput; empty means neither.
func parseRate(s string) (rate, share float64, err error) {
	if s == "" {
		return 0, 0, nil
	}
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(pct, 64)
		if err != nil || v <= 0 || v > 100 {
			return 0, 0, fmt.Errorf("loadgen: --rate %q is not a share between 0 and 100%% such as 25%%", s)
		}
		return 0, v / 100, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "/s"), 64)
	if err != nil || v <= 0 {
		return 0, 0, fmt.Errorf("loadgen: --rate %q is not a rate such as 5000 or 5000/s, or a share such as 25%%", s)
	}
	return v, 0, nil
}
