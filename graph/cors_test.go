package graph_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/internal/browsertest"
	"github.com/mentorship/mentorship/server"
)

// pageAt serves an empty page on host (such as localhost or 127.0.0.1),
// another origin than the API's.
func pageAt(t *testing.T, host string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>app</title>"))
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return fmt.Sprintf("http://%s:%d/", host, l.Addr().(*net.TCPAddr).Port)
}

// A page of an allowed origin calls the API with a bearer token (a
// preflighted request) and reads the answer; a page of another origin
// cannot, and its request never runs.
func TestCORSFromABrowserPage(t *testing.T) {
	ctx := browsertest.New(t, browsertest.Options{})
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentor, "Max Mentor")
	api := e.serve(graph.HandlerOptions{OriginPatterns: []string{"localhost:*"}})
	call := func(page, biography string) map[string]any {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		tab, closeTab := chromedp.NewContext(tctx)
		defer closeTab()
		script := fmt.Sprintf(`(async () => {
			try {
				const r = await fetch(%q, { method: "POST",
					headers: { "Content-Type": "application/json", "Authorization": "Bearer " + %q },
					body: JSON.stringify({ query: "mutation($b: String) { updateProfile(input: {biography: $b}) { member { biography } } }", variables: { b: %q } }) });
				return { status: r.status, requestId: r.headers.get("X-Request-ID") || "", body: await r.json() };
			} catch (e) { return { error: String(e) }; }
		})()`, api, tok, biography)
		if err := chromedp.Do(tab, chromedp.Navigate(page)); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		out, err := chromedp.Run(tab, chromedp.Evaluate[map[string]any](script, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		return out
	}
	allowed := pageAt(t, "localhost")
	out := call(allowed, "Allowed.")
	wantOrigin := allowed[:len(allowed)-1]
	// The page read the answer, and the exposed request ID.
	if out["status"] != float64(200) || out["requestId"] == "" {
		t.Fatalf("from the allowed origin %s: %v", wantOrigin, out)
	}
	refused := pageAt(t, "127.0.0.1")
	out = call(refused, "Refused.")
	if out["error"] == nil {
		t.Fatalf("from another origin the page read the answer: %v", out)
	}
	r := e.ok(tok, `{ viewer { member { biography } } }`, nil)
	if got := r.str("viewer", "member", "biography"); got != "Allowed." {
		t.Fatalf("the refused origin's request ran: biography %q", got)
	}
	// The preflight itself: the allowed origin is echoed with the headers
	// a GraphQL client sends; another origin gets no CORS header at all.
	for origin, want := range map[string]string{wantOrigin: wantOrigin, refused[:len(refused)-1]: ""} {
		req, _ := http.NewRequest(http.MethodOptions, api, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
		if want != "" && resp.Header.Get("Access-Control-Allow-Headers") == "" {
			t.Errorf("preflight from %s: no Access-Control-Allow-Headers", origin)
		}
	}
	// Downloads too: a document's preflight reaches the CORS layer, and the
	// file name is readable by the page.
	docs := httptest.NewServer(server.New(server.Deps{
		Logger: zerolog.Nop(), GraphQL: http.NotFoundHandler(), Ready: func(context.Context) error { return nil }, Gatherer: prometheus.NewRegistry(),
		Documents: graph.CORS([]string{"localhost:*"})(graph.Authenticate(e.authn, graph.DocumentHandler(e.resolver))),
	}))
	t.Cleanup(docs.Close)
	req, _ := http.NewRequest(http.MethodOptions, docs.URL+graph.DocumentsPath+"anything", nil)
	req.Header.Set("Origin", wantOrigin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 || resp.Header.Get("Access-Control-Allow-Origin") != wantOrigin {
		t.Fatalf("a document's preflight: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest(http.MethodGet, docs.URL+graph.DocumentsPath+"anything", nil)
	req.Header.Set("Origin", wantOrigin)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Expose-Headers") == "" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Content-Disposition") {
		t.Fatalf("a download's exposed headers: %v", resp.Header)
	}
}
