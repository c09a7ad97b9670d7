package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/server"
)

// echo answers with the request ID the handler sees and logs a line with
// the request's logger.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	zerolog.Ctx(r.Context()).Info().Msg("handled")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(server.RequestID(r.Context())))
})

func newServer(log *bytes.Buffer, ready func(context.Context) error) http.Handler {
	if ready == nil {
		ready = func(context.Context) error { return nil }
	}
	return server.New(server.Deps{
		Logger:   zerolog.New(log).Level(zerolog.DebugLevel),
		GraphQL:  echo,
		Ready:    ready,
		Gatherer: prometheus.NewRegistry(),
	})
}

// serve sends one request straight to the handler, so that every log line
// is written when it returns.
func serve(h http.Handler, method, path, requestID string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if requestID != "" {
		req.Header.Set(server.RequestIDHeader, requestID)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A caller's request ID is kept only when it is 1 to 64 letters, digits,
// dots, underscores and hyphens; any other is replaced, as a missing one
// is, by a fresh UUID. The handler, the response and the logs all carry
// the same ID.
func TestRequestIDs(t *testing.T) {
	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"absent", "", false},
		{"a UUID", "0b5e6c1e-2f0a-4c1d-9a57-3f3c2b7e9d10", true},
		{"letters, digits, dot, underscore, hyphen", "web.app_42-Z", true},
		{"one character", "x", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"a space", "abc def", false},
		{"a line break", "abc\ndef", false},
		{"JSON", `{"admin":true}`, false},
		{"a slash", "../etc/passwd", false},
		{"a colon", "trace:1", false},
		{"non-ASCII letters", "café", false},
		{"a control character", "abc\x00", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			if tc.sent != "" {
				// Set the raw value: Header.Set would not keep some of
				// these, but a client can send them.
				req.Header[server.RequestIDHeader] = []string{tc.sent}
			}
			newServer(&log, nil).ServeHTTP(rec, req)
			got := rec.Header().Get(server.RequestIDHeader)
			if seen := rec.Body.String(); seen != got {
				t.Fatalf("the handler saw %q, the response says %q", seen, got)
			}
			if tc.kept && got != tc.sent {
				t.Fatalf("sent %q, got %q: want it kept", tc.sent, got)
			}
			if !tc.kept {
				if got == tc.sent {
					t.Fatalf("sent %q: want it replaced", tc.sent)
				}
				if _, err := uuid.Parse(got); err != nil {
					t.Fatalf("replacement %q is not a UUID", got)
				}
			}
			lines := logLines(t, &log)
			if len(lines) != 2 {
				t.Fatalf("want the handler's line and the access line, got %d: %s", len(lines), log.String())
			}
			for _, l := range lines {
				if l["request_id"] != got {
					t.Errorf("log line %v: request_id %v, want %q", l, l["request_id"], got)
				}
			}
			if strings.Contains(log.String(), tc.sent) && !tc.kept && tc.sent != "" {
				t.Errorf("the refused ID reached the log: %s", log.String())
			}
		})
	}
	// Fresh IDs differ from request to request.
	h := newServer(&bytes.Buffer{}, nil)
	a, b := serve(h, http.MethodPost, "/graphql", ""), serve(h, http.MethodPost, "/graphql", "")
	if a.Header().Get(server.RequestIDHeader) == b.Header().Get(server.RequestIDHeader) {
		t.Fatal("two requests without an ID got the same one")
	}
}

// Every request gets one access log line, at info level, with its method,
// path, route, status, duration and request ID.
func TestAccessLog(t *testing.T) {
	cases := []struct {
		name, method, path string
		ready              error
		status             int
	}{
		{"GraphQL", http.MethodPost, "/graphql", nil, http.StatusAccepted},
		{"liveness", http.MethodGet, "/livez", nil, http.StatusOK},
		{"readiness", http.MethodGet, "/readyz", nil, http.StatusOK},
		{"not ready", http.MethodGet, "/readyz", errors.New("store closed"), http.StatusServiceUnavailable},
		{"metrics", http.MethodGet, "/metrics", nil, http.StatusOK},
		{"unknown path", http.MethodGet, "/nowhere", nil, http.StatusNotFound},
		{"wrong method", http.MethodPost, "/livez", nil, http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			h := newServer(&log, func(context.Context) error { return tc.ready })
			rec := serve(h, tc.method, tc.path+"?q=secret", "req-1")
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			var access map[string]any
			for _, l := range logLines(t, &log) {
				if l["message"] == "request" {
					if access != nil {
						t.Fatalf("two access lines: %s", log.String())
					}
					access = l
				}
			}
			if access == nil {
				t.Fatalf("no access line: %s", log.String())
			}
			want := map[string]any{"level": "info", "method": tc.method, "path": tc.path, "status": float64(tc.status), "request_id": "req-1"}
			for k, v := range want {
				if access[k] != v {
					t.Errorf("%s = %v, want %v (line %v)", k, access[k], v, access)
				}
			}
			if _, ok := access["took"].(float64); !ok {
				t.Errorf("no duration: %v", access)
			}
			if strings.Contains(log.String(), "secret") {
				t.Errorf("the query string reached the log: %s", log.String())
			}
		})
	}
}

// AccessLogEvery samples the access lines: one request in N is written,
// none with 0, and a request answered with a server error always is.
func TestAccessLogSampling(t *testing.T) {
	failing := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	for _, tc := range []struct {
		every     uint32
		ok, fails int
		want      int
	}{
		{0, 10, 0, 0},
		{0, 10, 3, 3},
		{1, 10, 0, 10},
		{5, 10, 0, 2},
		{5, 10, 2, 4},
	} {
		var log bytes.Buffer
		every := tc.every
		h := server.New(server.Deps{
			Logger: zerolog.New(&log).Level(zerolog.InfoLevel), GraphQL: failing, AccessLogEvery: &every,
			Ready: func(context.Context) error { return nil }, Gatherer: prometheus.NewRegistry(),
		})
		for range tc.ok {
			serve(h, http.MethodGet, "/livez", "")
		}
		for range tc.fails {
			serve(h, http.MethodPost, "/graphql", "")
		}
		lines := logLines(t, &log)
		if len(lines) != tc.want {
			t.Errorf("every %d, %d ok and %d failing: %d access lines, want %d: %s", tc.every, tc.ok, tc.fails, len(lines), tc.want, log.String())
		}
		for _, l := range lines {
			if l["level"] != "info" || l["message"] != "request" {
				t.Errorf("line %v: want an info access line", l)
			}
		}
	}
}

// The responses are counted by route pattern and status.
func TestResponsesAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := server.New(server.Deps{
		Logger: zerolog.Nop(), GraphQL: echo, Registerer: reg,
		Ready: func(context.Context) error { return nil }, Gatherer: reg,
	})
	serve(h, http.MethodPost, "/graphql", "")
	serve(h, http.MethodPost, "/graphql", "")
	serve(h, http.MethodGet, "/livez", "")
	serve(h, http.MethodGet, "/nowhere", "")
	rec := serve(h, http.MethodGet, "/metrics", "")
	for _, want := range []string{
		`mentorship_http_responses_total{code="202",route="/graphql"} 2`,
		`mentorship_http_responses_total{code="200",route="GET /livez"} 1`,
		`mentorship_http_responses_total{code="404",route="none"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, rec.Body.String())
		}
	}
}

// The status recorder passes flushes through, which SSE needs, and records
// the status of a handler that never calls WriteHeader.
func TestAccessLogKeepsStreaming(t *testing.T) {
	var log bytes.Buffer
	h := server.New(server.Deps{
		Logger: zerolog.New(&log).Level(zerolog.DebugLevel),
		GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("data: 1\n\n"))
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
		}),
		Ready:    func(context.Context) error { return nil },
		Gatherer: prometheus.NewRegistry(),
	})
	rec := serve(h, http.MethodPost, "/graphql", "")
	if !rec.Flushed {
		t.Fatal("the flush did not reach the connection")
	}
	lines := logLines(t, &log)
	if len(lines) != 1 || lines[0]["status"] != float64(http.StatusOK) {
		t.Fatalf("access line: %s", log.String())
	}
}

// The access line records the status the client got, even when a handler
// writes a second one (as a refused WebSocket upgrade does).
func TestAccessLogKeepsTheFirstStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter)
		status int
	}{
		{"two statuses", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
			w.WriteHeader(http.StatusBadRequest)
		}, http.StatusForbidden},
		{"a body, then a status", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("ok"))
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusOK},
		{"an early hint, then the status", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			h := server.New(server.Deps{
				Logger:   zerolog.New(&log).Level(zerolog.DebugLevel),
				GraphQL:  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { tc.handle(w) }),
				Ready:    func(context.Context) error { return nil },
				Gatherer: prometheus.NewRegistry(),
			})
			serve(h, http.MethodPost, "/graphql", "")
			lines := logLines(t, &log)
			if len(lines) != 1 || lines[0]["status"] != float64(tc.status) {
				t.Fatalf("want status %d: %s", tc.status, log.String())
			}
		})
	}
}

func logLines(t *testing.T, log *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(log.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// Behind a trusted proxy the client is the rightmost X-Forwarded-For
// address that is not a trusted proxy; addresses further left may be the
// client's own invention. From anyone else the header is ignored.
func TestClientAddressBehindTrustedProxies(t *testing.T) {
	seen := ""
	h := server.New(server.Deps{
		Logger:         zerolog.Nop(),
		GraphQL:        http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }),
		Ready:          func(context.Context) error { return nil },
		Gatherer:       prometheus.NewRegistry(),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")},
	})
	cases := []struct {
		name, peer, forwarded, want string
	}{
		{"a direct client", "203.0.113.5:4000", "", "203.0.113.5:4000"},
		{"a direct client cannot forge the header", "203.0.113.5:4000", "198.51.100.1", "203.0.113.5:4000"},
		{"one trusted proxy", "10.1.2.3:5000", "198.51.100.7", "198.51.100.7:0"},
		{"the client's own entries are not believed", "10.1.2.3:5000", "1.2.3.4, 198.51.100.7", "198.51.100.7:0"},
		{"a chain of trusted proxies", "10.1.2.3:5000", "198.51.100.7, 10.9.9.9", "198.51.100.7:0"},
		{"an IPv6 proxy", "[fd00::1]:5000", "2001:db8::9", "[2001:db8::9]:0"},
		{"a proxy without the header", "10.1.2.3:5000", "", "10.1.2.3:5000"},
		{"a malformed header keeps the proxy", "10.1.2.3:5000", "not-an-address", "10.1.2.3:5000"},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		req.RemoteAddr = tc.peer
		if tc.forwarded != "" {
			req.Header.Set("X-Forwarded-For", tc.forwarded)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if seen != tc.want {
			t.Errorf("%s: the handler saw %q, want %q", tc.name, seen, tc.want)
		}
	}
}
