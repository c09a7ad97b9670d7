package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mentorship/mentorship/graph"
)

// A request that comes while the read models are still reading the log
// the server started with waits for them; past the bound it is answered
// 503 UNAVAILABLE with Retry-After and never reaches the API. Once they
// have caught up, requests pass without asking again.
func TestRequestsWaitForTheReadModelsToCatchUp(t *testing.T) {
	var (
		reached = make(chan struct{})
		asked   atomic.Int32
		served  atomic.Int32
	)
	wait := func(ctx context.Context) error {
		asked.Add(1)
		select {
		case <-reached:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h := graph.CatchingUp(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		_, _ = w.Write([]byte(`{"data":{}}`))
	}), 50*time.Millisecond, wait)

	// Before: refused after the bound, with a coded GraphQL error.
	rec := httptest.NewRecorder()
	started := time.Now()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ viewer { id } }"}`)))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d before the read models caught up, want 503", rec.Code)
	}
	if took := time.Since(started); took < 50*time.Millisecond {
		t.Fatalf("refused after %v, before the bound", took)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("no Retry-After on the refusal")
	}
	var body struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("refusal body %q: %v", rec.Body, err)
	}
	if body.Errors[0].Extensions["code"] != graph.CodeUnavailable || !strings.Contains(body.Errors[0].Message, "still reading its log") {
		t.Fatalf("refusal %+v", body.Errors[0])
	}
	if served.Load() != 0 {
		t.Fatal("a request reached the API before the read models caught up")
	}

	// Requests waiting when the read models catch up are all served.
	var wg sync.WaitGroup
	codes := make([]int, 8)
	slow := graph.CatchingUp(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
	}), time.Minute, wait)
	for i := range codes {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			slow.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
			codes[i] = rec.Code
		})
	}
	for asked.Load() < int32(1+len(codes)) {
		time.Sleep(time.Millisecond)
	}
	close(reached)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d waiting for the catch-up answered %d", i, c)
		}
	}
	if served.Load() != int32(len(codes)) {
		t.Fatalf("%d of %d waiting requests served", served.Load(), len(codes))
	}

	// After: no more waiting.
	before := asked.Load()
	for range 3 {
		rec := httptest.NewRecorder()
		slow.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d after the catch-up", rec.Code)
		}
	}
	if asked.Load() != before {
		t.Fatal("the read models were asked again after they had caught up")
	}
}
