// Package refusal is the one error type for a refused request: an expected
// failure that the caller shows to the user (a broken program rule, a bad
// input, a wrong password), as opposed to an infrastructure failure that it
// logs and hides. The domain's deciders, the accounts service and the
// document uploads all refuse with it, and the GraphQL layer maps it to
// userErrors and error codes in one place.
//
// The codes themselves belong to whoever refuses: domain and auth declare
// theirs as constants of type Code. Codes are stable strings that clients
// see.
package refusal

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies why a request was refused.
type Code string

// CodeInvalidInput reports a malformed, missing or out-of-range field;
// Error.Field names it. Every refuser uses it.
const CodeInvalidInput Code = "INVALID_INPUT"

// Error is a refused request.
type Error struct {
	// Code classifies the refusal.
	Code Code
	// Field names the offending input field, in the request's own terms
	// (such as "message", "skills.LEADERSHIP" or "password"), when one
	// field is at fault.
	Field string
	// Message explains the refusal in a sentence fit for the user.
	Message string
	// RetryAfter is how long to wait before trying again, for a refusal
	// that only time lifts (too many attempts); zero otherwise.
	RetryAfter time.Duration
}

// New returns a refusal of code with a formatted message and no field.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a CodeInvalidInput refusal of field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Error renders the refusal for logs.
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, sentinel) holds for every refusal of the sentinel's code
// whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// As returns the refusal in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the code of the refusal in err's chain, or "" when err
// holds none (an infrastructure failure).
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return ""
}

// OnField names field in a refusal that names none, so that a request
// made of parts tells which part was refused. Other errors, and refusals
// that name a field already, are returned as they are.
func OnField(err error, field string) error {
	if e, ok := As(err); ok && e.Field == "" {
		c := *e
		c.Field = field
		return &c
	}
	return err
}
