package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/server"
)

// Every error carries the ID of the request that caused it, as
// extensions.correlationId, whichever layer refused the request: the
// authentication, the body cap, the parser, the validator, the limits, a
// resolver or a subscription. The events a mutation writes carry it as
// their correlation ID.
func TestErrorsCarryTheRequestID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	matchID, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	url := e.serve(graph.HandlerOptions{RequestID: server.RequestID})
	deep := "id"
	for range 6 {
		deep = "mySessions { match { " + deep + " } }"
	}
	sum := sha256.Sum256([]byte("{ never sent }"))
	post := func(body []byte, contentType string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return req
	}
	operation := func(query string) *http.Request {
		b, _ := json.Marshal(map[string]any{"query": query})
		return post(b, "application/json")
	}
	cases := []struct {
		name   string
		token  string
		req    *http.Request
		status int
		codes  []string
	}{
		{"bad token", "forged", operation(`{ viewer { id } }`), http.StatusUnauthorized, []string{"UNAUTHENTICATED"}},
		{"body too large", menteeTok, operation(`{ viewer { id } }` + strings.Repeat(" ", 1<<20)), http.StatusRequestEntityTooLarge, []string{"BAD_USER_INPUT"}},
		{"not GraphQL", menteeTok, post([]byte(`{ viewer { id } }`), "text/plain"), http.StatusBadRequest, []string{"BAD_USER_INPUT"}},
		{"body not JSON", menteeTok, post([]byte(`{"query": `), "application/json"), http.StatusBadRequest, []string{"BAD_USER_INPUT"}},
		{"unknown operation name", menteeTok, post([]byte(`{"query": "query A { viewer { id } }", "operationName": "B"}`), "application/json"), http.StatusUnprocessableEntity, []string{"GRAPHQL_VALIDATION_FAILED"}},
		{"syntax", menteeTok, operation(`{ viewer { id }`), http.StatusUnprocessableEntity, []string{"GRAPHQL_PARSE_FAILED"}},
		{"unknown field", menteeTok, operation(`{ viewer { nope } }`), http.StatusUnprocessableEntity, []string{"GRAPHQL_VALIDATION_FAILED"}},
		{"too deep", menteeTok, operation(`{ match(id: "` + gid(model.KindMatch, matchID) + `") { ` + deep + ` } }`), http.StatusOK, []string{"BAD_USER_INPUT"}},
		{"too many tokens", menteeTok, operation(`{ viewer { id` + strings.Repeat(" __typename", 5000) + ` } }`), http.StatusOK, []string{"BAD_USER_INPUT"}},
		{"too complex", menteeTok, operation(`{ matchHistory(matchId: "` + gid(model.KindMatch, matchID) + `", first: null) { edges { node { type } } } myMatches(first: null) { edges { node { id } } } }`), http.StatusOK, []string{"COMPLEXITY_LIMIT_EXCEEDED"}},
		{"unknown persisted query", "", post(fmt.Appendf(nil, `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": %q}}}`, hex.EncodeToString(sum[:])), "application/json"), http.StatusOK, []string{"PERSISTED_QUERY_NOT_FOUND"}},
		{"signed out", "", operation(`{ myMatches { totalCount } }`), http.StatusOK, []string{"UNAUTHENTICATED"}},
		{"two refusals", menteeTok, operation(`{ dashboard { active } staffQueue { nudgeRequests { id } } }`), http.StatusOK, []string{"FORBIDDEN", "FORBIDDEN"}},
		{"bad cursor", menteeTok, operation(`{ myMatches(after: "zzz") { totalCount } }`), http.StatusOK, []string{"BAD_USER_INPUT"}},
		{"bad ID", menteeTok, operation(`{ match(id: "nonsense") { id } }`), http.StatusOK, []string{"BAD_USER_INPUT"}},
		{"upload without a preflight header", menteeTok, post([]byte("--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--b--\r\n"), "multipart/form-data; boundary=b"), http.StatusBadRequest, []string{"BAD_USER_INPUT"}},
	}
	for i, tc := range cases {
		id := fmt.Sprintf("case-%d", i)
		tc.req.Header.Set(server.RequestIDHeader, id)
		r := e.send(tc.req, tc.token, true)
		if r.Status != tc.status || len(r.Errors) != len(tc.codes) {
			t.Errorf("%s: %d %s", tc.name, r.Status, truncate(r.raw))
			continue
		}
		if got := r.Header.Get(server.RequestIDHeader); got != id {
			t.Errorf("%s: response ID %q, want %q", tc.name, got, id)
		}
		for j, ge := range r.Errors {
			if ge.Extensions["code"] != tc.codes[j] || ge.Extensions["correlationId"] != id {
				t.Errorf("%s: error %d: %s", tc.name, j, truncate(r.raw))
			}
		}
	}

	// Over a WebSocket: the handshake's ID.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{server.RequestIDHeader: {"socket-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	c := &ws{t: t, conn: conn, ctx: wctx}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + menteeTok}})
	if m := c.read(); m["type"] != "connection_ack" {
		t.Fatalf("no ack: %v", m)
	}
	c.subscribe("1", `subscription { dashboard { active } }`, nil)
	m := c.read()
	errs := fmt.Sprint(m["payload"])
	if m["id"] != "1" || !strings.Contains(errs, "FORBIDDEN") || !strings.Contains(errs, "correlationId:socket-1") {
		t.Fatalf("a refused subscription: %v", m)
	}

	// A mutation's events carry its request's ID.
	before := e.head()
	id := uuid.NewString()
	r := e.doAt(url, http.Header{server.RequestIDHeader: {id}}, menteeTok, `mutation { updateProfile(input: {name: "Mia Renamed"}) { userErrors { code } } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("update: %s", r.raw)
	}
	recs, err := e.store.ReadAll(ctx, before, 0)
	if err != nil || len(recs) == 0 {
		t.Fatalf("read the update's events: %d, %v", len(recs), err)
	}
	for _, rec := range recs {
		if rec.Metadata.CorrelationID != id {
			t.Errorf("event %s: correlation ID %q, want %q", rec.Type, rec.Metadata.CorrelationID, id)
		}
	}
}
