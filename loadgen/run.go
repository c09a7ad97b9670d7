package loadgen

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mentorship/mentorship/seed"
)

// The workloads.
const (
	// Raw fetches /livez: the server's HTTP floor, a baseline for the rest.
	Raw = "raw"
	// Search runs Find a Mentor searches of one to three biography words
	// and two filters.
	Search = "search"
	// Mutation logs sessions on the clients' matches: durable mutations
	// that answer after the read models applied them.
	Mutation = "mutation"
	// Mixed is a member's day: searches, My Matches, a session logged and
	// read back at once, and match requests withdrawn again.
	Mixed = "mixed"
)

// Workloads lists the workload names.
var Workloads = []string{Raw, Search, Mutation, Mixed}

// Config describes one load.
type Config struct {
	// Workload is one of Workloads.
	Workload string
	// Clients is how many clients send at once (64 when 0). With a rate,
	// it is how many requests may be in flight.
	Clients int
	// Rate, when positive, sends that many requests per second whatever
	// the answers' pace (an open loop); latency then counts from when
	// each request should have been sent, so that a slow server cannot
	// hide its queue. Zero lets each client send its next request when
	// the previous one is answered (a closed loop).
	Rate float64
	// Duration is how long the measured part lasts (10 s when 0).
	Duration time.Duration
	// Warmup is how long the load runs before measuring.
	Warmup time.Duration
	// Seed drives the random choices of searches and operations.
	Seed uint64
}

// Result is what one load measured.
type Result struct {
	Config Config
	// Ops counts the operations answered within the measured window.
	Ops int
	// Errors counts the failed ones among them, by code in Codes.
	Errors int
	Codes  map[string]int
	// Missed counts, in an open loop, the requests due in the window that
	// were never sent because the clients were still busy when it ended.
	Missed int
	// Achieved is, in an open loop, the rate at which the server answered:
	// every answered operation, warm-up included, per second from the
	// start to the last answer. Below Config.Rate, it could not keep up.
	Achieved float64
	// Backlog are, in an open loop whose window saw no answer because the
	// warm-up's queue never drained, the latencies of the warm-up's
	// answered operations.
	Backlog Percentiles
	// Elapsed is the measured window.
	Elapsed time.Duration
	// Throughput is Ops per second of Elapsed.
	Throughput float64
	// Latency are the latencies of the answered operations.
	Latency Percentiles
}

// Percentiles summarize latency samples.
type Percentiles struct {
	// P50, P95 and P99 are the nearest-rank percentiles; Max is the
	// slowest sample.
	P50, P95, P99, Max time.Duration
	// N counts the samples.
	N int
}

// percentiles sorts samples and reads the nearest-rank percentiles.
func percentiles(samples []time.Duration) Percentiles {
	if len(samples) == 0 {
		return Percentiles{}
	}
	slices.Sort(samples)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(samples)) + 0.999999)
		return samples[min(max(i-1, 0), len(samples)-1)]
	}
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: samples[len(samples)-1], N: len(samples)}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x10ad)) }

// op runs one operation as client i.
type op func(ctx context.Context, c *clientState) error

// clientState is what one client keeps between operations.
type clientState struct {
	i       int
	r       *rand.Rand
	pair    *pair
	free    user
	pending string // the free mentee's pending match, when there is one
}

// Run runs cfg's workload against the fixture's server and measures it.
// The fixture must have a pair per client for mutation and mixed, and a
// free mentee per client for mixed.
func Run(ctx context.Context, fx *Fixture, cfg Config) (Result, error) {
	if cfg.Clients <= 0 {
		cfg.Clients = 64
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	operation, err := fx.operation(cfg)
	if err != nil {
		return Result{}, err
	}
	clients := make([]*clientState, cfg.Clients)
	for i := range clients {
		c := &clientState{i: i, r: rand.New(rand.NewPCG(cfg.Seed, uint64(i)))}
		if len(fx.pairs) > 0 {
			c.pair = fx.pairs[i%len(fx.pairs)]
		}
		if len(fx.free) > 0 {
			c.free = fx.free[i%len(fx.free)]
		}
		clients[i] = c
	}
	var res Result
	if cfg.Rate > 0 {
		res = openLoop(ctx, cfg, clients, operation)
	} else {
		res = closedLoop(ctx, cfg, clients, operation)
	}
	res.Config = cfg
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// Withdraw what the mixed load left pending, so that the fixture's
	// mentees can request again in the next load.
	for _, c := range clients {
		if c.pending != "" {
			_ = fx.target.graphql(ctx, c.free.token, cancelQuery, map[string]any{"id": c.pending}, nil)
			c.pending = ""
		}
	}
	return res, nil
}

// sample is one answered operation.
type sample struct {
	latency time.Duration
	err     error
}

// collector gathers the samples of the measured window.
type collector struct {
	mu      sync.Mutex
	samples []time.Duration
	codes   map[string]int
	errors  int
}

func (c *collector) add(s sample) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples = append(c.samples, s.latency)
	if s.err != nil {
		c.errors++
		c.codes[codeOf(s.err)]++
	}
}

func (c *collector) result(window time.Duration) Result {
	res := Result{Ops: len(c.samples), Errors: c.errors, Codes: c.codes, Elapsed: window}
	res.Throughput = float64(res.Ops) / window.Seconds()
	res.Latency = percentiles(c.samples)
	return res
}

// closedLoop lets each client send its next operation when the last one
// is answered, and records those that start in the measured window.
func closedLoop(ctx context.Context, cfg Config, clients []*clientState, operation op) Result {
	col := &collector{codes: map[string]int{}}
	start := time.Now()
	measureFrom, end := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				began := time.Now()
				if !began.Before(end) {
					return
				}
				err := operation(ctx, c)
				if !began.Before(measureFrom) {
					col.add(sample{time.Since(began), err})
				}
			}
		}()
	}
	wg.Wait()
	return col.result(cfg.Duration)
}

// openLoop sends operations at the configured rate on the clients that
// are free, queueing those due while all are busy. Each latency counts
// from when its operation was due. Operations due before the end are
// still sent after it for a grace period; those still queued then count
// as missed, while those in flight are waited for.
func openLoop(ctx context.Context, cfg Config, clients []*clientState, operation op) Result {
	col := &collector{codes: map[string]int{}}
	total := int((cfg.Warmup + cfg.Duration).Seconds() * cfg.Rate)
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	due := make(chan time.Time, min(total, 1<<20))
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	var late atomic.Bool // the grace period is over
	var answered atomic.Int64
	var mu sync.Mutex
	var warm []time.Duration
	var last time.Time

	var wg sync.WaitGroup
	var missed atomic.Int64
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range due {
				if late.Load() || ctx.Err() != nil {
					if !at.Before(measureFrom) {
						missed.Add(1)
					}
					continue
				}
				err := operation(ctx, c)
				now := time.Now()
				answered.Add(1)
				mu.Lock()
				if now.After(last) {
					last = now
				}
				if at.Before(measureFrom) {
					warm = append(warm, now.Sub(at))
				}
				mu.Unlock()
				if !at.Before(measureFrom) {
					col.add(sample{now.Sub(at), err})
				}
			}
		}()
	}
	// The dispatcher wakes often and releases every operation now due.
	for i := 0; i < total && ctx.Err() == nil; {
		now := time.Now()
		for ; i < total; i++ {
			at := start.Add(time.Duration(i) * interval)
			if at.After(now) {
				break
			}
			due <- at
		}
		time.Sleep(min(interval, time.Millisecond))
	}
	close(due)
	grace := time.AfterFunc(openLoopGrace, func() { late.Store(true) })
	wg.Wait()
	grace.Stop()
	res := col.result(cfg.Duration)
	res.Missed = int(missed.Load())
	if n := answered.Load(); n > 0 && last.After(start) {
		res.Achieved = float64(n) / last.Sub(start).Seconds()
	}
	if res.Ops == 0 {
		res.Backlog = percentiles(warm)
	}
	return res
}

// openLoopGrace is how long an open loop keeps sending, after its end, the
// operations that were due before it.
const openLoopGrace = 5 * time.Second

// GraphQL operations of the workloads.
const (
	searchQuery = `query($in: SearchMentorsInput) { searchMentors(input: $in, first: 10) { totalCount edges { node { id name discipline location { city province } } } } }`
	addSession  = `mutation($in: AddSessionInput!) { addSession(input: $in) { session { id } userErrors { code message } } }`
	myMatches   = `{ myMatches(group: ACTIVE) { totalCount edges { node { id status partner { name } termEndsAt } } } }`
	readBack    = `query($id: ID!) { mySessions(matchId: $id, first: 1) { totalCount } }`
	request     = `mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "Would you mentor me?"}) { match { id } userErrors { code message } } }`
	cancelQuery = `mutation($id: ID!) { cancelMatchRequest(input: {matchId: $id}) { match { status } userErrors { code message } } }`
)

var (
	searchTerms = seed.SearchTerms()
	searchDisc  = slices.Sorted(maps.Keys(searchTerms))
	provinces   = []string{"AB", "BC", "MB", "NB", "NL", "NS", "ON", "QC", "SK"}
)

// operation returns the operation of cfg's workload, after checking that
// the fixture has what it needs.
func (fx *Fixture) operation(cfg Config) (op, error) {
	t := fx.target
	needPairs := func() error {
		if len(fx.pairs) < cfg.Clients {
			return fmt.Errorf("loadgen: %s needs a matched pair per client: %d pairs for %d clients", cfg.Workload, len(fx.pairs), cfg.Clients)
		}
		return nil
	}
	switch cfg.Workload {
	case Raw:
		return func(ctx context.Context, _ *clientState) error {
			_, err := t.get(ctx, "/livez")
			return err
		}, nil
	case Search:
		if len(fx.pairs) == 0 && len(fx.free) == 0 {
			return nil, errors.New("loadgen: search needs a signed-in mentee")
		}
		return func(ctx context.Context, c *clientState) error {
			return t.graphql(ctx, fx.searcher(c).token, searchQuery, map[string]any{"in": searchInput(c.r)}, nil)
		}, nil
	case Mutation:
		if err := needPairs(); err != nil {
			return nil, err
		}
		return func(ctx context.Context, c *clientState) error {
			return fx.logSession(ctx, c, false)
		}, nil
	case Mixed:
		if err := needPairs(); err != nil {
			return nil, err
		}
		if len(fx.free) < cfg.Clients || len(fx.mentors) == 0 {
			return nil, fmt.Errorf("loadgen: mixed needs a free mentee per client and mentors to request: %d free mentees for %d clients", len(fx.free), cfg.Clients)
		}
		return func(ctx context.Context, c *clientState) error {
			switch n := c.r.IntN(100); {
			case n < 50:
				return t.graphql(ctx, c.free.token, searchQuery, map[string]any{"in": searchInput(c.r)}, nil)
			case n < 70:
				return t.graphql(ctx, c.pair.mentee.token, myMatches, nil, nil)
			case n < 90:
				return fx.logSession(ctx, c, true)
			default:
				return fx.requestOrCancel(ctx, c)
			}
		}, nil
	}
	return nil, fmt.Errorf("loadgen: unknown workload %q (want %s)", cfg.Workload, strings.Join(Workloads, ", "))
}

func (fx *Fixture) searcher(c *clientState) user {
	if c.pair != nil {
		return c.pair.mentee
	}
	return c.free
}

// searchInput draws a search: one to three words of a discipline's
// biographies, that discipline and a province.
func searchInput(r *rand.Rand) map[string]any {
	d := searchDisc[r.IntN(len(searchDisc))]
	terms := searchTerms[d]
	var words []string
	for _, i := range r.Perm(len(terms))[:min(1+r.IntN(3), len(terms))] {
		words = append(words, terms[i])
	}
	return map[string]any{
		"words":       strings.Join(words, " "),
		"disciplines": []string{d},
		"provinces":   []string{provinces[r.IntN(len(provinces))]},
	}
}

// logSession logs a session on the client's match; with check, it reads
// the match's sessions back at once and fails unless the new one counts.
func (fx *Fixture) logSession(ctx context.Context, c *clientState, check bool) error {
	p := c.pair
	err := fx.target.graphql(ctx, p.mentee.token, addSession, map[string]any{"in": map[string]any{
		"matchId": p.match, "date": p.date, "minutes": 45 + 15*c.r.IntN(4),
		"notes": "Discussed the next steps of the licensing application.", "value": 3 + c.r.IntN(3),
	}}, nil)
	if err != nil {
		return err
	}
	n := p.sessions.Add(1)
	if !check {
		return nil
	}
	var res struct {
		MySessions struct{ TotalCount int64 } `json:"mySessions"`
	}
	if err := fx.target.graphql(ctx, p.mentee.token, readBack, map[string]any{"id": p.match}, &res); err != nil {
		return err
	}
	// Other clients may share the pair and log more at the same time, so
	// the count may be higher, never lower.
	if res.MySessions.TotalCount < n {
		return &OpError{Code: "STALE_READ", Message: fmt.Sprintf("read %d sessions after logging the %dth", res.MySessions.TotalCount, n)}
	}
	return nil
}

// requestOrCancel requests a mentor for the client's free mentee, or
// withdraws the request it made last time.
func (fx *Fixture) requestOrCancel(ctx context.Context, c *clientState) error {
	if c.pending != "" {
		id := c.pending
		c.pending = ""
		return fx.target.graphql(ctx, c.free.token, cancelQuery, map[string]any{"id": id}, nil)
	}
	var res struct {
		RequestMatch struct {
			Match struct{ ID string } `json:"match"`
		} `json:"requestMatch"`
	}
	mentor := fx.mentors[c.r.IntN(len(fx.mentors))]
	if err := fx.target.graphql(ctx, c.free.token, request, map[string]any{"m": mentor}, &res); err != nil {
		return err
	}
	c.pending = res.RequestMatch.Match.ID
	return nil
}

// Verify checks read-your-writes after the loads: each match's session
// count, as the server reads it, is at least the number of sessions the
// loads saw logged (it may be more when an answer was lost after the
// session was stored). It returns how many matches read back fewer.
func (fx *Fixture) Verify(ctx context.Context) (int, error) {
	bad := 0
	for _, p := range fx.pairs {
		var res struct {
			MySessions struct{ TotalCount int64 } `json:"mySessions"`
		}
		if err := fx.target.graphql(ctx, p.mentee.token, readBack, map[string]any{"id": p.match}, &res); err != nil {
			return bad, err
		}
		if res.MySessions.TotalCount < p.sessions.Load() {
			bad++
		}
	}
	return bad, nil
}
