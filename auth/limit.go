package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// Rate is a sliding-window limit: at most Attempts counted attempts in any
// span of Per.
type Rate struct {
	// Attempts is how many attempts the window holds.
	Attempts int
	// Per is the window's length.
	Per time.Duration
}

func (r Rate) valid() bool { return r.Attempts > 0 && r.Per > 0 }

// Limits are the limits of one kind of attempt, kept per account (a role
// and an email, whether or not an account exists) and per client address.
//
// For password guesses (LoginLimits) only failures count, once they are
// known, and PerAccount applies twice: to the failures on the account from
// every address together, except from an address the account signed in
// from within the last MaxSessionAge, and to those from each address on
// its own. Guesses from elsewhere therefore never lock the owner out of an
// address they use; a password reset clears the account's failures and
// trusts the address that completed it. For reset requests (ResetLimits)
// every request counts.
type Limits struct {
	// PerAccount limits the attempts on one account.
	PerAccount Rate
	// PerAddress limits the attempts from one client address (one IPv4
	// address, one IPv6 /64 network).
	PerAddress Rate
}

// DefaultLoginLimits hold 10 failed sign-ins per 15 minutes per account and
// 50 per address. Successful sign-ins do not count, not even while they
// are checked.
func DefaultLoginLimits() Limits {
	return Limits{PerAccount: Rate{Attempts: 10, Per: 15 * time.Minute}, PerAddress: Rate{Attempts: 50, Per: 15 * time.Minute}}
}

// DefaultResetLimits hold 5 password reset requests per hour per account
// and 20 per address. Every request counts.
func DefaultResetLimits() Limits {
	return Limits{PerAccount: Rate{Attempts: 5, Per: time.Hour}, PerAddress: Rate{Attempts: 20, Per: time.Hour}}
}

func (l Limits) withDefaults(d Limits) Limits {
	if !l.PerAccount.valid() {
		l.PerAccount = d.PerAccount
	}
	if !l.PerAddress.valid() {
		l.PerAddress = d.PerAddress
	}
	return l
}

// limiter counts every attempt of one kind ("reset", "register") in the
// store.
type limiter struct {
	kind   string
	limits Limits
	store  RateStore
}

// counter is one limited key and its rate.
type counter struct {
	key  string
	rate Rate
}

// counters returns the counters an attempt on role and emailKey from
// clientAddr falls under. Keys are hashes, so the store learns neither
// emails nor addresses. An empty clientAddr (a local operator command) has
// no address counter.
func (l *limiter) counters(role domain.Role, emailKey, clientAddr string) []counter {
	cs := []counter{{key: l.kind + "/account/" + digest(string(role), emailKey), rate: l.limits.PerAccount}}
	if a := addressKey(clientAddr); a != "" {
		cs = append(cs, counter{key: l.kind + "/address/" + digest(a), rate: l.limits.PerAddress})
	}
	return cs
}

// take counts one attempt at now on every counter, or on none and returns
// a rate-limited *refusal.Error when any counter is full. Checking and counting
// happen in one transaction, so concurrent attempts (one per alias of a
// GraphQL request) cannot slip through together.
func (l *limiter) take(ctx context.Context, now time.Time, cs []counter) error {
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.key
	}
	err := l.store.UpdateRates(ctx, keys, func(states []RateState) error {
		var wait time.Duration
		for i, c := range cs {
			states[i].Hits = slices.DeleteFunc(states[i].Hits, func(t time.Time) bool { return !t.After(now.Add(-c.rate.Per)) })
			if n := len(states[i].Hits); n >= c.rate.Attempts {
				wait = max(wait, states[i].Hits[n-c.rate.Attempts].Add(c.rate.Per).Sub(now))
			}
		}
		if wait > 0 {
			return rateLimited(wait)
		}
		for i, c := range cs {
			states[i].Hits = append(states[i].Hits, now)
			states[i].ExpiresAt = now.Add(c.rate.Per)
		}
		return nil
	})
	if err != nil && refusal.CodeOf(err) == "" {
		return fmt.Errorf("%s rate: %w", l.kind, err)
	}
	return err
}

// refund takes back the attempt counted at at, for an attempt that did
// not happen after all (a reset request that could not be queued).
func (l *limiter) refund(ctx context.Context, at time.Time, cs []counter) error {
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.key
	}
	err := l.store.UpdateRates(ctx, keys, func(states []RateState) error {
		for i := range states {
			if j := slices.IndexFunc(states[i].Hits, at.Equal); j >= 0 {
				states[i].Hits = slices.Delete(states[i].Hits, j, j+1)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s rate refund: %w", l.kind, err)
	}
	return nil
}

// digest hashes the parts of a key, separated so that ("ab", "c") and
// ("a", "bc") differ.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// addressKey reduces a client address to what one client controls: the
// address without its port, and for IPv6 its /64 network, since a single
// host commonly holds a whole /64.
func addressKey(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}
