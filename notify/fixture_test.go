package notify_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/mail/smtptest"
	"github.com/mentorship/mentorship/notify"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	staffEmail  = "mentoring-staff@example.org"
	frontendURL = "https://mentoring.example.org"
	programName = "Engineers Mentoring Program"
	fromDomain  = "example.org"
)

// fixture runs the command side and a notifier on the real embedded store,
// delivering over SMTP to an in-process server.
type fixture struct {
	t      *testing.T
	dir    string
	store  eventstore.Store
	cmds   *command.Service
	clock  *clock.Fake
	relay  *smtptest.Server
	sender mail.Sender
	n      *notify.Notifier
	staff  domain.Actor
}

type fixtureOptions struct {
	// down starts with the relay not listening.
	down bool
	// relay tunes the SMTP server.
	relay smtptest.Options
	// sender replaces the SMTP sender.
	sender mail.Sender
	// logger receives the notifier's log.
	logger zerolog.Logger
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(t0)}
	store, err := bolt.Open(f.dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	f.store = store
	if f.cmds, err = command.New(store, domain.DefaultProgram(), f.clock, command.Options{}); err != nil {
		t.Fatal(err)
	}
	if o.down {
		f.relay = smtptest.Reserve(t, o.relay)
	} else {
		f.relay = smtptest.Start(t, o.relay)
	}
	f.sender = o.sender
	if f.sender == nil {
		f.sender, err = mail.NewSMTP(mail.SMTPConfig{
			Host: f.relay.Host(), Port: f.relay.Port(), TLS: mail.TLSNone,
			From: "Mentoring <no-reply@" + fromDomain + ">", Clock: f.clock, Timeout: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	f.open(o.logger)
	f.staff = domain.Actor{ID: uuid.New(), Role: domain.RoleStaff}
	if _, err := f.cmds.RegisterMember(context.Background(), command.Request{Actor: domain.SystemActor()}, f.staff.ID, domain.RoleStaff, "Sam Staff", "sam@example.org"); err != nil {
		t.Fatal(err)
	}
	return f
}

// open opens a notifier over the fixture's data directory, as a server
// start does.
func (f *fixture) open(logger zerolog.Logger) {
	f.t.Helper()
	n, err := notify.Open(f.dir, f.store, f.sender, f.clock, notify.Options{
		Settings: notify.Settings{ProgramName: programName, StaffEmail: staffEmail, FrontendURL: frontendURL},
		Logger:   logger,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.n = n
	f.t.Cleanup(func() { _ = n.Close() })
}

// restart closes the notifier and opens a new one over the same files.
func (f *fixture) restart() {
	f.t.Helper()
	if err := f.n.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.open(zerolog.Nop())
}

func (f *fixture) tick() {
	f.t.Helper()
	if err := f.n.Tick(context.Background()); err != nil {
		f.t.Fatalf("tick: %v", err)
	}
}

type member struct {
	domain.Actor
	name, login     string
	contactEmail    string
	phone           string
	preferredMethod domain.ContactMethod
}

func (f *fixture) register(role domain.Role, name, contactEmail, phone string, preferred domain.ContactMethod) member {
	f.t.Helper()
	ctx := context.Background()
	m := member{
		Actor: domain.Actor{ID: uuid.New(), Role: role}, name: name,
		login:        strings.ToLower(strings.Fields(name)[0]) + "@members.example.org",
		contactEmail: contactEmail, phone: phone, preferredMethod: preferred,
	}
	if _, err := f.cmds.RegisterMember(ctx, command.Request{Actor: m.Actor}, m.ID, role, name, m.login); err != nil {
		f.t.Fatal(err)
	}
	profile := domain.Profile{Name: name, Contact: domain.Contact{Email: contactEmail, Phone: phone, PreferredMethod: preferred}}
	if _, err := f.cmds.UpdateProfile(ctx, command.Request{Actor: m.Actor}, m.ID, profile); err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) request(mentee, mentor member, message string) uuid.UUID {
	f.t.Helper()
	id, _, err := f.cmds.RequestMatch(context.Background(), command.Request{Actor: mentee.Actor}, mentor.ID, message)
	if err != nil {
		f.t.Fatalf("request: %v", err)
	}
	return id
}

func (f *fixture) accept(mentor member, matchID uuid.UUID) {
	f.t.Helper()
	if _, err := f.cmds.AcceptMatch(context.Background(), command.Request{Actor: mentor.Actor}, matchID); err != nil {
		f.t.Fatalf("accept: %v", err)
	}
}

func (f *fixture) end(matchID uuid.UUID, reason string, requestedBy member) {
	f.t.Helper()
	if _, err := f.cmds.EndMatch(context.Background(), command.Request{Actor: f.staff}, matchID, reason, requestedBy.ID, "Staff note"); err != nil {
		f.t.Fatalf("end: %v", err)
	}
}

// received is what the relay got, in order.
func (f *fixture) received() []smtptest.Received { return f.relay.Messages() }

// since returns the messages received after the first n.
func (f *fixture) since(n int) []smtptest.Received { return f.received()[n:] }

func (f *fixture) forMatch(id uuid.UUID) []notify.Entry {
	f.t.Helper()
	es, err := f.n.Outbox().ForMatch(id)
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// messageID is the Message-ID the relay sees for an outbox entry.
func messageID(e notify.Entry) string { return e.ID + "@" + fromDomain }

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
