package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/server"
)

// A subscribe message before connection_init closes the socket with 4401
// Unauthorized, as graphql-transport-ws says; nothing is streamed.
func TestSubscribeBeforeInitClosesWith4401(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	_ = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { matchEvents { type } }`}})
	var m map[string]any
	err = wsjson.Read(ctx, conn, &m)
	if websocket.CloseStatus(err) != 4401 {
		t.Fatalf("got %v %v, want close status 4401", m, err)
	}
}

// Errors that gqlgen's transports answer by themselves carry a code and
// the correlation ID like every other error: a mutation over GET, a
// multipart form that cannot be read, a chunked upload over the cap.
func TestTransportErrorsCarryACode(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	endpoint := e.serve(graph.HandlerOptions{RequestID: server.RequestID})
	before := e.head()
	check := func(name string, req *http.Request, status int) {
		t.Helper()
		r := e.send(req, tok, false)
		if r.Status != status || r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["correlationId"] != r.Header.Get(server.RequestIDHeader) {
			t.Errorf("%s: %d %s", name, r.Status, truncate(r.raw))
		}
	}
	get, _ := http.NewRequest(http.MethodGet, endpoint+"?query="+url.QueryEscape(`mutation { updateProfile(input: {name: "Over GET"}) { userErrors { code } } }`), nil)
	check("a mutation over GET", get, http.StatusNotAcceptable)

	bad, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("--x\r\nContent-Disposition: form-data; name=\"nope\"\r\n\r\n{}\r\n--x--\r\n"))
	bad.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	bad.Header.Set("Apollo-Require-Preflight", "true")
	check("a form without operations", bad, http.StatusUnprocessableEntity)

	// Maps that name paths the variables do not have.
	for _, ops := range []string{
		`{"query": "mutation($f: [Upload!]!) { a: __typename }", "variables": {"f": []}}`,
		`{"query": "mutation($f: String) { a: __typename }", "variables": {"f": "str"}}`,
	} {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.WriteField("operations", ops)
		_ = mw.WriteField("map", `{"0": ["variables.f.0"]}`)
		part, _ := mw.CreateFormFile("0", "a.pdf")
		_, _ = part.Write([]byte("%PDF-1.4"))
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, endpoint, &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Apollo-Require-Preflight", "true")
		check("a map past its variables: "+ops, req, http.StatusUnprocessableEntity)
	}

	// 40 MiB sent chunked, so that no Content-Length announces it.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("operations", `{"query": "mutation($f: Upload!) { uploadDocument(input: {matchId: \"x\", file: $f}) { userErrors { code } } }", "variables": {"f": null}}`)
		_ = mw.WriteField("map", `{"0": ["variables.f"]}`)
		part, _ := mw.CreateFormFile("0", "big.pdf")
		chunk := make([]byte, 1<<20)
		for range 40 {
			if _, err := part.Write(chunk); err != nil {
				break
			}
		}
		_ = mw.Close()
		_ = pw.Close()
	}()
	big, _ := http.NewRequest(http.MethodPost, endpoint, pr)
	big.Header.Set("Content-Type", mw.FormDataContentType())
	big.Header.Set("Apollo-Require-Preflight", "true")
	big.ContentLength = -1
	check("a chunked upload of 40 MiB", big, http.StatusRequestEntityTooLarge)
	if e.head() != before {
		t.Fatal("a refused request wrote events")
	}
}

// In production, introspection is refused with a client's code (not
// INTERNAL), and unknown fields get no "Did you mean" suggestion.
func TestProductionRefusesIntrospectionAndSuggestions(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	prod := e.serve(graph.HandlerOptions{Production: true})
	for _, q := range []string{
		introspectionQuery(false),
		`{ __type(name: "Member") { fields { name } } }`,
		`{ viewer { id } ...I } fragment I on Query { __schema { queryType { name } } }`,
	} {
		r := e.doAt(prod, nil, tok, q, nil)
		if r.code() != "FORBIDDEN" || r.get("__schema") != nil || r.get("__type") != nil {
			t.Errorf("introspection in production: %s", truncate(r.raw))
		}
	}
	if r := e.doAt(prod, nil, tok, `{ __typename viewer { id } }`, nil); len(r.Errors) > 0 || r.str("__typename") != "Query" {
		t.Errorf("__typename in production: %s", truncate(r.raw))
	}
	for _, q := range []string{
		`{ viewer { membr { id } } }`,
		`{ searchMentors(inpt: {}) { totalCount } }`,
		`{ myMatches(group: ACTIV) { totalCount } }`,
		`{ searchMentors(input: {wrds: "x"}) { totalCount } }`,
	} {
		r := e.doAt(prod, nil, tok, q, nil)
		if len(r.Errors) == 0 || strings.Contains(string(r.raw), "Did you mean") {
			t.Errorf("a misspelling in production: %s", truncate(r.raw))
		}
	}
	if r := e.do(tok, `{ viewer { membr { id } } }`, nil); !strings.Contains(string(r.raw), "Did you mean") {
		t.Errorf("a misspelt field in development: %s", truncate(r.raw))
	}
}

// A query past its time budget has its resolvers stopped and says which
// limit stopped it; a mutation is never cut short.
func TestQueryTimeBudget(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	tight := e.serve(graph.HandlerOptions{Limits: graph.Limits{MaxDuration: time.Nanosecond}})
	r := e.doAt(tight, nil, tok, `{ searchMentors { totalCount } }`, nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || r.Errors[0].Extensions["limit"] != "duration" {
		t.Fatalf("a query past its budget: %s", truncate(r.raw))
	}
	r = e.doAt(tight, nil, tok, `mutation { updateProfile(input: {name: "Mia Renamed"}) { member { name } userErrors { code } } }`, nil)
	if len(r.Errors) > 0 || r.str("updateProfile", "member", "name") != "Mia Renamed" {
		t.Fatalf("a mutation on the same server: %s", truncate(r.raw))
	}
}

// A body that trickles in is cut off once its time is up, with 408, so
// that slow clients cannot hold connections and buffers without end.
func TestABodyThatTricklesInIsCutOff(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	endpoint := e.serve(graph.HandlerOptions{BodyTimeout: 200 * time.Millisecond})
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"query": "{ viewer { id } }", "variables": {"x": "`))
		// Then nothing more until the test ends.
	}()
	t.Cleanup(func() { _ = pw.Close() })
	req, _ := http.NewRequest(http.MethodPost, endpoint, pr)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = 1 << 19
	started := time.Now()
	r := e.send(req, tok, false)
	if r.Status != http.StatusRequestTimeout || r.code() != "BAD_USER_INPUT" {
		t.Fatalf("a trickling body: %d %s", r.Status, truncate(r.raw))
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Fatalf("a trickling body was cut off after %v", took)
	}
}

// An error never sends back what the client sent at length: a body that
// is not JSON and an ID that does not parse are named, not echoed.
func TestErrorsDoNotEchoTheRequest(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	long := strings.Repeat("A", 200_000)
	r := e.do(tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": long})
	notJSON, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(`{"query": "`+strings.Repeat("x", 750_000)))
	notJSON.Header.Set("Content-Type", "application/json")
	for name, r := range map[string]response{"a long ID": r, "a body that is not JSON": e.send(notJSON, tok, false)} {
		if len(r.Errors) == 0 || r.code() != "BAD_USER_INPUT" || len(r.Errors[0].Message) > 310 || len(r.raw) > 2000 {
			t.Errorf("%s: %d bytes: %s", name, len(r.raw), truncate(r.raw))
		}
	}
}

// A document of several operations sent without operationName is told to
// name one; a name the document lacks is named back.
func TestSeveralOperationsWithoutAName(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	doc := `query A { viewer { id } } query B { viewer { role } }`
	r := e.do(tok, doc, nil)
	if len(r.Errors) != 1 || r.Errors[0].Message != "the document holds more than one operation: name the one to run in operationName" || r.code() != graph.CodeValidationFailed {
		t.Fatalf("several operations without a name: %s", r.raw)
	}
	body, _ := json.Marshal(map[string]any{"query": doc, "operationName": "C"})
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r = e.send(req, tok, true)
	if len(r.Errors) != 1 || r.Errors[0].Message != "operation C not found" {
		t.Fatalf("an operation the document lacks: %s", r.raw)
	}
	body, _ = json.Marshal(map[string]any{"query": doc, "operationName": "B"})
	req, _ = http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if r = e.send(req, tok, true); len(r.Errors) > 0 || r.str("viewer", "role") != "MENTEE" {
		t.Fatalf("the named operation: %s", r.raw)
	}
}
