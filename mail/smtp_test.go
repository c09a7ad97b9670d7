package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/mail/smtptest"
)

var sentAt = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func newSMTP(t *testing.T, srv *smtptest.Server, cfg mail.SMTPConfig) *mail.SMTP {
	t.Helper()
	cfg.Host, cfg.Port = srv.Host(), srv.Port()
	if cfg.TLS == "" {
		cfg.TLS = mail.TLSNone
	}
	cfg.From = "Mentoring Program <mentoring@example.org>"
	cfg.Clock = clock.NewFake(sentAt)
	cfg.Timeout = 5 * time.Second
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sample(id string) mail.Message {
	return mail.Message{
		To:      "ada@example.org",
		Subject: "Your request to Grace Hopper — accepted",
		Text:    "Hello Ada,\n\nGrace accepted your request.\n",
		HTML:    "<p>Hello Ada,</p><p>Grace accepted your request.</p>",
		ID:      id,
	}
}

func TestSMTPDeliversTextAndHTMLWithStableMessageID(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSMTP(t, srv, mail.SMTPConfig{})
	if err := s.Send(context.Background(), sample("match-made.0001")); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	m := got[0]
	checks := []struct{ what, got, want string }{
		{"envelope from", m.From, "mentoring@example.org"},
		{"envelope to", strings.Join(m.To, ","), "ada@example.org"},
		{"Message-ID", m.MessageID, "match-made.0001@example.org"},
		{"subject", m.Subject, "Your request to Grace Hopper — accepted"},
		{"text", m.Text, "Hello Ada,\n\nGrace accepted your request."},
		{"html", m.HTML, "<p>Hello Ada,</p><p>Grace accepted your request.</p>"},
		{"From header", m.Header.Get("From"), `"Mentoring Program" <mentoring@example.org>`},
		{"Auto-Submitted", m.Header.Get("Auto-Submitted"), "auto-generated"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(sentAt) {
		t.Errorf("Date = %v (%v), want the clock's %v", d, err, sentAt)
	}
	if m.TLS {
		t.Error("the message came over TLS with the none policy")
	}
}

func TestSMTPTextOnly(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSMTP(t, srv, mail.SMTPConfig{})
	msg := sample("text-only")
	msg.HTML = ""
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if m.HTML != "" || m.Text != "Hello Ada,\n\nGrace accepted your request." {
		t.Errorf("text %q, html %q", m.Text, m.HTML)
	}
}

func TestSMTPStartTLSWithAuthentication(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: "relay-user", Password: "relay-secret"})
	s := newSMTP(t, srv, mail.SMTPConfig{
		TLS: mail.TLSMandatory, Username: "relay-user", Password: "relay-secret",
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs(), MinVersion: tls.VersionTLS12},
	})
	if err := s.Send(context.Background(), sample("tls.1")); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if !m.TLS || m.User != "relay-user" {
		t.Errorf("tls %v, user %q; want an encrypted, authenticated session", m.TLS, m.User)
	}
}

func TestSMTPWrongPasswordIsNotDelivered(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: "relay-user", Password: "relay-secret"})
	s := newSMTP(t, srv, mail.SMTPConfig{
		TLS: mail.TLSMandatory, Username: "relay-user", Password: "wrong",
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs(), MinVersion: tls.VersionTLS12},
	})
	err := s.Send(context.Background(), sample("tls.2"))
	if err == nil || errors.Is(err, mail.ErrRejected) {
		t.Fatalf("send with a wrong password: %v, want a retryable error", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("server received %d messages", n)
	}
}

func TestSMTPMandatoryTLSRefusesAPlainRelay(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := newSMTP(t, srv, mail.SMTPConfig{TLS: mail.TLSMandatory})
	if err := s.Send(context.Background(), sample("plain.1")); err == nil {
		t.Fatal("mandatory TLS sent over a relay without STARTTLS")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("server received %d messages", n)
	}
}

func TestSMTPOpportunisticTLSUpgradesWhenOffered(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true})
	s := newSMTP(t, srv, mail.SMTPConfig{TLS: mail.TLSOpportunistic, TLSConfig: &tls.Config{RootCAs: srv.RootCAs(), MinVersion: tls.VersionTLS12}})
	if err := s.Send(context.Background(), sample("opp.1")); err != nil {
		t.Fatal(err)
	}
	plain := smtptest.Start(t, smtptest.Options{})
	s = newSMTP(t, plain, mail.SMTPConfig{TLS: mail.TLSOpportunistic})
	if err := s.Send(context.Background(), sample("opp.2")); err != nil {
		t.Fatal(err)
	}
	if !srv.Messages()[0].TLS || plain.Messages()[0].TLS {
		t.Error("opportunistic TLS must upgrade when offered and send in the clear otherwise")
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{ImplicitTLS: true})
	s := newSMTP(t, srv, mail.SMTPConfig{TLS: mail.TLSImplicit, TLSConfig: &tls.Config{RootCAs: srv.RootCAs(), MinVersion: tls.VersionTLS12}})
	if err := s.Send(context.Background(), sample("smtps.1")); err != nil {
		t.Fatal(err)
	}
	if !srv.Messages()[0].TLS {
		t.Error("implicit TLS delivered in the clear")
	}
}

func TestSMTPErrorsTellRetryableFromRejected(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{RejectRecipient: "nobody@example.org"})
	s := newSMTP(t, srv, mail.SMTPConfig{})
	ctx := context.Background()

	msg := sample("reject.1")
	msg.To = "nobody@example.org"
	err := s.Send(ctx, msg)
	if !errors.Is(err, mail.ErrRejected) {
		t.Errorf("unknown recipient: %v, want ErrRejected", err)
	}
	// The relay's answer names the recipient; the error, which reaches
	// the logs, does not.
	if err == nil || strings.Contains(strings.ToLower(err.Error()), "nobody@example.org") || !strings.Contains(err.Error(), "<recipient>") {
		t.Errorf("unknown recipient: %v, want the address hidden", err)
	}

	srv.Refuse(true)
	if err := s.Send(ctx, sample("busy.1")); err == nil || errors.Is(err, mail.ErrRejected) {
		t.Errorf("busy relay: %v, want a retryable error", err)
	}
	srv.Refuse(false)

	srv.Stop()
	if err := s.Send(ctx, sample("down.1")); err == nil || errors.Is(err, mail.ErrRejected) {
		t.Errorf("relay down: %v, want a retryable error", err)
	}
	srv.Resume()
	if err := s.Send(ctx, sample("down.1")); err != nil {
		t.Fatalf("relay back: %v", err)
	}
	if got := srv.CountByMessageID(); len(got) != 1 || got["down.1@example.org"] != 1 {
		t.Errorf("received %v, want down.1 once", got)
	}

	bad := sample("bad id")
	if err := s.Send(ctx, bad); !errors.Is(err, mail.ErrInvalidMessage) {
		t.Errorf("bad ID: %v, want ErrInvalidMessage", err)
	}
}

func TestNewSMTPChecksItsConfiguration(t *testing.T) {
	bad := []mail.SMTPConfig{
		{},
		{Host: "relay.example.org", TLS: "sometimes"},
		{Host: "relay.example.org", Port: 70000},
		{Host: "relay.example.org", From: "not an address"},
	}
	for _, cfg := range bad {
		if _, err := mail.NewSMTP(cfg); err == nil {
			t.Errorf("NewSMTP(%+v) succeeded", cfg)
		}
	}
	for _, s := range []string{"none", "Opportunistic", " mandatory ", "implicit"} {
		if _, err := mail.ParseTLSPolicy(s); err != nil {
			t.Errorf("ParseTLSPolicy(%q): %v", s, err)
		}
	}
}
