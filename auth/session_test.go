package auth_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

func TestMenteeCredentialsNeverOpenAMentorSession(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	mentee := f.register(t, domain.RoleMentee, "ada@example.org", password)
	for _, role := range []domain.Role{domain.RoleMentor, domain.RoleStaff, domain.RoleAuditor} {
		if _, _, err := f.svc.Login(ctx, role, "ada@example.org", password, "192.0.2.1"); err != auth.ErrInvalidCredentials {
			t.Errorf("mentee credentials on the %s login: %v, want ErrInvalidCredentials", role, err)
		}
	}
	token, sess := f.login(t, domain.RoleMentee, "ada@example.org", password)
	actor, _, err := f.svc.Authenticate(ctx, token)
	if err != nil || actor != (domain.Actor{ID: mentee, Role: domain.RoleMentee}) || sess.Actor != actor {
		t.Fatalf("mentee token authenticates as %+v (%v), session %+v", actor, err, sess.Actor)
	}
	if _, _, err := f.svc.Login(ctx, "ADMIN", "ada@example.org", password, ""); refusal.CodeOf(err) != refusal.CodeInvalidInput {
		t.Errorf("unknown role: %v, want INVALID_INPUT", err)
	}
}

func TestOneEmailHoldsTwoSeparateAccounts(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	mentee := f.register(t, domain.RoleMentee, "both@example.org", "the mentee's password")
	mentor := f.register(t, domain.RoleMentor, "both@example.org", "the mentor's password")
	if _, _, err := f.svc.Login(ctx, domain.RoleMentor, "both@example.org", "the mentee's password", ""); err != auth.ErrInvalidCredentials {
		t.Errorf("mentee password on the mentor login: %v", err)
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "both@example.org", "the mentor's password", ""); err != auth.ErrInvalidCredentials {
		t.Errorf("mentor password on the mentee login: %v", err)
	}
	menteeToken, _ := f.login(t, domain.RoleMentee, "both@example.org", "the mentee's password")
	mentorToken, _ := f.login(t, domain.RoleMentor, "both@example.org", "the mentor's password")
	for token, want := range map[string]domain.Actor{menteeToken: {ID: mentee, Role: domain.RoleMentee}, mentorToken: {ID: mentor, Role: domain.RoleMentor}} {
		if got, _, err := f.svc.Authenticate(ctx, token); err != nil || got != want {
			t.Errorf("token authenticates as %+v (%v), want %+v", got, err, want)
		}
	}
	// Signing one account out leaves the other signed in.
	if err := f.svc.Logout(ctx, menteeToken); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, mentorToken); err != nil {
		t.Errorf("mentor session after the mentee signed out: %v", err)
	}
}

func TestTokensAreOpaqueAndMalformedOnesRefused(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	a, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	b, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	if a == b || len(a) < 4+43 {
		t.Errorf("tokens %q and %q: want distinct tokens of 256 random bits", a, b)
	}
	reset := f.requestReset(t, domain.RoleMentee, "ada@example.org")
	for _, bad := range []string{"", "Bearer " + a, a[:len(a)-1], a + "A", "mst_" + a[4:len(a)-1] + "*", reset, "mst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if _, _, err := f.svc.Authenticate(ctx, bad); err != auth.ErrTokenInvalid {
			t.Errorf("Authenticate(%q): %v, want ErrTokenInvalid", bad, err)
		}
	}
	if err := f.svc.Logout(ctx, "mst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err != auth.ErrTokenInvalid {
		t.Errorf("Logout of an unknown token: %v, want ErrTokenInvalid", err)
	}
}

// watched authenticates token and watches its session.
func (f *fixture) watch(t *testing.T, token string) context.Context {
	t.Helper()
	_, sess, err := f.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := f.svc.Watch(context.Background(), sess)
	t.Cleanup(stop)
	if ctx.Err() != nil {
		t.Fatalf("a fresh session's context already ended: %v", context.Cause(ctx))
	}
	return ctx
}

// wantEnded fails unless ctx has ended with a cause matching want. Ending
// happens within the revoking call, so no waiting is involved.
func wantEnded(t *testing.T, ctx context.Context, want error) {
	t.Helper()
	select {
	case <-ctx.Done():
	default:
		t.Fatalf("the session's context is still live, want it ended with %v", want)
	}
	if cause := context.Cause(ctx); !errors.Is(cause, want) {
		t.Errorf("context ended with %v, want %v", cause, want)
	}
}

func TestLogoutRevokesAtOnce(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	other, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	live := f.watch(t, token)
	otherLive := f.watch(t, other)
	if err := f.svc.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, token); err != auth.ErrTokenRevoked {
		t.Errorf("token after logout: %v, want ErrTokenRevoked", err)
	}
	wantEnded(t, live, auth.ErrTokenRevoked)
	if otherLive.Err() != nil {
		t.Errorf("logout ended another session's context: %v", context.Cause(otherLive))
	}
	if _, _, err := f.svc.Authenticate(ctx, other); err != nil {
		t.Errorf("another session after logout: %v", err)
	}
	if err := f.svc.Logout(ctx, token); err != nil {
		t.Errorf("second logout: %v, want success", err)
	}
	_, sess, _ := f.svc.Authenticate(ctx, other)
	if err := f.svc.Logout(ctx, other); err != nil {
		t.Fatal(err)
	}
	late, stop := f.svc.Watch(ctx, sess)
	defer stop()
	wantEnded(t, late, auth.ErrTokenRevoked)
}

func TestChangePasswordRevokesEveryTokenAndReturnsAFreshOne(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentor, "grace@example.org", password)
	first, _ := f.login(t, domain.RoleMentor, "grace@example.org", password)
	second, _ := f.login(t, domain.RoleMentor, "grace@example.org", password)
	live1, live2 := f.watch(t, first), f.watch(t, second)
	resetToken := f.requestReset(t, domain.RoleMentor, "grace@example.org")

	if _, _, err := f.svc.ChangePassword(ctx, first, "not the password", "a brand new password", ""); err != auth.ErrWrongCurrentPassword {
		t.Fatalf("wrong current password: %v, want ErrInvalidCredentials", err)
	}
	_, _, err := f.svc.ChangePassword(ctx, first, password, "too short", "")
	if ae := wantCode(t, err, auth.CodeWeakPassword); ae.Field != "newPassword" {
		t.Errorf("weak new password blamed %q", ae.Field)
	}
	if live1.Err() != nil {
		t.Fatal("a refused change revoked the session")
	}
	if _, _, err := f.svc.Authenticate(ctx, first); err != nil {
		t.Fatalf("a refused change revoked the session: %v", err)
	}

	fresh, sess, err := f.svc.ChangePassword(ctx, first, password, "a brand new password", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{first, second} {
		if _, _, err := f.svc.Authenticate(ctx, old); err != auth.ErrTokenRevoked {
			t.Errorf("old token after a password change: %v, want ErrTokenRevoked", err)
		}
	}
	wantEnded(t, live1, auth.ErrTokenRevoked)
	wantEnded(t, live2, auth.ErrTokenRevoked)
	if actor, _, err := f.svc.Authenticate(ctx, fresh); err != nil || actor != sess.Actor {
		t.Errorf("fresh token: %+v, %v", actor, err)
	}
	f.watch(t, fresh)
	if _, err := f.svc.ResetPassword(ctx, resetToken, "yet another password"); err != auth.ErrResetLinkInvalid {
		t.Errorf("reset link issued before the change: %v, want ErrResetLinkInvalid", err)
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentor, "grace@example.org", password, ""); err != auth.ErrInvalidCredentials {
		t.Errorf("old password after the change: %v", err)
	}
	f.login(t, domain.RoleMentor, "grace@example.org", "a brand new password")
}

func TestSessionsExpireWhenIdleAndInAll(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: auth.Options{IdleTimeout: 24 * time.Hour, MaxSessionAge: 72 * time.Hour}})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	idle, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	busy, sess := f.login(t, domain.RoleMentee, "ada@example.org", password)
	if !sess.ExpiresAt.Equal(t0.Add(72*time.Hour)) || !sess.IdleExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("session ends idle at %v and in all at %v", sess.IdleExpiresAt, sess.ExpiresAt)
	}
	f.clock.Advance(23 * time.Hour)
	if _, _, err := f.svc.Authenticate(ctx, busy); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if _, _, err := f.svc.Authenticate(ctx, idle); err != auth.ErrTokenExpired {
		t.Errorf("session unused for a day: %v, want ErrTokenExpired", err)
	}
	for f.clock.Now().Before(t0.Add(72 * time.Hour)) {
		if _, _, err := f.svc.Authenticate(ctx, busy); err != nil {
			t.Fatalf("busy session at %v: %v", f.clock.Now(), err)
		}
		f.clock.Advance(12 * time.Hour)
	}
	if _, _, err := f.svc.Authenticate(ctx, busy); err != auth.ErrTokenExpired {
		t.Errorf("session used daily after its absolute lifetime: %v, want ErrTokenExpired", err)
	}
}

func TestWatchEndsAtTheAbsoluteExpiry(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: auth.Options{MaxSessionAge: time.Hour}})
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	f.clock.Advance(time.Hour - 20*time.Millisecond)
	live := f.watch(t, token)
	select {
	case <-live.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the context outlived its session")
	}
	if cause := context.Cause(live); !errors.Is(cause, auth.ErrTokenExpired) {
		t.Errorf("context ended with %v, want ErrTokenExpired", cause)
	}
}

func TestSweepDeletesExpiredSessions(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: auth.Options{IdleTimeout: time.Hour}})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	f.clock.Advance(time.Hour)
	n, err := f.svc.Sweep(ctx)
	if err != nil || n == 0 {
		t.Fatalf("Sweep deleted %d records (%v), want the expired session", n, err)
	}
	if _, _, err := f.svc.Authenticate(ctx, token); err != auth.ErrTokenInvalid {
		t.Errorf("swept token: %v, want ErrTokenInvalid", err)
	}
}

func TestWatchReleasesItsContextWhenTheConnectionEnds(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token, _ := f.login(t, domain.RoleMentee, "ada@example.org", password)
	_, sess, err := f.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	conn, closeConn := context.WithCancel(context.Background())
	_, stop := f.svc.Watch(conn, sess)
	defer stop()
	stopped, stop2 := f.svc.Watch(context.Background(), sess)
	if n := f.svc.Watchers(); n != 2 {
		t.Fatalf("%d live contexts, want 2", n)
	}
	stop2()
	if !errors.Is(context.Cause(stopped), context.Canceled) {
		t.Errorf("stopped context ended with %v", context.Cause(stopped))
	}
	closeConn()
	// The release after the connection's context ends runs on its own
	// goroutine; wait for it with a deadline.
	deadline := time.Now().Add(5 * time.Second)
	for f.svc.Watchers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d contexts still tracked after their connections ended", f.svc.Watchers())
		}
		runtime.Gosched()
	}
}
