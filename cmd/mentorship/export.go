package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
)

// exportEvents writes events from the log as NDJSON or CSV, filtered by
// match, member, type and time, to a file or standard output, showing
// progress on standard error. Events are written as auditors see them
// (no contact details, login emails, biographies, messages, notes or file
// names) unless the operator gives --reason, which is recorded as an event
// before the personal fields are written. Session notes and values are
// never written (see package audit). It opens the store itself, so it runs
// while the server is stopped; a running server offers the same export at
// GET /audit/export.
func exportEvents(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", string(audit.NDJSON), "output format: ndjson or csv")
	match := fs.String("match", "", "only the events of this match (its ID)")
	member := fs.String("member", "", "only the events that name this member (its ID)")
	var types stringList
	fs.Var(&types, "type", "only events of this type (repeat the flag or separate types with commas)")
	from := fs.String("from", "", "only events that occurred at or after this RFC 3339 time")
	to := fs.String("to", "", "only events that occurred before this RFC 3339 time")
	out := fs.String("out", "-", "file to write, replaced only once the export is complete (- for standard output)")
	reason := fs.String("reason", "", "why the export needs the members' personal fields: recorded as an event, then they are written")
	cfg, err := config.Parse(fs, args, env, logFlags...)
	if err != nil {
		return err
	}
	q := audit.Query{Format: *format, Match: *match, Member: *member, Types: types, From: *from, To: *to}
	f, filter, err := q.Parse()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}

	store, err := openLog(ctx, cfg, bolt.Options{})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer store.Close()
	keys, closeKeys, err := openKeys(ctx, cfg, store, false)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer closeKeys()
	store = sealStore(store, keys)
	personal := false
	fs.Visit(func(f *flag.Flag) { personal = personal || f.Name == "reason" })
	if personal {
		commands, err := command.New(store, cfg.Program, clock.System{Offset: cfg.ClockOffset}, command.Options{})
		if err != nil {
			return err
		}
		if _, err := commands.RevealPersonalData(ctx, command.Request{Actor: domain.SystemActor()}, *reason, exportScope(q, *out)); err != nil {
			return fmt.Errorf("export: the reason for the personal fields was not recorded, so they are not written: %w", err)
		}
	}
	w, commit, abort, err := output(*out, stdout)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var bar *progress
	stats, err := audit.Export(ctx, store, w, f, filter, audit.Options{
		Personal: personal,
		Progress: func(done, total eventstore.Position) {
			if bar == nil {
				bar = newProgress(stderr, "export", uint64(total))
			}
			bar.set(uint64(done))
		},
	})
	if bar != nil {
		bar.done()
	}
	if err == nil {
		err = commit()
	}
	if err != nil {
		abort()
		return err
	}
	fmt.Fprintf(stderr, "exported %d events of the log up to position %d\n", stats.Events, stats.Head)
	return nil
}

// exportScope says what an export writes, for the record of its reason.
func exportScope(q audit.Query, out string) string {
	parts := []string{"format=" + q.Format}
	for name, v := range map[string]string{"match": q.Match, "member": q.Member, "from": q.From, "to": q.To} {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	for _, t := range q.Types {
		parts = append(parts, "type="+t)
	}
	slices.Sort(parts[1:])
	return "command line: " + strings.Join(parts, "&") + " to " + out
}

// output opens where an export goes. A file is written under a temporary
// name next to it and renamed by commit, so that a failed export never
// leaves a partial file that looks whole; abort removes it.
func output(path string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "-" || path == "" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return nil, nil, nil, err
	}
	commit = func() error {
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(f.Name(), path)
	}
	abort = func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	return f, commit, abort, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*l = append(*l, s)
	return nil
}
