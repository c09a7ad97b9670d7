package refusal_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mentorship/mentorship/refusal"
)

func TestErrorReadsWithItsField(t *testing.T) {
	if got := refusal.New("MATCH_NOT_FOUND", "no such %s", "match").Error(); got != "MATCH_NOT_FOUND: no such match" {
		t.Errorf("without a field: %q", got)
	}
	if got := refusal.Invalid("matchId", "is required").Error(); got != "INVALID_INPUT: matchId: is required" {
		t.Errorf("with a field: %q", got)
	}
}

// A refusal is found through wrapping, matches the sentinel of its code
// whatever its message, and no other code nor a plain error.
func TestRefusalsAreFoundAndMatchedByCode(t *testing.T) {
	limited := &refusal.Error{Code: "RATE_LIMITED", Message: "try again in 3s", RetryAfter: 3 * time.Second}
	wrapped := fmt.Errorf("sign in: %w", limited)
	sentinel := &refusal.Error{Code: "RATE_LIMITED", Message: "too many attempts"}
	if !errors.Is(wrapped, sentinel) {
		t.Error("a wrapped refusal does not match the sentinel of its code")
	}
	if errors.Is(wrapped, &refusal.Error{Code: "WEAK_PASSWORD"}) {
		t.Error("a refusal matches another code's sentinel")
	}
	if got := refusal.CodeOf(wrapped); got != "RATE_LIMITED" {
		t.Errorf("CodeOf a wrapped refusal = %q", got)
	}
	if e, ok := refusal.As(wrapped); !ok || e.RetryAfter != 3*time.Second {
		t.Errorf("As a wrapped refusal = %v, %v", e, ok)
	}
	plain := errors.New("disk full")
	if got := refusal.CodeOf(plain); got != "" {
		t.Errorf("CodeOf a failure that is no refusal = %q", got)
	}
	if _, ok := refusal.As(plain); ok {
		t.Error("a failure that is no refusal reads as one")
	}
}

// OnField names the field of a refusal that names none, without changing
// the original, and leaves other errors and named fields alone.
func TestOnFieldNamesOnlyAMissingField(t *testing.T) {
	orig := refusal.New("NOT_A_MENTOR", "only mentors state a capacity")
	got, _ := refusal.As(refusal.OnField(orig, "capacity"))
	if got.Field != "capacity" || orig.Field != "" {
		t.Errorf("named %q, original now %q", got.Field, orig.Field)
	}
	named := refusal.Invalid("name", "is required")
	if got, _ := refusal.As(refusal.OnField(named, "capacity")); got.Field != "name" {
		t.Errorf("a named field became %q", got.Field)
	}
	plain := errors.New("disk full")
	if refusal.OnField(plain, "capacity") != plain {
		t.Error("a failure that is no refusal was changed")
	}
}
