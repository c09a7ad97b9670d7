package auth_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/domain"
)

// Deleting an account for an erasure ends its sessions at once, refuses
// its password, removes its session records, and, once the file is
// compacted, leaves its email nowhere in auth.db; deleting it again is
// done already.
func TestDeleteAccountForAnErasure(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	id := f.register(t, domain.RoleMentee, "zephyrine.q@example.org", password)
	keep := f.register(t, domain.RoleMentee, "grace@example.org", password)
	token, sess := f.login(t, domain.RoleMentee, "zephyrine.q@example.org", password)
	other, _ := f.login(t, domain.RoleMentee, "grace@example.org", password)
	watched, stop := f.svc.Watch(ctx, sess)
	defer stop()

	if err := f.svc.DeleteAccount(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, token); err == nil {
		t.Error("the deleted account's session still authenticates")
	}
	select {
	case <-watched.Done():
	default:
		t.Error("the deleted account's live connection was not ended")
	}
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "zephyrine.q@example.org", password, "192.0.2.1"); err != auth.ErrInvalidCredentials {
		t.Errorf("signing in to the deleted account: %v", err)
	}
	if a, _, err := f.svc.Authenticate(ctx, other); err != nil || a.ID != keep {
		t.Errorf("another account's session: %v %v", a, err)
	}
	if n, err := f.store.DeleteMember(ctx, id); err != nil || n != 0 {
		t.Errorf("session records left: %d %v", n, err)
	}
	if err := f.store.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(f.dir, authbolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("zephyrine")) {
		t.Error("auth.db still holds the deleted account's email after compacting")
	}
	if !bytes.Contains(raw, []byte("grace@example.org")) {
		t.Error("compacting lost another account")
	}
	if err := f.svc.DeleteAccount(ctx, id); err != nil {
		t.Errorf("deleting again: %v", err)
	}
	if a, _, err := f.svc.Authenticate(ctx, other); err != nil || a.ID != keep {
		t.Errorf("after compacting, another account's session: %v %v", a, err)
	}
}
