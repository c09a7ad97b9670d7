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

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/projections"
)

// replay rebuilds every read model from the log, showing progress, reports
// how many events it applied and how fast, and writes the rebuilt models as
// the snapshots the next start of the server loads (replacing damaged or
// stale ones). With --out it builds them as of a moment (--until a position
// or an RFC 3339 time) into a separate directory instead: a copy of the log
// up to that moment, record for record, the read models' snapshots, a copy
// of the accounts and a link to the documents, which `serve --read-only
// --data-dir <out>` then serves for inspection without touching the live
// data. Read models kept in Redis are not rebuilt here.
func replay(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	untilArg := fs.String("until", "", "with --out: stop after this global position, or after the last event that occurred at or before this RFC 3339 time (empty: the whole log)")
	out := fs.String("out", "", "build the read models as of --until into this new directory, for `serve --read-only`")
	cfg, err := config.Parse(fs, args, env, logFlags...)
	if err != nil {
		return err
	}
	if *untilArg != "" && *out == "" {
		return errors.New("replay: --until needs --out: the live read models always follow the whole log")
	}
	if *out != "" && cfg.KurrentDBURL != "" {
		return errors.New("replay: --out copies the embedded store's log record for record; it does not read KurrentDB")
	}
	store, err := openLog(ctx, cfg, bolt.Options{})
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer store.Close()
	keys, closeKeys, err := openKeys(ctx, cfg, store, false)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer closeKeys()
	raw := store
	store = sealStore(store, keys)
	until, err := resolveUntil(ctx, store, *untilArg)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	source, snapshots := store, filepath.Join(cfg.DataDir, "snapshots")
	if *out != "" {
		copied, err := copyAsOf(ctx, raw.(*bolt.Store), cfg.DataDir, *out, until)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		defer copied.Close()
		source, snapshots = sealStore(copied, keys), filepath.Join(*out, "snapshots")
	}
	head, err := source.Head(ctx)
	if err != nil {
		return err
	}
	members, matches, reports := projections.NewMembers(), projections.NewMatches(), projections.NewReports(cfg.Program.Location)
	bar := newProgress(stderr, "replay", uint64(head))
	started := time.Now()
	n, err := follow.Rebuild(ctx, source, 0, func(p eventstore.Position) { bar.set(uint64(p)) }, members, matches, reports)
	bar.done()
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	took := time.Since(started)
	fmt.Fprintf(stdout, "replayed %d events in %v (%.0f events/s)\n", n, took.Round(time.Millisecond), float64(n)/max(took.Seconds(), 1e-9))
	for _, p := range []projections.Projection{members, matches, reports} {
		if _, err := projections.SaveSnapshot(snapshots, p); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	if *out != "" {
		fmt.Fprintf(stdout, "read models as of position %d are in %s; serve them with: mentorship serve --read-only --data-dir %s\n", head, *out, *out)
	} else {
		fmt.Fprintf(stdout, "saved the read models as of position %d in %s; the server starts from them\n", head, snapshots)
	}
	return nil
}

// copyAsOf makes out a data directory holding the log up to until, the
// accounts and a link to the documents' bytes, and opens its log. A failed
// copy removes what it made, so that it can be run again.
func copyAsOf(ctx context.Context, store *bolt.Store, dataDir, out string, until eventstore.Position) (_ *bolt.Store, err error) {
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty; --out wants a new directory", out)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(out)
		}
	}()
	if _, err := store.CopyTo(ctx, out, until); err != nil {
		return nil, err
	}
	if err := copyFile(filepath.Join(dataDir, "auth.db"), filepath.Join(out, "auth.db")); err != nil {
		return nil, fmt.Errorf("copying the accounts: %w", err)
	}
	// The copy's events are sealed under the members' keys.
	for _, name := range []string{keysFileName, keyring.MasterKeyFile} {
		if _, err := os.Stat(filepath.Join(dataDir, name)); err == nil {
			if err := copyFile(filepath.Join(dataDir, name), filepath.Join(out, name)); err != nil {
				return nil, fmt.Errorf("copying the keys: %w", err)
			}
		}
	}
	// Blobs are content-addressed and never changed in place, so the copy
	// links to the live folder rather than duplicating every document.
	if blobs, err := filepath.Abs(filepath.Join(dataDir, "blobs")); err == nil {
		if _, err := os.Stat(blobs); err == nil {
			if err := os.Symlink(blobs, filepath.Join(out, "blobs")); err != nil {
				return nil, fmt.Errorf("linking the documents: %w", err)
			}
		}
	}
	return bolt.Open(out, bolt.Options{})
}

// resolveUntil reads --until: a position, or a time meaning the log up to
// the last event that occurred at or before it (the log's prefix, so no
// later event is ever included).
func resolveUntil(ctx context.Context, store eventstore.Store, arg string) (eventstore.Position, error) {
	if arg == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(arg, 10, 64); err == nil {
		head, err := store.Head(ctx)
		switch {
		case err != nil:
			return 0, err
		case n == 0:
			return 0, errors.New("--until must be a position of 1 or more, or a time")
		case eventstore.Position(n) > head:
			return 0, fmt.Errorf("--until %d is past the end of the log at position %d", n, head)
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
