package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/mentorship/mentorship/refusal"
)

// The service refuses a request with a *refusal.Error carrying one of the
// codes below (or refusal.CodeInvalidInput for a malformed field, such as an
// unknown role or an email that is not an address), as opposed to an
// infrastructure failure that the caller logs and hides. Codes are stable
// strings: the GraphQL layer shows them as userErrors { code field message }
// or maps them to extensions.code (TOKEN_* to UNAUTHENTICATED). errors.Is
// matches a refusal against the sentinel of its code, so
// errors.Is(err, ErrWeakPassword) holds for every weak-password refusal
// whatever rule it names.
const (
	// CodeInvalidCredentials reports a sign-in with an unknown email, a
	// wrong password or the wrong role. The three are indistinguishable on
	// purpose.
	CodeInvalidCredentials refusal.Code = "INVALID_CREDENTIALS"
	// CodeWeakPassword reports a new password that breaks a password rule;
	// the message names the rule.
	CodeWeakPassword refusal.Code = "WEAK_PASSWORD"
	// CodeEmailTaken reports a registration with an email that already has
	// an account of the same role.
	CodeEmailTaken refusal.Code = "EMAIL_TAKEN"
	// CodeRateLimited reports too many attempts; the refusal's RetryAfter
	// says when the next one will be heard.
	CodeRateLimited refusal.Code = "RATE_LIMITED"
	// CodeTokenInvalid reports a token that is malformed, unknown or
	// already used.
	CodeTokenInvalid refusal.Code = "TOKEN_INVALID"
	// CodeTokenExpired reports a token past its lifetime.
	CodeTokenExpired refusal.Code = "TOKEN_EXPIRED"
	// CodeTokenRevoked reports a session that was signed out, or whose
	// password was changed or reset since it began.
	CodeTokenRevoked refusal.Code = "TOKEN_REVOKED"
)

// The sentinels of each code, for errors.Is. ErrInvalidCredentials is
// returned as it is, so that every failed sign-in reads the same.
var (
	ErrInvalidInput       = &refusal.Error{Code: refusal.CodeInvalidInput, Message: "the request is malformed"}
	ErrInvalidCredentials = &refusal.Error{Code: CodeInvalidCredentials, Message: "the email or password is incorrect"}
	ErrWeakPassword       = &refusal.Error{Code: CodeWeakPassword, Field: "password", Message: "the password breaks a password rule"}
	ErrEmailTaken         = &refusal.Error{Code: CodeEmailTaken, Field: "email", Message: "an account of this kind already uses this email"}
	ErrRateLimited        = &refusal.Error{Code: CodeRateLimited, Message: "too many attempts; try again later"}
	ErrTokenInvalid       = &refusal.Error{Code: CodeTokenInvalid, Message: "the token is not valid"}
	ErrTokenExpired       = &refusal.Error{Code: CodeTokenExpired, Message: "the token has expired; sign in again"}
	ErrTokenRevoked       = &refusal.Error{Code: CodeTokenRevoked, Message: "the session has ended; sign in again"}
)

// The refusals of a password change or reset, under the codes above with
// messages for the person who is changing or resetting the password: a
// reset link is no session to sign in again to, and a password change
// asks for the current password, not for an email.
var (
	// ErrWrongCurrentPassword refuses a password change whose current
	// password is wrong (CodeInvalidCredentials).
	ErrWrongCurrentPassword = &refusal.Error{Code: CodeInvalidCredentials, Field: "currentPassword", Message: "the current password is wrong"}
	// ErrResetLinkInvalid refuses a reset token that is malformed,
	// unknown, used or superseded (CodeTokenInvalid).
	ErrResetLinkInvalid = &refusal.Error{Code: CodeTokenInvalid, Message: "the reset link is not valid or was already used; ask for a new one"}
	// ErrResetLinkExpired refuses a reset token past its lifetime
	// (CodeTokenExpired).
	ErrResetLinkExpired = &refusal.Error{Code: CodeTokenExpired, Message: "the reset link has expired; ask for a new one"}
)

// ErrUnavailable marks a failure of a store shared between instances
// (Redis) that cannot be reached now: nothing of the operation was done,
// and the same call may succeed in a moment. It is no refusal (no code),
// so callers answer it as a temporary failure.
var ErrUnavailable = errors.New("the accounts store cannot be reached now")

// The causes with which Watch contexts end on revocation. Each matches
// ErrTokenRevoked.
var (
	errSignedOut       = &refusal.Error{Code: CodeTokenRevoked, Message: "the session was signed out"}
	errPasswordChanged = &refusal.Error{Code: CodeTokenRevoked, Message: "the password was changed; sign in again"}
	errPasswordReset   = &refusal.Error{Code: CodeTokenRevoked, Message: "the password was reset; sign in again"}
)

// ErrClosed is returned by calls that need the background worker after
// Close.
var ErrClosed = errors.New("auth: service closed")

func invalidInput(field, format string, args ...any) *refusal.Error {
	return refusal.Invalid(field, format, args...)
}

func weakPassword(field, format string, args ...any) *refusal.Error {
	return &refusal.Error{Code: CodeWeakPassword, Field: field, Message: fmt.Sprintf(format, args...)}
}

func rateLimited(wait time.Duration) *refusal.Error {
	secs := (wait + time.Second - 1) / time.Second
	return &refusal.Error{Code: CodeRateLimited, RetryAfter: secs * time.Second,
		Message: fmt.Sprintf("too many attempts; try again in %s", (secs * time.Second).String())}
}
