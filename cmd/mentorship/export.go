package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
)

// exportEvents writes events from the log as NDJSON or CSV, filtered by
// match, member, type and time, to a file or standard output, showing
// progress on standard error. Session notes and values are never written
// (see package audit). It opens the store itself, so it runs while the
// server is stopped; a running server offers the same export at
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
	w, commit, abort, err := output(*out, stdout)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var bar *progress
	stats, err := audit.Export(ctx, store, w, f, filter, audit.Options{
		Progress: func(done, total eventstore.Position) {
			if bar == nil {
				bar = newProgress(stderr, uint64(total))
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
