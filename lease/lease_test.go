package lease_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/lease"
)

func newLease(t *testing.T, c goredis.UniversalClient, name, owner string, ttl time.Duration) *lease.Lease {
	t.Helper()
	l, err := lease.New(c, name, lease.Options{Owner: owner, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// appendScript records the writer's fence in a list, under the lease.
var appendScript = lease.NewScript(`return redis.call('RPUSH', KEYS[2], ARGV[2])`)

func write(ctx context.Context, l *lease.Lease, tok string) error {
	fence, _ := lease.Fence(tok)
	_, err := appendScript.Run(ctx, l, tok, []string{l.Key("log")}, fence)
	return err
}

// waitFree waits until the lease lapses.
func waitFree(t *testing.T, l *lease.Lease) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := l.Holder(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if h == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease still held by %s", h)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	c, _ := redistest.Client(t)
	for _, tc := range []struct {
		name string
		opts lease.Options
	}{
		{"", lease.Options{}},
		{"a{b}", lease.Options{}},
		{"ok", lease.Options{Owner: "a#b"}},
		{"ok", lease.Options{TTL: -time.Second}},
		{"ok", lease.Options{TTL: time.Millisecond}},
	} {
		if _, err := lease.New(c, tc.name, tc.opts); err == nil {
			t.Errorf("New(%q, %+v) took it", tc.name, tc.opts)
		}
	}
}

// One holder at a time; a release frees the lease at once, and every
// acquisition draws a greater fence.
func TestAcquireIsExclusiveAndFenced(t *testing.T) {
	c, ns := redistest.Client(t)
	ctx := context.Background()
	a := newLease(t, c, ns+":w", "a:1", time.Minute)
	b := newLease(t, c, ns+":w", "b:2", time.Minute)
	ta, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(ctx); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("second acquire: %v, want ErrHeld", err)
	}
	if h, _ := b.Holder(ctx); h != ta || lease.OwnerOf(h) != "a:1" {
		t.Fatalf("holder %q, want %q", h, ta)
	}
	if err := write(ctx, b, "b:2#999"); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("write with a token that does not hold the lease: %v", err)
	}
	if err := write(ctx, a, ta); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx, ta); err != nil {
		t.Fatal(err)
	}
	tb, err := b.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	fa, _ := lease.Fence(ta)
	fb, _ := lease.Fence(tb)
	if fb <= fa {
		t.Fatalf("fence %d after %d", fb, fa)
	}
	// A stale release or renewal changes nothing.
	if err := a.Release(ctx, ta); err != nil {
		t.Fatal(err)
	}
	if err := a.Renew(ctx, ta); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("renew with the old token: %v", err)
	}
	if err := write(ctx, a, ta); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("write with the old token: %v", err)
	}
	if h, _ := a.Holder(ctx); h != tb {
		t.Fatalf("holder %q, want %q", h, tb)
	}
	if n, _ := c.LLen(ctx, a.Key("log")).Result(); n != 1 {
		t.Fatalf("%d writes recorded, want 1", n)
	}
}

// A holder that stops renewing loses the lease after its TTL: its writes
// are refused whether or not another instance took over.
func TestLapsedHolderCannotWrite(t *testing.T) {
	c, ns := redistest.Client(t)
	ctx := context.Background()
	a := newLease(t, c, ns+":w", "a:1", 100*time.Millisecond)
	ta, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFree(t, a)
	if err := write(ctx, a, ta); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("write after the lease lapsed: %v", err)
	}
	tb, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(ctx, a, ta); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("write after another took over: %v", err)
	}
	if err := write(ctx, a, tb); err != nil {
		t.Fatal(err)
	}
}

// Hold keeps a lease past its TTL, and signals its loss when the token in
// Redis changes; Release frees it.
func TestHoldRenewsAndSignalsLoss(t *testing.T) {
	c, ns := redistest.Client(t)
	ctx := context.Background()
	l := newLease(t, c, ns+":w", "a:1", 90*time.Millisecond)
	tok, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := l.Hold(ctx, tok)
	// Several TTLs later the lease is still ours.
	deadline := time.Now().Add(5 * 90 * time.Millisecond)
	for time.Now().Before(deadline) {
		if err := write(ctx, l, tok); err != nil {
			t.Fatalf("write while holding: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if h.Err() != nil {
		t.Fatalf("holding ended: %v", h.Err())
	}
	if err := c.Set(ctx, l.Key("lease"), "thief:9#999999", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the holding did not notice the token changed")
	}
	if !errors.Is(h.Err(), lease.ErrLost) {
		t.Fatalf("Err %v, want ErrLost", h.Err())
	}
	if err := h.Release(); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Holder(ctx); got != "thief:9#999999" {
		t.Fatalf("releasing a lost lease freed another's: holder %q", got)
	}

	c.Del(ctx, l.Key("lease"))
	tok, err = l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h = l.Hold(ctx, tok)
	if err := h.Release(); err != nil || h.Err() != nil {
		t.Fatalf("release: %v, Err %v", err, h.Err())
	}
	if got, _ := l.Holder(ctx); got != "" {
		t.Fatalf("holder %q after release", got)
	}
}

// Run hands the lease to a waiting instance when the holder's function
// returns or its context ends.
func TestRunHandsOver(t *testing.T) {
	c, ns := redistest.Client(t)
	a := newLease(t, c, ns+":w", "a:1", 150*time.Millisecond)
	b := newLease(t, c, ns+":w", "b:2", 150*time.Millisecond)
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	held := make(chan string, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = a.Run(ctxA, func(ctx context.Context, tok string) error {
			held <- tok
			<-ctx.Done()
			return nil
		})
	})
	first := <-held
	wg.Go(func() {
		_ = b.Run(ctxB, func(ctx context.Context, tok string) error {
			held <- tok
			<-ctx.Done()
			return nil
		})
	})
	stopA()
	select {
	case second := <-held:
		if lease.OwnerOf(second) != "b:2" || lease.OwnerOf(first) != "a:1" {
			t.Fatalf("holders %q then %q", first, second)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no takeover")
	}
	stopB()
	wg.Wait()
}

// Two holders never both write: instances race for one lease, some of
// them freezing past its TTL while they hold it (a process paused by the
// scheduler or a stop-the-world pause) and then writing as if nothing
// happened. Every write records its fence: the record never goes back to
// a smaller fence, and every write after a freeze is refused.
func TestTwoHoldersNeverBothWrite(t *testing.T) {
	c, ns := redistest.Client(t)
	const ttl = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused, frozen := 0, 0
	for i := range 4 {
		l := newLease(t, c, ns+":w", "w:"+strconv.Itoa(i), ttl)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for round := 0; round < 15 && ctx.Err() == nil; {
				tok, err := l.Acquire(ctx)
				if errors.Is(err, lease.ErrHeld) {
					time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				round++
				if rng.IntN(3) > 0 {
					h := l.Hold(ctx, tok)
					for range 1 + rng.IntN(5) {
						if err := write(ctx, l, tok); err != nil {
							t.Errorf("write while holding: %v", err)
						}
					}
					_ = h.Release()
					continue
				}
				// Freeze: the holder never renews, sleeps past the TTL,
				// then writes.
				time.Sleep(ttl + ttl/2)
				err = write(ctx, l, tok)
				mu.Lock()
				frozen++
				if errors.Is(err, lease.ErrLost) {
					refused++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if frozen == 0 || refused != frozen {
		t.Fatalf("%d of %d writes after a freeze refused", refused, frozen)
	}
	log, err := c.LRange(ctx, "{"+ns+":w}:log", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	last := uint64(0)
	for i, s := range log {
		f, _ := strconv.ParseUint(s, 10, 64)
		if f < last {
			t.Fatalf("write %d by fence %d after fence %d wrote", i, f, last)
		}
		last = f
	}
	if len(log) < 4*15 {
		t.Fatalf("only %d writes recorded", len(log))
	}
}

// On a Redis Cluster the lease's keys and the worker's keys share a slot,
// so that fenced scripts run there.
func TestLeaseOnRedisCluster(t *testing.T) {
	c, ns := redistest.Cluster(t)
	ctx := context.Background()
	l := newLease(t, c, ns+":w", "a:1", time.Second)
	tok, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(ctx, l, tok); err != nil {
		t.Fatalf("fenced write on the cluster: %v", err)
	}
	if err := l.Renew(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := write(ctx, l, tok); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("write after release: %v", err)
	}
}

// A Writer refuses to write before it holds a token, writes under the one
// it holds, and tells its worker once a write finds the lease taken.
func TestWriterWritesUnderItsTokenAndReportsTheLoss(t *testing.T) {
	c, ns := redistest.Client(t)
	ctx := context.Background()
	l := newLease(t, c, ns+":writer", "a:1", time.Minute)
	w := lease.NewWriter(l)
	if _, err := w.Run(ctx, appendScript, []string{l.Key("log")}, "early"); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("write before holding: %v", err)
	}
	tok, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	w.Hold(tok, func() { lost++ })
	if _, err := w.Run(ctx, appendScript, []string{l.Key("log")}, "held"); err != nil || lost != 0 {
		t.Fatalf("write while holding: %v (lost %d)", err, lost)
	}
	// Another instance takes over after the lease was freed.
	if err := l.Release(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Run(ctx, appendScript, []string{l.Key("log")}, "stale"); !errors.Is(err, lease.ErrLost) || lost != 1 {
		t.Fatalf("write after the takeover: %v (lost %d)", err, lost)
	}
	if got, err := c.LRange(ctx, l.Key("log"), 0, -1).Result(); err != nil || len(got) != 1 || got[0] != "held" {
		t.Fatalf("log %v (%v): want only the held write", got, err)
	}
}
