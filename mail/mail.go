// Package mail is the port through which the program sends email, with a
// default adapter that needs nothing outside the data directory: Mailbox
// writes every message as an RFC 5322 .eml file into a folder (mailbox/ in
// the data directory), where an operator or a test reads it. An SMTP adapter
// implements the same Sender interface.
//
// Every message carries an ID, which is both its idempotency key and the
// local part of its Message-ID header: sending the same ID twice delivers
// one message, so callers retry freely.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Sender delivers messages. Send returns once the message is durably handed
// over (written to disk, accepted by the relay); a nil error with an ID
// already sent means the earlier delivery stands.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Message is one email as the program composes it. The sender adds From,
// Date, Message-ID and the MIME structure.
type Message struct {
	// To is the recipient's address, such as ada@example.org.
	To string
	// Subject is the subject line, one line of text.
	Subject string
	// Text is the plain-text body; it is required.
	Text string
	// HTML is the optional HTML alternative of Text.
	HTML string
	// ID identifies the message: sending the same ID again does not
	// deliver a second copy. It becomes the local part of the Message-ID
	// header, so it holds only letters, digits, '.', '-' and '_'.
	ID string
}

// ErrInvalidMessage reports a message that cannot be sent as it is; the
// error's text names the field.
var ErrInvalidMessage = errors.New("invalid message")

// MaxIDLength caps a message ID in bytes.
const MaxIDLength = 128

// Validate checks that m can be sent: a single plain address in To, a
// one-line subject, a text body and a well-formed ID.
func (m Message) Validate() error {
	a, err := mail.ParseAddress(m.To)
	if err != nil || a.Name != "" || a.Address != m.To {
		return fmt.Errorf("%w: to: must be one address such as name@example.org", ErrInvalidMessage)
	}
	if !utf8.ValidString(m.Subject) || strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("%w: subject: must be one line of UTF-8 text", ErrInvalidMessage)
	}
	if strings.TrimSpace(m.Text) == "" || !utf8.ValidString(m.Text) {
		return fmt.Errorf("%w: text: is required UTF-8 text", ErrInvalidMessage)
	}
	if !utf8.ValidString(m.HTML) {
		return fmt.Errorf("%w: html: must be UTF-8 text", ErrInvalidMessage)
	}
	if m.ID == "" || len(m.ID) > MaxIDLength || strings.Trim(m.ID, ".") != m.ID || strings.Contains(m.ID, "..") {
		return fmt.Errorf("%w: id: must be 1 to %d characters, not starting or ending with a dot", ErrInvalidMessage, MaxIDLength)
	}
	for _, r := range m.ID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("%w: id: may hold only letters, digits, '.', '-' and '_'", ErrInvalidMessage)
		}
	}
	return nil
}
