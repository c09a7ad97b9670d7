package mail_test

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/clock"
	mailport "github.com/mentorship/mentorship/mail"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newMailbox(t *testing.T) (*mailport.Mailbox, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	b, err := mailport.NewMailbox(filepath.Join(t.TempDir(), mailport.DirName), mailport.MailboxOptions{From: "Mentorship <no-reply@mentorship.example>", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return b, clk
}

func TestMailboxWritesRFC5322Messages(t *testing.T) {
	b, _ := newMailbox(t)
	m := mailport.Message{
		To:      "ada@example.org",
		Subject: "Réinitialisez votre mot de passe",
		Text:    "Hello,\n\nOpen https://app.example.org/reset?token=abc_DEF-123 within 30 minutes.",
		HTML:    `<p>Open <a href="https://app.example.org/reset?token=abc_DEF-123">the link</a>.</p>`,
		ID:      "password-reset.0123abcd",
	}
	if err := b.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(b.Dir(), m.ID+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("the message has bare line feeds; RFC 5322 wants CRLF")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"From":         `"Mentorship" <no-reply@mentorship.example>`,
		"To":           "<ada@example.org>",
		"Message-ID":   "<password-reset.0123abcd@mentorship.example>",
		"MIME-Version": "1.0",
		"Date":         "Mon, 02 Mar 2026 09:00:00 +0000",
	} {
		if got := msg.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/alternative;") {
		t.Errorf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	if !bytes.Contains(raw, []byte("Open https://app.example.org/reset?token=abc_DEF-123 within")) {
		t.Error("the text part does not carry the link verbatim, so readers cannot copy it")
	}

	got, err := b.Messages()
	if err != nil {
		t.Fatal(err)
	}
	want := []mailport.Delivered{{Message: m, From: `"Mentorship" <no-reply@mentorship.example>`, Date: t0, Path: filepath.Join(b.Dir(), m.ID+".eml")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
}

func TestMailboxKeepsLongLinesIntact(t *testing.T) {
	b, _ := newMailbox(t)
	long := strings.Repeat("long line ", 200) + "é"
	m := mailport.Message{To: "a@example.org", Subject: "Plain", Text: long + "\n" + "second line", ID: "long"}
	if err := b.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(b.Dir(), "long.eml"))
	for line := range strings.SplitSeq(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("a line of %d bytes breaks RFC 5322's limit of 998", len(line))
		}
	}
	got, err := b.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Text != m.Text || got[0].HTML != "" {
		t.Errorf("read back %+v", got)
	}
}

func TestMailboxDeliversEachIDOnce(t *testing.T) {
	b, clk := newMailbox(t)
	ctx := context.Background()
	m := mailport.Message{To: "a@example.org", Subject: "One", Text: "first", ID: "same-id"}
	if err := b.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	m.Text = "second"
	if err := b.Send(ctx, m); err != nil {
		t.Fatalf("resending an ID: %v, want success", err)
	}
	if err := b.Send(ctx, mailport.Message{To: "b@example.org", Subject: "Two", Text: "other", ID: "another-id"}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Text != "first" || got[1].ID != "another-id" {
		t.Errorf("mailbox holds %+v, want the first copy of same-id, then another-id", got)
	}
	entries, _ := os.ReadDir(b.Dir())
	if len(entries) != 2 {
		t.Errorf("%d files in the mailbox, want 2 (no temporary files left)", len(entries))
	}
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want owner-only", e.Name(), fi.Mode().Perm())
		}
	}
}

func TestInvalidMessagesAreRefusedAndNotWritten(t *testing.T) {
	b, _ := newMailbox(t)
	ok := mailport.Message{To: "a@example.org", Subject: "Hi", Text: "body", ID: "ok"}
	for name, change := range map[string]func(*mailport.Message){
		"header injection in subject": func(m *mailport.Message) { m.Subject = "Hi\r\nBcc: victim@example.org" },
		"two recipients":              func(m *mailport.Message) { m.To = "a@example.org, b@example.org" },
		"named recipient":             func(m *mailport.Message) { m.To = "Ada <a@example.org>" },
		"not an address":              func(m *mailport.Message) { m.To = "nobody" },
		"no text":                     func(m *mailport.Message) { m.Text = " \n" },
		"no ID":                       func(m *mailport.Message) { m.ID = "" },
		"path in ID":                  func(m *mailport.Message) { m.ID = "../escape" },
		"space in ID":                 func(m *mailport.Message) { m.ID = "a b" },
		"dot-leading ID":              func(m *mailport.Message) { m.ID = ".hidden" },
		"overlong ID":                 func(m *mailport.Message) { m.ID = strings.Repeat("a", mailport.MaxIDLength+1) },
		"invalid UTF-8":               func(m *mailport.Message) { m.Text = "\xff" },
	} {
		m := ok
		change(&m)
		if err := b.Send(context.Background(), m); !errors.Is(err, mailport.ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
	if entries, _ := os.ReadDir(b.Dir()); len(entries) != 0 {
		t.Errorf("refused messages left %d files", len(entries))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(b.Dir()), "escape.eml")); err == nil {
		t.Error("a message escaped the mailbox folder")
	}
}

func TestNewMailboxRefusesABadFrom(t *testing.T) {
	if _, err := mailport.NewMailbox(t.TempDir(), mailport.MailboxOptions{From: "not an address"}); err == nil {
		t.Error("NewMailbox accepted a From that is not an address")
	}
}
