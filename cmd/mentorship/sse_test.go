package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/seed"
)

// A subscription over SSE streams through the real server's middleware
// (access log, request IDs, CORS, metrics): the first dashboard arrives
// while the stream stays open, not when it ends.
func TestSSESubscriptionStreamsThroughTheServer(t *testing.T) {
	srv := startServer(t, "", "--demo=true")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var login struct {
		Data struct {
			LoginStaff struct{ Token string } `json:"loginStaff"`
		}
	}
	q, _ := json.Marshal(map[string]any{"query": `mutation { loginStaff(input: {email: "staff@demo.example.org", password: "` + seed.DemoPassword + `"}) { token } }`})
	lres, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(lres.Body).Decode(&login)
	_ = lres.Body.Close()
	if err != nil || login.Data.LoginStaff.Token == "" {
		t.Fatalf("sign in: %v", err)
	}
	body, _ := json.Marshal(map[string]any{"query": `subscription { dashboard { pending } }`})
	sctx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	req, _ := http.NewRequestWithContext(sctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+login.Data.LoginStaff.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no response while the stream is open: %v", err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data:") {
			if !strings.Contains(line, `"dashboard"`) {
				t.Fatalf("first event: %s", line)
			}
			return
		}
	}
	t.Fatalf("no dashboard before the stream ended or the deadline: %v", sc.Err())
}
