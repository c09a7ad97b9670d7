package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/projections"
)

// replay rebuilds every read model from the log, showing progress, and
// reports how many events it applied and how fast. With --out it builds
// them as of a moment (--until a position or an RFC 3339 time) into a
// separate directory: a copy of the log up to that moment, record for
// record, the read models' snapshots, and a copy of the accounts, which
// `serve --read-only --data-dir <out>` then serves for inspection without
// touching the live data.
func replay(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", or(env("MENTORSHIP_DATA_DIR"), "./data"), "data directory (env MENTORSHIP_DATA_DIR)")
	untilArg := fs.String("until", "", "stop after this global position, or after the last event that occurred at or before this RFC 3339 time (empty: the whole log)")
	out := fs.String("out", "", "build the read models as of --until into this new directory, for `serve --read-only`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := bolt.Open(*dataDir, bolt.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	until, err := resolveUntil(ctx, store, *untilArg)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	source := eventstore.Store(store)
	if *out != "" {
		if _, err := store.CopyTo(ctx, *out, until); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		if err := copyFile(filepath.Join(*dataDir, "auth.db"), filepath.Join(*out, "auth.db")); err != nil {
			return fmt.Errorf("replay: copying the accounts: %w", err)
		}
		copied, err := bolt.Open(*out, bolt.Options{})
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		defer copied.Close()
		source = copied
	}
	head, err := source.Head(ctx)
	if err != nil {
		return err
	}
	if until != 0 && until < head {
		head = until
	}
	members, matches := projections.NewMembers(), projections.NewMatches()
	bar := newProgress(stderr, uint64(head))
	started := time.Now()
	n, err := projections.Rebuild(ctx, source, until, func(p eventstore.Position) { bar.set(uint64(p)) }, members, matches)
	bar.done()
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	took := time.Since(started)
	fmt.Fprintf(stdout, "replayed %d events in %v (%.0f events/s)\n", n, took.Round(time.Millisecond), float64(n)/max(took.Seconds(), 1e-9))
	if *out != "" {
		dir := filepath.Join(*out, "snapshots")
		for _, p := range []projections.Projection{members, matches} {
			if _, err := projections.SaveSnapshot(dir, p); err != nil {
				return fmt.Errorf("replay: %w", err)
			}
		}
		fmt.Fprintf(stdout, "read models as of position %d are in %s; serve them with: mentorship serve --read-only --data-dir %s\n", head, *out, *out)
	}
	return nil
}

// resolveUntil reads --until: a position, or a time meaning the log up to
// the last event that occurred at or before it (the log's prefix, so no
// later event is ever included).
func resolveUntil(ctx context.Context, store eventstore.Store, arg string) (eventstore.Position, error) {
	if arg == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(arg, 10, 64); err == nil {
		if n == 0 {
			return 0, errors.New("--until must be a position of 1 or more, or a time")
		}
		return eventstore.Position(n), nil
	}
	t, err := time.Parse(time.RFC3339Nano, arg)
	if err != nil {
		return 0, fmt.Errorf("--until %q is neither a position nor an RFC 3339 time", arg)
	}
	var last eventstore.Position
	from := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, from, 4096)
		if err != nil {
			return 0, err
		}
		if len(page) == 0 {
			break
		}
		for _, ev := range page {
			if ev.Metadata.OccurredAt.After(t) {
				if last == 0 {
					return 0, fmt.Errorf("no event occurred at or before %s", t.Format(time.RFC3339))
				}
				return last, nil
			}
			last = ev.Position
		}
		from = page[len(page)-1].Position
	}
	if last == 0 {
		return 0, errors.New("the log is empty")
	}
	return last, nil
}

// copyFile copies a file that may not exist (a missing one is no error).
func copyFile(from, to string) error {
	src, err := os.Open(from)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		_ = dst.Close()
		return err
	}
	return dst.Close()
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// progress draws a one-line progress bar on a terminal-like writer.
type progress struct {
	w     io.Writer
	total uint64
	last  time.Time
}

func newProgress(w io.Writer, total uint64) *progress { return &progress{w: w, total: total} }

func (p *progress) set(n uint64) {
	if time.Since(p.last) < 100*time.Millisecond && n < p.total {
		return
	}
	p.last = time.Now()
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(min(n, p.total)) / float64(p.total)
	}
	const width = 30
	filled := int(pct / 100 * width)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '='
		}
	}
	fmt.Fprintf(p.w, "\r[%s] %5.1f%% %d/%d", bar, pct, n, p.total)
}

func (p *progress) done() { fmt.Fprintln(p.w) }
