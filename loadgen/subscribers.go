package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// SubscriberConfig describes a fan-out measurement.
type SubscriberConfig struct {
	// Subscribers is how many idle WebSocket subscribers to hold. It is
	// lowered to what the open-files limit allows, with a note.
	Subscribers int
	// Updates is how many match updates to time (20 when 0).
	Updates int
	// Timeout bounds the wait for one update to reach every subscriber
	// (10 s when 0).
	Timeout time.Duration
}

// SubscriberResult is what a fan-out measurement found.
type SubscriberResult struct {
	// Subscribers counts the subscribers that were connected and heard
	// the first update; Failed counts those that never did.
	Subscribers int
	Failed      int
	// Updates counts the timed updates; Delivered counts their deliveries
	// and Lost the deliveries that did not arrive within the timeout.
	Updates   int
	Delivered int
	Lost      int
	// Delivery are the times from sending an update's mutation to each
	// subscriber receiving it.
	Delivery Percentiles
	// AllReached are, per update, the times until the last subscriber
	// received it.
	AllReached Percentiles
	// RSSBefore and RSSAfter are the server's resident memory before the
	// subscribers connected and once they were idle, from /metrics.
	RSSBefore, RSSAfter int64
	// BytesPerSubscriber is the growth of the server's resident memory
	// divided by the subscribers. RSS grows only when the process needs
	// pages it does not hold yet, so it undercounts on a server that was
	// busier before, and it counts whatever garbage the heap held when it
	// was read.
	BytesPerSubscriber float64
	// HeapPerSubscriber is the growth of the Go heap and stacks divided by
	// the subscribers, both read just after a garbage collection: what
	// the subscribers keep alive, whatever the process held before and
	// wherever the collector stood.
	HeapPerSubscriber float64
	// ServerCPUPerUpdate is the server's CPU time (user and system, from
	// /metrics) over the timed updates divided by them: each update's
	// mutation and its fan-out to every subscriber; 0 when the server
	// does not report it.
	ServerCPUPerUpdate time.Duration
	// Note says what limited the measurement, when anything did.
	Note string
}

// subscriber is one WebSocket subscribed to the match.
type subscriber struct {
	conn *websocket.Conn
	// got holds, per timed update, when it arrived (Unix nanoseconds); 0
	// until then.
	got []atomic.Int64
	n   atomic.Int32 // timed updates received
	// last is the position of the latest update received; after is the
	// position after which updates are timed (none are until it is set).
	last  atomic.Uint64
	after atomic.Uint64
}

// arrived records an update at position pos.
func (s *subscriber) arrived(pos uint64, now int64) {
	s.last.Store(max(s.last.Load(), pos))
	if after := s.after.Load(); after == 0 || pos <= after {
		return
	}
	if k := int(s.n.Add(1)) - 1; k < len(s.got) {
		s.got[k].Store(now)
	}
}

// Subscribers holds cfg.Subscribers idle graphql-transport-ws subscribers
// to matchUpdated of the fixture's first match, measures the server's
// memory per idle subscriber, then logs sessions on the match one at a time
// and times how long each takes to reach every subscriber.
func Subscribers(ctx context.Context, fx *Fixture, cfg SubscriberConfig) (SubscriberResult, error) {
	if len(fx.pairs) == 0 {
		return SubscriberResult{}, errors.New("loadgen: subscribers need a matched pair")
	}
	if cfg.Updates <= 0 {
		cfg.Updates = 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	var res SubscriberResult
	n, note := fdBudget(cfg.Subscribers)
	res.Note = note
	p := fx.pairs[0]

	before, err := fx.settledMemory(ctx, settleTimeout)
	if err != nil {
		return res, err
	}
	res.RSSBefore = before.rss
	subs, err := fx.connect(ctx, p, n, cfg.Updates)
	defer func() {
		var wg sync.WaitGroup
		for _, s := range subs {
			wg.Add(1)
			go func() { defer wg.Done(); s.conn.CloseNow() }()
		}
		wg.Wait()
	}()
	if err != nil {
		return res, err
	}

	// Untimed updates show which subscriptions are live: a subscription
	// is set up asynchronously, so the first update may come before some
	// are. Updates go on until every subscriber heard one (or a few
	// tries), then every live one waits for the last, and the timed
	// updates are those after it.
	live, last, err := fx.warmUp(ctx, p, subs, cfg.Timeout)
	if err != nil {
		return res, err
	}
	res.Subscribers = len(live)
	res.Failed = len(subs) - len(live)
	if len(live) == 0 {
		return res, errors.New("loadgen: no subscriber heard the first update")
	}
	for _, s := range live {
		s.after.Store(last)
	}
	// Let the server settle before reading its memory.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	after, err := fx.settledMemory(ctx, settleTimeout)
	if err != nil {
		return res, err
	}
	res.RSSAfter = after.rss
	res.BytesPerSubscriber = float64(after.rss-before.rss) / float64(len(live))
	res.HeapPerSubscriber = float64(after.live-before.live) / float64(len(live))
	if !before.collected || !after.collected {
		res.Note = strings.TrimPrefix(res.Note+fmt.Sprintf("; the server did not collect its garbage within %s, so the Go heap figure counts garbage", settleTimeout), "; ")
	}

	cpuBefore, cpuErr := fx.cpuSeconds(ctx)
	err = timeUpdates(ctx, &res, live, 0, cfg.Updates, cfg.Timeout, func(u int) error {
		if err := fx.logSession(ctx, &clientState{pair: p, r: newRand(uint64(u + 1))}, false); err != nil {
			return fmt.Errorf("loadgen: update %d: %w", u+1, err)
		}
		return nil
	})
	if cpuAfter, err := fx.cpuSeconds(ctx); err == nil && cpuErr == nil && res.Updates > 0 {
		res.ServerCPUPerUpdate = time.Duration((cpuAfter - cpuBefore) / float64(res.Updates) * float64(time.Second))
	}
	return res, err
}

// cpuSeconds reads the CPU time the server's process has used.
func (fx *Fixture) cpuSeconds(ctx context.Context) (float64, error) {
	body, err := fx.target.get(ctx, "/metrics")
	if err != nil {
		return 0, fmt.Errorf("loadgen: reading the server's CPU time: %w", err)
	}
	return metricFloat(body, "process_cpu_seconds_total")
}

// timeUpdates sends n updates one at a time, the first being update first
// in the subscribers' arrivals, and records in res how long each took to
// reach each subscriber and, for the updates that reached them all, the
// last of them.
func timeUpdates(ctx context.Context, res *SubscriberResult, subs []*subscriber, first, n int, timeout time.Duration, send func(u int) error) error {
	var delivery, all []time.Duration
	for u := first; u < first+n; u++ {
		sent := time.Now()
		if err := send(u); err != nil {
			return err
		}
		reached := waitAll(ctx, subs, u, sent, timeout)
		res.Lost += len(subs) - len(reached)
		var last time.Duration
		for _, s := range reached {
			d := time.Duration(s.got[u].Load() - sent.UnixNano())
			delivery = append(delivery, d)
			last = max(last, d)
		}
		if len(reached) == len(subs) {
			all = append(all, last)
		}
		res.Updates++
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	res.Delivered = len(delivery)
	res.Delivery = percentiles(delivery)
	res.AllReached = percentiles(all)
	return nil
}

// warmUp logs untimed sessions until every subscriber heard one, at most
// five times, and waits until the live ones heard the last. It returns the
// live subscribers and the last update's position.
func (fx *Fixture) warmUp(ctx context.Context, p *pair, subs []*subscriber, timeout time.Duration) ([]*subscriber, uint64, error) {
	heard := func(s *subscriber) bool { return s.last.Load() != 0 }
	for try := 0; try < 5; try++ {
		if err := fx.logSession(ctx, &clientState{pair: p, r: newRand(uint64(1000 + try))}, false); err != nil {
			return nil, 0, fmt.Errorf("loadgen: first update: %w", err)
		}
		deadline := time.Now().Add(timeout / 5)
		for !all(subs, heard) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		if all(subs, heard) {
			break
		}
	}
	var live []*subscriber
	var last uint64
	for _, s := range subs {
		if heard(s) {
			live = append(live, s)
			last = max(last, s.last.Load())
		}
	}
	deadline := time.Now().Add(timeout)
	for !all(live, func(s *subscriber) bool { return s.last.Load() >= last }) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, 0, errors.New("loadgen: the subscribers did not all hear the last untimed update")
		}
		time.Sleep(time.Millisecond)
	}
	return live, last, ctx.Err()
}

func all(subs []*subscriber, ok func(*subscriber) bool) bool {
	for _, s := range subs {
		if !ok(s) {
			return false
		}
	}
	return true
}

// fdBudget lowers n to what the open-files limit leaves room for: one
// descriptor per subscriber, plus some for everything else.
func fdBudget(n int) (int, string) {
	const spare = 256
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return n, ""
	}
	if limit := int(lim.Cur); n+spare > limit {
		m := max(limit-spare, 1)
		return m, fmt.Sprintf("%d subscribers asked, %d held: the open-files limit (ulimit -n) is %d", n, m, limit)
	}
	return n, ""
}

// connect opens n subscribers; each keeps room for updates arrivals.
func (fx *Fixture) connect(ctx context.Context, p *pair, n, updates int) ([]*subscriber, error) {
	httpClient := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	return connectMany(n, "subscribers", func() (*subscriber, error) { return fx.subscribe(ctx, httpClient, p, updates) })
}

// connectMany opens n connections with open, 64 at a time, and returns
// those that opened, with the first failure of the others.
func connectMany(n int, what string, open func() (*subscriber, error)) ([]*subscriber, error) {
	subs := make([]*subscriber, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			subs[i], errs[i] = open()
		})
	}
	wg.Wait()
	var ok []*subscriber
	var first error
	for i, s := range subs {
		if s != nil {
			ok = append(ok, s)
		} else if first == nil {
			first = errs[i]
		}
	}
	if first != nil {
		return ok, fmt.Errorf("loadgen: %d of %d %s failed to connect, the first with: %w", n-len(ok), n, what, first)
	}
	return ok, nil
}

// subscribe opens one WebSocket, signs it in and subscribes it to the
// match, then reads it until it closes.
func (fx *Fixture) subscribe(ctx context.Context, hc *http.Client, p *pair, updates int) (*subscriber, error) {
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, fx.target.wsURL(), &websocket.DialOptions{
		HTTPClient: hc, Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		return nil, err
	}
	write := func(ctx context.Context, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return conn.Write(ctx, websocket.MessageText, b)
	}
	if err := write(dialCtx, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + p.mentee.token}}); err != nil {
		conn.CloseNow()
		return nil, err
	}
	for {
		typ, err := readType(dialCtx, conn)
		if err != nil {
			conn.CloseNow()
			return nil, err
		}
		if typ == "connection_ack" {
			break
		}
		if typ == "ping" {
			if err := write(dialCtx, map[string]string{"type": "pong"}); err != nil {
				conn.CloseNow()
				return nil, err
			}
		}
	}
	err = write(dialCtx, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { matchUpdated(matchId: $id) { position type } }`,
		"variables": map[string]any{"id": p.match},
	}})
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	s := &subscriber{conn: conn, got: make([]atomic.Int64, updates)}
	go s.read(context.WithoutCancel(ctx), write)
	return s, nil
}

// read records the arrival of each update and answers pings, until the
// connection closes.
func (s *subscriber) read(ctx context.Context, write func(context.Context, any) error) {
	for {
		_, b, err := s.conn.Read(ctx)
		if err != nil {
			return
		}
		var m struct {
			Type    string `json:"type"`
			Payload struct {
				Data struct {
					MatchUpdated struct {
						Position string `json:"position"`
					} `json:"matchUpdated"`
				} `json:"data"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return
		}
		switch m.Type {
		case "next":
			now := time.Now().UnixNano()
			if pos, err := strconv.ParseUint(m.Payload.Data.MatchUpdated.Position, 10, 64); err == nil {
				s.arrived(pos, now)
			}
		case "ping":
			_ = write(ctx, map[string]string{"type": "pong"})
		case "error", "complete":
			return
		}
	}
}

// readType reads one message and returns its type.
func readType(ctx context.Context, conn *websocket.Conn) (string, error) {
	_, b, err := conn.Read(ctx)
	if err != nil {
		return "", err
	}
	var m struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	return m.Type, nil
}

// waitAll waits until every subscriber received update u, or timeout after
// sent, and returns those that did.
func waitAll(ctx context.Context, subs []*subscriber, u int, sent time.Time, timeout time.Duration) []*subscriber {
	deadline := sent.Add(timeout)
	for {
		var reached []*subscriber
		for _, s := range subs {
			if s.got[u].Load() != 0 {
				reached = append(reached, s)
			}
		}
		if len(reached) == len(subs) || time.Now().After(deadline) || ctx.Err() != nil {
			return reached
		}
		time.Sleep(time.Millisecond)
	}
}

// memory is the server's memory as /metrics reports it.
type memory struct {
	rss int64 // resident set size
	// live is the Go heap's allocated bytes, live or garbage not yet
	// swept, and the goroutine stacks in use.
	live int64
	gcs  int64 // garbage collections completed
	// collected says the reading was taken after a collection and its
	// sweep, so that the heap held little garbage.
	collected bool
}

// settleTimeout bounds the wait for the server to collect its garbage.
const settleTimeout = 60 * time.Second

// settleScrapes is how many reads of /metrics are in flight while waiting
// for a collection; settleSweep is how long to wait between reads while
// the collector sweeps, at most settleSweeps times.
const (
	settleScrapes = 4
	settleSweep   = 200 * time.Millisecond
	settleSweeps  = 25
)

// settledMemory reads the server's memory at the call (rss) and after a
// garbage collection that started after it (live). Read at any moment,
// the heap holds the garbage made since the last collection as well, from
// nothing to as much as is live (GOGC=100), and that moved the
// per-subscriber figure by tens of KiB between runs of the same code. An
// idle server collects only when it allocates, so this reads /metrics,
// which allocates a little on the server each time, until the count of
// collections moved twice (one may have been under way at the call, and it
// keeps what was allocated while it marked), then reads again until the
// heap stops shrinking: the collector frees what it found dead as it
// sweeps, after the collection. The garbage left is what the last few
// reads made. Without a collection within timeout it returns the live
// figure of the last reading, not collected.
//
// The resident memory is the call's: the reads themselves grow the heap
// towards the collector's goal, and the pages it takes stay resident.
func (fx *Fixture) settledMemory(ctx context.Context, timeout time.Duration) (memory, error) {
	first, err := fx.memory(ctx)
	if err != nil {
		return memory{}, err
	}
	m, err := fx.afterCollection(ctx, first, timeout)
	if err != nil {
		return memory{}, err
	}
	m.rss = first.rss
	return m, nil
}

// afterCollection reads /metrics until the collections counted are two
// more than first's and the heap stops shrinking, or timeout.
func (fx *Fixture) afterCollection(outer context.Context, first memory, timeout time.Duration) (memory, error) {
	ctx, cancel := context.WithTimeout(outer, timeout)
	defer cancel()
	found := make(chan memory, 1)
	var mu sync.Mutex
	last := first
	var wg sync.WaitGroup
	for range settleScrapes {
		wg.Go(func() {
			for ctx.Err() == nil {
				m, err := fx.memory(ctx)
				if err != nil {
					return
				}
				if m.gcs >= first.gcs+2 {
					select {
					case found <- m:
					default:
					}
					cancel()
					return
				}
				mu.Lock()
				last = m
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var m memory
	select {
	case m = <-found:
	default:
		// The caller's context ending is an error; the timeout is not.
		if err := outer.Err(); err != nil {
			return memory{}, err
		}
		return last, nil
	}
	for range settleSweeps {
		select {
		case <-time.After(settleSweep):
		case <-outer.Done():
			return memory{}, outer.Err()
		}
		next, err := fx.memory(outer)
		if err != nil {
			return memory{}, err
		}
		if next.gcs != m.gcs || next.live >= m.live {
			m.collected = true
			return m, nil
		}
		m = next
	}
	m.collected = true
	return m, nil
}

// memory reads the server's memory from /metrics.
func (fx *Fixture) memory(ctx context.Context) (memory, error) {
	body, err := fx.target.get(ctx, "/metrics")
	if err != nil {
		return memory{}, fmt.Errorf("loadgen: reading the server's memory: %w", err)
	}
	return parseMemory(body)
}

// parseMemory reads the server's memory from a /metrics body.
func parseMemory(body []byte) (memory, error) {
	var m memory
	var heap, stack int64
	var err error
	for _, v := range []struct {
		name string
		into *int64
	}{
		{"process_resident_memory_bytes", &m.rss},
		{"go_memstats_heap_alloc_bytes", &heap},
		{"go_memstats_stack_inuse_bytes", &stack},
		{"go_gc_duration_seconds_count", &m.gcs},
	} {
		if *v.into, err = metric(body, v.name); err != nil {
			return memory{}, err
		}
	}
	m.live = heap + stack
	return m, nil
}

// metric finds an unlabelled metric's value in the Prometheus text format.
func metric(body []byte, name string) (int64, error) {
	f, err := metricFloat(body, name)
	return int64(f), err
}

// metricFloat finds an unlabelled metric's value in the Prometheus text
// format.
func metricFloat(body []byte, name string) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("loadgen: metric %s: %w", name, err)
			}
			return f, nil
		}
	}
	return 0, fmt.Errorf("loadgen: the server's /metrics has no %s", name)
}
