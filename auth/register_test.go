package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/refusal"
)

// memberEvents reads a member's stream.
func (f *fixture) memberEvents(t *testing.T, id uuid.UUID) []eventstore.RecordedEvent {
	t.Helper()
	recs, err := f.events.ReadStream(context.Background(), domain.MemberStream(id), eventstore.ReadStreamOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestRegisterRecordsTheMemberAsItsOwnActor(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	reg, err := f.svc.Register(ctx, domain.RoleMentor, "Grace Hopper", "Grace@Example.org", password)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Position == eventstore.Start {
		t.Error("registration reported no event position")
	}
	m, err := f.commands.Member(ctx, reg.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Role() != domain.RoleMentor || m.Email() != "Grace@Example.org" || m.Name() != "Grace Hopper" {
		t.Errorf("member recorded as %s %q %q", m.Role(), m.Email(), m.Name())
	}
	recs := f.memberEvents(t, reg.MemberID)
	if len(recs) != 1 || recs[0].Metadata.ActorID != reg.MemberID.String() || recs[0].Metadata.ActorRole != string(domain.RoleMentor) {
		t.Fatalf("member stream %+v, want one event by the member as MENTOR", recs)
	}

	op, err := f.svc.CreateOperatorAccount(ctx, domain.RoleStaff, "Program Staff", "staff@example.org", password)
	if err != nil {
		t.Fatal(err)
	}
	recs = f.memberEvents(t, op.MemberID)
	if len(recs) != 1 || recs[0].Metadata.ActorID != domain.SystemActorID {
		t.Fatalf("staff stream %+v, want one event by the system", recs)
	}
	if _, sess := f.login(t, domain.RoleStaff, "staff@example.org", password); sess.Actor != (domain.Actor{ID: op.MemberID, Role: domain.RoleStaff}) {
		t.Errorf("staff signs in as %+v", sess.Actor)
	}
}

func TestRegisterChecksTheRole(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	for _, role := range []domain.Role{domain.RoleStaff, domain.RoleAuditor, domain.RoleSystem, "ADMIN"} {
		_, err := f.svc.Register(ctx, role, "X", "x@example.org", password)
		if ae := wantCode(t, err, refusal.CodeInvalidInput); ae.Field != "role" {
			t.Errorf("Register(%s) blamed field %q", role, ae.Field)
		}
	}
	for _, role := range []domain.Role{domain.RoleMentee, domain.RoleMentor, domain.RoleSystem} {
		_, err := f.svc.CreateOperatorAccount(ctx, role, "X", "x@example.org", password)
		wantCode(t, err, refusal.CodeInvalidInput)
	}
	_, err := f.svc.Register(ctx, domain.RoleMentee, "X", "not an email", password)
	if ae := wantCode(t, err, refusal.CodeInvalidInput); ae.Field != "email" {
		t.Errorf("bad email blamed field %q", ae.Field)
	}
}

func TestEmailsAreUniquePerRoleWhateverTheirCase(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	mentee := f.register(t, domain.RoleMentee, "Ada@Example.org", password)
	_, err := f.svc.Register(ctx, domain.RoleMentee, "Someone Else", "  ada@EXAMPLE.org ", "another long password")
	if !errors.Is(err, auth.ErrEmailTaken) {
		t.Fatalf("second mentee with the same email: %v, want ErrEmailTaken", err)
	}
	mentor := f.register(t, domain.RoleMentor, "ada@example.org", "a mentor's own password")
	if mentor == mentee {
		t.Fatal("the mentor account shares the mentee's member ID")
	}
	if _, sess := f.login(t, domain.RoleMentee, "ADA@example.org", password); sess.Actor.ID != mentee {
		t.Errorf("mentee sign-in with other case found %s, want %s", sess.Actor.ID, mentee)
	}
}

func TestConcurrentRegistrationsOfOneEmailHaveOneWinner(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	const n = 20
	var wins, taken atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := f.svc.Register(context.Background(), domain.RoleMentee, "Racer", "race@example.org", strings.Repeat("p", 12)+string(rune('a'+i)))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, auth.ErrEmailTaken):
				taken.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || taken.Load() != n-1 {
		t.Errorf("%d registrations won and %d found the email taken, want 1 and %d", wins.Load(), taken.Load(), n-1)
	}
}

// countingRegistrar counts calls and can fail them.
type countingRegistrar struct {
	next  auth.Registrar
	calls atomic.Int32
	// fail, when set, decides the outcome of call n (from 1): before
	// reports failing without calling next, after failing once next
	// succeeded.
	fail func(n int32) (before, after bool)
}

var errStoreDown = errors.New("event store unavailable")

func (r *countingRegistrar) RegisterMember(ctx context.Context, req command.Request, id uuid.UUID, role domain.Role, name, email string) (command.Result, error) {
	n := r.calls.Add(1)
	var before, after bool
	if r.fail != nil {
		before, after = r.fail(n)
	}
	if before {
		return command.Result{}, errStoreDown
	}
	res, err := r.next.RegisterMember(ctx, req, id, role, name, email)
	if err == nil && after {
		return command.Result{}, errStoreDown
	}
	return res, err
}

// RecordSignIn passes sign-ins through; they are not counted.
func (r *countingRegistrar) RecordSignIn(ctx context.Context, actor domain.Actor) (command.Result, error) {
	return r.next.RecordSignIn(ctx, actor)
}

func TestWeakAndOverlongPasswordsAreRefusedWithNothingStored(t *testing.T) {
	reg := &countingRegistrar{}
	f := newFixture(t, fixtureOptions{registrar: func(next auth.Registrar) auth.Registrar { reg.next = next; return reg }})
	ctx := context.Background()
	tests := []struct {
		name, password, rule string
	}{
		{"eleven characters", "elevenchars", "at least 12 characters"},
		{"eleven multibyte characters", strings.Repeat("é", 11), "at least 12 characters"},
		{"empty", "", "at least 12 characters"},
		{"257 bytes", strings.Repeat("x", 257), "at most 256 bytes"},
		{"invalid UTF-8", "twelve bytes\xff", "valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			email := strings.ReplaceAll(tc.name, " ", "-") + "@example.org"
			_, err := f.svc.Register(ctx, domain.RoleMentee, "Weak", email, tc.password)
			if !errors.Is(err, auth.ErrWeakPassword) {
				t.Fatalf("got %v, want ErrWeakPassword", err)
			}
			if ae := wantCode(t, err, auth.CodeWeakPassword); ae.Field != "password" || !strings.Contains(ae.Message, tc.rule) {
				t.Errorf("refusal %q on field %q does not name the rule %q", ae.Message, ae.Field, tc.rule)
			}
			if _, err := f.store.Credential(ctx, domain.RoleMentee, email); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("credentials stored for a refused password: %v", err)
			}
		})
	}
	if reg.calls.Load() != 0 {
		t.Errorf("the registrar was called %d times for refused passwords", reg.calls.Load())
	}
	if head, err := f.events.Head(ctx); err != nil || head != eventstore.Start {
		t.Errorf("event log head %d (%v) after refused registrations, want empty", head, err)
	}

	exact := strings.Repeat("ab", 128)
	f.register(t, domain.RoleMentee, "long@example.org", exact)
	f.login(t, domain.RoleMentee, "long@example.org", exact)
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "long@example.org", exact[:255], ""); err != auth.ErrInvalidCredentials {
		t.Errorf("a 256-byte password matched its first 255 bytes: %v", err)
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "long@example.org", exact+"c", ""); err != auth.ErrInvalidCredentials {
		t.Errorf("a 256-byte password matched a 257-byte one: %v", err)
	}
	f.register(t, domain.RoleMentee, "twelve@example.org", strings.Repeat("é", 12))
}

func TestFailedAppendLeavesHarmlessRetrySafeCredentials(t *testing.T) {
	for _, tc := range []struct {
		name   string
		landed bool // whether the failed call wrote the event anyway
	}{{"nothing appended", false}, {"appended but the answer was lost", true}} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &countingRegistrar{fail: func(n int32) (bool, bool) { return n == 1 && !tc.landed, n == 1 && tc.landed }}
			f := newFixture(t, fixtureOptions{registrar: func(next auth.Registrar) auth.Registrar { reg.next = next; return reg }})
			ctx := context.Background()
			if _, err := f.svc.Register(ctx, domain.RoleMentee, "Ada", "ada@example.org", password); !errors.Is(err, errStoreDown) {
				t.Fatalf("first registration: %v, want the registrar's error", err)
			}
			if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, ""); err != auth.ErrInvalidCredentials {
				t.Fatalf("sign-in after a failed registration: %v, want ErrInvalidCredentials", err)
			}
			left, err := f.store.Credential(ctx, domain.RoleMentee, "ada@example.org")
			if err != nil {
				t.Fatalf("the failed registration left no credentials to retry with: %v", err)
			}
			if left.Status != auth.StatusPending {
				t.Fatalf("credentials left in status %s", left.Status)
			}
			reg2, err := f.svc.Register(ctx, domain.RoleMentee, "Ada", "ada@example.org", "the retried password")
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if reg2.MemberID != left.MemberID {
				t.Errorf("retry registered member %s, want the first attempt's %s", reg2.MemberID, left.MemberID)
			}
			if n := len(f.memberEvents(t, reg2.MemberID)); n != 1 {
				t.Errorf("%d events on the member's stream, want 1", n)
			}
			f.login(t, domain.RoleMentee, "ada@example.org", "the retried password")
			if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", password, ""); err != auth.ErrInvalidCredentials {
				t.Errorf("the failed attempt's password signs in: %v", err)
			}
		})
	}
}

func TestRefusedRegistrationRemovesItsCredentials(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	_, err := f.svc.Register(ctx, domain.RoleMentor, "   ", "blank@example.org", password)
	if refusal.CodeOf(err) != refusal.CodeInvalidInput {
		t.Fatalf("blank name: %v, want the domain's INVALID_INPUT", err)
	}
	if _, err := f.store.Credential(ctx, domain.RoleMentor, "blank@example.org"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("refused registration left credentials: %v", err)
	}
	f.register(t, domain.RoleMentor, "blank@example.org", password)
}

func TestPendingCredentialsBelongToTheirRegistrationUntilItTimesOut(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	stuck := auth.Credential{
		MemberID: uuid.New(), Role: domain.RoleMentee, EmailKey: "stuck@example.org", Email: "Stuck@example.org",
		PasswordHash: auth.HashPassword(auth.CheapParams(), password), Status: auth.StatusPending,
		Attempt: "a crashed registration", AttemptAt: t0, CreatedAt: t0, PasswordChangedAt: t0,
	}
	if err := f.store.UpdateCredential(ctx, stuck.Role, stuck.EmailKey, func(*auth.Credential) (*auth.Credential, error) { return &stuck, nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "stuck@example.org", password, ""); err != auth.ErrInvalidCredentials {
		t.Errorf("pending credentials signed in: %v", err)
	}
	if _, err := f.svc.Register(ctx, domain.RoleMentee, "Other", "stuck@example.org", password); !errors.Is(err, auth.ErrEmailTaken) {
		t.Errorf("registration while another is in flight: %v, want ErrEmailTaken", err)
	}
	f.clock.Advance(2 * time.Minute)
	reg, err := f.svc.Register(ctx, domain.RoleMentee, "Stuck", "stuck@example.org", password)
	if err != nil {
		t.Fatalf("registration after the timeout: %v", err)
	}
	if reg.MemberID != stuck.MemberID {
		t.Errorf("takeover registered %s, want the stuck member %s", reg.MemberID, stuck.MemberID)
	}
	if m, _ := f.commands.Member(ctx, reg.MemberID); m.Email() != "Stuck@example.org" {
		t.Errorf("member recorded with email %q, want the first attempt's", m.Email())
	}
}
