package auth

import (
	"context"
	"runtime"
	"time"
)

// finishTimeout bounds the steps that run on once a change is durable, or
// about to be, whatever becomes of the request: from then on a call
// answers what happened rather than that its client hung up.
const finishTimeout = 30 * time.Second

// detached returns a context for the steps that must finish once a change
// is under way: it keeps ctx's values but not its cancellation.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
}

// hashSlots is how many argon2id derivations may run at once. Each holds
// Params.Memory for its duration, and the sign-in guard counts a guess only
// once its password is checked, so without a bound concurrent requests
// could hold any amount of memory. Beyond the CPUs' count, more at once
// only queue anyway.
func hashSlots() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// derive runs fn, an argon2id derivation, once a slot is free, or returns
// ctx's error when ctx ends first.
func (s *Service) derive(ctx context.Context, fn func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashing }()
	fn()
	return nil
}

// hash returns a fresh argon2id hash of password under the current
// settings.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	var h string
	err := s.derive(ctx, func() { h = hashPassword(s.opts.Params, password) })
	return h, err
}

// verify checks password against encoded when known, and otherwise
// against a hash of a random password, so that every path costs one
// argon2id derivation. A password too long to be anyone's is checked the
// same way, over its first MaxPasswordBytes only to bound the work of a
// check that fails anyway. It also reports whether encoded was made with
// other settings than the current ones. A stored hash that does not parse
// is logged and fails the check.
func (s *Service) verify(ctx context.Context, password, encoded string, known bool) (ok, stale bool, err error) {
	if !known || len(password) > MaxPasswordBytes {
		known, encoded = false, s.dummyHash
		password = password[:min(len(password), MaxPasswordBytes)]
	}
	var bad error
	err = s.derive(ctx, func() { ok, stale, bad = verifyPassword(s.opts.Params, password, encoded) })
	if err != nil {
		return false, false, err
	}
	if bad != nil {
		s.logger(ctx).Error().Err(bad).Msg("verifying a stored password hash")
	}
	return known && ok, stale, nil
}
