package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mentorship/mentorship/auth"
	authredis "github.com/mentorship/mentorship/auth/redis"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/refusal"
)

// onEachStore runs fn with a fixture over auth.db and one over Redis, the
// two stores whose transactions the sign-in guard relies on.
func onEachStore(t *testing.T, opts auth.Options, fn func(t *testing.T, f *fixture)) {
	t.Run("bolt", func(t *testing.T) { fn(t, newFixture(t, fixtureOptions{opts: opts})) })
	t.Run("redis", func(t *testing.T) {
		client, ns := redistest.Client(t)
		fn(t, newFixture(t, fixtureOptions{opts: opts, store: func(t *testing.T, clk clock.Clock) auth.Store {
			s, err := authredis.New(client, authredis.Options{Prefix: ns, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}}))
	})
}

// logins signs in n times at once with pw from the addresses addr(i) and
// tallies the outcomes by code ("" for success).
func logins(f *fixture, n int, email, pw string, addr func(i int) string) map[refusal.Code]int {
	var mu sync.Mutex
	codes := map[refusal.Code]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, err := f.svc.Login(context.Background(), domain.RoleMentee, email, pw, addr(i))
			mu.Lock()
			defer mu.Unlock()
			codes[refusal.CodeOf(err)]++
		})
	}
	wg.Wait()
	return codes
}

func oneAddress(int) string { return "192.0.2.50" }

func manyAddresses(i int) string { return fmt.Sprintf("198.51.100.%d", i%250+1) }

// Correct passwords never count, not even while they are checked: any
// number at once from one address are accepted, and leave the address's
// whole allowance of failures.
func TestConcurrentCorrectSignInsFromOneAddressAreAllAccepted(t *testing.T) {
	onEachStore(t, auth.Options{}, func(t *testing.T, f *fixture) {
		f.register(t, domain.RoleMentee, "ada@example.org", password)
		const n = 80 // more than the address's 50 failures
		if codes := logins(f, n, "ada@example.org", password, oneAddress); codes[""] != n {
			t.Fatalf("outcomes of %d concurrent correct sign-ins: %v, want all accepted", n, codes)
		}
		unknown := func(i int) string { return fmt.Sprintf("nobody%d@example.org", i) }
		for i := range 50 {
			if _, _, err := f.svc.Login(context.Background(), domain.RoleMentee, unknown(i), password, "192.0.2.50"); err != auth.ErrInvalidCredentials {
				t.Fatalf("failure %d after the correct sign-ins: %v", i+1, err)
			}
		}
		_, _, err := f.svc.Login(context.Background(), domain.RoleMentee, "ada@example.org", password, "192.0.2.50")
		wantCode(t, err, auth.CodeRateLimited)
	})
}

// Concurrent wrong guesses are answered exactly as often as each limit
// allows: per account from any address, and per address across accounts.
func TestConcurrentWrongSignInsAreLimitedExactly(t *testing.T) {
	onEachStore(t, auth.Options{}, func(t *testing.T, f *fixture) {
		f.register(t, domain.RoleMentee, "ada@example.org", password)
		if codes := logins(f, 40, "ada@example.org", "a wrong guess!!", manyAddresses); codes[auth.CodeInvalidCredentials] != 10 || codes[auth.CodeRateLimited] != 30 {
			t.Errorf("40 guesses at one account from 40 addresses: %v, want 10 answered", codes)
		}
		var mu sync.Mutex
		codes := map[refusal.Code]int{}
		var wg sync.WaitGroup
		for i := range 70 {
			wg.Go(func() {
				_, _, err := f.svc.Login(context.Background(), domain.RoleMentee, fmt.Sprintf("m%d@example.org", i), "a wrong guess!!", "203.0.113.9")
				mu.Lock()
				defer mu.Unlock()
				codes[refusal.CodeOf(err)]++
			})
		}
		wg.Wait()
		if codes[auth.CodeInvalidCredentials] != 50 || codes[auth.CodeRateLimited] != 20 {
			t.Errorf("70 guesses at 70 accounts from one address: %v, want 50 answered", codes)
		}
	})
}

// A flood of wrong guesses from other addresses holds the account for new
// addresses, but the owner still signs in from an address they signed in
// from before, at once, while the flood goes on.
func TestGuessFloodDoesNotLockTheOwnerOut(t *testing.T) {
	onEachStore(t, auth.Options{}, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.register(t, domain.RoleMentee, "ada@example.org", password)
		f.login(t, domain.RoleMentee, "ada@example.org", password) // from 192.0.2.1
		var wg sync.WaitGroup
		var flood map[refusal.Code]int
		wg.Go(func() { flood = logins(f, 200, "ada@example.org", "a wrong guess!!", manyAddresses) })
		for i := range 20 {
			if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, "192.0.2.1"); err != nil {
				t.Errorf("the owner's sign-in %d during the flood: %v", i+1, err)
			}
		}
		wg.Wait()
		if flood[auth.CodeInvalidCredentials] != 10 {
			t.Errorf("the flood's outcomes: %v, want 10 answered", flood)
		}
		_, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, "203.0.113.7")
		wantCode(t, err, auth.CodeRateLimited)
		// Guesses from the owner's address are held by their own count.
		for i := range 10 {
			if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", "a wrong guess!!", "192.0.2.1"); err != auth.ErrInvalidCredentials {
				t.Fatalf("guess %d from the owner's address: %v", i+1, err)
			}
		}
		_, _, err = f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, "192.0.2.1")
		wantCode(t, err, auth.CodeRateLimited)
	})
}

// A password reset, which proves the mailbox, lifts what guesses from
// elsewhere held, and trusts the address that completed it.
func TestPasswordResetLiftsTheHold(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	logins(f, 30, "ada@example.org", "a wrong guess!!", manyAddresses)
	_, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, "203.0.113.7")
	wantCode(t, err, auth.CodeRateLimited)
	token := f.requestReset(t, domain.RoleMentee, "ada@example.org")
	if _, err := f.svc.ResetPasswordFrom(ctx, token, "a brand new password", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", "a brand new password", "203.0.113.8"); err != nil {
		t.Fatalf("sign-in from another new address after the reset: %v", err)
	}
	// The flood starts again; the address the reset came from is trusted.
	logins(f, 30, "ada@example.org", "another wrong guess", manyAddresses)
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", "a brand new password", "203.0.113.7"); err != nil {
		t.Fatalf("sign-in from the reset's address during a new flood: %v", err)
	}
}

// An address stays trusted for as long as a session may last, and no
// longer.
func TestTrustExpires(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: auth.Options{MaxSessionAge: 24 * time.Hour}})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	f.login(t, domain.RoleMentee, "ada@example.org", password)
	f.clock.Advance(24*time.Hour - 10*time.Minute)
	logins(f, 10, "ada@example.org", "a wrong guess!!", manyAddresses)
	f.login(t, domain.RoleMentee, "ada@example.org", password)
	f.clock.Advance(24*time.Hour + time.Minute)
	logins(f, 10, "ada@example.org", "a wrong guess!!", manyAddresses)
	_, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, "192.0.2.1")
	wantCode(t, err, auth.CodeRateLimited)
}
