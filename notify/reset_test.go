package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/mail/smtptest"
	"github.com/mentorship/mentorship/notify"
)

const resetLink = frontendURL + "/reset-password?token=msr_secret-token_value"

// newResets returns a Resets that delivers through the fixture's sender
// on its clock, logging into logs, and closes it when the test ends.
func newResets(t *testing.T, f *fixture, logs *lockedBuffer) *notify.Resets {
	t.Helper()
	q, err := notify.NewResets(f.sender, f.clock, notify.ResetOptions{
		Settings: notify.Settings{ProgramName: programName, StaffEmail: staffEmail, FrontendURL: frontendURL},
		Logger:   zerolog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func passwordReset(id string) notify.PasswordReset {
	return notify.PasswordReset{
		ID: id, To: "ada@members.example.org", Role: domain.RoleMentee, Link: resetLink,
		ValidFor: 30 * time.Minute, ExpiresAt: t0.Add(30 * time.Minute),
	}
}

func TestPasswordResetEmailOverSMTP(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var logs lockedBuffer
	q := newResets(t, f, &logs)
	if err := q.SendPasswordReset(context.Background(), passwordReset("password-reset.0a1b")); err != nil {
		t.Fatal(err)
	}
	got := f.relay.WaitFor(1, 10*time.Second)
	expect(t, "reset", got, want{
		to:      "ada@members.example.org",
		subject: "Reset your " + programName + " password",
		has: []string{
			"Hello,", "mentee account of ada@members.example.org in " + programName, resetLink, "within 30 minutes",
			"Questions? Write to the program staff at " + staffEmail, programName,
		},
	})
	if got[0].MessageID != "password-reset.0a1b@"+fromDomain {
		t.Errorf("Message-ID %q", got[0].MessageID)
	}
	if !strings.Contains(got[0].HTML, `href="`+resetLink+`"`) || !strings.Contains(got[0].HTML, `href="mailto:`+staffEmail+`"`) {
		t.Errorf("HTML body does not link to the reset page and the staff:\n%s", got[0].HTML)
	}
	if strings.Contains(logs.String(), "secret-token") {
		t.Errorf("the log holds the token:\n%s", logs.String())
	}
}

func TestPasswordResetWaitsForTheRelayAndIsDeliveredOnce(t *testing.T) {
	f := newFixture(t, fixtureOptions{down: true})
	var logs lockedBuffer
	q := newResets(t, f, &logs)
	ctx := context.Background()
	if err := q.SendPasswordReset(ctx, passwordReset("password-reset.down")); err != nil {
		t.Fatal(err)
	}
	// The worker or this round makes the first attempt at t0, whichever
	// comes first; the other finds nothing due.
	if err := q.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if q.Pending() != 1 || !strings.Contains(logs.String(), "will retry") {
		t.Fatalf("%d pending after a failed attempt; log:\n%s", q.Pending(), logs.String())
	}
	f.relay.Resume()
	f.clock.Advance(4 * time.Second)
	if err := q.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.received()); n != 0 {
		t.Fatalf("the relay received %d emails before the backoff ended", n)
	}
	f.clock.Advance(time.Second)
	if err := q.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.relay.WaitFor(1, 10*time.Second)
	f.clock.Advance(time.Hour)
	if err := q.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if counts := f.relay.CountByMessageID(); len(counts) != 1 || counts["password-reset.down@"+fromDomain] != 1 || q.Pending() != 0 {
		t.Errorf("relay received %v, %d still pending; want the email once", counts, q.Pending())
	}
	if strings.Contains(logs.String(), "secret-token") {
		t.Errorf("the log holds the token:\n%s", logs.String())
	}
}

func TestPasswordResetIsGivenUpWhenItsLinkExpires(t *testing.T) {
	f := newFixture(t, fixtureOptions{down: true})
	var logs lockedBuffer
	q := newResets(t, f, &logs)
	ctx := context.Background()
	if err := q.SendPasswordReset(ctx, passwordReset("password-reset.late")); err != nil {
		t.Fatal(err)
	}
	if err := q.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.relay.Resume()
	f.clock.Advance(30 * time.Minute)
	if err := q.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if q.Pending() != 0 || len(f.received()) != 0 || !strings.Contains(logs.String(), "expired") {
		t.Errorf("%d pending, %d received after the link expired; log:\n%s", q.Pending(), len(f.received()), logs.String())
	}
}

func TestPasswordResetToARejectedRecipientIsGivenUp(t *testing.T) {
	f := newFixture(t, fixtureOptions{relay: smtptest.Options{RejectRecipient: "ada@members.example.org"}})
	var logs lockedBuffer
	q := newResets(t, f, &logs)
	ctx := context.Background()
	if err := q.SendPasswordReset(ctx, passwordReset("password-reset.rejected")); err != nil {
		t.Fatal(err)
	}
	if err := q.DeliverDue(ctx, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if q.Pending() != 0 || !strings.Contains(logs.String(), "email given up") {
		t.Errorf("%d pending after a permanent refusal; log:\n%s", q.Pending(), logs.String())
	}
}

func TestResetsRefuseBadEmailsAndEmailsAfterClose(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var logs lockedBuffer
	q := newResets(t, f, &logs)
	ctx := context.Background()
	bad := passwordReset("password-reset.bad")
	bad.To = "Ada <ada@members.example.org>"
	if err := q.SendPasswordReset(ctx, bad); err == nil {
		t.Error("an email to a named address was queued")
	}
	noExpiry := passwordReset("password-reset.forever")
	noExpiry.ExpiresAt = time.Time{}
	if err := q.SendPasswordReset(ctx, noExpiry); err == nil {
		t.Error("an email without expiry was queued")
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.SendPasswordReset(ctx, passwordReset("password-reset.closed")); err != notify.ErrResetsClosed {
		t.Errorf("after Close: %v, want ErrResetsClosed", err)
	}
	if err := q.Send(ctx, mail.Message{To: "a@example.org", Subject: "s", Text: "t", ID: "x"}); err != notify.ErrResetsClosed {
		t.Errorf("Send after Close: %v, want ErrResetsClosed", err)
	}
	if _, err := notify.NewResets(f.sender, f.clock, notify.ResetOptions{}); err == nil {
		t.Error("NewResets without a frontend URL succeeded")
	}
}

func TestComposePasswordResetWithoutAStaffAddress(t *testing.T) {
	msg, err := notify.ComposePasswordReset(notify.Settings{FrontendURL: frontendURL}, passwordReset("password-reset.1"))
	if err != nil {
		t.Fatal(err)
	}
	all := msg.Subject + "\n" + msg.Text + "\n" + msg.HTML
	if msg.Subject != "Reset your Mentorship password" || strings.Contains(all, "Questions?") || strings.Contains(all, "<no value>") {
		t.Errorf("reset email without a staff address:\n%s", all)
	}
	if err := msg.Validate(); err != nil {
		t.Error(err)
	}
}
