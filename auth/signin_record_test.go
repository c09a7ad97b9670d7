package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// signIns counts the MemberSignedIn events on a member's stream.
func (f *fixture) signIns(t *testing.T, id uuid.UUID) int {
	t.Helper()
	recs, err := f.events.ReadStream(context.Background(), domain.MemberStream(id), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Type == (domain.MemberSignedIn{}).EventType() {
			n++
		}
	}
	return n
}

// A sign-in lands on the member's stream for the retention rule, once a
// day however often the member signs in; a failed one records nothing.
func TestSignInsAreRecordedOncePerDay(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	ada := f.register(t, domain.RoleMentee, "ada@example.org", password)
	if n := f.signIns(t, ada); n != 0 {
		t.Fatalf("registration recorded %d sign-ins", n)
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", "not the password", ""); err != auth.ErrInvalidCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	if n := f.signIns(t, ada); n != 0 {
		t.Fatalf("a refused sign-in recorded %d sign-ins", n)
	}
	first := f.clock.Now()
	f.login(t, domain.RoleMentee, "ada@example.org", password)
	f.clock.Advance(3 * time.Hour)
	f.login(t, domain.RoleMentee, "ada@example.org", password)
	if n := f.signIns(t, ada); n != 1 {
		t.Fatalf("two sign-ins in a day recorded %d events, want 1", n)
	}
	f.clock.Advance(24 * time.Hour)
	f.login(t, domain.RoleMentee, "ada@example.org", password)
	if n := f.signIns(t, ada); n != 2 {
		t.Fatalf("sign-ins on two days recorded %d events, want 2", n)
	}
	m, err := f.commands.Member(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	if !m.LastSignIn().Equal(first.Add(27 * time.Hour)) {
		t.Errorf("last sign-in %v, want %v", m.LastSignIn(), first.Add(27*time.Hour))
	}
}

// failingSignIns is a registrar whose sign-in records fail.
type failingSignIns struct{ auth.Registrar }

func (failingSignIns) RecordSignIn(context.Context, domain.Actor) (command.Result, error) {
	return command.Result{}, errStoreDown
}

// The session is issued before the sign-in is recorded, so a store that
// fails then still answers the sign-in with its token, and logs why.
func TestASignInSucceedsWhenRecordingItFails(t *testing.T) {
	f := newFixture(t, fixtureOptions{registrar: func(next auth.Registrar) auth.Registrar { return failingSignIns{next} }})
	f.register(t, domain.RoleMentor, "grace@example.org", password)
	token, _ := f.login(t, domain.RoleMentor, "grace@example.org", password)
	if _, _, err := f.svc.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("the token of the sign-in: %v", err)
	}
	if !strings.Contains(f.logs.String(), "recording a sign-in for the retention rule") {
		t.Errorf("the failure is not logged:\n%s", f.logs.String())
	}
}
