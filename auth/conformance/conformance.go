// Package conformance is the test suite every auth.Store adapter runs with
// one call, so that the bbolt adapter and any later one (Redis) keep the
// same contract.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/domain"
)

// Harness gives the suite fresh stores of one adapter.
type Harness struct {
	// Open returns a store over new, empty storage, and a function that
	// closes that store and opens the same storage again.
	Open func(t *testing.T) (store auth.Store, reopen func(t *testing.T) auth.Store)
	// Concurrency scales the race tests (50 when 0).
	Concurrency int
}

// Run runs every contract test against the adapter.
func Run(t *testing.T, h Harness) {
	if h.Concurrency == 0 {
		h.Concurrency = 50
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"CredentialRoundTrip", testCredentialRoundTrip},
		{"CredentialKeyIsRoleAndEmail", testCredentialKey},
		{"CredentialFailedUpdateChangesNothing", testCredentialFailedUpdate},
		{"CredentialDelete", testCredentialDelete},
		{"CredentialKeyMismatch", testCredentialKeyMismatch},
		{"CredentialMemberIDUnique", testCredentialMemberIDUnique},
		{"CredentialConcurrentUpdates", testCredentialConcurrent},
		{"SessionLifecycle", testSessionLifecycle},
		{"ResetTakenOnce", testResetTakenOnce},
		{"ResetConcurrentTakersOneWinner", testResetConcurrentTake},
		{"Rates", testRates},
		{"RatesConcurrentUpdates", testRatesConcurrent},
		{"RatesFailedUpdateOfNewKeysWritesNothing", testRatesFailedNew},
		{"RatesConcurrentRefusalsAtALimit", testRatesConcurrentLimit},
		{"Sweep", testSweep},
		{"ReopenKeepsEverything", testReopen},
		{"CancelledContextWritesNothing", testCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

// Epoch is the time around which the suite dates its records. An adapter
// that also expires records by the time left on a clock of its own sets
// that clock to Epoch, so that the records last as long as the tests look
// at them.
var Epoch = time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)

var t0 = Epoch

func open(t *testing.T, h Harness) auth.Store {
	t.Helper()
	s, _ := h.Open(t)
	return s
}

func credential(role domain.Role, email string) auth.Credential {
	return auth.Credential{
		MemberID:          uuid.New(),
		Role:              role,
		EmailKey:          email,
		Email:             email,
		PasswordHash:      "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		Status:            auth.StatusActive,
		Generation:        3,
		CreatedAt:         t0,
		PasswordChangedAt: t0.Add(time.Hour),
	}
}

// put stores c as the credentials of its key, failing the test otherwise.
func put(t *testing.T, s auth.Store, c auth.Credential) {
	t.Helper()
	err := s.UpdateCredential(context.Background(), c.Role, c.EmailKey, func(*auth.Credential) (*auth.Credential, error) { return &c, nil })
	if err != nil {
		t.Fatalf("store credential: %v", err)
	}
}

func mustCredential(t *testing.T, s auth.Store, role domain.Role, key string) auth.Credential {
	t.Helper()
	c, err := s.Credential(context.Background(), role, key)
	if err != nil {
		t.Fatalf("credential %s %s: %v", role, key, err)
	}
	return c
}

func hash(i int) auth.TokenHash {
	var h auth.TokenHash
	copy(h[:], fmt.Sprintf("hash-%d-%s", i, uuid.NewString()))
	return h
}

func session(h auth.TokenHash) auth.SessionRecord {
	return auth.SessionRecord{
		Hash:          h,
		MemberID:      uuid.New(),
		Role:          domain.RoleMentor,
		Generation:    2,
		ClientAddr:    "192.0.2.7",
		CreatedAt:     t0,
		LastUsedAt:    t0,
		IdleExpiresAt: t0.Add(24 * time.Hour),
		ExpiresAt:     t0.Add(72 * time.Hour),
	}
}

func testCredentialRoundTrip(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	c := credential(domain.RoleMentee, "ada@example.org")
	c.Email = "Ada@Example.org"
	var seen *auth.Credential
	err := s.UpdateCredential(ctx, c.Role, c.EmailKey, func(cur *auth.Credential) (*auth.Credential, error) {
		seen = cur
		return &c, nil
	})
	if err != nil || seen != nil {
		t.Fatalf("first update: err %v, current %+v, want nil and nil", err, seen)
	}
	if diff := cmp.Diff(c, mustCredential(t, s, c.Role, c.EmailKey)); diff != "" {
		t.Errorf("Credential (-want +got):\n%s", diff)
	}
	byID, err := s.CredentialByID(ctx, c.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, byID); diff != "" {
		t.Errorf("CredentialByID (-want +got):\n%s", diff)
	}
	err = s.UpdateCredential(ctx, c.Role, c.EmailKey, func(cur *auth.Credential) (*auth.Credential, error) {
		if diff := cmp.Diff(&c, cur); diff != "" {
			t.Errorf("update sees (-want +got):\n%s", diff)
		}
		next := *cur
		next.Generation++
		return &next, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustCredential(t, s, c.Role, c.EmailKey).Generation; got != c.Generation+1 {
		t.Errorf("generation %d after update, want %d", got, c.Generation+1)
	}
	if _, err := s.Credential(ctx, c.Role, "nobody@example.org"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("missing credential: %v, want ErrNotFound", err)
	}
	if _, err := s.CredentialByID(ctx, uuid.New()); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("missing member: %v, want ErrNotFound", err)
	}
}

func testCredentialKey(t *testing.T, h Harness) {
	s := open(t, h)
	mentee := credential(domain.RoleMentee, "ada@example.org")
	mentor := credential(domain.RoleMentor, "ada@example.org")
	put(t, s, mentee)
	put(t, s, mentor)
	if got := mustCredential(t, s, domain.RoleMentee, "ada@example.org").MemberID; got != mentee.MemberID {
		t.Errorf("mentee lookup found member %s, want %s", got, mentee.MemberID)
	}
	if got := mustCredential(t, s, domain.RoleMentor, "ada@example.org").MemberID; got != mentor.MemberID {
		t.Errorf("mentor lookup found member %s, want %s", got, mentor.MemberID)
	}
	if _, err := s.Credential(context.Background(), domain.RoleStaff, "ada@example.org"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("staff lookup: %v, want ErrNotFound", err)
	}
}

func testCredentialFailedUpdate(t *testing.T, h Harness) {
	s := open(t, h)
	c := credential(domain.RoleMentor, "grace@example.org")
	put(t, s, c)
	boom := errors.New("refused by the rule")
	err := s.UpdateCredential(context.Background(), c.Role, c.EmailKey, func(cur *auth.Credential) (*auth.Credential, error) {
		cur.PasswordHash = "changed in place"
		return nil, boom
	})
	if err != boom {
		t.Errorf("failed update returned %v, want the function's error as it is", err)
	}
	if diff := cmp.Diff(c, mustCredential(t, s, c.Role, c.EmailKey)); diff != "" {
		t.Errorf("failed update changed the record (-want +got):\n%s", diff)
	}
	err = s.UpdateCredential(context.Background(), c.Role, "new@example.org", func(*auth.Credential) (*auth.Credential, error) { return nil, boom })
	if err != boom {
		t.Errorf("failed create returned %v, want the function's error", err)
	}
	if _, err := s.Credential(context.Background(), c.Role, "new@example.org"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("failed create left a record: %v", err)
	}
}

func testCredentialDelete(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	c := credential(domain.RoleMentee, "del@example.org")
	put(t, s, c)
	if err := s.UpdateCredential(ctx, c.Role, c.EmailKey, func(*auth.Credential) (*auth.Credential, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Credential(ctx, c.Role, c.EmailKey); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleted credential by key: %v, want ErrNotFound", err)
	}
	if _, err := s.CredentialByID(ctx, c.MemberID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("deleted credential by ID: %v, want ErrNotFound", err)
	}
	other := credential(domain.RoleMentee, "other@example.org")
	other.MemberID = c.MemberID
	put(t, s, other)
	if got, err := s.CredentialByID(ctx, c.MemberID); err != nil || got.EmailKey != other.EmailKey {
		t.Errorf("member ID after delete and reuse: %+v, %v", got, err)
	}
}

func testCredentialKeyMismatch(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	for _, c := range []auth.Credential{credential(domain.RoleMentor, "a@example.org"), credential(domain.RoleMentee, "b@example.org")} {
		err := s.UpdateCredential(ctx, domain.RoleMentee, "a@example.org", func(*auth.Credential) (*auth.Credential, error) { return &c, nil })
		if !errors.Is(err, auth.ErrKeyMismatch) {
			t.Errorf("storing %s %s under MENTEE a@example.org: %v, want ErrKeyMismatch", c.Role, c.EmailKey, err)
		}
		if _, err := s.CredentialByID(ctx, c.MemberID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("refused credential was stored: %v", err)
		}
	}
}

func testCredentialMemberIDUnique(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	a := credential(domain.RoleMentee, "a@example.org")
	put(t, s, a)
	b := credential(domain.RoleMentee, "b@example.org")
	b.MemberID = a.MemberID
	err := s.UpdateCredential(ctx, b.Role, b.EmailKey, func(*auth.Credential) (*auth.Credential, error) { return &b, nil })
	if !errors.Is(err, auth.ErrExists) {
		t.Errorf("second credential with member %s: %v, want ErrExists", a.MemberID, err)
	}
	if got, _ := s.CredentialByID(ctx, a.MemberID); got.EmailKey != a.EmailKey {
		t.Errorf("member index points at %q, want %q", got.EmailKey, a.EmailKey)
	}
}

func testCredentialConcurrent(t *testing.T, h Harness) {
	s := open(t, h)
	c := credential(domain.RoleMentor, "race@example.org")
	c.Generation = 0
	put(t, s, c)
	var wg sync.WaitGroup
	errs := make(chan error, h.Concurrency)
	for range h.Concurrency {
		wg.Go(func() {
			errs <- s.UpdateCredential(context.Background(), c.Role, c.EmailKey, func(cur *auth.Credential) (*auth.Credential, error) {
				next := *cur
				next.Generation++
				return &next, nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := mustCredential(t, s, c.Role, c.EmailKey).Generation; got != uint64(h.Concurrency) {
		t.Errorf("generation %d after %d concurrent increments", got, h.Concurrency)
	}
}

func testSessionLifecycle(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	r := session(hash(1))
	if err := s.CreateSession(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, r.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("Session (-want +got):\n%s", diff)
	}
	dup := session(r.Hash)
	if err := s.CreateSession(ctx, dup); !errors.Is(err, auth.ErrExists) {
		t.Errorf("second session under one hash: %v, want ErrExists", err)
	}
	if _, err := s.Session(ctx, hash(2)); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("missing session: %v, want ErrNotFound", err)
	}
	revoked := t0.Add(time.Minute)
	if err := s.UpdateSession(ctx, r.Hash, func(r *auth.SessionRecord) error { r.RevokedAt = revoked; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, r.Hash); !got.RevokedAt.Equal(revoked) || got.MemberID != r.MemberID {
		t.Errorf("after update: %+v, want revoked at %v", got, revoked)
	}
	boom := errors.New("refused")
	if err := s.UpdateSession(ctx, r.Hash, func(r *auth.SessionRecord) error { r.RevokedAt = time.Time{}; return boom }); err != boom {
		t.Errorf("failed session update returned %v, want the function's error", err)
	}
	if got, _ := s.Session(ctx, r.Hash); !got.RevokedAt.Equal(revoked) {
		t.Errorf("failed update changed the session: %+v", got)
	}
	if err := s.UpdateSession(ctx, r.Hash, func(r *auth.SessionRecord) error { r.Hash = hash(3); return nil }); !errors.Is(err, auth.ErrKeyMismatch) {
		t.Errorf("changing the hash: %v, want ErrKeyMismatch", err)
	}
	if err := s.UpdateSession(ctx, hash(4), func(*auth.SessionRecord) error { return nil }); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("updating a missing session: %v, want ErrNotFound", err)
	}
}

func reset(h auth.TokenHash) auth.ResetRecord {
	return auth.ResetRecord{Hash: h, MemberID: uuid.New(), Generation: 5, CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)}
}

func testResetTakenOnce(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	r := reset(hash(1))
	if err := s.CreateReset(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateReset(ctx, reset(r.Hash)); !errors.Is(err, auth.ErrExists) {
		t.Errorf("second reset under one hash: %v, want ErrExists", err)
	}
	got, err := s.TakeReset(ctx, r.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("TakeReset (-want +got):\n%s", diff)
	}
	if _, err := s.TakeReset(ctx, r.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("second take: %v, want ErrNotFound", err)
	}
}

func testResetConcurrentTake(t *testing.T, h Harness) {
	s := open(t, h)
	r := reset(hash(1))
	if err := s.CreateReset(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, misses := 0, 0
	for range h.Concurrency {
		wg.Go(func() {
			_, err := s.TakeReset(context.Background(), r.Hash)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, auth.ErrNotFound):
				misses++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || misses != h.Concurrency-1 {
		t.Errorf("%d takers won and %d missed, want 1 and %d", wins, misses, h.Concurrency-1)
	}
}

func testSweep(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	now := t0.Add(10 * time.Hour)
	live := session(hash(1))
	live.IdleExpiresAt, live.ExpiresAt = now.Add(time.Nanosecond), now.Add(time.Hour)
	idle := session(hash(2))
	idle.IdleExpiresAt, idle.ExpiresAt = now, now.Add(time.Hour)
	old := session(hash(3))
	old.IdleExpiresAt, old.ExpiresAt = now.Add(-time.Hour), now.Add(-time.Hour)
	for _, r := range []auth.SessionRecord{live, idle, old} {
		if err := s.CreateSession(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	liveReset, deadReset := reset(hash(4)), reset(hash(5))
	liveReset.ExpiresAt, deadReset.ExpiresAt = now.Add(time.Minute), now
	for _, r := range []auth.ResetRecord{liveReset, deadReset} {
		if err := s.CreateReset(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	err := s.UpdateRates(ctx, []string{"live", "dead"}, func(st []auth.RateState) error {
		st[0] = auth.RateState{Hits: []time.Time{now}, ExpiresAt: now.Add(time.Minute)}
		st[1] = auth.RateState{Hits: []time.Time{t0}, ExpiresAt: now}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Sweep(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("Sweep deleted %d records, want 4", n)
	}
	if _, err := s.Session(ctx, live.Hash); err != nil {
		t.Errorf("live session: %v", err)
	}
	for _, r := range []auth.SessionRecord{idle, old} {
		if _, err := s.Session(ctx, r.Hash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("expired session survived the sweep: %v", err)
		}
	}
	if _, err := s.TakeReset(ctx, deadReset.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("expired reset survived the sweep: %v", err)
	}
	if _, err := s.TakeReset(ctx, liveReset.Hash); err != nil {
		t.Errorf("live reset: %v", err)
	}
	err = s.UpdateRates(ctx, []string{"live", "dead"}, func(st []auth.RateState) error {
		if len(st[0].Hits) != 1 || len(st[1].Hits) != 0 {
			t.Errorf("after the sweep the live state has %d hits (want 1) and the dead one %d (want 0)", len(st[0].Hits), len(st[1].Hits))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testReopen(t *testing.T, h Harness) {
	s, reopen := h.Open(t)
	ctx := context.Background()
	c := credential(domain.RoleAuditor, "audit@example.org")
	put(t, s, c)
	r := session(hash(1))
	rr := reset(hash(2))
	if err := s.CreateSession(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateReset(ctx, rr); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRates(ctx, []string{"k"}, func(st []auth.RateState) error {
		st[0] = auth.RateState{Hits: []time.Time{t0}, ExpiresAt: t0.Add(time.Hour)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t)
	if got, err := s.CredentialByID(ctx, c.MemberID); err != nil || !cmp.Equal(c, got) {
		t.Errorf("credential after reopen: %+v, %v", got, err)
	}
	if got, err := s.Session(ctx, r.Hash); err != nil || !cmp.Equal(r, got) {
		t.Errorf("session after reopen: %+v, %v", got, err)
	}
	if got, err := s.TakeReset(ctx, rr.Hash); err != nil || !cmp.Equal(rr, got) {
		t.Errorf("reset after reopen: %+v, %v", got, err)
	}
	if err := s.UpdateRates(ctx, []string{"k"}, func(st []auth.RateState) error {
		if len(st[0].Hits) != 1 || !st[0].Hits[0].Equal(t0) {
			t.Errorf("rate state after reopen: %+v", st[0])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func testCancelled(t *testing.T, h Harness) {
	s := open(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := credential(domain.RoleMentee, "late@example.org")
	r := session(hash(1))
	errs := []error{
		s.UpdateCredential(ctx, c.Role, c.EmailKey, func(*auth.Credential) (*auth.Credential, error) { return &c, nil }),
		s.CreateSession(ctx, r),
		s.CreateReset(ctx, reset(hash(2))),
		s.UpdateRates(ctx, []string{"k"}, func(st []auth.RateState) error { st[0].Hits = []time.Time{t0}; return nil }),
	}
	for i, err := range errs {
		if err == nil {
			t.Errorf("write %d with a cancelled context succeeded", i)
		}
	}
	bg := context.Background()
	if _, err := s.Credential(bg, c.Role, c.EmailKey); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("cancelled credential write stored something: %v", err)
	}
	if _, err := s.Session(bg, r.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("cancelled session write stored something: %v", err)
	}
}
