package auth

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/refusal"
)

// Revocations carries revocations between the instances of the service
// that share a Store. The store alone makes a revoked token fail on every
// instance, because each one authenticates against it; but a context
// handed out by Watch (an open WebSocket subscription) lives in the memory
// of the instance that holds it, and only a revocation made through that
// instance would end it. With Options.Revocations set, every instance
// publishes the revocations made through it and ends the contexts that the
// revocations of the others reach. auth/redis implements it over Redis
// pub/sub.
type Revocations interface {
	// Publish tells the subscribed instances, the publishing one included,
	// about r. Delivery is not guaranteed; a subscriber that may have lost
	// revocations learns it through the missed function of Subscribe.
	Publish(ctx context.Context, r Revocation) error
	// Subscribe calls revoked with each revocation published from then on,
	// and missed whenever revocations may have been lost (after the link
	// to the other instances was down), so that the subscriber can check
	// its live sessions against the store instead. Calls come one at a time
	// and should return quickly. The returned function ends the
	// subscription; once it returns, no call is in progress or to come.
	Subscribe(revoked func(Revocation), missed func()) (unsubscribe func())
}

// RevocationReason tells why sessions were revoked. It picks the cause
// with which their Watch contexts end.
type RevocationReason string

// The reasons of revocations.
const (
	// RevokedSignOut ends one session, named by Revocation.Session.
	RevokedSignOut RevocationReason = "SIGNED_OUT"
	// RevokedPasswordChange ends the sessions of Revocation.Member issued
	// before Revocation.Generation, after a password change.
	RevokedPasswordChange RevocationReason = "PASSWORD_CHANGED"
	// RevokedPasswordReset is RevokedPasswordChange after a reset.
	RevokedPasswordReset RevocationReason = "PASSWORD_RESET"
	// RevokedAccountClosed ends every session of Revocation.Member, whose
	// account was deleted when the member was erased.
	RevokedAccountClosed RevocationReason = "ACCOUNT_CLOSED"
)

// Revocation is one revocation made through an instance of the service, as
// told to the others. It names sessions by their token hash and accounts
// by member ID, which open nothing.
type Revocation struct {
	// Reason is why the sessions ended.
	Reason RevocationReason
	// Session is the token hash of the signed-out session; zero when the
	// revocation is of an account's sessions.
	Session TokenHash
	// Member is the account whose sessions ended; uuid.Nil when the
	// revocation is of one session.
	Member uuid.UUID
	// Generation is the account's credential generation after the change:
	// the sessions issued under an earlier one ended.
	Generation uint64
}

// cause is the cause with which the Watch contexts reached by a revocation
// of reason end. An unknown reason, from a newer instance, still ends them
// with one matching ErrTokenRevoked.
func (reason RevocationReason) cause() error {
	switch reason {
	case RevokedSignOut:
		return errSignedOut
	case RevokedPasswordChange:
		return errPasswordChanged
	case RevokedPasswordReset:
		return errPasswordReset
	}
	return ErrTokenRevoked
}

const (
	// publishTimeout bounds telling the other instances about a
	// revocation. The publication outlives the request's context, so
	// that a client hanging up right after signing out does not keep its
	// other connections alive.
	publishTimeout = 5 * time.Second
	// recheckTimeout bounds checking every live session against the store
	// after revocations may have been lost.
	recheckTimeout = time.Minute
)

// revoke ends the live contexts that r reaches on this instance, then
// tells the other instances when Options.Revocations is set. A failure to
// tell them is logged rather than returned: the revocation itself is
// already stored and in force for every new request.
func (s *Service) revoke(ctx context.Context, r Revocation) {
	s.applyRevocation(r)
	if s.opts.Revocations == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.opts.Revocations.Publish(ctx, r); err != nil {
		s.logger(ctx).Error().Err(err).Str("reason", string(r.Reason)).Msg("telling other instances about a revocation")
	}
}

// applyRevocation ends the live contexts of this instance that r reaches.
// Applying a revocation again, as an instance does when its own
// publication comes back, ends nothing more.
func (s *Service) applyRevocation(r Revocation) {
	// The cache forgets first, so that a context watched from now on is
	// checked against the store.
	s.sessions.remove(r.Session, r.Member)
	cause := r.Reason.cause()
	if r.Session != (TokenHash{}) {
		s.hub.revokeSession(r.Session, cause)
	}
	if r.Member != uuid.Nil {
		s.hub.revokeMember(r.Member, r.Generation, cause)
	}
}

// recheck checks the session of every live context against the store and
// ends the contexts of those no longer valid, as Watch does when it
// starts. It stands in for the revocations that may have been lost while
// the link to the other instances was down.
func (s *Service) recheck() {
	go s.recheckLive()
}

// recheckLive does recheck's work in its own goroutine, so that the link
// to the other instances goes on meanwhile. A session the store refuses
// ends its contexts at once; one the store cannot answer for yet (the
// store's own link may come back a moment after the revocations') is
// tried again with back-off, and ended only when recheckTimeout passes
// without an answer.
func (s *Service) recheckLive() {
	s.sessions.flush()
	ctx, cancel := context.WithTimeout(context.Background(), recheckTimeout)
	defer cancel()
	pending, ended := s.hub.watchers(), 0
	for wait := 50 * time.Millisecond; len(pending) > 0; wait = min(2*wait, 2*time.Second) {
		now := s.clock.Now()
		var retry []*watcher
		var lastErr error
		for _, w := range pending {
			_, err := s.check(ctx, w.hash, now)
			switch {
			case err == nil:
			case refusal.CodeOf(err) != "":
				s.hub.endWatcher(w, err)
				ended++
			default:
				retry, lastErr = append(retry, w), err
			}
		}
		if pending = retry; len(pending) == 0 {
			break
		}
		select {
		case <-time.After(wait):
			continue
		case <-ctx.Done():
		}
		s.log.Error().Err(lastErr).Int("sessions", len(pending)).Msg("live sessions could not be checked after revocations may have been lost; ending them")
		for _, w := range pending {
			s.hub.endWatcher(w, lastErr)
		}
		ended += len(pending)
		pending = nil
	}
	s.log.Info().Int("ended", ended).Msg("checked live sessions after revocations may have been lost")
}

// watcherKey is the context key under which Watch leaves its watch.
type watcherKey struct{}

// watch is a watcher with the hub that holds it, whose mutex guards it.
type watch struct {
	hub     *hub
	watcher *watcher
}

// spare holds back the revocations that would end ctx, when ctx derives
// from a context Watch returned, until ctx itself ends: an operation that
// revokes its own session (a sign-out, a password change) finishes and
// answers, and the watched context ends right after it. The returned
// function gives the hold up early, for an operation that ends up
// changing nothing.
func spare(ctx context.Context) (cancel func()) {
	w, ok := ctx.Value(watcherKey{}).(watch)
	if !ok {
		return func() {}
	}
	release := w.hub.spare(w.watcher)
	stop := context.AfterFunc(ctx, release)
	return func() {
		stop()
		release()
	}
}
