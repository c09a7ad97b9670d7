package auth_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/mail"
)

// TestNoSecretInClear runs every flow that handles a secret, then searches
// the data directory (auth.db, the event store, the mailbox) and the logs
// for the passwords and tokens. The reset token must reach the mailbox,
// where it is delivered, and nothing else; the rest must appear nowhere.
func TestNoSecretInClear(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	const (
		first  = "first secret passphrase"
		second = "second secret passphrase"
		third  = "third secret passphrase"
		wrong  = "wrong secret passphrase"
	)
	f.register(t, domain.RoleMentee, "ada@example.org", first)
	if _, _, err := f.svc.Login(ctx, domain.RoleMentee, "ada@example.org", wrong, "192.0.2.1"); err != auth.ErrInvalidCredentials {
		t.Fatal(err)
	}
	t1, _ := f.login(t, domain.RoleMentee, "ada@example.org", first)
	if _, _, err := f.svc.Authenticate(ctx, t1); err != nil {
		t.Fatal(err)
	}
	t2, _, err := f.svc.ChangePassword(ctx, t1, first, second, "")
	if err != nil {
		t.Fatal(err)
	}
	reset := f.requestReset(t, domain.RoleMentee, "ada@example.org")
	if _, err := f.svc.ResetPassword(ctx, reset, third); err != nil {
		t.Fatal(err)
	}
	t3, _ := f.login(t, domain.RoleMentee, "ada@example.org", third)
	if err := f.svc.Logout(ctx, t3); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}

	mailbox := filepath.Join(f.dir, mail.DirName)
	var db, mails, others []byte
	err = filepath.WalkDir(f.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		switch {
		case err != nil:
			return err
		case filepath.Base(path) == authbolt.FileName:
			db = b
		case strings.HasPrefix(path, mailbox+string(filepath.Separator)):
			mails = append(mails, b...)
		default:
			others = append(others, b...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := []byte(f.logs.String())
	if len(db) == 0 || len(mails) == 0 || !bytes.Contains(logs, []byte("password reset email sent")) {
		t.Fatalf("nothing to search: %d bytes of auth.db, %d of mail, logs:\n%s", len(db), len(mails), logs)
	}
	places := map[string][]byte{"auth.db": db, "the mailbox": mails, "the other data files": others, "the logs": logs}

	secrets := map[string]string{
		"the first password": first, "the second password": second, "the third password": third, "the wrong password": wrong,
		"the first token": t1, "the token from the password change": t2, "the last token": t3,
	}
	for name, secret := range secrets {
		body := secret[strings.IndexByte(secret, '_')+1:] // a token without its prefix
		for place, content := range places {
			if bytes.Contains(content, []byte(secret)) || bytes.Contains(content, []byte(body)) {
				t.Errorf("%s appears in %s", name, place)
			}
		}
	}
	if !bytes.Contains(mails, []byte(reset)) {
		t.Fatal("the reset token is not in the mailbox, so this search cannot see it")
	}
	for place, content := range places {
		if place != "the mailbox" && bytes.Contains(content, []byte(reset[4:])) {
			t.Errorf("the reset token appears in %s", place)
		}
	}
}
