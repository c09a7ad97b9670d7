package auth_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/mail"
)

func TestProductionParamsMeetTheMinimum(t *testing.T) {
	p := auth.DefaultParams()
	if p.Memory < 19*1024 || p.Time < 2 || p.Threads < 1 || p.SaltLength < 16 || p.KeyLength < 32 {
		t.Errorf("DefaultParams %+v are below argon2id with 19 MiB, 2 iterations, 1 lane, 16-byte salt", p)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("DefaultParams do not validate: %v", err)
	}
	weaker := []func(*auth.Params){
		func(p *auth.Params) { p.Memory = 19*1024 - 1 },
		func(p *auth.Params) { p.Time = 1 },
		func(p *auth.Params) { p.Threads = 0 },
		func(p *auth.Params) { p.SaltLength = 15 },
		func(p *auth.Params) { p.KeyLength = 16 },
	}
	for i, weaken := range weaker {
		w := auth.DefaultParams()
		weaken(&w)
		if err := w.Validate(); err == nil {
			t.Errorf("weakened settings %d (%+v) validate", i, w)
		}
		svc, err := auth.New(stubStore{}, stubRegistrar{}, stubSender{}, clock.NewFake(t0), auth.Options{Params: w, ResetURL: resetURL})
		if err == nil {
			svc.Close(context.Background())
			t.Errorf("New accepted weakened settings %+v", w)
		}
	}
}

// The stubs only fill New's arguments for a configuration it must refuse.
type (
	stubStore     struct{ auth.Store }
	stubRegistrar struct{ auth.Registrar }
	stubSender    struct{ mail.Sender }
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestStoredHashesUseTheProductionParams(t *testing.T) {
	f := newFixture(t, fixtureOptions{realHash: true})
	ctx := context.Background()
	a := f.register(t, domain.RoleMentee, "ada@example.org", password)
	b := f.register(t, domain.RoleMentor, "ada@example.org", password)
	ca, _ := f.store.CredentialByID(ctx, a)
	cb, _ := f.store.CredentialByID(ctx, b)
	for _, c := range []auth.Credential{ca, cb} {
		if !phc.MatchString(c.PasswordHash) {
			t.Errorf("stored hash %q is not argon2id m=19456,t=2,p=1 with a 16-byte salt and 32-byte key", c.PasswordHash)
		}
	}
	if ca.PasswordHash == cb.PasswordHash {
		t.Error("one password hashed twice gave the same hash: the salt is not random")
	}
	f.login(t, domain.RoleMentee, "ada@example.org", password)
}

func TestSignInRehashesOldSettings(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	old := auth.CheapParams()
	old.Memory = 32
	c := auth.Credential{
		MemberID: uuid.New(), Role: domain.RoleMentee, EmailKey: "old@example.org", Email: "old@example.org",
		PasswordHash: auth.HashPassword(old, password), Status: auth.StatusActive, Generation: 4, CreatedAt: t0, PasswordChangedAt: t0,
	}
	if err := f.store.UpdateCredential(ctx, c.Role, c.EmailKey, func(*auth.Credential) (*auth.Credential, error) { return &c, nil }); err != nil {
		t.Fatal(err)
	}
	token, _ := f.login(t, domain.RoleMentee, "old@example.org", password)
	got, _ := f.store.CredentialByID(ctx, c.MemberID)
	if got.PasswordHash == c.PasswordHash || !regexp.MustCompile(`\$m=64,t=1,p=1\$`).MatchString(got.PasswordHash) {
		t.Errorf("hash after sign-in %q, want one with the current settings", got.PasswordHash)
	}
	if got.Generation != c.Generation {
		t.Errorf("rehashing changed the generation to %d", got.Generation)
	}
	if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
		t.Errorf("rehashing revoked the session: %v", err)
	}
	f.login(t, domain.RoleMentee, "old@example.org", password)
}

func TestNoEnumerationOnLogin(t *testing.T) {
	f := newFixture(t, fixtureOptions{realHash: true, opts: auth.Options{LoginLimits: auth.Limits{
		PerAccount: auth.Rate{Attempts: 1000, Per: time.Hour}, PerAddress: auth.Rate{Attempts: 1000, Per: time.Hour},
	}}})
	ctx := context.Background()
	f.register(t, domain.RoleMentee, "ada@example.org", password)
	attempts := []struct {
		name        string
		role        domain.Role
		email, pass string
	}{
		{"wrong password", domain.RoleMentee, "ada@example.org", "not the password"},
		{"unknown email", domain.RoleMentee, "nobody@example.org", "not the password"},
		{"wrong role", domain.RoleMentor, "ada@example.org", password},
		{"overlong password", domain.RoleMentee, "ada@example.org", string(make([]byte, 4096))},
	}
	var errs []error
	times := map[string][]time.Duration{}
	// Interleaved rounds and medians keep other work on the machine from
	// passing for a difference between the paths.
	for range 7 {
		for _, a := range attempts {
			start := time.Now()
			_, _, err := f.svc.Login(ctx, a.role, a.email, a.pass, "192.0.2.1")
			times[a.name] = append(times[a.name], time.Since(start))
			errs = append(errs, err)
		}
	}
	for i, err := range errs {
		if err != auth.ErrInvalidCredentials || err.Error() != auth.ErrInvalidCredentials.Error() {
			t.Errorf("%s: %v, want ErrInvalidCredentials itself", attempts[i%len(attempts)].name, err)
		}
	}
	known := median(times["wrong password"])
	for _, a := range attempts[1:] {
		wantSimilar(t, "sign-in with "+a.name, known, median(times[a.name]))
	}
}
