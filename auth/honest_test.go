package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/domain"
)

// ended waits for ctx to end and checks its cause.
func ended(t *testing.T, ctx context.Context, want error) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the context did not end")
	}
	if cause := context.Cause(ctx); !errors.Is(cause, want) {
		t.Errorf("ended with %v, want %v", cause, want)
	}
}

// alive fails the test when ctx has ended.
func alive(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	if ctx.Err() != nil {
		t.Fatalf("%s ended: %v", what, context.Cause(ctx))
	}
}

// A request that changes its own session's password, or signs it out,
// answers: its watched context lives until the request ends, and ends
// then. Another connection of the same session ends at once.
func TestRevokingTheCallersOwnSessionLetsTheRequestAnswer(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token, sess := f.login(t, domain.RoleMentee, "ada@example.org", password)
	conn, stopConn := f.svc.Watch(context.Background(), sess)
	defer stopConn()
	request, stopRequest := f.svc.Watch(context.Background(), sess)
	defer stopRequest()
	op, endOp := context.WithCancel(request)

	fresh, next, err := f.svc.ChangePassword(op, token, password, "the new password", "192.0.2.1")
	if err != nil || fresh == "" {
		t.Fatalf("change password on the session's own request: %q, %v", fresh, err)
	}
	alive(t, op, "the request changing its own password")
	ended(t, conn, auth.ErrTokenRevoked)
	if _, _, err := f.svc.Authenticate(context.Background(), fresh); err != nil {
		t.Errorf("the new token: %v", err)
	}
	endOp()
	ended(t, request, auth.ErrTokenRevoked)

	request, stopRequest = f.svc.Watch(context.Background(), next)
	defer stopRequest()
	op, endOp = context.WithCancel(request)
	defer endOp()
	if err := f.svc.Logout(op, fresh); err != nil {
		t.Fatalf("sign out on the session's own request: %v", err)
	}
	alive(t, op, "the request signing its own session out")
	endOp()
	ended(t, request, auth.ErrTokenRevoked)
}

// A request that gives up before its change leaves the watched context
// to revocations as before.
func TestARefusedChangeHoldsNoRevocationBack(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token, sess := f.login(t, domain.RoleMentee, "ada@example.org", password)
	request, stop := f.svc.Watch(context.Background(), sess)
	defer stop()
	op, endOp := context.WithCancel(request)
	defer endOp()
	if _, _, err := f.svc.ChangePassword(op, token, "not the password", "the new password", "192.0.2.1"); err != auth.ErrWrongCurrentPassword {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := f.svc.Logout(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	ended(t, request, auth.ErrTokenRevoked)
}

// Signing up signs in, without a sign-in limit that could refuse an
// account the call created.
func TestSignUpSignsInWhateverTheSignInLimits(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	for range 10 {
		if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", "a wrong guess!!", "192.0.2.9"); err != auth.ErrInvalidCredentials {
			t.Fatal(err)
		}
	}
	reg, token, sess, err := f.svc.SignUp(ctx, domain.RoleMentee, "Ada Lovelace", "ada@example.org", password, "192.0.2.9")
	if err != nil || token == "" || sess.Actor.ID != reg.MemberID {
		t.Fatalf("sign-up of an email whose sign-ins are held: %v, %q, %+v", err, token, sess)
	}
	if actor, _, err := f.svc.Authenticate(ctx, token); err != nil || actor.ID != reg.MemberID {
		t.Fatalf("the sign-up's token: %+v, %v", actor, err)
	}
	head, err := f.events.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = f.svc.SignUp(ctx, domain.RoleMentee, "Ada Again", "ADA@example.org", password, "192.0.2.9")
	wantCode(t, err, auth.CodeEmailTaken)
	if after, _ := f.events.Head(ctx); after != head {
		t.Errorf("a refused sign-up moved the log from %v to %v", head, after)
	}
}

// A reset refused for an expired link leaves the link as it was.
func TestExpiredResetLinkStaysExpired(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token := f.requestReset(t, domain.RoleMentee, "ada@example.org")
	f.clock.Advance(31 * time.Minute)
	for i := range 2 {
		if _, err := f.svc.ResetPassword(ctx, token, "a brand new password"); err != auth.ErrResetLinkExpired {
			t.Errorf("use %d of an expired link: %v, want ErrResetLinkExpired", i+1, err)
		}
	}
	f.login(t, domain.RoleMentee, "ada@example.org", password)
}

// A reset request the service could not take does not count against the
// limits.
func TestResetRequestNotTakenIsNotCounted(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	if err := f.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := f.svc.RequestPasswordReset(ctx, domain.RoleMentee, "ada@example.org", "192.0.2.3"); !errors.Is(err, auth.ErrClosed) {
			t.Fatalf("reset request after Close: %v, want ErrClosed", err)
		}
	}
	again, err := auth.New(f.store, f.commands, f.mailbox, f.clock, auth.WithCheapHashing(auth.Options{ResetURL: resetURL}))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close(ctx)
	for i := range 5 {
		if err := again.RequestPasswordReset(ctx, domain.RoleMentee, "ada@example.org", "192.0.2.3"); err != nil {
			t.Fatalf("request %d after the refused ones: %v", i+1, err)
		}
	}
}
