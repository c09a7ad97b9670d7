// Package server assembles the HTTP surface: GraphQL, health, readiness and
// metrics, with request IDs and access logs. All routes are declared here.
package server

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
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
	// Registerer, when set, receives the HTTP metrics.
	Registerer prometheus.Registerer
	// AccessLogEvery makes one request in every AccessLogEvery write an
	// access line (0: none), besides every request answered with a server
	// error; nil writes one for every request.
	AccessLogEvery *uint32
	// Tracing gives every request an OpenTelemetry server span, continuing
	// the caller's trace (W3C traceparent), and puts its trace and span IDs
	// in the request's log lines. Off, no tracing code runs per request.
	Tracing bool
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
	every := uint32(1)
	if d.AccessLogEvery != nil {
		every = *d.AccessLogEvery
	}
	h := withClientAddr(d.TrustedProxies, hlog.NewHandler(d.Logger)(withRequestID(withAccessLog(every, d.Registerer, mux))))
	if d.Tracing {
		h = otelhttp.NewHandler(h, "http", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }))
	}
	return h
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

// withRequestID gives every request an ID, the caller's when it is valid
// and a fresh UUID otherwise, and adds it to the request's logger, which
// hlog.NewHandler put in its context. hlog's own RequestIDHandler is not
// used because its IDs are xids of its choosing: the caller's ID, which a
// client sends to find its request's events by their correlation ID,
// would be lost.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set(RequestIDHeader, id)
		hlog.FromRequest(r).UpdateContext(func(c zerolog.Context) zerolog.Context {
			c = c.Str("request_id", id)
			if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
				c = c.Str("trace_id", sc.TraceID().String()).Str("span_id", sc.SpanID().String())
			}
			return c
		})
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
	})
}

// withAccessLog writes one access line per request at info, through the
// request's logger, for one request in every (every 0 writes none) and
// for every request answered with a server error; and counts responses
// by route and status.
func withAccessLog(every uint32, reg prometheus.Registerer, next http.Handler) http.Handler {
	responses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mentorship_http_responses_total",
		Help: "HTTP responses by route (the pattern that served the request; none for an unknown path) and status code.",
	}, []string{"route", "code"})
	if reg != nil {
		reg.MustRegister(responses)
	}
	sampler := &zerolog.BasicSampler{N: every}
	access := hlog.AccessHandler(func(r *http.Request, status, size int, took time.Duration) {
		if status == 0 {
			// The handler wrote nothing: net/http answered 200.
			status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "none"
		}
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			// The route is known once the mux chose it: name the
			// server span after it (never after the path, whose IDs
			// would make a name per document).
			span.SetName(r.Method + " " + strings.TrimPrefix(route, r.Method+" "))
			span.SetAttributes(attribute.String("http.route", route))
		}
		responses.WithLabelValues(route, strconv.Itoa(status)).Inc()
		l := hlog.FromRequest(r)
		if status < http.StatusInternalServerError {
			if every == 0 {
				return
			}
			sampled := l.Sample(sampler)
			l = &sampled
		}
		l.Info().Str("method", r.Method).Str("path", r.URL.Path).Str("route", route).Int("status", status).
			Int("bytes", size).Dur("took", took).Msg("request")
	})
	// Informational answers (such as 103 Early Hints) go past the access
	// recorder, which keeps the first status it sees as the final one.
	return access(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(informational{w}, r)
	}))
}

// informational sends 1xx statuses other than 101 Switching Protocols
// straight to the connection, so that the status the access line records
// is the final one.
type informational struct {
	http.ResponseWriter
}

func (i informational) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if u, ok := i.ResponseWriter.(interface{ Unwrap() http.ResponseWriter }); ok {
			u.Unwrap().WriteHeader(code)
			return
		}
	}
	i.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection, which WebSocket
// upgrades and SSE flushing need.
func (i informational) Unwrap() http.ResponseWriter { return i.ResponseWriter }
