package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// After a full sign-up, login and password reset, no password, bearer
// token or reset token is anywhere in the data directory or the logs in
// clear. (The reset token is delivered in the mailbox, which is where it
// belongs, and nowhere else.)
func TestNoSecretsInDataOrLogs(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	ts := startServerLogging(t, dir, &logs, "--log-level", "debug")
	const pass1, pass2 = "first secret passphrase 1", "second secret passphrase 2"
	c := &client{t: t, url: ts.URL}
	d := c.gql(`mutation($p: String!) { registerMentee(input: {name: "Ada", email: "ada@example.org", password: $p}) { token } }`, map[string]any{"p": pass1})
	token1 := dig(d, "registerMentee", "token").(string)
	d = c.gql(`mutation($p: String!) { loginMentee(input: {email: "ada@example.org", password: $p}) { token } }`, map[string]any{"p": pass1})
	token2 := dig(d, "loginMentee", "token").(string)
	c.gql(`mutation { requestPasswordReset(input: {role: MENTEE, email: "ada@example.org"}) { ok } }`, nil)

	// The reset email arrives in the mailbox in the background.
	var resetToken string
	link := regexp.MustCompile(`token=([A-Za-z0-9_\-]+)`)
	deadline := time.Now().Add(20 * time.Second)
	for resetToken == "" {
		if time.Now().After(deadline) {
			t.Fatal("no reset email arrived")
		}
		runtime.Gosched()
		files, _ := filepath.Glob(filepath.Join(dir, "mailbox", "*.eml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if m := link.FindSubmatch(b); m != nil {
				resetToken = string(m[1])
			}
		}
	}
	c.gql(`mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) { ok } }`, map[string]any{"t": resetToken, "p": pass2})
	ts.Stop(t)

	secrets := map[string]string{"first password": pass1, "second password": pass2, "registration token": token1, "login token": token2, "reset token": resetToken}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		inMailbox := strings.Contains(path, string(filepath.Separator)+"mailbox"+string(filepath.Separator))
		for name, s := range secrets {
			if name == "reset token" && inMailbox {
				continue
			}
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s found in clear in %s", name, filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "request") {
		t.Fatal("no logs were captured")
	}
	for name, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s found in the logs", name)
		}
	}
}
