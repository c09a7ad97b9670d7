package auth_test

import (
	"context"
	"testing"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// A sign-up email holding a character that is invisible or moves the text
// around it is refused as a bad email before any password is hashed or any
// member recorded, and so is a password reset for it; an address in any
// script, or with an emoji, is an address.
func TestRegistrationEmailsHoldOnlyVisibleText(t *testing.T) {
	reg := &countingRegistrar{}
	f := newFixture(t, fixtureOptions{registrar: func(next auth.Registrar) auth.Registrar { reg.next = next; return reg }})
	ctx := context.Background()
	for _, email := range []string{
		"eve4@exa\u202Emple.org", "eve4@exa\u2066mple\u2069.org", "eve4\u200F@example.org", "eve4@example.org\U000E0041",
		"eve4@exa\u2028mple.org", "eve4@exa\u0085mple.org", "eve4@exa\u009bmple.org", "eve4\x00@example.org",
	} {
		_, err := f.svc.Register(ctx, domain.RoleMentee, "Eve", email, password)
		if ae := wantCode(t, err, refusal.CodeInvalidInput); ae.Field != "email" {
			t.Errorf("%q: refusal blamed field %q", email, ae.Field)
		}
		err = f.svc.RequestPasswordReset(ctx, domain.RoleMentee, email, "")
		if ae := wantCode(t, err, refusal.CodeInvalidInput); ae.Field != "email" {
			t.Errorf("%q: reset refusal blamed field %q", email, ae.Field)
		}
	}
	if n := reg.calls.Load(); n != 0 {
		t.Fatalf("refused emails reached the registrar %d times", n)
	}
	for _, email := range []string{"eve4@example.org", "zoë.straße@exämple.org", "中文@例子.中国", "😀@example.org"} {
		f.register(t, domain.RoleMentee, email, password)
	}
}
