// Package server assembles the HTTP surface: GraphQL, health, readiness and
// metrics, with request IDs and access logs. All routes are declared here.
package server

import (
	"bufio"
	"context"
	"net"
	"net/http"
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
	// Ready reports whether the server can serve traffic.
	Ready func(context.Context) error
	// Gatherer serves /metrics.
	Gatherer prometheus.Gatherer
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
		mux.Handle("GET /documents/", d.Documents)
	}
	if d.AuditExport != nil {
		mux.Handle("/audit/export", d.AuditExport)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{}))
	if d.Playground != nil {
		mux.Handle("GET /{$}", d.Playground)
		mux.Handle("GET /assets/", d.Playground)
	}
	return withRequestLog(d.Logger, mux)
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
