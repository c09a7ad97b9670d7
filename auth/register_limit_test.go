package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// Registrations from one client address are limited: every attempt
// counts, probes of a taken email too, and concurrent attempts (the
// aliases of one GraphQL request) each count. Other addresses and the
// address's sign-ins keep their own allowance.
func TestRegistrationsAreLimitedPerClientAddress(t *testing.T) {
	reg := &countingRegistrar{}
	f := newFixture(t, fixtureOptions{
		opts:      auth.Options{LoginLimits: auth.Limits{PerAddress: auth.Rate{Attempts: 5, Per: 15 * time.Minute}}},
		registrar: func(next auth.Registrar) auth.Registrar { reg.next = next; return reg },
	})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)

	const attempts = 10
	var won, taken, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			email := fmt.Sprintf("member%d@example.org", i)
			if i == 0 {
				email = "ada@example.org"
			}
			_, err := f.svc.RegisterFrom(ctx, domain.RoleMentee, "Member", email, password, "192.0.2.7:5555")
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, auth.ErrEmailTaken):
				taken.Add(1)
			case refusal.CodeOf(err) == auth.CodeRateLimited:
				limited.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load()+taken.Load() != 5 || limited.Load() != attempts-5 {
		t.Errorf("%d registered, %d found the email taken, %d limited; want 5 let through and %d limited",
			won.Load(), taken.Load(), limited.Load(), attempts-5)
	}
	if got, want := reg.calls.Load(), 1+won.Load(); got != want {
		t.Errorf("the registrar recorded %d members, want %d", got, want)
	}

	_, err := f.svc.RegisterFrom(ctx, domain.RoleMentor, "Member", "other@example.org", password, "192.0.2.7")
	if ae := wantCode(t, err, auth.CodeRateLimited); ae.RetryAfter <= 0 || ae.RetryAfter > 15*time.Minute {
		t.Errorf("refusal says to retry after %v", ae.RetryAfter)
	}
	if _, err := f.svc.RegisterFrom(ctx, domain.RoleMentee, "Member", "elsewhere@example.org", password, "198.51.100.1"); err != nil {
		t.Errorf("registration from another address: %v", err)
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, "192.0.2.7"); err != nil {
		t.Errorf("sign-in from the limited address: %v", err)
	}
	f.clock.Advance(15 * time.Minute)
	if _, err := f.svc.RegisterFrom(ctx, domain.RoleMentor, "Member", "other@example.org", password, "192.0.2.7"); err != nil {
		t.Errorf("registration once the window passed: %v", err)
	}
}

// The sign-up limit has a rate of its own, and may be turned off.
func TestSignupLimitSettings(t *testing.T) {
	ctx := context.Background()
	own := newFixture(t, fixtureOptions{opts: auth.Options{SignupsPerAddress: auth.Rate{Attempts: 2, Per: time.Hour}}})
	for i := range 3 {
		_, err := own.svc.RegisterFrom(ctx, domain.RoleMentee, "Member", fmt.Sprintf("m%d@example.org", i), "short", "192.0.2.9")
		if want := i == 2; want != (refusal.CodeOf(err) == auth.CodeRateLimited) {
			t.Errorf("sign-up %d with 2 an hour: %v", i+1, err)
		}
	}
	off := newFixture(t, fixtureOptions{opts: auth.Options{NoSignupLimit: true, SignupsPerAddress: auth.Rate{Attempts: 1, Per: time.Hour}}})
	for i := range 5 {
		if _, err := off.svc.RegisterFrom(ctx, domain.RoleMentee, "Member", fmt.Sprintf("m%d@example.org", i), "short", "192.0.2.9"); refusal.CodeOf(err) == auth.CodeRateLimited {
			t.Fatalf("sign-up %d was limited with the limit off", i+1)
		}
	}
}
