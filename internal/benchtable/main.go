// Command benchtable prints the one table `make bench` ends with: each
// performance target of the design beside its measured value and the
// baseline measured in the same run, read from the Go benchmarks' output
// and the load generator's table.
//
//	go run ./internal/benchtable bench.out load.out
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: benchtable BENCH_OUTPUT LOADGEN_OUTPUT")
		os.Exit(2)
	}
	bench, err := readBench(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	load, err := readLoad(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	write(os.Stdout, rows(bench, load))
}

// benchResults are the metrics of each Go benchmark by name (without the
// -N suffix) and unit.
type benchResults map[string]map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func readBench(path string) (benchResults, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := benchResults{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				metrics[fields[i+1]] = v
			}
		}
		out[m[1]] = metrics
	}
	return out, sc.Err()
}

func (b benchResults) get(name, unit string) (float64, bool) {
	v, ok := b[name][unit]
	return v, ok
}

// loadRow is one row of the load generator's table.
type loadRow struct {
	workload, load string
	opsPerSec      float64
	p99            float64 // milliseconds
	notes          string
}

var columns = regexp.MustCompile(`\s{2,}`)

func readLoad(path string) ([]loadRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []loadRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := columns.Split(strings.TrimSpace(sc.Text()), -1)
		if len(cols) < 8 || cols[0] == "workload" {
			continue
		}
		switch cols[0] {
		case "raw", "search", "mutation", "fan-out", "raw-ws":
		default:
			continue
		}
		r := loadRow{workload: cols[0], load: cols[1], p99: millis(cols[6])}
		r.opsPerSec, _ = strconv.ParseFloat(cols[3], 64)
		if len(cols) > 9 {
			r.notes = strings.Join(cols[9:], " ")
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// millis reads a duration such as 3.33ms or 1.2s in milliseconds; -1 when
// there is none.
func millis(s string) float64 {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"ms", 1}, {"µs", 1e-3}, {"us", 1e-3}, {"ns", 1e-6}, {"s", 1e3}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f * u.scale
			}
		}
	}
	return -1
}

func find(rows []loadRow, workload, loadPrefix string) (loadRow, bool) {
	for _, r := range rows {
		if r.workload == workload && strings.HasPrefix(r.load, loadPrefix) {
			return r, true
		}
	}
	return loadRow{}, false
}

// row is one line of the summary.
type row struct {
	what, target, measured, baseline, met string
}

var perSubscriber = regexp.MustCompile(`([\d.]+) KiB RSS per idle subscriber`)

func rows(b benchResults, load []loadRow) []row {
	var out []row
	add := func(what, target, measured, baseline string, met bool, known bool) {
		verdict := "no"
		switch {
		case !known:
			verdict, measured = "not run", "-"
		case met:
			verdict = "yes"
		}
		out = append(out, row{what, target, measured, baseline, verdict})
	}
	raw, rawOK := find(load, "raw", "")
	rawBase := "-"
	if rawOK {
		rawBase = fmt.Sprintf("raw loopback HTTP %.0f/s, p99 %.2f ms", raw.opsPerSec, raw.p99)
	}
	m, ok := find(load, "mutation", "64 clients")
	add("durable GraphQL mutations, 64 clients", ">= 20,000/s", fmt.Sprintf("%.0f/s, p99 %.2f ms", m.opsPerSec, m.p99), rawBase, ok && m.opsPerSec >= 20000, ok)
	m, ok = find(load, "mutation", "5000/s")
	add("mutation p99 at 5,000/s offered", "< 5 ms", fmt.Sprintf("p99 %.2f ms, answered %.0f/s", m.p99, m.opsPerSec), rawBase, ok && m.p99 >= 0 && m.p99 < 5 && m.opsPerSec >= 4900, ok)
	s, ok := find(load, "search", "")
	add("searchMentors over HTTP, 64 clients", ">= 15,000/s", fmt.Sprintf("%.0f/s, p99 %.2f ms", s.opsPerSec, s.p99), rawBase, ok && s.opsPerSec >= 15000, ok)
	p99, ok := b.get("BenchmarkSearchMentors/in-process", "p99-µs")
	pg := "-"
	if v, ok := b.get("BenchmarkSearchMentors/baseline=postgresql", "p99-µs"); ok {
		pg = fmt.Sprintf("PostgreSQL full-text p99 %.0f µs", v)
	}
	add("searchMentors in process, 100,000 mentors", "p99 < 1 ms", fmt.Sprintf("p99 %.0f µs", p99), pg, ok && p99 < 1000, ok)
	if v, ok := b.get("BenchmarkSearchMentors/redis", "p99-µs"); ok {
		add("searchMentors on the Redis read models", "(reported)", fmt.Sprintf("p99 %.0f µs", v), "in process above", true, true)
		out[len(out)-1].met = "-"
	}
	rb, ok := b.get("BenchmarkRebuild/rebuild", "events/s")
	base := "-"
	if v, ok := b.get("BenchmarkRebuild/baseline=read-raw", "events/s"); ok {
		base = fmt.Sprintf("raw read %.0f events/s", v)
	}
	add("rebuild from 1,000,000 events", ">= 1,000,000 events/s", fmt.Sprintf("%.0f events/s", rb), base, ok && rb >= 1e6, ok)
	rs, ok := b.get("BenchmarkRestart/restart", "ms/restart")
	base = "-"
	if v, ok := b.get("BenchmarkRestart/baseline=open-store", "ms/restart"); ok {
		base = fmt.Sprintf("opening the store %.0f ms", v)
	}
	add("restart to ready, 1,000,000 events", "< 1 s", fmt.Sprintf("%.0f ms", rs), base, ok && rs < 1000, ok)
	// The server reads the log through the members' keys, so the same
	// targets hold with the personal texts sealed; the unsealed figures,
	// measured alternately with them, are the baselines.
	rb, ok = b.get("BenchmarkRebuildSealed", "sealed-events/s")
	base = "-"
	if v, bok := b.get("BenchmarkRebuildSealed", "unsealed-events/s"); bok && v > 0 {
		base = fmt.Sprintf("unsealed %.0f events/s (sealed %.2f x)", v, rb/v)
	}
	add("sealed: rebuild from 1,000,000 events", ">= 1,000,000 events/s", fmt.Sprintf("%.0f events/s", rb), base, ok && rb >= 1e6, ok)
	rs, ok = b.get("BenchmarkRestartSealed", "sealed-ms/restart")
	base = "-"
	if v, bok := b.get("BenchmarkRestartSealed", "unsealed-ms/restart"); bok && v > 0 {
		base = fmt.Sprintf("unsealed %.0f ms (sealed %.2f x)", v, rs/v)
	}
	add("sealed: restart to ready, 1,000,000 events", "< 1 s", fmt.Sprintf("%.0f ms", rs), base, ok && rs < 1000, ok)
	f, ok := find(load, "fan-out", "")
	kib := -1.0
	if mm := perSubscriber.FindStringSubmatch(f.notes); mm != nil {
		kib, _ = strconv.ParseFloat(mm[1], 64)
	}
	wsBase := "-"
	if rw, ok := find(load, "raw-ws", ""); ok {
		wsBase = fmt.Sprintf("bare WebSocket broadcast p99 %.0f ms", rw.p99)
	}
	add("one update to 10,000 WebSocket subscribers", "p99 < 250 ms", fmt.Sprintf("p99 %.0f ms", f.p99), wsBase, ok && f.p99 >= 0 && f.p99 < 250, ok)
	add("memory per idle subscriber", "< 16 KiB", fmt.Sprintf("%.1f KiB", kib), "-", ok && kib >= 0 && kib < 16, ok && kib >= 0)
	rss, ok := b.get("BenchmarkMemory/restart", "VmRSS-MiB")
	base = "-"
	if v, ok := b.get("BenchmarkMemory/rebuilt", "VmRSS-MiB"); ok {
		base = fmt.Sprintf("right after a rebuild %.0f MiB", v)
	}
	add("memory, 100,000 profiles + 1,000,000 events", "< 400 MiB RSS", fmt.Sprintf("%.0f MiB after a restart", rss), base, ok && rss < 400, ok)
	// Appends are measured against the fastest group commit on bbolt
	// with the same 64 writers on the same disk, in the same run.
	ap, ok := b.get("BenchmarkAppendConcurrent/writers=64", "appends/s")
	rawBolt, rok := b.get("BenchmarkAppendConcurrentRawBolt", "appends/s")
	base = "-"
	if rok && rawBolt > 0 {
		base = fmt.Sprintf("raw bbolt group commit %.0f/s (store %.2f x)", rawBolt, ap/rawBolt)
	}
	add("store appends, 64 appenders", ">= 0.8 x raw bbolt group commit", fmt.Sprintf("%.0f/s", ap), base, ok && rok && ap >= 0.8*rawBolt, ok && rok)
	base = "-"
	fsync, fok := b.get("BenchmarkRawFsync", "ns/op")
	if fok {
		base = fmt.Sprintf("one fsync %.3f ms", fsync/1e6)
	}
	serial, ok := b.get("BenchmarkAppendSerial", "ns/op")
	add("serial append latency", "<= 1.5 x one fsync", fmt.Sprintf("%.3f ms", serial/1e6), base, ok && fok && serial <= 1.5*fsync, ok && fok)
	return out
}

func write(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "what\ttarget\tmeasured\tsame-run baseline\tmet")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.what, r.target, r.measured, r.baseline, r.met)
	}
	_ = tw.Flush()
}
