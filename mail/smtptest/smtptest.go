// Package smtptest runs a real SMTP server inside a test process, built on
// github.com/emersion/go-smtp, that keeps every message it accepts. Tests of
// the SMTP sender and of the outbox use it to see what a mail relay would
// see: the envelope, the headers and both bodies, counted by Message-ID.
// The server can be stopped and started again on the same port, and told to
// refuse mail for a while, to play a relay that is down or busy.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message as the server accepted it.
type Received struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To holds the envelope recipients (RCPT TO).
	To []string
	// Header is the message's header.
	Header mail.Header
	// MessageID is the Message-ID header without its angle brackets.
	MessageID string
	// Subject is the decoded subject.
	Subject string
	// Text and HTML are the decoded bodies, with plain line feeds.
	Text string
	HTML string
	// TLS reports whether the message came over an encrypted connection.
	TLS bool
	// User is the authenticated user name, if the client authenticated.
	User string
	// Raw is the message as received.
	Raw []byte
}

// Options tune a Server. The zero value serves plain SMTP without
// authentication.
type Options struct {
	// StartTLS offers STARTTLS with a certificate for 127.0.0.1 and
	// localhost, signed by the server's own authority (see RootCAs).
	StartTLS bool
	// ImplicitTLS serves SMTPS: TLS from the first byte.
	ImplicitTLS bool
	// Username and Password, when Username is set, require AUTH PLAIN.
	Username string
	Password string
	// RejectRecipient, when set, refuses RCPT TO for that address with a
	// permanent 550.
	RejectRecipient string
	// Delay holds each message this long after its DATA before accepting
	// it, as a slow relay does, so that a test can act while deliveries
	// are under way.
	Delay time.Duration
}

// Server is an SMTP server on a loopback port.
type Server struct {
	t    testing.TB
	opts Options
	addr string
	tls  *tls.Config
	pool *x509.CertPool

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	done     chan struct{}
	received []Received
	arrived  chan struct{} // closed and replaced when a message arrives
	refusing bool
}

// Start starts a server on a free loopback port. It is stopped when the
// test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: opts, arrived: make(chan struct{})}
	if opts.StartTLS || opts.ImplicitTLS {
		s.tls, s.pool = newCertificate(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Reserve returns a server that is not listening yet, on a port that was
// free a moment ago: a relay that is down until Resume is called.
func Reserve(t testing.TB, opts Options) *Server {
	t.Helper()
	s := Start(t, opts)
	s.Stop()
	return s
}

// Host returns the server's host.
func (s *Server) Host() string {
	host, _, _ := net.SplitHostPort(s.addr)
	return host
}

// Port returns the server's port.
func (s *Server) Port() int {
	_, port, _ := net.SplitHostPort(s.addr)
	var n int
	fmt.Sscan(port, &n)
	return n
}

// RootCAs returns a pool that trusts the server's certificate.
func (s *Server) RootCAs() *x509.CertPool { return s.pool }

// Stop closes the listener and every connection: clients then find the
// port refusing connections. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln, done := s.srv, s.ln, s.done
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	// Closing the listener ourselves also stops a Serve that has not
	// registered it with the server yet.
	_ = ln.Close()
	_ = srv.Close()
	<-done
}

// Resume listens again on the same port. It fails the test if the port was
// taken in between.
func (s *Server) Resume() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("smtptest: listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// Refuse makes the server answer every MAIL FROM with a temporary 451
// while on is true, as a busy or throttling relay does.
func (s *Server) Refuse(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusing = on
}

// Messages returns every message received so far, in order.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// WaitFor blocks until the server has received at least n messages and
// returns them, or fails the test after timeout.
func (s *Server) WaitFor(n int, timeout time.Duration) []Received {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.received), s.arrived
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-arrived:
		case <-deadline.C:
			s.t.Fatalf("smtptest: %d messages after %s, want %d", got, timeout, n)
			return nil
		}
	}
}

// CountByMessageID counts the received messages by Message-ID.
func (s *Server) CountByMessageID() map[string]int {
	out := map[string]int{}
	for _, m := range s.Messages() {
		out[m.MessageID]++
	}
	return out
}

func (s *Server) serve(ln net.Listener) {
	if s.opts.ImplicitTLS {
		ln = tls.NewListener(ln, s.tls)
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = !s.opts.StartTLS && !s.opts.ImplicitTLS
	if s.opts.StartTLS {
		srv.TLSConfig = s.tls
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.srv, s.ln, s.done = srv, ln, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{server: s, conn: c}, nil
}

type session struct {
	server *Server
	conn   *smtp.Conn
	user   string
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

// AuthMechanisms offers PLAIN when the server requires authentication.
func (ss *session) AuthMechanisms() []string {
	if ss.server.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks the PLAIN credentials against the server's options.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.server.opts.Username || password != ss.server.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

// Mail takes the envelope sender, unless the client has not authenticated
// or the server is refusing mail.
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.server.mu.Lock()
	refusing := ss.server.refusing
	ss.server.mu.Unlock()
	if refusing {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Try again later"}
	}
	ss.from = from
	return nil
}

// Rcpt takes a recipient, refusing the one the options name.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == ss.server.opts.RejectRecipient {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	ss.to = append(ss.to, to)
	return nil
}

// Data parses the message and keeps it.
func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	rec.From, rec.To, rec.User = ss.from, append([]string(nil), ss.to...), ss.user
	time.Sleep(ss.server.opts.Delay)
	_, rec.TLS = ss.conn.TLSConnectionState()
	ss.server.mu.Lock()
	ss.server.received = append(ss.server.received, rec)
	close(ss.server.arrived)
	ss.server.arrived = make(chan struct{})
	ss.server.mu.Unlock()
	return nil
}

// Reset forgets the envelope of a message that was not sent.
func (ss *session) Reset() { ss.from, ss.to = "", nil }

// Logout ends the session; it holds nothing to free.
func (ss *session) Logout() error { return nil }

// parse reads a message's header and its text and HTML bodies.
func parse(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, err
	}
	rec := Received{Header: msg.Header, Raw: raw}
	rec.MessageID = strings.Trim(msg.Header.Get("Message-ID"), "<> ")
	if rec.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Received{}, fmt.Errorf("subject: %w", err)
	}
	if err := readPart(&rec, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return Received{}, err
	}
	return rec, nil
}

func readPart(rec *Received, contentType, encoding string, body io.Reader) error {
	typ, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(typ, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := readPart(rec, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	text := strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	switch typ {
	case "text/plain":
		rec.Text = text
	case "text/html":
		rec.HTML = text
	}
	return nil
}

// newCertificate makes a self-signed authority and a server certificate
// for the loopback names.
func newCertificate(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("smtptest: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}, pool
}
