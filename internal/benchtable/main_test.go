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
BenchmarkRestart/restart-2     1 2652534019 ns/op      2652 ms/restart
BenchmarkRebuildSealed-2       1 9000000000 ns/op   1200000 unsealed-events/s   600000 sealed-events/s   0.5000 sealed/unsealed
BenchmarkRestartSealed-2       1 1700000000 ns/op       800.0 unsealed-ms/restart   900.0 sealed-ms/restart   1.125 sealed/unsealed
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(load, []byte(`workload  load                       ops     ops/s  p50        p95         p99         max         errors  notes
raw       64 clients                 155793  15579  3.33ms     10.85ms     17.36ms     46.93ms     0
mutation  64 clients                 3917    21000  81.09ms    391.72ms    494.15ms    496.49ms    0
raw-ws    10000 subscribers          -       -      41.40ms    -           80.5ms      95.95ms     0       baseline: a bare WebSocket broadcast in the generator's process
fan-out   10000 subscribers          -       -      391.40ms   -           120.5ms     1405.95ms   0       20 updates, all reached; 12.5 KiB RSS per idle subscriber, 50.2 KiB Go heap and stacks
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
	var out strings.Builder
	write(&out, rows(b, l))
	got := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			got[strings.Join(f[:3], " ")] = f[len(f)-1]
		}
	}
	for _, want := range []string{"unsealed 1200000 events/s (sealed 0.50 x)", "unsealed 800 ms (sealed 1.12 x)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q beside the sealed figures:\n%s", want, out.String())
		}
	}
	if !strings.Contains(out.String(), "raw bbolt group commit 29197/s (store 1.48 x)") {
		t.Errorf("no raw bbolt baseline beside the appends:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "bare WebSocket broadcast p99 80 ms") {
		t.Errorf("no fan-out baseline:\n%s", out.String())
	}
	for prefix, want := range map[string]string{
		"durable GraphQL mutations,": "yes", // 21,000/s
		"searchMentors in process,":  "yes", // 285 µs
		"restart to ready,":          "no",  // 2.65 s
		"serial append latency":      "yes", // 1.25 x fsync
		"store appends, 64":          "yes", // 1.48 x the raw group commit
		"searchMentors over HTTP,":   "run", // no search row: "not run"
		"one update to":              "yes", // p99 120.5 ms
		"memory per idle":            "yes", // 12.5 KiB
		"rebuild from 1,000,000":     "run", // not in the output
		"sealed: rebuild from":       "no",  // 600,000 events/s
		"sealed: restart to":         "yes", // 900 ms
	} {
		if got[prefix] != want {
			t.Errorf("%s: %q, want %q\n%s", prefix, got[prefix], want, out.String())
		}
	}
}
