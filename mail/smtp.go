package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/mentorship/mentorship/clock"
)

// TLSPolicy says how the SMTP sender protects its connection to the relay.
type TLSPolicy string

// The TLS policies. Mandatory is the safe choice for a relay on another
// machine; none suits a relay on the same host or a test server.
const (
	// TLSNone never encrypts the connection.
	TLSNone TLSPolicy = "none"
	// TLSOpportunistic upgrades with STARTTLS when the relay offers it and
	// sends in the clear otherwise.
	TLSOpportunistic TLSPolicy = "opportunistic"
	// TLSMandatory upgrades with STARTTLS and refuses to send when the
	// relay does not offer it or its certificate does not verify.
	TLSMandatory TLSPolicy = "mandatory"
	// TLSImplicit opens the connection with TLS at once (SMTPS, usually
	// port 465).
	TLSImplicit TLSPolicy = "implicit"
)

// ParseTLSPolicy reads a policy's name as configuration gives it.
func ParseTLSPolicy(s string) (TLSPolicy, error) {
	switch p := TLSPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case TLSNone, TLSOpportunistic, TLSMandatory, TLSImplicit:
		return p, nil
	}
	return "", fmt.Errorf("smtp tls policy %q: want none, opportunistic, mandatory or implicit", s)
}

// ErrRejected reports that the relay refused a recipient for good (an SMTP
// 5xx answer to RCPT TO): sending the same message again cannot succeed.
// Every other error of SMTP.Send is worth retrying later.
var ErrRejected = errors.New("recipient rejected by the mail relay")

// SMTPConfig is how to reach the mail relay.
type SMTPConfig struct {
	// Host is the relay's host name or address; it is required.
	Host string
	// Port is the relay's port (587 when 0, 465 with TLSImplicit).
	Port int
	// TLS is the TLS policy (TLSMandatory when empty).
	TLS TLSPolicy
	// Username and Password, when Username is set, authenticate with the
	// strongest mechanism the relay offers; plain-text mechanisms are used
	// only over an encrypted connection.
	Username string
	Password string
	// From is the sender, such as "Mentorship <no-reply@example.org>"
	// (DefaultFrom when empty). Its domain also ends every Message-ID.
	From string
	// TLSConfig, when set, replaces the default TLS settings, for example
	// to trust a private certificate authority. Its ServerName defaults to
	// Host.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP exchange (15 s when 0).
	Timeout time.Duration
	// Clock dates the messages (the system clock when nil).
	Clock clock.Clock
}

// SMTP is a Sender that hands each message to a mail relay over SMTP. A
// relay cannot tell a repeated message from a new one, so SMTP delivers
// every Send; the outbox in front of it sends each message ID until one
// Send succeeds, and the stable Message-ID lets mail clients fold the rare
// duplicate of a retry after a lost answer.
type SMTP struct {
	client *gomail.Client
	from   *mail.Address
	domain string
	clock  clock.Clock
}

var _ Sender = (*SMTP)(nil)

// NewSMTP returns a sender for the relay that cfg describes. It does not
// connect: every Send opens its own connection, so a relay that is down
// fails those sends only.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if strings.TrimSpace(cfg.Host) == "" {
		return nil, errors.New("smtp: host is required")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSMandatory
	}
	policy, err := ParseTLSPolicy(string(cfg.TLS))
	if err != nil {
		return nil, err
	}
	if cfg.From == "" {
		cfg.From = DefaultFrom
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from %q: %w", cfg.From, err)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if policy == TLSImplicit {
			cfg.Port = 465
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: port %d is out of range", cfg.Port)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	switch policy {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if cfg.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
		)
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	return &SMTP{client: client, from: from, domain: from.Address[at+1:], clock: cfg.Clock}, nil
}

// Send hands m to the relay. It returns an error wrapping ErrInvalidMessage
// for a message that cannot be sent, ErrRejected when the relay refuses the
// recipient for good, and another error (a relay that is down, busy or
// refusing the sender for now) when a later try may succeed.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	return hideAddress(s.send(ctx, m), m.To)
}

func (s *SMTP) send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: to: %v", ErrInvalidMessage, err)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.clock.Now())
	msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	// RFC 3834: automatic messages ask auto-responders to stay quiet.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	err := s.client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
		return fmt.Errorf("smtp: message %s: %w: %v", m.ID, ErrRejected, err)
	}
	return fmt.Errorf("smtp: message %s: %w", m.ID, err)
}

// addressHidden is an error whose message names the recipient's address
// only as <recipient>: the relay's errors name it, and they reach the
// logs, which carry member IDs, never personal data. Unwrap keeps the
// original for errors.Is and errors.As.
type addressHidden struct {
	err  error
	addr *regexp.Regexp
}

func (e addressHidden) Error() string { return e.addr.ReplaceAllString(e.err.Error(), "<recipient>") }

func (e addressHidden) Unwrap() error { return e.err }

// hideAddress hides to, and the address it holds, in err's message.
func hideAddress(err error, to string) error {
	if err == nil || strings.TrimSpace(to) == "" {
		return err
	}
	names := []string{regexp.QuoteMeta(strings.TrimSpace(to))}
	if a, perr := mail.ParseAddress(to); perr == nil && a.Address != "" {
		names = append(names, regexp.QuoteMeta(a.Address))
	}
	return addressHidden{err: err, addr: regexp.MustCompile("(?i)" + strings.Join(names, "|"))}
}
