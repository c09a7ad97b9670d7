package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// The sign-in guard limits password guesses (sign-ins, and current
// passwords on a password change) by counting failures only, and only once
// they are known: a password is checked first, and its outcome is recorded
// in one transaction with a fresh look at the counts. Nothing is written
// for an attempt in flight, so a crash leaves nothing behind, and
// concurrent correct passwords never hold each other back.
//
// Failures count per account from every address together, per account
// from each address, and per address across accounts. The account-wide
// count does not apply to an address the account signed in from before
// (trusted, for as long as a session lasts), so that guesses from
// elsewhere cannot lock the owner out of their own address; such an
// address is held by its own count on the account instead. A password
// reset, which proves the mailbox, clears the account's failures and
// trusts the address that completed it.

// The positions of the guard's keys. An attempt without a client address
// (a local command) has the account key only.
const (
	slotAccount = iota // failures on the account from any address
	slotPair           // failures on the account from this address
	slotAddress        // failures from this address on any account
	slotTrust          // whether the account signed in from this address
)

// errUnchanged aborts an UpdateRates call that only reads, so that the
// store writes nothing.
var errUnchanged = errors.New("rates unchanged")

// signIn names the rate states of one guess at an account's password.
type signIn struct {
	keys  []string
	rates [slotTrust]Rate
	// trustFor is how long a successful sign-in trusts its address.
	trustFor time.Duration
}

// signInFor returns the rate states of a guess at the password of role and
// emailKey from clientAddr. Keys are hashes, so the store learns neither
// emails nor addresses.
func (s *Service) signInFor(role domain.Role, emailKey, clientAddr string) signIn {
	l := s.opts.LoginLimits
	in := signIn{
		keys:     []string{"login/account/" + digest(string(role), emailKey)},
		rates:    [slotTrust]Rate{l.PerAccount, l.PerAccount, l.PerAddress},
		trustFor: s.opts.MaxSessionAge,
	}
	if a := addressKey(clientAddr); a != "" {
		pair := digest(string(role), emailKey, a)
		in.keys = append(in.keys, "login/pair/"+pair, "login/address/"+digest(a), "login/trusted/"+pair)
	}
	return in
}

// judge drops from states the failures that left their windows, and the
// trust that expired, and returns how long to wait when a count that
// applies is full (zero when none is) and whether the address is trusted.
func (in signIn) judge(states []RateState, now time.Time) (wait time.Duration, trusted bool) {
	if len(states) > slotTrust {
		t := states[slotTrust]
		trusted = len(t.Hits) > 0 && now.Before(t.ExpiresAt)
		if !trusted {
			states[slotTrust] = RateState{}
		}
	}
	for i := range min(len(states), slotTrust) {
		r := in.rates[i]
		states[i].Hits = slices.DeleteFunc(states[i].Hits, func(t time.Time) bool { return !t.After(now.Add(-r.Per)) })
		if i == slotAccount && trusted {
			continue
		}
		if n := len(states[i].Hits); n >= r.Attempts {
			wait = max(wait, states[i].Hits[n-r.Attempts].Add(r.Per).Sub(now))
		}
	}
	return wait, trusted
}

// allowGuess refuses a guess with a rate-limited *refusal.Error while a
// count that applies to it is full, and writes nothing.
func (s *Service) allowGuess(ctx context.Context, in signIn, now time.Time) error {
	err := s.store.UpdateRates(ctx, in.keys, func(states []RateState) error {
		if wait, _ := in.judge(states, now); wait > 0 {
			return rateLimited(wait)
		}
		return errUnchanged
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return s.limited(LimitSignIn, wrapRate("check", err))
}

// countFailure records a wrong password at now, or, when a count filled up while
// the password was checked, records nothing and refuses with a
// rate-limited *refusal.Error, so that no more guesses are answered than the
// limits allow however many run at once.
func (s *Service) countFailure(ctx context.Context, in signIn, now time.Time) error {
	err := s.store.UpdateRates(ctx, in.keys, func(states []RateState) error {
		if wait, _ := in.judge(states, now); wait > 0 {
			return rateLimited(wait)
		}
		for i := range min(len(states), slotTrust) {
			// The account-wide count of a trusted address may be full;
			// it holds no more than its limit.
			if len(states[i].Hits) >= in.rates[i].Attempts {
				continue
			}
			states[i].Hits = append(states[i].Hits, now)
			slices.SortFunc(states[i].Hits, time.Time.Compare)
			states[i].ExpiresAt = states[i].Hits[len(states[i].Hits)-1].Add(in.rates[i].Per)
		}
		return nil
	})
	return s.limited(LimitSignIn, wrapRate("count a failure", err))
}

// clearFailures records a correct password from in's address at now: the
// address's own failures on the account go and the account trusts the
// address. With proven (a password reset, which proves the mailbox), the
// account's failures from every address go too. It runs once the change
// it follows is made, so a failure is only logged.
func (s *Service) clearFailures(ctx context.Context, in signIn, now time.Time, proven bool) {
	if len(in.keys) <= slotTrust && !proven {
		return
	}
	err := s.store.UpdateRates(ctx, in.keys, func(states []RateState) error {
		in.judge(states, now)
		if proven {
			states[slotAccount] = RateState{}
		}
		if len(states) > slotTrust {
			states[slotPair] = RateState{}
			states[slotTrust] = RateState{Hits: []time.Time{now}, ExpiresAt: now.Add(in.trustFor)}
		}
		return nil
	})
	if err != nil {
		s.logger(ctx).Error().Err(err).Msg("recording a successful sign-in in the rate states")
	}
}

// wrapRate prefixes a store failure and passes refusals through.
func wrapRate(op string, err error) error {
	if err != nil && refusal.CodeOf(err) == "" {
		return fmt.Errorf("sign-in rate: %s: %w", op, err)
	}
	return err
}
