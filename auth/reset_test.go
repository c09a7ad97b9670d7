package auth_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/mail/smtptest"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/refusal"
)

func TestResetEmailLinksToTheFrontendAndResetsOnce(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	id := f.register(t, domain.RoleMentor, "Grace@Example.org", password)
	before, _ := f.login(t, domain.RoleMentor, "grace@example.org", password)
	live := f.watch(t, before)

	token := f.requestReset(t, domain.RoleMentor, "GRACE@example.org")
	msg := f.messages(t)[0]
	if msg.To != "Grace@Example.org" || !strings.Contains(msg.Subject, "password") || !strings.Contains(msg.Text, "mentor account") {
		t.Errorf("reset email to %q, subject %q, text:\n%s", msg.To, msg.Subject, msg.Text)
	}
	if !strings.Contains(msg.HTML, `href="`+resetURL+"?token="+token+`"`) {
		t.Errorf("HTML part does not link to the reset page with the token:\n%s", msg.HTML)
	}

	actor, err := f.svc.ResetPassword(ctx, token, "my new long password")
	if err != nil {
		t.Fatal(err)
	}
	if actor != (domain.Actor{ID: id, Role: domain.RoleMentor}) {
		t.Errorf("reset reports actor %+v", actor)
	}
	if _, _, err := f.svc.Authenticate(ctx, before); err != auth.ErrTokenRevoked {
		t.Errorf("session after a reset: %v, want ErrTokenRevoked", err)
	}
	wantEnded(t, live, auth.ErrTokenRevoked)
	if _, err := f.svc.ResetPassword(ctx, token, "a second new password"); err != auth.ErrResetLinkInvalid {
		t.Errorf("second use of a reset token: %v, want ErrResetLinkInvalid", err)
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentor, "grace@example.org", "a second new password", ""); err != auth.ErrInvalidCredentials {
		t.Errorf("the second use changed the password: %v", err)
	}
	f.login(t, domain.RoleMentor, "grace@example.org", "my new long password")
}

func TestResetTokenExpiresAfterThirtyMinutes(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)

	token := f.requestReset(t, domain.RoleMentee, "ada@example.org")
	f.clock.Advance(30*time.Minute - time.Second)
	if _, err := f.svc.ResetPassword(ctx, token, "reset just in time"); err != nil {
		t.Fatalf("reset 29m59s after the request: %v", err)
	}

	token = f.requestReset(t, domain.RoleMentee, "ada@example.org")
	f.clock.Advance(30 * time.Minute)
	if _, err := f.svc.ResetPassword(ctx, token, "reset a second too late"); err != auth.ErrResetLinkExpired {
		t.Errorf("reset 30 minutes after the request: %v, want ErrResetLinkExpired", err)
	}
	f.login(t, domain.RoleMentee, "ada@example.org", "reset just in time")
}

func TestResetWithAWeakPasswordKeepsTheToken(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	token := f.requestReset(t, domain.RoleMentee, "ada@example.org")
	_, err := f.svc.ResetPassword(ctx, token, "short")
	if ae := wantCode(t, err, auth.CodeWeakPassword); ae.Field != "newPassword" {
		t.Errorf("weak password blamed %q", ae.Field)
	}
	if _, err := f.svc.ResetPassword(ctx, token, strings.Repeat("y", 300)); !errors.Is(err, auth.ErrWeakPassword) {
		t.Errorf("overlong password: %v, want ErrWeakPassword", err)
	}
	f.login(t, domain.RoleMentee, "ada@example.org", password)
	if _, err := f.svc.ResetPassword(ctx, token, "now a good password"); err != nil {
		t.Errorf("the token after refused passwords: %v", err)
	}
}

func TestAResetVoidsTheOtherResetLinks(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	first := f.requestReset(t, domain.RoleMentee, "ada@example.org")
	second := f.requestReset(t, domain.RoleMentee, "ada@example.org")
	if _, err := f.svc.ResetPassword(ctx, second, "reset with the second link"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResetPassword(ctx, first, "reset with the first link"); err != auth.ErrResetLinkInvalid {
		t.Errorf("older link after a reset: %v, want ErrResetLinkInvalid", err)
	}
}

func TestResetRequestsForNoAccountSendNothing(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	for _, req := range []struct {
		role  domain.Role
		email string
	}{{domain.RoleMentee, "nobody@example.org"}, {domain.RoleMentor, "ada@example.org"}, {domain.RoleStaff, "ada@example.org"}} {
		if err := f.svc.RequestPasswordReset(ctx, req.role, req.email, "192.0.2.1"); err != nil {
			t.Errorf("reset for %s %s: %v, want the same nil as for an account", req.role, req.email, err)
		}
	}
	if err := f.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ms := f.messages(t); len(ms) != 0 {
		t.Errorf("%d emails sent for accounts that do not exist", len(ms))
	}
	if err := f.svc.RequestPasswordReset(ctx, domain.RoleMentee, "not an email", ""); refusal.CodeOf(err) != refusal.CodeInvalidInput {
		t.Errorf("malformed email: %v, want INVALID_INPUT", err)
	}
	if err := f.svc.RequestPasswordReset(ctx, "ROOT", "ada@example.org", ""); refusal.CodeOf(err) != refusal.CodeInvalidInput {
		t.Errorf("unknown role: %v, want INVALID_INPUT", err)
	}
}

func TestResetLinkKeepsTheBaseURLsQuery(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: auth.Options{ResetURL: resetURL + "?lang=fr"}})
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	if err := f.svc.RequestPasswordReset(context.Background(), domain.RoleMentee, "ada@example.org", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	text := f.messages(t)[0].Text
	i := strings.Index(text, resetURL)
	if i < 0 {
		t.Fatalf("no link in:\n%s", text)
	}
	u, err := url.Parse(strings.Fields(text[i:])[0])
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("lang") != "fr" || !strings.HasPrefix(u.Query().Get("token"), "msr_") {
		t.Errorf("link %s lost the base query or the token", u)
	}
}

// recordingSender records the messages it is asked to send and lets a
// test hold deliveries back.
type recordingSender struct {
	next    mail.Sender
	hold    chan struct{} // closed to release held deliveries; nil holds nothing
	started chan string   // receives each message ID as its delivery starts
}

func (r *recordingSender) Send(ctx context.Context, m mail.Message) error {
	if r.started != nil {
		r.started <- m.ID
	}
	if r.hold != nil {
		<-r.hold
	}
	return r.next.Send(ctx, m)
}

func TestResetRequestAnswersBeforeDelivery(t *testing.T) {
	rec := &recordingSender{hold: make(chan struct{}), started: make(chan string, 1)}
	f := newFixture(t, fixtureOptions{sender: func(next mail.Sender) mail.Sender { rec.next = next; return rec }})
	defer close(rec.hold)
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	// The delivery blocks until the test ends, so the request can only
	// return if its answer does not wait for the account's email.
	done := make(chan error, 1)
	go func() { done <- f.svc.RequestPasswordReset(ctx, domain.RoleMentee, "ada@example.org", "192.0.2.1") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reset request waited for the email to be delivered")
	}
	if id := <-rec.started; !strings.HasPrefix(id, "password-reset.") {
		t.Errorf("delivery of message %q", id)
	}
}

func TestNoEnumerationOnResetRequests(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: auth.Options{ResetLimits: auth.Limits{
		PerAccount: auth.Rate{Attempts: 1000, Per: time.Hour}, PerAddress: auth.Rate{Attempts: 1000, Per: time.Hour},
	}}})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	const rounds = 15
	var known, unknown []time.Duration
	for i := range rounds {
		for _, email := range []string{"ada@example.org", "nobody@example.org"} {
			start := time.Now()
			err := f.svc.RequestPasswordReset(ctx, domain.RoleMentee, email, "192.0.2.1")
			took := time.Since(start)
			if err != nil {
				t.Fatalf("round %d, %s: %v", i, email, err)
			}
			if email == "nobody@example.org" {
				unknown = append(unknown, took)
			} else {
				known = append(known, took)
			}
		}
	}
	if err := f.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.messages(t)); n != rounds {
		t.Fatalf("%d emails for %d requests for the account", n, rounds)
	}
	wantSimilar(t, "reset request", median(known), median(unknown))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// wantSimilar fails when the two medians differ by more than a factor of
// two beyond a few milliseconds of scheduling noise.
func wantSimilar(t *testing.T, what string, known, unknown time.Duration) {
	t.Helper()
	// The paths differ by a whole argon2id derivation (or none) when they
	// leak, far more than three times; a loaded machine stays well within.
	const slack = 5 * time.Millisecond
	if unknown > 3*known+slack || known > 3*unknown+slack {
		t.Errorf("%s takes %v for an account and %v for none: the difference reveals which emails have accounts", what, known, unknown)
	}
}

const (
	smtpProgram = "Engineers Mentoring Program"
	smtpStaff   = "mentoring-staff@example.org"
)

// smtpFixture runs the service as the server does: reset emails go through
// notify.Resets to an SMTP relay, here the in-process one.
func smtpFixture(t *testing.T, down bool) (*fixture, *notify.Resets, *smtptest.Server) {
	t.Helper()
	start := smtptest.Start
	if down {
		start = smtptest.Reserve
	}
	relay := start(t, smtptest.Options{})
	var clk clock.Clock
	var resets *notify.Resets
	f := newFixture(t, fixtureOptions{
		// The store hook is the one that hands out the fixture's clock.
		store: func(t *testing.T, c clock.Clock) auth.Store {
			clk = c
			s, err := authbolt.Open(t.TempDir(), authbolt.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		sender: func(mail.Sender) mail.Sender {
			smtp, err := mail.NewSMTP(mail.SMTPConfig{
				Host: relay.Host(), Port: relay.Port(), TLS: mail.TLSNone,
				From: "Mentoring <no-reply@example.org>", Clock: clk, Timeout: 5 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			resets, err = notify.NewResets(smtp, clk, notify.ResetOptions{
				Settings: notify.Settings{ProgramName: smtpProgram, StaffEmail: smtpStaff, FrontendURL: "https://app.example.org"},
			})
			if err != nil {
				t.Fatal(err)
			}
			// Cleanups run last first: the service closes before this.
			t.Cleanup(func() { _ = resets.Close() })
			return resets
		},
	})
	return f, resets, relay
}

// smtpResetToken finds the reset link in a received email and returns its
// token.
func smtpResetToken(t *testing.T, m smtptest.Received) string {
	t.Helper()
	return resetTokenIn(t, mail.Delivered{Message: mail.Message{Text: m.Text}})
}

func TestResetEmailOverSMTPCarriesTheLinkAndTheProgram(t *testing.T) {
	f, _, relay := smtpFixture(t, false)
	ctx := context.Background()
	f.register(t, domain.RoleMentor, "Grace@Example.org", password)
	if err := f.svc.RequestPasswordReset(ctx, domain.RoleMentor, "grace@example.org", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	got := relay.WaitFor(1, 10*time.Second)
	m := got[0]
	if len(m.To) != 1 || m.To[0] != "Grace@Example.org" || m.Subject != "Reset your "+smtpProgram+" password" {
		t.Errorf("reset email to %v, subject %q", m.To, m.Subject)
	}
	if !strings.HasPrefix(m.MessageID, "password-reset.") {
		t.Errorf("Message-ID %q", m.MessageID)
	}
	token := smtpResetToken(t, m)
	for _, part := range []struct{ name, body string }{{"text", m.Text}, {"html", m.HTML}} {
		for _, s := range []string{"mentor account of Grace@Example.org in " + smtpProgram, smtpStaff, "30 minutes", resetURL + "?token=" + token} {
			if !strings.Contains(part.body, s) {
				t.Errorf("%s part lacks %q:\n%s", part.name, s, part.body)
			}
		}
	}
	if strings.Contains(m.MessageID, token[4:]) || strings.Contains(f.logs.String(), token[4:]) {
		t.Error("the token is in the Message-ID or the logs")
	}
	if _, err := f.svc.ResetPassword(ctx, token, "my new long password"); err != nil {
		t.Fatal(err)
	}
	f.login(t, domain.RoleMentor, "grace@example.org", "my new long password")
}

func TestResetEmailRequestedWhileTheRelayIsDownIsDeliveredOnce(t *testing.T) {
	f, resets, relay := smtpFixture(t, true)
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	if err := f.svc.RequestPasswordReset(ctx, domain.RoleMentee, "ada@example.org", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	// After Flush the email waits in Resets; after DeliverDue it was tried
	// once against the dead relay (by the worker or by this round).
	if err := f.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := resets.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := resets.Pending(); n != 1 {
		t.Fatalf("%d reset emails wait for the relay, want 1", n)
	}
	relay.Resume()
	f.clock.Advance(time.Minute)
	if err := resets.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	got := relay.WaitFor(1, 10*time.Second)
	f.clock.Advance(10 * time.Minute)
	if err := resets.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if counts := relay.CountByMessageID(); len(counts) != 1 || counts[got[0].MessageID] != 1 || resets.Pending() != 0 {
		t.Fatalf("relay received %v, %d still waiting; want one email once", counts, resets.Pending())
	}
	// The link, issued while the relay was down, works within its half
	// hour.
	if _, err := f.svc.ResetPassword(ctx, smtpResetToken(t, got[0]), "reset after the outage"); err != nil {
		t.Fatal(err)
	}
}
