// Package server assembles the HTTP surface: GraphQL, health, readiness and
// metrics, with request IDs and access logs. All routes are declared here.
package server

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Deps are what the HTTP surface needs.
type Deps struct {
	Logger zerolog.Logger
	// GraphQL serves /graphql.
	GraphQL http.Handler
	// Playground, when set, serves GraphiQL at /.
	Playground http.Handler
	// Documents, when set, serves GET /documents/{id}.
	Documents http.Handler
	// AuditExport, when set, serves GET /audit/export.
	AuditExport http.Handler
	// MyData, when set, serves GET /me/data.
	MyData http.Handler
	// ReportsExport, when set, serves GET /reports/export.
	ReportsExport http.Handler
	// Dashboard, when set, serves the staff dashboard at /dashboard and
	// its assets under /dashboard/assets/.
	Dashboard http.Handler
	// Ready reports whether the server can serve traffic.
	Ready func(context.Context) error
	// Gatherer serves /metrics.
	Gatherer prometheus.Gatherer
	// TrustedProxies are the networks of the reverse proxies in front of
	// the server. A request from one of them is taken to come from the
	// address its X-Forwarded-For names last outside them, so that rate
	// limits and logs see clients rather than the proxy. Empty trusts no
	// header: the peer is the client.
	TrustedProxies []netip.Prefix
}

// New returns the server's handler.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", d.GraphQL)
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := d.Ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	if d.Documents != nil {
		// No method in the pattern: a browser's CORS preflight (OPTIONS)
		// must reach the handler's CORS layer; the handler takes GET only.
		mux.Handle("/documents/", d.Documents)
	}
	if d.MyData != nil {
		mux.Handle("/me/data", d.MyData)
	}
	if d.AuditExport != nil {
		mux.Handle("/audit/export", d.AuditExport)
	}
	if d.ReportsExport != nil {
		mux.Handle("/reports/export", d.ReportsExport)
	}
	if d.Dashboard != nil {
		mux.Handle("GET /dashboard", d.Dashboard)
		mux.Handle("GET /dashboard/assets/", d.Dashboard)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{}))
	if d.Playground != nil {
		mux.Handle("GET /{$}", d.Playground)
		mux.Handle("GET /assets/", d.Playground)
	}
	return withClientAddr(d.TrustedProxies, withRequestLog(d.Logger, mux))
}

// withClientAddr sets a request's RemoteAddr to its client's address when
// it came through a trusted proxy: the rightmost X-Forwarded-For address
// that is not itself a trusted proxy. Addresses to its left could be
// written by the client, so they are never believed.
func withClientAddr(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !isTrusted(peer.Addr()) {
			next.ServeHTTP(w, r)
			return
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			if !isTrusted(a) {
				r2 := r.Clone(r.Context())
				r2.RemoteAddr = netip.AddrPortFrom(a.Unmap(), 0).String()
				next.ServeHTTP(w, r2)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// RequestIDHeader carries the request ID in and out.
const RequestIDHeader = "X-Request-Id"

type ctxKey struct{}

// RequestID returns the ID of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// validRequestID reports whether a caller's request ID may be kept: 1 to
// 64 letters, digits, dots, underscores and hyphens. It becomes the
// correlation ID of every event the request causes, stored for good, and
// appears in logs and headers.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// withRequestLog gives every request an ID (the caller's, when it is
// valid), a logger carrying it, and an access log line.
func withRequestLog(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set(RequestIDHeader, id)
		l := log.With().Str("request_id", id).Logger()
		ctx := context.WithValue(l.WithContext(r.Context()), ctxKey{}, id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(ctx))
		l.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Dur("took", time.Since(start)).Msg("request")
	})
}

// statusRecorder keeps the status a response was sent with: the first
// final one, as the client sees it.
type statusRecorder struct {
	http.ResponseWriter
	status int
	sent   bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.sent && (code >= 200 || code == http.StatusSwitchingProtocols) {
		s.status, s.sent = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.sent = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection, which WebSocket
// upgrades and SSE flushing need.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush passes flushes through for SSE.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes WebSocket upgrades through.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}
