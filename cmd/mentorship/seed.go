package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/internal/durable"
	"github.com/mentorship/mentorship/seed"
)

// seedCmd fills an empty data directory with a generated program: the demo
// program, whose accounts sign in, a large simulated one, or both. The
// server must be stopped, since the embedded store has one writer.
func seedCmd(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demo := fs.Bool("demo", false, "write the demo program: 12 mentors, 10 mentees, staff and auditor accounts that sign in with the demo password, matches in every state")
	mentors := fs.Int("mentors", 0, "simulated mentors to register (no accounts: they cannot sign in)")
	mentees := fs.Int("mentees", 0, "simulated mentees to register (no accounts: they cannot sign in)")
	events := fs.Int("events", 0, "size of the simulated log to aim for; matches fill what the members' events leave")
	seedValue := fs.Uint64("seed", 1, "seed of the simulation: the same seed and sizes give the same streams")
	days := fs.Int("days", 730, "days of simulated history")
	workers := fs.Int("workers", 8, "commands run at once")
	until := fs.String("until", "", "the simulated present, YYYY-MM-DD: the history ends the day before (default today)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mentorship seed [--demo] [--mentors N --mentees M --events E] [flags]")
		fs.PrintDefaults()
	}
	cfg, err := config.Parse(fs, args, env, logFlags...)
	if err != nil {
		return err
	}
	cfg.LogLevel = "warn"
	bulk := *mentors > 0 || *mentees > 0 || *events > 0
	if !*demo && !bulk {
		fs.Usage()
		return errors.New("seed: nothing to write: give --demo, or --mentors, --mentees and --events")
	}
	if *mentors < 0 || *mentees < 0 || *events < 0 || *days < 1 || *workers < 1 {
		return errors.New("seed: sizes must not be negative, and days and workers at least 1")
	}

	// Fsyncing every commit would make a large program take many times
	// longer; the files are synced once at the end instead.
	store, err := bolt.Open(cfg.DataDir, bolt.Options{NoSync: true})
	if err != nil {
		return fmt.Errorf("seed: %w (stop the server first: the embedded store has one writer)", err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = store.Close()
		}
	}()
	head, err := store.Head(ctx)
	if err != nil {
		return err
	}
	if head != 0 {
		return fmt.Errorf("seed: %s already holds %d events; seed writes into an empty data directory", cfg.DataDir, head)
	}
	keys, closeKeys, err := openKeys(ctx, cfg, store, true)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer closeKeys()
	// Members' personal texts are sealed under their keys from the start.
	log := sealStore(store, keys)
	program := cfg.Program
	end := clock.System{Offset: cfg.ClockOffset}.Now()
	if *until != "" {
		if end, err = time.Parse(time.DateOnly, *until); err != nil {
			return fmt.Errorf("seed: --until %q is not a date such as 2026-11-28", *until)
		}
	}

	if bulk {
		started := time.Now()
		bar := newProgress(stderr, "seed", uint64(max(*events, 1)))
		stats, err := seed.Generate(ctx, log, program, seed.Options{
			Mentors: *mentors, Mentees: *mentees, Events: *events, Seed: *seedValue, Days: *days,
			End: end, Workers: *workers,
			Progress: func(n int) { bar.set(uint64(n)) },
		})
		bar.done()
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		took := time.Since(started)
		printStats(stdout, stats, took)
	}
	if *demo {
		clk := clock.NewFake(clock.System{Offset: cfg.ClockOffset}.Now())
		commands, err := command.New(log, program, clk, command.Options{})
		if err != nil {
			return err
		}
		accounts, closers, err := newAccounts(cfg, newLogger(cfg, stderr), clk, commands)
		if err != nil {
			return err
		}
		creds, err := seed.Demo(ctx, seed.Deps{Commands: commands, Accounts: accounts, Clock: clk})
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		printCredentials(stdout, creds)
	}
	closed = true
	if err := store.Close(); err != nil {
		return err
	}
	// The store skipped fsync while seeding; the files reach the disk now.
	if err := durable.SyncTree(cfg.DataDir); err != nil {
		return fmt.Errorf("seed: sync: %w", err)
	}
	return nil
}

func printStats(w io.Writer, st seed.Stats, took time.Duration) {
	fmt.Fprintf(w, "wrote %d events in %v (%.0f events/s): %d mentors, %d mentees, %d sessions\n",
		st.Events, took.Round(time.Millisecond), float64(st.Events)/max(took.Seconds(), 1e-9), st.Mentors, st.Mentees, st.Sessions)
	var parts []string
	for _, s := range []domain.MatchStatus{domain.StatusPending, domain.StatusActive, domain.StatusDeclined, domain.StatusCancelled, domain.StatusEnded} {
		parts = append(parts, fmt.Sprintf("%d %s", st.Matches[s], strings.ToLower(string(s))))
	}
	fmt.Fprintf(w, "matches: %s\n", strings.Join(parts, ", "))
	if len(st.EndReasons) > 0 {
		parts = parts[:0]
		for _, r := range append(domain.DefaultProgram().EndReasons, domain.EndReasonTermCompleted) {
			parts = append(parts, fmt.Sprintf("%d %s", st.EndReasons[r], r))
		}
		fmt.Fprintf(w, "ended: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w, "simulated members have no accounts and cannot sign in")
}

func printCredentials(w io.Writer, creds seed.Credentials) {
	fmt.Fprintf(w, "\nDemo accounts, all with the password %q:\n\n", creds.Password)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ROLE\tEMAIL\tNAME\tSIGN IN WITH")
	for _, a := range creds.Accounts {
		role := strings.ToLower(string(a.Role))
		fmt.Fprintf(tw, "  %s\t%s\t%s\tlogin%s\n", role, a.Email, a.Name, strings.ToUpper(role[:1])+role[1:])
	}
	_ = tw.Flush()
}
