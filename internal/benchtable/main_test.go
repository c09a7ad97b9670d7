package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTableReadsBothOutputs(t *testing.T) {
	dir := t.TempDir()
	bench := filepath.Join(dir, "bench.out")
	load := filepath.Join(dir, "load.out")
	if err := os.WriteFile(bench, []byte(`goos: linux
BenchmarkRawFsync-2            7700     455756 ns/op
BenchmarkAppendSerial-2        7492     571448 ns/op      1750 appends/s
BenchmarkAppendConcurrent/writers=64-2   20000   25223 ns/op   43167 appends/s
BenchmarkAppendConcurrentRawBolt-2       20000   34250 ns/op   29197 appends/s
BenchmarkSearchMentors/in-process-2   35376   69787 ns/op  43.20 hits/query  50.48 p50-µs  285.4 p99-µs
BenchmarkRebuild/baseline=read-raw-2         	       6	 342230333 ns/op	   2000000 events/s
BenchmarkRebuild/rebuild-2                   	       2	1508050924 ns/op	    663108 events/s
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(load, []byte(`workload  load                       ops     ops/s  p50        p95         p99         max         errors  notes
raw       64 clients                 155793  15579  3.33ms     10.85ms     17.36ms     46.93ms     0
search    64 clients                 3917    6000   81.09ms    391.72ms    494.15ms    496.49ms    0
mutation  64 clients                 3917    4000   81.09ms    391.72ms    494.15ms    496.49ms    0
mutation  1000/s open, 64 in flight (1/4 of the closed loop's 4000/s)  10000    1000  1.2ms    2.1ms    4.2ms    6.1ms    0
raw-ws    10000 subscribers          -       -      41.40ms    -           80.5ms      95.95ms     0       baseline: a bare WebSocket broadcast in the generator's process
fan-out   10000 subscribers          -       -      391.40ms   -           120.5ms     1405.95ms   0       20 updates, all reached; 12.5 KiB RSS per idle subscriber (1 MiB → 2 MiB), 14.2 KiB live Go heap and stacks
search-redis  64 clients  1151  2000    40.99ms  474.60ms  638.39ms  716.01ms  0

start             data                                                          ready     RSS     Go heap
empty             no events                                                     177 ms    46 MiB  6 MiB
embedded-first    100000 mentors, 20000 mentees, 400000 events                         1235 ms    64 MiB  13 MiB
redis-cold        100000 mentors, 20000 mentees, 400000 events, empty Redis            4595 ms  63 MiB  10 MiB
redis-warm        100000 mentors, 20000 mentees, 400000 events, Redis kept             590 ms    51 MiB  9 MiB
embedded-first    25000 mentors, 75000 mentees, 1000000 events                         850 ms    87 MiB  19 MiB
embedded-restart  25000 mentors, 75000 mentees, 1000000 events, after a graceful stop  1511 ms    350 MiB  280 MiB
`), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := readBench(bench)
	if err != nil {
		t.Fatal(err)
	}
	l, err := readLoad(load)
	if err != nil {
		t.Fatal(err)
	}
	starts, err := readStarts(load)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	write(&out, rows(b, l, starts))
	verdict := func(prefix string) string {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, prefix) {
				f := strings.Fields(line)
				return f[len(f)-1]
			}
		}
		return ""
	}
	for _, want := range []string{
		"raw bbolt group commit 29197/s (store 1.48 x)",
		"bare WebSocket broadcast p99 80 ms (1.50 x)",
		"4000/s (0.26 x)",
		"6000/s (0.39 x)",
		"raw read 2000000 events/s (rebuild 0.33 x)",
		"empty data directory ready in 177 ms; raw read of 1,000,000 events 500 ms",
		"350 MiB RSS, Go heap 280 MiB",
		"embedded search over HTTP 6000/s (Redis 0.33 x)",
		"embedded, same log, no snapshot: 1235 ms",
		"4595 ms (100000 mentors, 20000 mentees, 400000 events, empty Redis); 590 ms again with Redis kept",
		"p99 4.20 ms at 1000/s open",
		"14.2 KiB live Go heap and stacks",
		"resident set grew 12.5 KiB per subscriber",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the table:\n%s", want, out.String())
		}
	}
	for prefix, want := range map[string]string{
		"durable GraphQL mutations,":       "no",  // 0.26 x raw HTTP
		"searchMentors over HTTP,":         "yes", // 0.39 x raw HTTP
		"mutation p99, open":               "yes", // 4.2 ms
		"searchMentors in process,":        "yes", // 285 µs
		"rebuild from 1,000,000":           "no",  // 0.33 x the raw read
		"the real server ready":            "no",  // 1.5 s
		"one update to":                    "yes", // 1.50 x the bare broadcast
		"memory per idle":                  "yes", // 12.5 KiB
		"the real server's":                "yes", // 350 MiB
		"store appends, 64":                "yes", // 1.48 x the raw group commit
		"Redis read models: searchMentors": "no",  // 0.33 x embedded
		"Redis read models: ready":         "yes", // 4.6 s
		"serial append latency":            "yes", // 1.25 x fsync
	} {
		if got := verdict(prefix); got != want {
			t.Errorf("%s: %q, want %q\n%s", prefix, got, want, out.String())
		}
	}
}

// A row whose measurement is missing says so instead of judging zero.
func TestTableSaysWhatWasNotRun(t *testing.T) {
	var out strings.Builder
	write(&out, rows(benchResults{}, nil, nil))
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		if !strings.HasSuffix(line, "not run") {
			t.Errorf("a row judged without its measurement: %q", line)
		}
	}
}
