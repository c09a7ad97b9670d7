package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mentorship/mentorship/clock"
)

// DirName is the mailbox folder's name inside the data directory.
const DirName = "mailbox"

// DefaultFrom is the sender address used when MailboxOptions.From is empty.
// The .invalid domain makes plain that the mailbox delivers nowhere.
const DefaultFrom = "Mentorship <no-reply@mentorship.invalid>"

// Mailbox is a Sender that writes each message as an .eml file (RFC 5322,
// MIME, CRLF line endings) named after the message ID. Files are written
// whole or not at all and are readable by their owner only, because a
// message may carry a password reset link.
type Mailbox struct {
	dir    string
	from   *mail.Address
	domain string
	clock  clock.Clock
}

var _ Sender = (*Mailbox)(nil)

// MailboxOptions tune a Mailbox. The zero value is usable.
type MailboxOptions struct {
	// From is the sender, such as "Mentorship <no-reply@example.org>"
	// (DefaultFrom when empty). Its domain also ends every Message-ID.
	From string
	// Clock dates the messages (the system clock when nil).
	Clock clock.Clock
}

// NewMailbox returns a Mailbox writing into dir, which it creates when
// missing.
func NewMailbox(dir string, opts MailboxOptions) (*Mailbox, error) {
	if opts.From == "" {
		opts.From = DefaultFrom
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("mailbox: from %q: %w", opts.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	return &Mailbox{dir: dir, from: from, domain: from.Address[at+1:], clock: opts.Clock}, nil
}

// Dir returns the folder the mailbox writes into.
func (b *Mailbox) Dir() string { return b.dir }

// Send writes m into the mailbox unless a message with the same ID is
// already there. The file is synced before Send returns.
func (b *Mailbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	name := filepath.Join(b.dir, m.ID+".eml")
	if _, err := os.Stat(name); err == nil {
		return nil
	}
	data, err := b.render(m)
	if err != nil {
		return fmt.Errorf("mailbox: message %s: %w", m.ID, err)
	}
	if err := writeNew(b.dir, name, data); err != nil {
		return fmt.Errorf("mailbox: message %s: %w", m.ID, err)
	}
	return nil
}

// writeNew writes data to a temporary file, syncs it and links it to name,
// so that readers never see half a message and a concurrent send of the
// same ID keeps the first copy.
func writeNew(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".sending-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), name); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// render builds the message's bytes: headers, then either one text part or
// a multipart/alternative of text and HTML.
func (b *Mailbox) render(m Message) ([]byte, error) {
	var head, body bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&head, "%s: %s\r\n", k, v) }
	header("From", b.from.String())
	header("To", (&mail.Address{Address: m.To}).String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", b.clock.Now().Format(time.RFC1123Z))
	header("Message-ID", "<"+m.ID+"@"+b.domain+">")
	header("MIME-Version", "1.0")
	if m.HTML == "" {
		enc := transferEncoding(m.Text)
		header("Content-Type", `text/plain; charset="utf-8"`)
		header("Content-Transfer-Encoding", enc)
		if err := encodeBody(&body, enc, m.Text); err != nil {
			return nil, err
		}
	} else {
		mw := multipart.NewWriter(&body)
		header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
		for _, part := range []struct{ typ, text string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
			enc := transferEncoding(part.text)
			h := textproto.MIMEHeader{}
			h.Set("Content-Type", part.typ+`; charset="utf-8"`)
			h.Set("Content-Transfer-Encoding", enc)
			w, err := mw.CreatePart(h)
			if err != nil {
				return nil, err
			}
			if err := encodeBody(w, enc, part.text); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
	}
	head.WriteString("\r\n")
	head.Write(body.Bytes())
	return head.Bytes(), nil
}

// transferEncoding picks the plainest encoding that keeps body intact:
// 7bit or 8bit when every line is short enough for SMTP (998 bytes) and no
// carriage return stands alone, quoted-printable otherwise.
func transferEncoding(body string) string {
	ascii := true
	for line := range strings.SplitSeq(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		if len(line) > 998 || strings.ContainsAny(line, "\r\x00") {
			return "quoted-printable"
		}
		for i := 0; i < len(line); i++ {
			if line[i] >= 0x80 {
				ascii = false
			}
		}
	}
	if ascii {
		return "7bit"
	}
	return "8bit"
}

func encodeBody(w io.Writer, enc, body string) error {
	if enc == "quoted-printable" {
		qw := quotedprintable.NewWriter(w)
		if _, err := io.WriteString(qw, body); err != nil {
			return err
		}
		return qw.Close()
	}
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
	if !strings.HasSuffix(body, "\r\n") {
		body += "\r\n"
	}
	_, err := io.WriteString(w, body)
	return err
}

// Delivered is a message read back from the mailbox, with the headers the
// mailbox added.
type Delivered struct {
	Message
	// From is the sender as written in the From header.
	From string
	// Date is the Date header.
	Date time.Time
	// Path is the message's file.
	Path string
}

// Messages reads every message in the mailbox, oldest first (by Date, then
// ID). End-to-end tests use it to follow a reset link; operators can open
// the same files with any mail client. Bodies come back with plain line
// feeds.
func (b *Mailbox) Messages() ([]Delivered, error) {
	names, err := filepath.Glob(filepath.Join(b.dir, "*.eml"))
	if err != nil {
		return nil, err
	}
	out := make([]Delivered, 0, len(names))
	for _, name := range names {
		d, err := readFile(name)
		if err != nil {
			return nil, fmt.Errorf("mailbox: %s: %w", filepath.Base(name), err)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Delivered) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func readFile(name string) (Delivered, error) {
	f, err := os.Open(name)
	if err != nil {
		return Delivered{}, err
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		return Delivered{}, err
	}
	d := Delivered{Path: name, From: msg.Header.Get("From")}
	if d.Date, err = msg.Header.Date(); err != nil {
		return Delivered{}, err
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		return Delivered{}, fmt.Errorf("to: %w", err)
	}
	d.To = to.Address
	if d.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Delivered{}, fmt.Errorf("subject: %w", err)
	}
	id := strings.Trim(msg.Header.Get("Message-ID"), "<>")
	if at := strings.LastIndexByte(id, '@'); at >= 0 {
		id = id[:at]
	}
	d.ID = id
	typ, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return Delivered{}, fmt.Errorf("content type: %w", err)
	}
	if typ != "multipart/alternative" {
		d.Text, err = decodeBody(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		return d, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return d, nil
		}
		if err != nil {
			return Delivered{}, err
		}
		// The multipart reader already undoes quoted-printable and drops
		// the header that announced it.
		body, err := decodeBody(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return Delivered{}, err
		}
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			d.Text = body
		case "text/html":
			d.HTML = body
		}
	}
}

func decodeBody(r io.Reader, enc string) (string, error) {
	if strings.EqualFold(enc, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), nil
}

// RemoveMentioning deletes every message whose recipient, subject or body
// holds one of texts (empty texts are ignored), and returns how many went:
// erasing a member removes the emails to and about them.
func (b *Mailbox) RemoveMentioning(texts []string) (int, error) {
	msgs, err := b.Messages()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range msgs {
		hit := false
		for _, t := range texts {
			if t != "" && (strings.Contains(m.To, t) || strings.Contains(m.Subject, t) || strings.Contains(m.Text, t) || strings.Contains(m.HTML, t)) {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		if err := os.Remove(filepath.Join(b.dir, m.ID+".eml")); err != nil && !os.IsNotExist(err) {
			return n, fmt.Errorf("mailbox: %w", err)
		}
		n++
	}
	return n, nil
}
