package auth_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	eventbolt "github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/refusal"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const resetURL = "https://app.example.org/reset-password"

// fixture runs the service over the real stores of a fresh data directory:
// the embedded event store, auth.db and the mailbox folder.
type fixture struct {
	svc      *auth.Service
	store    *authbolt.Store
	events   eventstore.Store
	commands *command.Service
	clock    *clock.Fake
	mailbox  *mail.Mailbox
	logs     *lockedBuffer
	dir      string
}

type fixtureOptions struct {
	opts      auth.Options
	registrar func(auth.Registrar) auth.Registrar
	sender    func(mail.Sender) mail.Sender
	realHash  bool
	// store replaces auth.db as the service's store; f.store stays nil.
	store func(t *testing.T, clk clock.Clock) auth.Store
}

func newFixture(t *testing.T, fo fixtureOptions) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), clock: clock.NewFake(t0), logs: &lockedBuffer{}}
	events, err := eventbolt.Open(f.dir, eventbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	f.events = events
	if f.commands, err = command.New(events, domain.DefaultProgram(), f.clock, command.Options{}); err != nil {
		t.Fatal(err)
	}
	var store auth.Store
	if fo.store != nil {
		store = fo.store(t, f.clock)
	} else {
		if f.store, err = authbolt.Open(f.dir, authbolt.Options{NoSync: true}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.store.Close() })
		store = f.store
	}
	if f.mailbox, err = mail.NewMailbox(filepath.Join(f.dir, mail.DirName), mail.MailboxOptions{Clock: f.clock}); err != nil {
		t.Fatal(err)
	}
	var registrar auth.Registrar = f.commands
	if fo.registrar != nil {
		registrar = fo.registrar(registrar)
	}
	var sender mail.Sender = f.mailbox
	if fo.sender != nil {
		sender = fo.sender(sender)
	}
	opts := fo.opts
	if opts.ResetURL == "" {
		opts.ResetURL = resetURL
	}
	opts.Logger = zerolog.New(f.logs).Level(zerolog.DebugLevel)
	if !fo.realHash {
		opts = auth.WithCheapHashing(opts)
	}
	if f.svc, err = auth.New(store, registrar, sender, f.clock, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.svc.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return f
}

// lockedBuffer collects log lines from concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const password = "correct horse battery"

func (f *fixture) register(t *testing.T, role domain.Role, email, pw string) uuid.UUID {
	t.Helper()
	reg, err := f.svc.Register(context.Background(), role, "Ada Lovelace", email, pw)
	if err != nil {
		t.Fatalf("register %s %s: %v", role, email, err)
	}
	return reg.MemberID
}

func (f *fixture) login(t *testing.T, role domain.Role, email, pw string) (string, auth.Session) {
	t.Helper()
	token, sess, err := f.svc.Login(context.Background(), role, email, pw, "192.0.2.1")
	if err != nil {
		t.Fatalf("login %s %s: %v", role, email, err)
	}
	return token, sess
}

// requestReset asks for a reset link and returns the token it carries.
func (f *fixture) requestReset(t *testing.T, role domain.Role, email string) string {
	t.Helper()
	before := f.messages(t)
	if err := f.svc.RequestPasswordReset(context.Background(), role, email, "192.0.2.1"); err != nil {
		t.Fatalf("request reset: %v", err)
	}
	if err := f.svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := f.messages(t)
	if len(after) != len(before)+1 {
		t.Fatalf("%d messages in the mailbox after a reset request, want %d", len(after), len(before)+1)
	}
	return resetTokenIn(t, after[len(after)-1])
}

func (f *fixture) messages(t *testing.T) []mail.Delivered {
	t.Helper()
	ms, err := f.mailbox.Messages()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// resetTokenIn finds the reset link in a message's text and returns its
// token, checking that the link points at the configured page.
func resetTokenIn(t *testing.T, m mail.Delivered) string {
	t.Helper()
	for _, field := range strings.Fields(m.Text) {
		if !strings.HasPrefix(field, resetURL) {
			continue
		}
		u, err := url.Parse(field)
		if err != nil {
			t.Fatal(err)
		}
		if tok := u.Query().Get("token"); tok != "" {
			return tok
		}
	}
	t.Fatalf("no reset link in message:\n%s", m.Text)
	return ""
}

// wantCode fails the test unless err is an *refusal.Error with code.
func wantCode(t *testing.T, err error, code refusal.Code) *refusal.Error {
	t.Helper()
	var ae *refusal.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
	return ae
}
