package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph"
)

// signedIn stands in for graph.Authenticate: it signs the request in as
// the role named in the X-Test-Role header, if any.
func signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if role := r.Header.Get("X-Test-Role"); role != "" {
			r = r.WithContext(graph.WithActor(r.Context(), domain.Actor{ID: uuid.New(), Role: domain.Role(role)}))
		}
		next.ServeHTTP(w, r)
	})
}

func serve(t *testing.T, store eventstore.Store, opts audit.HandlerOptions) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(signedIn(audit.Handler(store, opts)))
	t.Cleanup(srv.Close)
	return srv
}

// get requests the export as role ("" for nobody) and returns the response
// with its whole body.
func get(t *testing.T, srv *httptest.Server, role, query string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/audit/export?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("X-Test-Role", role)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestHandlerServesAuditorsAndStaffOnly(t *testing.T) {
	w := newWorld(t)
	srv := serve(t, w.store, audit.HandlerOptions{})
	cases := []struct {
		role string
		code int
	}{
		{"", http.StatusUnauthorized},
		{string(domain.RoleMentee), http.StatusForbidden},
		{string(domain.RoleMentor), http.StatusForbidden},
		{string(domain.RoleSystem), http.StatusForbidden},
		{string(domain.RoleAuditor), http.StatusOK},
		{string(domain.RoleStaff), http.StatusOK},
	}
	for _, tc := range cases {
		res, body := get(t, srv, tc.role, "")
		if res.StatusCode != tc.code {
			t.Errorf("role %q: status %d, want %d (%s)", tc.role, res.StatusCode, tc.code, body)
		}
		if tc.code != http.StatusOK && bytes.Contains(body, []byte(`"eventId"`)) {
			t.Errorf("role %q was refused but got events", tc.role)
		}
	}
	res, _ := get(t, srv, "", "")
	if res.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

func TestHandlerServesTheExport(t *testing.T) {
	w := newWorld(t)
	var log syncBuffer
	srv := serve(t, w.store, audit.HandlerOptions{PageSize: 3, Log: zerolog.New(&log)})
	cases := []struct {
		query       string
		format      audit.Format
		filter      audit.Filter
		contentType string
		file        string
	}{
		{"", audit.NDJSON, audit.Filter{}, "application/x-ndjson", "mentorship-events.ndjson"},
		{"format=csv&member=" + w.mentee.String(), audit.CSV, audit.Filter{Member: w.mentee}, "text/csv; charset=utf-8", "mentorship-events.csv"},
		{
			"match=" + w.match.String() + "&type=SessionLogged&type=SessionEdited,MatchEnded&from=" + url.QueryEscape(w.start.Format(time.RFC3339)),
			audit.NDJSON, audit.Filter{Match: w.match, Types: []string{"SessionLogged", "SessionEdited", "MatchEnded"}, From: &w.start},
			"application/x-ndjson", "mentorship-events.ndjson",
		},
	}
	for _, tc := range cases {
		res, body := get(t, srv, string(domain.RoleAuditor), tc.query)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d: %s", tc.query, res.StatusCode, body)
		}
		if got := res.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("%q: Content-Type %q, want %q", tc.query, got, tc.contentType)
		}
		if got := res.Header.Get("Content-Disposition"); got != `attachment; filename="`+tc.file+`"` {
			t.Errorf("%q: Content-Disposition %q", tc.query, got)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%q: Cache-Control %q", tc.query, got)
		}
		want := exportBytes(t, w.store, tc.format, tc.filter, audit.Options{})
		if !bytes.Equal(body, want) {
			t.Errorf("%q: the response differs from the export:\n%s\nwant:\n%s", tc.query, body, want)
		}
		if bytes.Contains(body, []byte(privateNotes)) {
			t.Errorf("%q: the response holds private notes", tc.query)
		}
	}
	if n := strings.Count(log.String(), `"message":"audit export"`); n != len(cases) {
		t.Errorf("%d exports logged, want %d:\n%s", n, len(cases), log.String())
	}
}

// Auditors and staff see the audit view: no login emails, messages, notes
// or file names. Staff who need them give a reason, recorded as an event
// before the export shows them; auditors cannot.
func TestPersonalFieldsOnlyWithARecordedReason(t *testing.T) {
	w := newWorld(t)
	svc, err := command.New(w.store, domain.DefaultProgram(), clock.System{}, command.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	srv := serve(t, w.store, audit.HandlerOptions{Log: zerolog.New(&log), Reveal: func(ctx context.Context, a domain.Actor, reason, scope string) error {
		_, err := svc.RevealPersonalData(ctx, command.Request{Actor: a}, reason, scope)
		return err
	}})
	personal := []string{"ann@example.org", "Hello", "plan.pdf", "ended"}
	for _, format := range []string{"ndjson", "csv"} {
		_, auditor := get(t, srv, string(domain.RoleAuditor), "format="+format)
		_, staff := get(t, srv, string(domain.RoleStaff), "format="+format)
		for _, p := range personal {
			if bytes.Contains(auditor, []byte(p)) {
				t.Errorf("%s: an auditor's export holds %q", format, p)
			}
			if bytes.Contains(staff, []byte(p)) {
				t.Errorf("%s: a staff export without a reason holds %q", format, p)
			}
		}
		if !bytes.Contains(auditor, []byte(`Ann`)) {
			t.Errorf("%s: an auditor's export lacks the members' display names", format)
		}
		const reason = "Complaint 2026-114 about this match"
		before, _ := w.store.Head(context.Background())
		res, revealed := get(t, srv, string(domain.RoleStaff), "format="+format+"&reason="+url.QueryEscape(reason))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s with a reason: %d %s", format, res.StatusCode, revealed)
		}
		for _, p := range personal {
			if !bytes.Contains(revealed, []byte(p)) {
				t.Errorf("%s: a staff export with a reason lacks %q", format, p)
			}
		}
		// The reason is on record, as an event after the export's head.
		recs, err := w.store.ReadStream(context.Background(), domain.PrivacyStream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		last := recs[len(recs)-1]
		if last.Position <= before || !bytes.Contains(last.Data, []byte(reason)) || !bytes.Contains(last.Data, []byte("format="+format)) {
			t.Errorf("%s: the reason was not recorded: %s", format, last.Data)
		}
		if strings.Contains(log.String(), "Complaint") {
			t.Errorf("the reason, free text, went to the log:\n%s", log.String())
		}
	}
	// Auditors cannot, and a reason must say something; neither is
	// recorded nor shown.
	head, _ := w.store.Head(context.Background())
	for _, tc := range []struct {
		role, reason string
		code         int
	}{
		{string(domain.RoleAuditor), "Curious", http.StatusForbidden},
		{string(domain.RoleStaff), "", http.StatusBadRequest},
		{string(domain.RoleStaff), "two\nlines", http.StatusBadRequest},
	} {
		res, body := get(t, srv, tc.role, "reason="+url.QueryEscape(tc.reason))
		if res.StatusCode != tc.code || bytes.Contains(body, []byte("ann@example.org")) {
			t.Errorf("%s with reason %q: %d %s", tc.role, tc.reason, res.StatusCode, body)
		}
	}
	if h, _ := w.store.Head(context.Background()); h != head {
		t.Error("a refused reason was recorded")
	}
	// A server that records no reasons shows no personal data.
	plain := serve(t, w.store, audit.HandlerOptions{})
	if res, body := get(t, plain, string(domain.RoleStaff), "reason=why"); res.StatusCode != http.StatusForbidden || bytes.Contains(body, []byte("ann@example.org")) {
		t.Errorf("without a recorder: %d %s", res.StatusCode, body)
	}
}

func TestHandlerRefusesBadRequests(t *testing.T) {
	w := newWorld(t)
	srv := serve(t, w.store, audit.HandlerOptions{})
	cases := []struct {
		query string
		says  string
	}{
		{"format=xml", "ndjson or csv"},
		{"match=42", `match: "42" is not an ID`},
		{"member=nobody", `member: "nobody" is not an ID`},
		{"type=Nope", `unknown event type "Nope"`},
		{"from=2026-03-01", "RFC 3339"},
		{"from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "must be before"},
		{"matchId=" + w.match.String(), `unknown parameter "matchId"`},
	}
	for _, tc := range cases {
		res, body := get(t, srv, string(domain.RoleStaff), tc.query)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tc.says) {
			t.Errorf("%q: status %d %q, want 400 saying %q", tc.query, res.StatusCode, body, tc.says)
		}
		if res.Header.Get("Content-Disposition") != "" {
			t.Errorf("%q: a refusal offered as an attachment", tc.query)
		}
	}
	res, err := srv.Client().Post(srv.URL+"/audit/export", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != http.MethodGet {
		t.Fatalf("POST: status %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

// gatedStore holds back or fails ReadAll calls, to watch the response
// between pages.
type gatedStore struct {
	eventstore.Store
	calls  atomic.Int32
	gateAt int32         // the call that waits for gate
	gate   chan struct{} // closed to let it go on
	failAt int32         // the call that fails
}

func (g *gatedStore) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	n := g.calls.Add(1)
	if n == g.gateAt {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if n == g.failAt {
		return nil, errors.New("the disk is on fire")
	}
	return g.Store.ReadAll(ctx, from, limit)
}

// TestHandlerFlushesAsItGoes reads the first page of a response while the
// export is held back before its second page.
func TestHandlerFlushesAsItGoes(t *testing.T) {
	w := newWorld(t)
	store := &gatedStore{Store: w.store, gateAt: 2, gate: make(chan struct{})}
	srv := serve(t, store, audit.HandlerOptions{PageSize: 2})
	client := srv.Client()
	// Without a flush the first line never comes and this fails the test.
	client.Timeout = 20 * time.Second
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/audit/export", nil)
	req.Header.Set("X-Test-Role", string(domain.RoleAuditor))
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)
	for i := range 2 {
		if _, err := r.ReadBytes('\n'); err != nil {
			t.Fatalf("line %d of the first page: %v", i+1, err)
		}
	}
	close(store.gate)
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(rest, []byte("\n")); n != len(w.events)-2 {
		t.Fatalf("%d more lines after the first page, want %d", n, len(w.events)-2)
	}
}

func TestHandlerFailures(t *testing.T) {
	w := newWorld(t)

	// Before anything was sent: a plain 500 that leaks nothing.
	srv := serve(t, &gatedStore{Store: w.store, failAt: 1}, audit.HandlerOptions{PageSize: 2})
	res, body := get(t, srv, string(domain.RoleAuditor), "")
	if res.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "disk") || res.Header.Get("Content-Disposition") != "" {
		t.Fatalf("status %d, Content-Disposition %q, body %q", res.StatusCode, res.Header.Get("Content-Disposition"), body)
	}

	// After the first page went out: the response is cut off, so that the
	// client sees an error rather than a short export.
	srv = serve(t, &gatedStore{Store: w.store, failAt: 2}, audit.HandlerOptions{PageSize: 2})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/audit/export", nil)
	req.Header.Set("X-Test-Role", string(domain.RoleAuditor))
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Fatal("an export that failed midway ended like a complete one")
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
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
