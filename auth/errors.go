package auth

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies why the service refused a request. Codes are stable
// strings: the GraphQL layer shows them as userErrors { code field message }
// or maps them to extensions.code (TOKEN_* to UNAUTHENTICATED).
type Code string

// The codes of the service's refusals.
const (
	// CodeInvalidInput reports a malformed field, such as an unknown role
	// or an email that is not an address; Error.Field names it.
	CodeInvalidInput Code = "INVALID_INPUT"
	// CodeInvalidCredentials reports a sign-in with an unknown email, a
	// wrong password or the wrong role. The three are indistinguishable on
	// purpose.
	CodeInvalidCredentials Code = "INVALID_CREDENTIALS"
	// CodeWeakPassword reports a new password that breaks a password rule;
	// the message names the rule.
	CodeWeakPassword Code = "WEAK_PASSWORD"
	// CodeEmailTaken reports a registration with an email that already has
	// an account of the same role.
	CodeEmailTaken Code = "EMAIL_TAKEN"
	// CodeRateLimited reports too many attempts; Error.RetryAfter says when
	// the next one will be heard.
	CodeRateLimited Code = "RATE_LIMITED"
	// CodeTokenInvalid reports a token that is malformed, unknown or
	// already used.
	CodeTokenInvalid Code = "TOKEN_INVALID"
	// CodeTokenExpired reports a token past its lifetime.
	CodeTokenExpired Code = "TOKEN_EXPIRED"
	// CodeTokenRevoked reports a session that was signed out, or whose
	// password was changed or reset since it began.
	CodeTokenRevoked Code = "TOKEN_REVOKED"
)

// Error is a refused request: an expected failure that the caller shows to
// the user, as opposed to an infrastructure failure that it logs and hides.
// errors.Is matches an *Error against the sentinel of its code, so
// errors.Is(err, ErrWeakPassword) holds for every weak-password refusal
// whatever rule it names.
type Error struct {
	// Code classifies the refusal.
	Code Code
	// Field names the input field at fault ("email", "password",
	// "newPassword", "role"), when one is.
	Field string
	// Message explains the refusal in a sentence fit for the user.
	Message string
	// RetryAfter is how long to wait before trying again, for
	// CodeRateLimited.
	RetryAfter time.Duration
}

// Error renders the refusal for logs.
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The sentinels of each code, for errors.Is. ErrInvalidCredentials is
// returned as it is, so that every failed sign-in reads the same.
var (
	ErrInvalidInput       = &Error{Code: CodeInvalidInput, Message: "the request is malformed"}
	ErrInvalidCredentials = &Error{Code: CodeInvalidCredentials, Message: "the email or password is incorrect"}
	ErrWeakPassword       = &Error{Code: CodeWeakPassword, Field: "password", Message: "the password breaks a password rule"}
	ErrEmailTaken         = &Error{Code: CodeEmailTaken, Field: "email", Message: "an account of this kind already uses this email"}
	ErrRateLimited        = &Error{Code: CodeRateLimited, Message: "too many attempts; try again later"}
	ErrTokenInvalid       = &Error{Code: CodeTokenInvalid, Message: "the token is not valid"}
	ErrTokenExpired       = &Error{Code: CodeTokenExpired, Message: "the token has expired; sign in again"}
	ErrTokenRevoked       = &Error{Code: CodeTokenRevoked, Message: "the session has ended; sign in again"}
)

// ErrUnavailable marks a failure of a store shared between instances
// (Redis) that cannot be reached now: nothing of the operation was done,
// and the same call may succeed in a moment. It is no refusal (no code),
// so callers answer it as a temporary failure.
var ErrUnavailable = errors.New("the accounts store cannot be reached now")

// The causes with which Watch contexts end on revocation. Each matches
// ErrTokenRevoked.
var (
	errSignedOut       = &Error{Code: CodeTokenRevoked, Message: "the session was signed out"}
	errPasswordChanged = &Error{Code: CodeTokenRevoked, Message: "the password was changed; sign in again"}
	errPasswordReset   = &Error{Code: CodeTokenRevoked, Message: "the password was reset; sign in again"}
)

// ErrClosed is returned by calls that need the background worker after
// Close.
var ErrClosed = errors.New("auth: service closed")

// ErrorCode returns the code of the *Error in err's chain, or "" when err
// holds none (an infrastructure failure).
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func invalidInput(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

func weakPassword(field, format string, args ...any) *Error {
	return &Error{Code: CodeWeakPassword, Field: field, Message: fmt.Sprintf(format, args...)}
}

func rateLimited(wait time.Duration) *Error {
	secs := (wait + time.Second - 1) / time.Second
	return &Error{Code: CodeRateLimited, RetryAfter: secs * time.Second,
		Message: fmt.Sprintf("too many attempts; try again in %s", (secs * time.Second).String())}
}
