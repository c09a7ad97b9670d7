package projections_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// postgresBaseline runs the same searches as PostgreSQL full-text queries
// over the same biographies (a GIN index on to_tsvector('simple', bio),
// which like the read model matches whole words without stemming, and an
// index on the two filters), and reports PostgreSQL's own execution time
// of each (EXPLAIN ANALYZE), which leaves out the client round trip. It
// drives the psql client, so that the baseline needs no driver in the
// module; it is skipped, saying why, where PostgreSQL is not reachable at
// 127.0.0.1:5432.
func postgresBaseline(b *testing.B, sw *searchWorld) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		b.Skipf("PostgreSQL baseline skipped: no psql client: %v", err)
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		b.Skipf("PostgreSQL baseline skipped: PostgreSQL is not reachable at 127.0.0.1:5432: %v", err)
	}
	_ = conn.Close()
	run := func(script string) string {
		cmd := exec.Command(psql, "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("psql: %v: %s", err, out)
		}
		return string(out)
	}
	table := fmt.Sprintf("mentor_search_bench_%d", os.Getpid())
	var setup strings.Builder
	fmt.Fprintf(&setup, "DROP TABLE IF EXISTS %s;\n", table)
	fmt.Fprintf(&setup, "CREATE TABLE %s (id int PRIMARY KEY, name text, discipline text, province text, bio text,"+
		" tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', bio)) STORED);\n", table)
	fmt.Fprintf(&setup, "COPY %s (id, name, discipline, province, bio) FROM STDIN WITH (FORMAT csv);\n", table)
	csv := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	for _, m := range sw.bios {
		fmt.Fprintf(&setup, "%d,%s,%s,%s,%s\n", m.id, csv(m.name), csv(m.discipline), csv(m.province), csv(m.bio))
	}
	setup.WriteString("\\.\n")
	fmt.Fprintf(&setup, "CREATE INDEX ON %s USING gin (tsv);\nCREATE INDEX ON %s (discipline, province);\nANALYZE %s;\n", table, table, table)
	run(setup.String())
	defer run(fmt.Sprintf("DROP TABLE IF EXISTS %s;\n", table))

	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var queries strings.Builder
	const n = 1000
	for _, q := range sw.queries[:min(n, len(sw.queries))] {
		fmt.Fprintf(&queries, "EXPLAIN (ANALYZE, TIMING OFF) SELECT id, name, count(*) OVER () FROM %s"+
			" WHERE tsv @@ plainto_tsquery('simple', %s) AND discipline = ANY(ARRAY[%s]) AND province = ANY(ARRAY[%s])"+
			" ORDER BY name, id LIMIT 21;\n", table, lit(q.Words), lit(q.Disciplines[0]), lit(q.Provinces[0]))
	}
	var lat []time.Duration
	for b.Loop() {
		lat = lat[:0]
		for _, line := range strings.Split(run(queries.String()), "\n") {
			if ms, ok := strings.CutPrefix(strings.TrimSpace(line), "Execution Time: "); ok {
				v, err := strconv.ParseFloat(strings.TrimSuffix(ms, " ms"), 64)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Duration(v*float64(time.Millisecond)))
			}
		}
	}
	if len(lat) == 0 {
		b.Fatal("PostgreSQL reported no execution times")
	}
	p50, p99 := percentiles(lat)
	b.ReportMetric(float64(p50.Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(p99.Nanoseconds())/1e3, "p99-µs")
}
