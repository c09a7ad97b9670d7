package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// plainEvery is how often a long command writes a progress line when its
// output is not a terminal (a log, a pipe, a CI job).
const plainEvery = 10 * time.Second

// progress reports how far a long command (seed, replay, export, verify)
// is: a bar with the count, the rate and the time left on a terminal, and
// plain lines every plainEvery otherwise, through progressbar. The count
// never passes the total, and the last frame or line is written once.
type progress struct {
	label string
	total int64
	bar   *progressbar.ProgressBar

	mu       sync.Mutex
	n        int64
	plain    io.Writer // set when w is not a terminal
	every    time.Duration
	lastLine time.Time
	done1    bool
}

// newProgress reports progress towards total events on w under label.
func newProgress(w io.Writer, label string, total uint64) *progress {
	f, ok := w.(*os.File)
	if ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return newProgressBar(w, label, total, true, 0)
	}
	return newProgressBar(w, label, total, false, plainEvery)
}

// newProgressBar is newProgress with the kind of output chosen: a bar
// redrawn in place on a terminal, or a line every every.
func newProgressBar(w io.Writer, label string, total uint64, terminal bool, every time.Duration) *progress {
	p := &progress{label: label, total: int64(max(total, 1)), every: every, lastLine: time.Now()}
	opts := []progressbar.Option{
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100 * time.Millisecond),
	}
	if terminal {
		opts = append(opts, progressbar.OptionSetWriter(w), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	} else {
		// The bar keeps the count and the timing; the lines are written
		// here.
		opts = append(opts, progressbar.OptionSetWriter(io.Discard))
		p.plain = w
	}
	p.bar = progressbar.NewOptions64(p.total, opts...)
	return p
}

// set moves the count to n events, never past the total nor backwards.
func (p *progress) set(n uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := min(int64(min(n, uint64(p.total))), p.total)
	if v <= p.n || p.done1 {
		return
	}
	p.n = v
	_ = p.bar.Set64(v)
	if p.plain != nil && v < p.total && time.Since(p.lastLine) >= p.every {
		p.lastLine = time.Now()
		p.line(false)
	}
}

// done writes the final frame or line, once: the total when the count
// reached it, the count where it stopped otherwise.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done1 {
		return
	}
	p.done1 = true
	if p.n >= p.total {
		_ = p.bar.Finish()
	} else {
		_ = p.bar.Exit()
	}
	if p.plain != nil {
		p.line(true)
	}
}

// line writes one plain progress line.
func (p *progress) line(final bool) {
	st := p.bar.State()
	rate := 0.0
	if st.SecondsSince > 0 {
		rate = float64(p.n) / st.SecondsSince
	}
	pct := 100 * float64(p.n) / float64(p.total)
	elapsed := time.Duration(st.SecondsSince * float64(time.Second)).Round(time.Millisecond)
	if final {
		fmt.Fprintf(p.plain, "%s: %d/%d events (%.1f%%) in %s, %.0f events/s\n", p.label, p.n, p.total, pct, elapsed, rate)
		return
	}
	left := time.Duration(st.SecondsLeft * float64(time.Second)).Round(time.Second)
	fmt.Fprintf(p.plain, "%s: %d/%d events (%.1f%%), %.0f events/s, %s left\n", p.label, p.n, p.total, pct, rate, left)
}
