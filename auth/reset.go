package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/mail"
)

// RequestPasswordReset asks for a reset link to be emailed to the account
// of role and email. It answers the same whether or not the account
// exists: nil once the request is queued. The lookup, the token and the
// email happen afterwards on the service's worker, so the call does the
// same work, and takes the same time, on both paths. It fails only on a
// malformed role or email, or with ErrRateLimited: every call counts
// against the per-account limit (kept for unknown emails too) and the
// per-address limit. clientAddr is as for Login.
func (s *Service) RequestPasswordReset(ctx context.Context, role domain.Role, email, clientAddr string) error {
	if !validRole(role) {
		return invalidInput("role", "must be %s, %s, %s or %s", domain.RoleMentee, domain.RoleMentor, domain.RoleStaff, domain.RoleAuditor)
	}
	_, key, err := cleanEmail(email)
	if err != nil {
		return err
	}
	log := s.log.With().Str("role", string(role)).Str("client_addr", clientAddr).Logger()
	if err := s.reset.take(ctx, s.clock.Now(), s.reset.counters(role, key, clientAddr)); err != nil {
		log.Warn().Err(err).Msg("password reset request refused")
		return err
	}
	if err := s.enqueue(ctx, job{role: role, emailKey: key}); err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	log.Info().Msg("password reset requested")
	return nil
}

// deliverReset issues a reset token for the account of role and key, if
// there is one, and emails the link. Failures are logged: the requester
// already had the answer and can ask again.
func (s *Service) deliverReset(ctx context.Context, role domain.Role, key string) {
	cred, err := s.store.Credential(ctx, role, key)
	if errors.Is(err, ErrNotFound) || (err == nil && cred.Status != StatusActive) {
		s.log.Debug().Str("role", string(role)).Msg("password reset requested for no account; nothing sent")
		return
	}
	log := s.log.With().Str("member_id", cred.MemberID.String()).Logger()
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
	msg, err := s.resetMessage(cred, token, hash)
	if err == nil {
		err = s.sender.Send(ctx, msg)
	}
	if err != nil {
		log.Error().Err(err).Msg("sending a password reset email")
		return
	}
	log.Info().Str("message_id", msg.ID).Msg("password reset email sent")
}

// ResetPassword sets a new password with the token from a reset link and
// returns the account's actor, so the client can offer the right sign-in
// page. A token works once and for ResetTokenTTL; a reset revokes every
// session of the account and every other reset link. It fails with
// ErrTokenInvalid for a malformed, unknown, used or superseded token,
// ErrTokenExpired past its lifetime, and ErrWeakPassword (field
// "newPassword"), which leaves the token usable.
func (s *Service) ResetPassword(ctx context.Context, resetToken, newPassword string) (domain.Actor, error) {
	hash, ok := parseToken(resetPrefix, resetToken)
	if !ok {
		return domain.Actor{}, ErrTokenInvalid
	}
	if err := CheckPassword("newPassword", newPassword); err != nil {
		return domain.Actor{}, err
	}
	rec, err := s.store.TakeReset(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return domain.Actor{}, ErrTokenInvalid
	}
	if err != nil {
		return domain.Actor{}, wrapInternal("reset password", err)
	}
	if !s.clock.Now().Before(rec.ExpiresAt) {
		return domain.Actor{}, ErrTokenExpired
	}
	cred, err := s.setPassword(ctx, rec.MemberID, rec.Generation, newPassword)
	if errors.Is(err, ErrTokenRevoked) {
		return domain.Actor{}, ErrTokenInvalid
	}
	if err != nil {
		return domain.Actor{}, err
	}
	s.revoke(ctx, Revocation{Reason: RevokedPasswordReset, Member: cred.MemberID, Generation: cred.Generation})
	s.log.Info().Str("member_id", cred.MemberID.String()).Msg("password reset; sessions revoked")
	return domain.Actor{ID: cred.MemberID, Role: cred.Role}, nil
}

// resetLink returns the frontend's reset page with token in its query.
func (s *Service) resetLink(token string) string {
	u := *s.resetURL
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String()
}

var resetHTML = template.Must(template.New("reset").Parse(`<!DOCTYPE html>
<html><body>
<p>Hello,</p>
<p>Someone, hopefully you, asked to reset the password of the {{.Kind}} account of {{.Email}} in {{.Program}}.</p>
<p><a href="{{.Link}}">Choose a new password</a> within {{.Valid}}. The link works once.</p>
<p>If you did not ask for it, ignore this email: your password stays as it is.</p>
</body></html>
`))

// resetMessage composes the reset email. Its ID derives from the token's
// hash, so that a retried send delivers one email and the ID reveals
// nothing about the token.
func (s *Service) resetMessage(cred Credential, token string, hash TokenHash) (mail.Message, error) {
	data := struct{ Kind, Email, Program, Link, Valid string }{
		Kind:    strings.ToLower(string(cred.Role)),
		Email:   cred.Email,
		Program: s.opts.ProgramName,
		Link:    s.resetLink(token),
		Valid:   humanDuration(s.opts.ResetTokenTTL),
	}
	var html strings.Builder
	if err := resetHTML.Execute(&html, data); err != nil {
		return mail.Message{}, err
	}
	text := fmt.Sprintf("Hello,\n\n"+
		"Someone, hopefully you, asked to reset the password of the %s account of %s in %s.\n\n"+
		"To choose a new password, open this link within %s:\n\n%s\n\n"+
		"The link works once. If you did not ask for it, ignore this email: your password stays as it is.\n",
		data.Kind, data.Email, data.Program, data.Valid, data.Link)
	return mail.Message{
		To:      cred.Email,
		Subject: "Reset your " + s.opts.ProgramName + " password",
		Text:    text,
		HTML:    html.String(),
		ID:      "password-reset." + hex.EncodeToString(hash[:16]),
	}, nil
}

// humanDuration writes d in whole hours or minutes, as an email says it.
func humanDuration(d time.Duration) string {
	unit, n := "minute", int(d/time.Minute)
	if d%time.Hour == 0 {
		unit, n = "hour", int(d/time.Hour)
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
