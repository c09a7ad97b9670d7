package graph_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/domain"
)

// Automatic persisted queries: a hash alone is refused until the query has
// been sent once with it, and then works.
func TestPersistedQueries(t *testing.T) {
	e := newEnv(t)
	query := `{ programOptions { termMonths } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	post := func(body map[string]any) string {
		b, _ := json.Marshal(body)
		res, err := http.Post(e.url, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(res.Body)
		return out.String()
	}
	if got := post(map[string]any{"extensions": ext}); !strings.Contains(got, "PersistedQueryNotFound") {
		t.Fatalf("unknown hash: %s", got)
	}
	if got := post(map[string]any{"query": query, "extensions": ext}); !strings.Contains(got, `"termMonths":12`) {
		t.Fatalf("query with hash: %s", got)
	}
	if got := post(map[string]any{"extensions": ext}); !strings.Contains(got, `"termMonths":12`) {
		t.Fatalf("hash alone after registering: %s", got)
	}
}

// Subscriptions also work over server-sent events.
func TestSubscriptionOverSSE(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleStaff, "Sam Staff")
	b, _ := json.Marshal(map[string]any{"query": `subscription { dashboard { pending position } }`})
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data:") {
			if !strings.Contains(line, `"pending":0`) {
				t.Fatalf("first dashboard: %s", line)
			}
			return
		}
	}
	t.Fatalf("the stream ended without data: %v", sc.Err())
}
