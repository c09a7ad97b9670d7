package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/refusal"
)

// Session describes a signed-in session. It never holds the token.
type Session struct {
	// ID names the session in logs and payloads. It is derived from the
	// token's hash and opens nothing.
	ID string
	// Actor is the account the session acts for.
	Actor domain.Actor
	// ClientAddr is the address the session signed in from.
	ClientAddr string
	// CreatedAt is when the session began.
	CreatedAt time.Time
	// IdleExpiresAt is when the session ends unless it is used before.
	IdleExpiresAt time.Time
	// ExpiresAt is when the session ends however much it is used.
	ExpiresAt time.Time

	hash       TokenHash
	generation uint64
}

func sessionOf(r SessionRecord) Session {
	return Session{
		ID:            r.Hash.sessionID(),
		Actor:         domain.Actor{ID: r.MemberID, Role: r.Role},
		ClientAddr:    r.ClientAddr,
		CreatedAt:     r.CreatedAt,
		IdleExpiresAt: r.IdleExpiresAt,
		ExpiresAt:     r.ExpiresAt,
		hash:          r.Hash,
		generation:    r.Generation,
	}
}

func validRole(role domain.Role) bool {
	switch role {
	case domain.RoleMentee, domain.RoleMentor, domain.RoleStaff, domain.RoleAuditor:
		return true
	}
	return false
}

// Login signs in to the account of role and email and returns a bearer
// token with its session. Mentee and mentor accounts are separate: a
// mentee's credentials never open a mentor session, even when one email
// holds both. clientAddr is the client's IP address (a port is ignored),
// or empty for local commands.
//
// An unknown email, a wrong password and the wrong role all return
// ErrInvalidCredentials itself, after the same argon2id work, and count as
// a failure against the sign-in limits (see Limits); a correct password
// never counts. Once a limit that applies is full, every call gets
// ErrRateLimited (a *refusal.Error with RetryAfter), whatever the password.
func (s *Service) Login(ctx context.Context, role domain.Role, email, password, clientAddr string) (string, Session, error) {
	if !validRole(role) {
		return "", Session{}, invalidInput("role", "must be %s, %s, %s or %s", domain.RoleMentee, domain.RoleMentor, domain.RoleStaff, domain.RoleAuditor)
	}
	key := emailKey(email)
	log := s.logger(ctx).With().Str("role", string(role)).Str("client_addr", clientAddr).Logger()
	in := s.signInFor(role, key, clientAddr)
	if err := s.allowGuess(ctx, in, s.clock.Now()); err != nil {
		log.Warn().Err(err).Msg("sign-in refused")
		return "", Session{}, err
	}
	cred, err := s.store.Credential(ctx, role, key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", Session{}, wrapInternal("login", err)
	}
	known := err == nil && cred.Status == StatusActive
	ok, stale, err := s.verify(ctx, password, cred.PasswordHash, known)
	if err != nil {
		return "", Session{}, wrapInternal("login", err)
	}
	if !ok {
		if err := s.countFailure(ctx, in, s.clock.Now()); err != nil {
			log.Warn().Err(err).Msg("sign-in refused")
			return "", Session{}, err
		}
		log.Info().Msg("sign-in refused: invalid credentials")
		return "", Session{}, ErrInvalidCredentials
	}
	// Failures counted while the password was checked may have filled a
	// limit; answering a correct password then would answer one guess too
	// many.
	if err := s.allowGuess(ctx, in, s.clock.Now()); err != nil {
		log.Warn().Err(err).Msg("sign-in refused")
		return "", Session{}, err
	}
	if stale {
		s.rehash(ctx, cred, password)
	}
	token, sess, err := s.issue(ctx, cred, clientAddr)
	if err != nil {
		return "", Session{}, err
	}
	fctx, cancel := detached(ctx)
	defer cancel()
	s.clearFailures(fctx, in, s.clock.Now(), false)
	s.recordSignIn(fctx, sess.Actor)
	log.Info().Str("member_id", cred.MemberID.String()).Str("session", sess.ID).Msg("signed in")
	return token, sess, nil
}

// recordSignIn puts the sign-in on the member's stream, which the
// retention rule counts from. The session is issued by then, so a failure
// is logged and the sign-in still succeeds; the member's next sign-in
// records the day again. A read-only server records nothing.
func (s *Service) recordSignIn(ctx context.Context, actor domain.Actor) {
	_, err := s.registrar.RecordSignIn(ctx, actor)
	switch {
	case err == nil, errors.Is(err, eventstore.ErrReadOnly):
	case refusal.CodeOf(err) != "":
		// Erased in the meantime: the session dies with the credentials.
		s.logger(ctx).Info().Err(err).Str("member_id", actor.ID.String()).Msg("sign-in not recorded")
	default:
		s.logger(ctx).Error().Err(err).Str("member_id", actor.ID.String()).Msg("recording a sign-in for the retention rule")
	}
}

// rehash stores a hash of password made with the current argon2id
// settings, for credentials hashed with older ones. It leaves the
// generation alone: the password is the same, so sessions stay valid.
// Failures are only logged.
func (s *Service) rehash(ctx context.Context, cred Credential, password string) {
	hash, err := s.hash(ctx, password)
	if err == nil {
		err = s.store.UpdateCredential(ctx, cred.Role, cred.EmailKey, func(cur *Credential) (*Credential, error) {
			if cur == nil || cur.PasswordHash != cred.PasswordHash {
				return cur, nil
			}
			next := *cur
			next.PasswordHash = hash
			return &next, nil
		})
	}
	if err != nil {
		s.logger(ctx).Error().Err(err).Str("member_id", cred.MemberID.String()).Msg("rehashing a password with the current settings")
	}
}

// issue starts a session for cred under its current generation.
func (s *Service) issue(ctx context.Context, cred Credential, clientAddr string) (string, Session, error) {
	token, hash := newToken(sessionPrefix)
	now := s.clock.Now()
	expires := now.Add(s.opts.MaxSessionAge)
	rec := SessionRecord{
		Hash:          hash,
		MemberID:      cred.MemberID,
		Role:          cred.Role,
		Generation:    cred.Generation,
		ClientAddr:    clientAddr,
		CreatedAt:     now,
		LastUsedAt:    now,
		IdleExpiresAt: minTime(now.Add(s.opts.IdleTimeout), expires),
		ExpiresAt:     expires,
	}
	if err := s.store.CreateSession(ctx, rec); err != nil {
		return "", Session{}, wrapInternal("start session", err)
	}
	return token, sessionOf(rec), nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Authenticate returns the actor and session of a bearer token. It fails
// with ErrTokenInvalid for a malformed or unknown token, ErrTokenExpired
// past the idle or absolute lifetime, and ErrTokenRevoked after a sign-out
// or a password change or reset; each takes effect on the next call. Using
// a session extends its idle lifetime (recorded at most once a minute).
func (s *Service) Authenticate(ctx context.Context, token string) (domain.Actor, Session, error) {
	hash, ok := parseToken(sessionPrefix, token)
	if !ok {
		return domain.Actor{}, Session{}, ErrTokenInvalid
	}
	now := s.clock.Now()
	rec, err := s.check(ctx, hash, now)
	if err != nil {
		return domain.Actor{}, Session{}, err
	}
	if now.Sub(rec.LastUsedAt) >= s.touch {
		err := s.store.UpdateSession(ctx, hash, func(r *SessionRecord) error {
			if r.LastUsedAt.Before(now) {
				r.LastUsedAt = now
				r.IdleExpiresAt = minTime(now.Add(s.opts.IdleTimeout), r.ExpiresAt)
			}
			return nil
		})
		if err != nil {
			s.logger(ctx).Error().Err(err).Str("session", rec.Hash.sessionID()).Msg("recording a session's use")
		} else {
			rec.LastUsedAt, rec.IdleExpiresAt = now, minTime(now.Add(s.opts.IdleTimeout), rec.ExpiresAt)
			s.sessions.used(hash, rec.LastUsedAt, rec.IdleExpiresAt)
		}
	}
	sess := sessionOf(rec)
	return sess.Actor, sess, nil
}

// check loads the session of hash and returns it while it is valid at now.
func (s *Service) check(ctx context.Context, hash TokenHash, now time.Time) (SessionRecord, error) {
	if rec, ok := s.sessions.get(hash, now); ok {
		if !now.Before(rec.ExpiresAt) || !now.Before(rec.IdleExpiresAt) {
			return SessionRecord{}, ErrTokenExpired
		}
		return rec, nil
	}
	epoch := s.sessions.begin()
	rec, err := s.store.Session(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return SessionRecord{}, ErrTokenInvalid
	}
	if err != nil {
		return SessionRecord{}, wrapInternal("authenticate", err)
	}
	switch {
	case !rec.RevokedAt.IsZero():
		return SessionRecord{}, ErrTokenRevoked
	case !now.Before(rec.ExpiresAt), !now.Before(rec.IdleExpiresAt):
		return SessionRecord{}, ErrTokenExpired
	}
	cred, err := s.store.CredentialByID(ctx, rec.MemberID)
	if errors.Is(err, ErrNotFound) {
		return SessionRecord{}, ErrTokenRevoked
	}
	if err != nil {
		return SessionRecord{}, wrapInternal("authenticate", err)
	}
	if cred.Generation != rec.Generation {
		return SessionRecord{}, ErrTokenRevoked
	}
	s.sessions.put(rec, epoch, now)
	return rec, nil
}

// Logout ends the session of token at once: the token stops working and
// every context Watch returned for it ends with a cause matching
// ErrTokenRevoked, on the other instances too when Options.Revocations is
// set; a context of the calling request itself ends when ctx does, so
// that the request can answer. Signing out a session that already ended
// succeeds; an unknown token gets ErrTokenInvalid. Once called, the
// sign-out completes even if ctx ends meanwhile.
func (s *Service) Logout(ctx context.Context, token string) error {
	hash, ok := parseToken(sessionPrefix, token)
	if !ok {
		return ErrTokenInvalid
	}
	now := s.clock.Now()
	release := spare(ctx)
	fctx, cancel := detached(ctx)
	defer cancel()
	err := s.store.UpdateSession(fctx, hash, func(r *SessionRecord) error {
		if r.RevokedAt.IsZero() {
			r.RevokedAt = now
		}
		return nil
	})
	if err != nil {
		release()
		if errors.Is(err, ErrNotFound) {
			return ErrTokenInvalid
		}
		return wrapInternal("logout", err)
	}
	s.revoke(fctx, Revocation{Reason: RevokedSignOut, Session: hash})
	s.logger(ctx).Info().Str("session", hash.sessionID()).Msg("signed out")
	return nil
}

// ChangePassword replaces the password of the account signed in with
// token, after checking its current password. It revokes every session of
// the account, this one included, and every outstanding reset link, and
// returns a fresh token and session for the caller to continue with; a
// context of the calling request itself ends when ctx does, so that the
// request can answer.
//
// A wrong current password returns ErrWrongCurrentPassword and counts as a
// failed sign-in on the account from clientAddr; a weak new one returns
// ErrWeakPassword (field "newPassword"). Every refusal changes nothing.
// Once the new password is stored the call succeeds, whatever becomes of
// ctx: if even the new session cannot be started, it returns an empty
// token with the session's actor, and the member signs in with the new
// password.
func (s *Service) ChangePassword(ctx context.Context, token, currentPassword, newPassword, clientAddr string) (string, Session, error) {
	_, sess, err := s.Authenticate(ctx, token)
	if err != nil {
		return "", Session{}, err
	}
	if err := CheckPassword("newPassword", newPassword); err != nil {
		return "", Session{}, err
	}
	cred, err := s.store.CredentialByID(ctx, sess.Actor.ID)
	if err != nil {
		return "", Session{}, wrapInternal("change password", err)
	}
	log := s.logger(ctx).With().Str("member_id", cred.MemberID.String()).Logger()
	in := s.signInFor(cred.Role, cred.EmailKey, clientAddr)
	if err := s.allowGuess(ctx, in, s.clock.Now()); err != nil {
		return "", Session{}, err
	}
	ok, _, err := s.verify(ctx, currentPassword, cred.PasswordHash, true)
	if err != nil {
		return "", Session{}, wrapInternal("change password", err)
	}
	if !ok {
		if err := s.countFailure(ctx, in, s.clock.Now()); err != nil {
			return "", Session{}, err
		}
		log.Info().Msg("password change refused: wrong current password")
		return "", Session{}, ErrWrongCurrentPassword
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return "", Session{}, wrapInternal("change password", err)
	}
	if err := s.allowGuess(ctx, in, s.clock.Now()); err != nil {
		return "", Session{}, err
	}
	release := spare(ctx)
	fctx, cancel := detached(ctx)
	defer cancel()
	cred, err = s.setPassword(fctx, cred.MemberID, cred.Generation, hash)
	if err != nil {
		release()
		return "", Session{}, err
	}
	s.revoke(fctx, Revocation{Reason: RevokedPasswordChange, Member: cred.MemberID, Generation: cred.Generation})
	s.clearFailures(fctx, in, s.clock.Now(), false)
	log.Info().Msg("password changed; sessions revoked")
	next, nextSess, err := s.issue(fctx, cred, sess.ClientAddr)
	if err != nil {
		log.Error().Err(err).Msg("starting a session after a password change, which stands")
		return "", Session{Actor: sess.Actor}, nil
	}
	return next, nextSess, nil
}

// setPassword stores hash as member's password hash and bumps the
// generation, which revokes every session and reset token issued before,
// in the same write. It fails with ErrTokenRevoked when the generation is
// no longer generation: the password changed meanwhile.
func (s *Service) setPassword(ctx context.Context, member uuid.UUID, generation uint64, hash string) (Credential, error) {
	cred, err := s.store.CredentialByID(ctx, member)
	if err != nil {
		return Credential{}, wrapInternal("set password", err)
	}
	now := s.clock.Now()
	var next Credential
	err = s.store.UpdateCredential(ctx, cred.Role, cred.EmailKey, func(cur *Credential) (*Credential, error) {
		if cur == nil || cur.MemberID != member || cur.Generation != generation {
			return nil, ErrTokenRevoked
		}
		next = *cur
		next.PasswordHash, next.PasswordChangedAt = hash, now
		next.Generation++
		return &next, nil
	})
	if err != nil {
		return Credential{}, wrapInternal("set password", err)
	}
	return next, nil
}

// Watch returns a context that lives as long as both ctx and the session:
// it ends when the session is signed out or its password changed or reset
// through this service (or through another instance, when
// Options.Revocations is set), with a cause matching ErrTokenRevoked, and
// at the session's absolute expiry with ErrTokenExpired (context.Cause
// tells which). A WebSocket connection holds it for its lifetime after
// authenticating in connection_init. A session that ended before the call
// yields a context that has already ended. Call the returned function when
// the connection closes; everything the context holds is also released
// once ctx ends.
func (s *Service) Watch(ctx context.Context, sess Session) (context.Context, context.CancelFunc) {
	revocable, revoke := context.WithCancelCause(ctx)
	watched, stopTimer := context.WithTimeoutCause(revocable, sess.ExpiresAt.Sub(s.clock.Now()), ErrTokenExpired)
	w := &watcher{hash: sess.hash, member: sess.Actor.ID, generation: sess.generation, cancel: revoke}
	watched = context.WithValue(watched, watcherKey{}, watch{hub: s.hub, watcher: w})
	s.hub.add(w)
	context.AfterFunc(watched, func() { s.hub.remove(w) })
	// Check again now that revocations reach the watcher, so that one
	// made since the session was authenticated is not missed.
	if _, err := s.check(watched, sess.hash, s.clock.Now()); err != nil {
		revoke(err)
	}
	return watched, func() {
		s.hub.remove(w)
		stopTimer()
		revoke(context.Canceled)
	}
}
