package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/config"
)

// errUsage marks errors whose explanation was already printed.
var errUsage = errors.New("usage")

type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []subcommand {
	return []subcommand{
		{"serve", "run the API server", serve},
		{"replay", "rebuild every read model from the log and report the rate", replay},
		{"export", "write events as NDJSON or CSV, by match, member, type and time (no session notes)", exportEvents},
		{"verify", "check every event's checksum and the hash chain, or print the head to publish (--head)", verifyLog},
		{"program", "print the program's settings (lists, windows, term, limits) as a program file", programCmd},
		{"users", "create staff and auditor accounts (users create --role staff|auditor --email ...)", users},
		{"seed", "fill an empty data directory with the demo program or a large simulated one", seedCmd},
		{"backup", "copy the data directory consistently into a new directory, also while the server runs", backupCmd},
		{"migrate", "copy a data directory written before sealing into a new one with members' personal texts sealed", migrateCmd},
		{"health", "probe a running server's /readyz: exit 0 when ready, 1 otherwise (for container health checks)", health},
		{"loadgen", "drive a running server on this machine and print throughput and latency percentiles", loadgenCmd},
	}
}

// run is the whole program behind main, testable with its own arguments,
// environment and output streams.
func run(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], env, stdin, stdout, stderr)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	fmt.Fprintf(stderr, "mentorship: unknown command %q\n\n", args[0])
	usage(stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: mentorship <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mentorship <command> -h' for a command's flags.")
}

// newLogger writes readable lines to a terminal and JSON elsewhere.
func newLogger(cfg config.Config, w io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(cfg.LogLevel)
	console := cfg.LogFormat == "console"
	if cfg.LogFormat == "auto" {
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			console = true
		}
	}
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
