package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/auth/conformance"
	authredis "github.com/mentorship/mentorship/auth/redis"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/internal/redistest"
)

func newStore(t *testing.T, client goredis.UniversalClient, opts authredis.Options) *authredis.Store {
	t.Helper()
	s, err := authredis.New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		Open: func(t *testing.T) (auth.Store, func(*testing.T) auth.Store) {
			client, ns := redistest.Client(t)
			opts := authredis.Options{Prefix: ns, Clock: clock.NewFake(conformance.Epoch)}
			return newStore(t, client, opts), func(t *testing.T) auth.Store {
				return newStore(t, client, opts)
			}
		},
	})
}

// The same contract on a Redis Cluster node, which refuses any transaction
// whose keys span hash slots: the store keeps all of its keys in one.
func TestConformanceOnCluster(t *testing.T) {
	client, _ := redistest.Cluster(t)
	conformance.Run(t, conformance.Harness{
		Open: func(t *testing.T) (auth.Store, func(*testing.T) auth.Store) {
			ns := "test-" + uuid.NewString()[:8]
			opts := authredis.Options{Prefix: ns, Clock: clock.NewFake(conformance.Epoch)}
			return newStore(t, client, opts), func(t *testing.T) auth.Store {
				return newStore(t, client, opts)
			}
		},
	})
}

// The same contract on a cluster of three primaries with a replica each,
// created as an operator creates one: the store's keys share one slot on
// whichever primary holds it.
func TestConformanceOnAClusterOfThreePrimaries(t *testing.T) {
	nodes := redistest.StartCluster(t, 3, 1)
	conformance.Run(t, conformance.Harness{
		Open: func(t *testing.T) (auth.Store, func(*testing.T) auth.Store) {
			ns := "test-" + uuid.NewString()[:8]
			opts := authredis.Options{Prefix: ns, Clock: clock.NewFake(conformance.Epoch)}
			return newStore(t, nodes.Client, opts), func(t *testing.T) auth.Store {
				return newStore(t, nodes.Client, opts)
			}
		},
	})
}

func TestNewRefusesIncompleteOptions(t *testing.T) {
	client, ns := redistest.Client(t)
	clk := clock.NewFake(conformance.Epoch)
	for name, opts := range map[string]authredis.Options{
		"no prefix":      {Clock: clk},
		"braces":         {Prefix: "{" + ns + "}", Clock: clk},
		"no clock":       {Prefix: ns},
		"negative grace": {Prefix: ns, Clock: clk, ExpiryGrace: -time.Second},
	} {
		if _, err := authredis.New(client, opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func tokenHash(s string) auth.TokenHash {
	var h auth.TokenHash
	copy(h[:], s+uuid.NewString())
	return h
}

// fill writes one record of each kind and returns the session's and the
// reset token's hashes.
func fill(t *testing.T, s *authredis.Store) (auth.TokenHash, auth.TokenHash) {
	t.Helper()
	ctx := context.Background()
	c := auth.Credential{MemberID: uuid.New(), Role: domain.RoleMentee, EmailKey: "ada@example.org", Email: "ada@example.org", Status: auth.StatusActive}
	if err := s.UpdateCredential(ctx, c.Role, c.EmailKey, func(*auth.Credential) (*auth.Credential, error) { return &c, nil }); err != nil {
		t.Fatal(err)
	}
	sess := auth.SessionRecord{Hash: tokenHash("session"), MemberID: c.MemberID, Role: c.Role, CreatedAt: t0, LastUsedAt: t0,
		IdleExpiresAt: t0.Add(time.Hour), ExpiresAt: t0.Add(3 * time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	reset := auth.ResetRecord{Hash: tokenHash("reset"), MemberID: c.MemberID, CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)}
	if err := s.CreateReset(ctx, reset); err != nil {
		t.Fatal(err)
	}
	err := s.UpdateRates(ctx, []string{"login/account/x"}, func(st []auth.RateState) error {
		st[0] = auth.RateState{Hits: []time.Time{t0}, ExpiresAt: t0.Add(15 * time.Minute)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sess.Hash, reset.Hash
}

// keysOf returns every key whose name holds ns, with its time to live.
func keysOf(t *testing.T, client *goredis.Client, ns string) map[string]time.Duration {
	t.Helper()
	ctx := context.Background()
	got := map[string]time.Duration{}
	iter := client.Scan(ctx, 0, "*"+ns+"*", 1000).Iterator()
	for iter.Next(ctx) {
		ttl, err := client.PTTL(ctx, iter.Val()).Result()
		if err != nil {
			t.Fatal(err)
		}
		got[iter.Val()] = ttl
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestEveryKeySharesOneHashTag(t *testing.T) {
	client, ns := redistest.Client(t)
	fill(t, newStore(t, client, authredis.Options{Prefix: ns, Clock: clock.NewFake(t0)}))
	keys := keysOf(t, client, ns)
	if len(keys) != 5 {
		t.Errorf("%d keys for a credential, its index, a session, a reset token and a rate state: %v", len(keys), keys)
	}
	for k := range keys {
		if !strings.HasPrefix(k, "{"+ns+":auth}:") {
			t.Errorf("key %q is outside the hash tag {%s:auth}", k, ns)
		}
	}
}

func TestExpiringRecordsCarryARedisExpiry(t *testing.T) {
	client, ns := redistest.Client(t)
	clk := clock.NewFake(t0)
	s := newStore(t, client, authredis.Options{Prefix: ns, Clock: clk, ExpiryGrace: time.Hour})
	session, reset := fill(t, s)
	// Each expiring record lasts the time left on the service's clock
	// plus the grace; credentials and their index never expire.
	want := map[string]time.Duration{
		"session": 2 * time.Hour,        // idle lifetime 1 h + grace
		"reset":   90 * time.Minute,     // 30 min + grace
		"rate":    75 * time.Minute,     // 15 min + grace
		"cred":    -1 * time.Nanosecond, // PTTL's "no expiry"
		"member":  -1 * time.Nanosecond,
	}
	check := func() {
		t.Helper()
		for k, ttl := range keysOf(t, client, ns) {
			kind := strings.SplitN(strings.TrimPrefix(k, "{"+ns+":auth}:"), ":", 2)[0]
			w, ok := want[kind]
			if !ok {
				t.Errorf("unexpected key %q", k)
				continue
			}
			if ttl > w || ttl < w-time.Minute {
				t.Errorf("%s key expires in %v, want %v", kind, ttl, w)
			}
		}
	}
	check()

	// Using the session moves its expiry with its idle lifetime.
	clk.Advance(30 * time.Minute)
	err := s.UpdateSession(context.Background(), session, func(r *auth.SessionRecord) error {
		r.LastUsedAt, r.IdleExpiresAt = clk.Now(), clk.Now().Add(time.Hour)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The other records keep the expiry they were written with: Redis
	// counts it down by its own clock, not the fake one.
	want["session"] = 2 * time.Hour
	if _, err := s.TakeReset(context.Background(), reset); err != nil {
		t.Fatal(err)
	}
	delete(want, "reset")
	check()
}

func TestRedisDropsExpiredRecordsWithoutASweep(t *testing.T) {
	client, ns := redistest.Client(t)
	clk := clock.NewFake(t0)
	s := newStore(t, client, authredis.Options{Prefix: ns, Clock: clk, ExpiryGrace: 50 * time.Millisecond})
	session, reset := fill(t, s)
	clk.Advance(3 * time.Hour)
	// A write after expiry keeps the record for the grace only.
	err := s.UpdateSession(context.Background(), session, func(r *auth.SessionRecord) error { r.RevokedAt = clk.Now(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Session(context.Background(), session)
		if errors.Is(err, auth.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session still there (%v) long after its expiry and grace", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The reset token was written with half an hour left: Redis keeps it.
	if _, err := s.TakeReset(context.Background(), reset); err != nil {
		t.Errorf("reset token written with time left: %v", err)
	}
}

func TestSweepStaysInItsNamespace(t *testing.T) {
	client, ns := redistest.Client(t)
	// The brackets would match the other prefix were they not escaped in
	// the SCAN pattern.
	mine := newStore(t, client, authredis.Options{Prefix: ns + "[ab]", Clock: clock.NewFake(t0)})
	other := newStore(t, client, authredis.Options{Prefix: ns + "a", Clock: clock.NewFake(t0)})
	ctx := context.Background()
	var hashes []auth.TokenHash
	for _, s := range []*authredis.Store{mine, other} {
		r := auth.ResetRecord{Hash: tokenHash("reset"), MemberID: uuid.New(), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
		if err := s.CreateReset(ctx, r); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, r.Hash)
	}
	n, err := mine.Sweep(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Sweep deleted %d records (%v), want 1", n, err)
	}
	if _, err := other.TakeReset(ctx, hashes[1]); err != nil {
		t.Errorf("another namespace's reset token after a sweep: %v", err)
	}
}

func TestSweepDeletesManyInBatches(t *testing.T) {
	client, ns := redistest.Client(t)
	s := newStore(t, client, authredis.Options{Prefix: ns, Clock: clock.NewFake(t0)})
	ctx := context.Background()
	const n = 250
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + uuid.NewString()
	}
	err := s.UpdateRates(ctx, keys, func(st []auth.RateState) error {
		for i := range st {
			st[i] = auth.RateState{Hits: []time.Time{t0}, ExpiresAt: t0.Add(time.Duration(i%2) * time.Hour)}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Sweep(ctx, t0.Add(time.Minute))
	if err != nil || got != n/2 {
		t.Fatalf("Sweep deleted %d (%v), want %d", got, err, n/2)
	}
	if left := len(keysOf(t, client, ns)); left != n-n/2 {
		t.Errorf("%d rate states left, want %d", left, n-n/2)
	}
}
