package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/projections"
)

// replay rebuilds every read model from the log, showing progress, and
// reports how many events it applied and how fast. The server builds its
// read models the same way when it starts.
func replay(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", or(env("MENTORSHIP_DATA_DIR"), "./data"), "data directory (env MENTORSHIP_DATA_DIR)")
	until := fs.Uint64("until", 0, "stop after this global position (0: the whole log)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := bolt.Open(*dataDir, bolt.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	head, err := store.Head(ctx)
	if err != nil {
		return err
	}
	if *until != 0 && eventstore.Position(*until) < head {
		head = eventstore.Position(*until)
	}
	bar := newProgress(stderr, uint64(head))
	started := time.Now()
	n, err := projections.Rebuild(ctx, store, eventstore.Position(*until), func(p eventstore.Position) { bar.set(uint64(p)) },
		projections.NewMembers(), projections.NewMatches())
	bar.done()
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	took := time.Since(started)
	fmt.Fprintf(stdout, "replayed %d events in %v (%.0f events/s)\n", n, took.Round(time.Millisecond), float64(n)/max(took.Seconds(), 1e-9))
	return nil
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
