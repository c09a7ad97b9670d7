package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

func TestLoginLimitPerAccount(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	f.register(t, domain.RoleMentee, "bob@example.org", password)
	for i := range 10 {
		f.clock.Advance(time.Second)
		addr := fmt.Sprintf("198.51.100.%d", i) // a different address each time
		if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", "wrong password!", addr); err != auth.ErrInvalidCredentials {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, _, err := f.svc.Login(ctx, domain.RoleMentee, "ADA@example.org", password, "203.0.113.9")
	ae := wantCode(t, err, auth.CodeRateLimited)
	if want := 15*time.Minute - 9*time.Second; ae.RetryAfter != want {
		t.Errorf("RetryAfter %v, want %v (until the first failure leaves the window)", ae.RetryAfter, want)
	}
	// Another account, and the same email's mentor account, are not held.
	f.login(t, domain.RoleMentee, "bob@example.org", password)
	if _, _, err := f.svc.Login(ctx, domain.RoleMentor, "ada@example.org", password, "203.0.113.9"); err != auth.ErrInvalidCredentials {
		t.Errorf("mentor login of the same email: %v, want ErrInvalidCredentials", err)
	}
	f.clock.Advance(ae.RetryAfter)
	f.login(t, domain.RoleMentee, "ada@example.org", password)
}

func TestLoginLimitPerAddress(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	for i := range 50 {
		email := fmt.Sprintf("guess%d@example.org", i) // a different account each time
		if _, _, err := f.svc.Login(ctx, domain.RoleMentee, email, password, "192.0.2.66:5000"); err != auth.ErrInvalidCredentials {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, "192.0.2.66:6000")
	wantCode(t, err, auth.CodeRateLimited)
	f.login(t, domain.RoleMentee, "ada@example.org", password) // from another address
}

func TestIPv6ClientsAreLimitedByTheirNetwork(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: auth.Options{LoginLimits: auth.Limits{PerAddress: auth.Rate{Attempts: 3, Per: time.Hour}}}})
	ctx := context.Background()
	for i := range 3 {
		addr := fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)
		if _, _, err := f.svc.Login(ctx, domain.RoleMentee, fmt.Sprintf("u%d@example.org", i), password, addr); err != auth.ErrInvalidCredentials {
			t.Fatal(err)
		}
	}
	_, _, err := f.svc.Login(ctx, domain.RoleMentee, "v@example.org", password, "2001:db8:1:2:ffff::1")
	wantCode(t, err, auth.CodeRateLimited)
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "v@example.org", password, "2001:db8:1:3::1"); err != auth.ErrInvalidCredentials {
		t.Errorf("another /64: %v", err)
	}
}

func TestConcurrentAttemptsEachCount(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	const n = 30
	var mu sync.Mutex
	counts := map[refusal.Code]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, err := f.svc.Login(context.Background(), domain.RoleMentee, "ada@example.org", "a wrong guess", "192.0.2.1")
			mu.Lock()
			defer mu.Unlock()
			counts[refusal.CodeOf(err)]++
		})
	}
	wg.Wait()
	if counts[auth.CodeInvalidCredentials] != 10 || counts[auth.CodeRateLimited] != n-10 {
		t.Errorf("outcomes of %d concurrent guesses: %v, want 10 checked and the rest rate limited", n, counts)
	}
}

func TestSuccessfulLoginsDoNotCount(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	for range 60 {
		f.login(t, domain.RoleMentee, "ada@example.org", password)
	}
}

func TestWrongCurrentPasswordsCountAsFailedSignIns(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	for i := range 10 {
		if _, _, err := f.svc.ChangePassword(ctx, token, fmt.Sprintf("guess number %d", i), "the new password", ""); err != auth.ErrWrongCurrentPassword {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	_, _, err := f.svc.ChangePassword(ctx, token, password, "the new password", "")
	wantCode(t, err, auth.CodeRateLimited)
	_, _, err = f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, "198.51.100.7")
	wantCode(t, err, auth.CodeRateLimited)
	// The address the member signed in from before is not held by
	// guesses made elsewhere.
	f.login(t, domain.RoleMentee, "ada@example.org", password)
}

// Guesses at current passwords from one address count against the
// address's limit, across the accounts they try.
func TestWrongCurrentPasswordsCountPerAddress(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: auth.Options{LoginLimits: auth.Limits{PerAddress: auth.Rate{Attempts: 5, Per: 15 * time.Minute}}}})
	ctx := context.Background()
	var tokens []string
	for _, email := range []string{"ada@example.org", "grace@example.org"} {
		f.register(t, domain.RoleMentee, email, password)
		token, _ := f.login(t, domain.RoleMentee, email, password)
		tokens = append(tokens, token)
	}
	for i := range 5 {
		if _, _, err := f.svc.ChangePassword(ctx, tokens[i%2], "a wrong guess here", "the new password", "192.0.2.44"); err != auth.ErrWrongCurrentPassword {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	_, _, err := f.svc.ChangePassword(ctx, tokens[1], password, "the new password", "192.0.2.44")
	wantCode(t, err, auth.CodeRateLimited)
	if _, _, err := f.svc.ChangePassword(ctx, tokens[1], password, "the new password", "198.51.100.2"); err != nil {
		t.Fatalf("the right password from another address: %v", err)
	}
}

func TestResetRequestLimits(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	for _, email := range []string{"ada@example.org", "nobody@example.org"} {
		for i := range 5 {
			if err := f.svc.RequestPasswordReset(ctx, domain.RoleMentee, email, fmt.Sprintf("198.51.100.%d", i)); err != nil {
				t.Fatalf("%s request %d: %v", email, i+1, err)
			}
		}
		err := f.svc.RequestPasswordReset(ctx, domain.RoleMentee, email, "198.51.100.99")
		if ae := wantCode(t, err, auth.CodeRateLimited); ae.RetryAfter != time.Hour {
			t.Errorf("%s: RetryAfter %v, want 1h", email, ae.RetryAfter)
		}
	}
	for i := range 20 {
		if err := f.svc.RequestPasswordReset(ctx, domain.RoleMentee, fmt.Sprintf("u%d@example.org", i), "203.0.113.5"); err != nil {
			t.Fatalf("request %d from one address: %v", i+1, err)
		}
	}
	err := f.svc.RequestPasswordReset(ctx, domain.RoleMentee, "v@example.org", "203.0.113.5")
	wantCode(t, err, auth.CodeRateLimited)
	if err := f.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.messages(t)); n != 5 {
		t.Errorf("%d emails sent, want 5 (the account's allowance)", n)
	}
}
