package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/notify"
)

// RequestPasswordReset asks for a reset link to be emailed to the account
// of role and email. It answers the same whether or not the account
// exists: nil once the request is queued. The lookup, the token and the
// email happen afterwards on the service's worker, so the call does the
// same work, and takes the same time, on both paths. It fails only on a
// malformed role or email, or with ErrRateLimited: every call counts
// against the per-account limit (kept for unknown emails too) and the
// per-address limit. clientAddr is as for Login. A request that fails
// to be queued is not counted. The per-account limit cannot keep the
// owner from resetting: the requests that fill it each email the owner a
// working link.
func (s *Service) RequestPasswordReset(ctx context.Context, role domain.Role, email, clientAddr string) error {
	if !validRole(role) {
		return invalidInput("role", "must be %s, %s, %s or %s", domain.RoleMentee, domain.RoleMentor, domain.RoleStaff, domain.RoleAuditor)
	}
	_, key, err := cleanEmail(email)
	if err != nil {
		return err
	}
	log := s.logger(ctx).With().Str("role", string(role)).Str("client_addr", clientAddr).Logger()
	now, counters := s.clock.Now(), s.reset.counters(role, key, clientAddr)
	if err := s.limited(LimitPasswordReset, s.reset.take(ctx, now, counters)); err != nil {
		log.Warn().Err(err).Msg("password reset request refused")
		return err
	}
	if err := s.enqueue(ctx, job{role: role, emailKey: key}); err != nil {
		// The request was not taken, so it does not count either.
		fctx, cancel := detached(ctx)
		defer cancel()
		if rerr := s.reset.refund(fctx, now, counters); rerr != nil {
			log.Error().Err(rerr).Msg("taking back a password reset request that was not queued")
		}
		return fmt.Errorf("request password reset: %w", err)
	}
	log.Info().Msg("password reset requested")
	return nil
}

// ResetMailer delivers password reset emails. notify.Resets implements it:
// it renders the email from the program's templates, with the staff
// contact address, and retries with backoff while the mail relay is down,
// keeping the email, which carries the clear token, in memory only. The
// server hands New a notify.Resets as its mail.Sender; with any other
// sender the service composes the same email itself, without a staff
// address, and sends it once.
type ResetMailer interface {
	SendPasswordReset(ctx context.Context, r notify.PasswordReset) error
}

// deliverReset issues a reset token for the account of role and key, if
// there is one, and emails the link. Failures are logged: the requester
// already had the answer and can ask again.
//
// The clear token exists only in this call and in the email: the store
// keeps its hash, no event records it, no log line holds it, and the
// email's ID derives from the hash.
func (s *Service) deliverReset(ctx context.Context, role domain.Role, key string) {
	cred, err := s.store.Credential(ctx, role, key)
	if errors.Is(err, ErrNotFound) || (err == nil && cred.Status != StatusActive) {
		s.logger(ctx).Debug().Str("role", string(role)).Msg("password reset requested for no account; nothing sent")
		return
	}
	log := s.logger(ctx).With().Str("member_id", cred.MemberID.String()).Logger()
	if err != nil {
		log.Error().Err(err).Msg("looking up the account of a password reset")
		return
	}
	token, hash := newToken(resetPrefix)
	now := s.clock.Now()
	rec := ResetRecord{Hash: hash, MemberID: cred.MemberID, Generation: cred.Generation, CreatedAt: now, ExpiresAt: now.Add(s.opts.ResetTokenTTL)}
	if err := s.store.CreateReset(ctx, rec); err != nil {
		log.Error().Err(err).Msg("storing a password reset token")
		return
	}
	reset := notify.PasswordReset{
		ID:        "password-reset." + hex.EncodeToString(hash[:16]),
		To:        cred.Email,
		Role:      cred.Role,
		Link:      s.resetLink(token),
		ValidFor:  s.opts.ResetTokenTTL,
		ExpiresAt: rec.ExpiresAt,
	}
	log = log.With().Str("message_id", reset.ID).Logger()
	if mailer, ok := s.sender.(ResetMailer); ok {
		if err := mailer.SendPasswordReset(ctx, reset); err != nil {
			log.Error().Err(err).Msg("queueing a password reset email")
			return
		}
		log.Info().Msg("password reset email queued")
		return
	}
	msg, err := notify.ComposePasswordReset(notify.Settings{ProgramName: s.opts.ProgramName, FrontendURL: s.resetURL.Scheme + "://" + s.resetURL.Host}, reset)
	if err == nil {
		err = s.sender.Send(ctx, msg)
	}
	if err != nil {
		log.Error().Err(err).Msg("sending a password reset email")
		return
	}
	log.Info().Msg("password reset email sent")
}

// ResetPassword is ResetPasswordFrom without a client address.
func (s *Service) ResetPassword(ctx context.Context, resetToken, newPassword string) (domain.Actor, error) {
	return s.ResetPasswordFrom(ctx, resetToken, newPassword, "")
}

// ResetPasswordFrom sets a new password with the token from a reset link
// and returns the account's actor, so the client can offer the right
// sign-in page. A token works once and for ResetTokenTTL; a reset revokes
// every session of the account and every other reset link, clears the
// account's failed sign-ins and trusts clientAddr (as for Login) for the
// account, as a successful sign-in from it would: the link proves the
// mailbox, so a reset lifts whatever guesses from elsewhere held.
//
// It fails with ErrResetLinkInvalid for a malformed, unknown, used or
// superseded token, ErrResetLinkExpired past its lifetime (which match
// ErrTokenInvalid and ErrTokenExpired), and ErrWeakPassword
// (field "newPassword"); a refusal or a failure leaves a token that still
// worked usable. Once the new password is stored the call succeeds,
// whatever becomes of ctx.
func (s *Service) ResetPasswordFrom(ctx context.Context, resetToken, newPassword, clientAddr string) (domain.Actor, error) {
	hash, ok := parseToken(resetPrefix, resetToken)
	if !ok {
		return domain.Actor{}, ErrResetLinkInvalid
	}
	if err := CheckPassword("newPassword", newPassword); err != nil {
		return domain.Actor{}, err
	}
	// Hashing first keeps the token out of the store for no longer than
	// the writes take.
	pwHash, err := s.hash(ctx, newPassword)
	if err != nil {
		return domain.Actor{}, wrapInternal("reset password", err)
	}
	fctx, cancel := detached(ctx)
	defer cancel()
	rec, err := s.store.TakeReset(fctx, hash)
	if errors.Is(err, ErrNotFound) {
		return domain.Actor{}, ErrResetLinkInvalid
	}
	if err != nil {
		return domain.Actor{}, wrapInternal("reset password", err)
	}
	if !s.clock.Now().Before(rec.ExpiresAt) {
		s.restoreReset(fctx, rec)
		return domain.Actor{}, ErrResetLinkExpired
	}
	release := spare(ctx)
	cred, err := s.setPassword(fctx, rec.MemberID, rec.Generation, pwHash)
	if errors.Is(err, ErrTokenRevoked) {
		// The password changed since the link was sent, which voided it.
		release()
		return domain.Actor{}, ErrResetLinkInvalid
	}
	if err != nil {
		release()
		s.restoreReset(fctx, rec)
		return domain.Actor{}, err
	}
	s.revoke(fctx, Revocation{Reason: RevokedPasswordReset, Member: cred.MemberID, Generation: cred.Generation})
	s.clearFailures(fctx, s.signInFor(cred.Role, cred.EmailKey, clientAddr), s.clock.Now(), true)
	s.logger(ctx).Info().Str("member_id", cred.MemberID.String()).Msg("password reset; sessions revoked")
	return domain.Actor{ID: cred.MemberID, Role: cred.Role}, nil
}

// restoreReset puts back a reset token taken by a reset that did not
// happen, so that the link works as before. A failure is only logged: the
// member can ask for another link.
func (s *Service) restoreReset(ctx context.Context, rec ResetRecord) {
	if err := s.store.CreateReset(ctx, rec); err != nil {
		s.logger(ctx).Error().Err(err).Str("member_id", rec.MemberID.String()).Msg("putting back the token of a password reset that did not happen")
	}
}

// resetLink returns the frontend's reset page with token in its query.
func (s *Service) resetLink(token string) string {
	u := *s.resetURL
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String()
}
