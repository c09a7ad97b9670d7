package conformance

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/auth"
)

// The rate states carry the sign-in guard and the request limits: a check
// reads them through an update whose function fails, a count adds a hit
// only while fewer than the limit are held, and every state carries the
// time after which it no longer matters.

func testRates(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	keys := []string{"login/account/a", "login/address/b"}
	err := s.UpdateRates(ctx, keys, func(st []auth.RateState) error {
		if len(st) != 2 || len(st[0].Hits) != 0 || len(st[1].Hits) != 0 || !st[0].ExpiresAt.IsZero() {
			t.Errorf("unknown keys gave %+v, want two zero states", st)
		}
		st[0] = auth.RateState{Hits: []time.Time{t0, t0.Add(time.Second)}, ExpiresAt: t0.Add(time.Hour)}
		st[1] = auth.RateState{Hits: []time.Time{t0}, ExpiresAt: t0.Add(2 * time.Hour)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("limited")
	err = s.UpdateRates(ctx, []string{keys[1], keys[0]}, func(st []auth.RateState) error {
		want := []auth.RateState{
			{Hits: []time.Time{t0}, ExpiresAt: t0.Add(2 * time.Hour)},
			{Hits: []time.Time{t0, t0.Add(time.Second)}, ExpiresAt: t0.Add(time.Hour)},
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("states in the order of the keys (-want +got):\n%s", diff)
		}
		st[0].Hits = nil
		st[1].Hits = append(st[1].Hits, t0)
		return boom
	})
	if err != boom {
		t.Errorf("failed rate update returned %v, want the function's error", err)
	}
	err = s.UpdateRates(ctx, keys, func(st []auth.RateState) error {
		if len(st[0].Hits) != 2 || len(st[1].Hits) != 1 {
			t.Errorf("failed update changed the states: %+v", st)
		}
		st[1].Hits = nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.UpdateRates(ctx, keys[1:], func(st []auth.RateState) error {
		if len(st[0].Hits) != 0 || !st[0].ExpiresAt.IsZero() {
			t.Errorf("a state left without hits was kept: %+v", st[0])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testRatesConcurrent(t *testing.T, h Harness) {
	s := open(t, h)
	keys := []string{"k1", "k2"}
	var wg sync.WaitGroup
	for i := range h.Concurrency {
		wg.Go(func() {
			err := s.UpdateRates(context.Background(), keys, func(st []auth.RateState) error {
				for j := range st {
					st[j].Hits = append(st[j].Hits, t0.Add(time.Duration(i)))
					st[j].ExpiresAt = t0.Add(time.Hour)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	err := s.UpdateRates(context.Background(), keys, func(st []auth.RateState) error {
		for j := range st {
			if len(st[j].Hits) != h.Concurrency {
				t.Errorf("key %s has %d hits after %d concurrent updates", keys[j], len(st[j].Hits), h.Concurrency)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testRatesFailedNew(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	keys := []string{"login/account/new", "login/trusted/new"}
	boom := errors.New("only reading")
	err := s.UpdateRates(ctx, keys, func(st []auth.RateState) error {
		for i := range st {
			st[i] = auth.RateState{Hits: []time.Time{t0}, ExpiresAt: t0.Add(time.Hour)}
		}
		return boom
	})
	if err != boom {
		t.Fatalf("failed update returned %v, want the function's error as it is", err)
	}
	if n, err := s.Sweep(ctx, t0.Add(24*time.Hour)); err != nil || n != 0 {
		t.Errorf("a failed update of new keys left %d records (%v), want none", n, err)
	}
	err = s.UpdateRates(ctx, keys, func(st []auth.RateState) error {
		if diff := cmp.Diff([]auth.RateState{{}, {}}, st); diff != "" {
			t.Errorf("states after a failed update of new keys (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testRatesConcurrentLimit counts from many goroutines at once while fewer
// than a limit are held, as the guard does: exactly the limit get in,
// however the adapter orders or retries the updates.
func testRatesConcurrentLimit(t *testing.T, h Harness) {
	s := open(t, h)
	const limit = 10
	keys := []string{"login/account/a", "login/address/b"}
	full := errors.New("full")
	var mu sync.Mutex
	counted, refused := 0, 0
	var wg sync.WaitGroup
	for i := range h.Concurrency {
		wg.Go(func() {
			err := s.UpdateRates(context.Background(), keys, func(st []auth.RateState) error {
				if len(st[0].Hits) >= limit {
					return full
				}
				for j := range st {
					st[j].Hits = append(st[j].Hits, t0.Add(time.Duration(i)))
					st[j].ExpiresAt = t0.Add(time.Hour)
				}
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				counted++
			case err == full:
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if want := min(limit, h.Concurrency); counted != want || refused != h.Concurrency-want {
		t.Errorf("%d counted and %d refused at a limit of %d, want %d and %d", counted, refused, limit, want, h.Concurrency-want)
	}
	err := s.UpdateRates(context.Background(), keys, func(st []auth.RateState) error {
		for j := range st {
			if len(st[j].Hits) != counted {
				t.Errorf("key %s holds %d hits, want %d", keys[j], len(st[j].Hits), counted)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
