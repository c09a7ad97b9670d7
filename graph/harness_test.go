package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/documents"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/server"
)

// tokens is the test's authenticator: a table of bearer tokens, which the
// test adds to while the server reads it.
type tokens struct{ m *sync.Map }

func newTokens() tokens { return tokens{&sync.Map{}} }

func (t tokens) Authenticate(ctx context.Context, token string) (context.Context, context.CancelFunc, domain.Actor, error) {
	a, ok := t.m.Load(token)
	if !ok {
		return ctx, func() {}, domain.Actor{}, graph.ErrBadToken
	}
	return ctx, func() {}, a.(domain.Actor), nil
}

func (t tokens) add(token string, a domain.Actor) { t.m.Store(token, a) }

func (t tokens) actor(token string) domain.Actor {
	a, _ := t.m.Load(token)
	actor, _ := a.(domain.Actor)
	return actor
}

// countingMembers counts the read-model calls the resolvers make.
type countingMembers struct {
	*projections.Members
	calls atomic.Int64
}

func (c *countingMembers) Member(id uuid.UUID) (*projections.MemberView, bool, error) {
	c.calls.Add(1)
	return c.Members.Member(id)
}

func (c *countingMembers) MembersByID(ids []uuid.UUID) ([]*projections.MemberView, error) {
	c.calls.Add(1)
	return c.Members.MembersByID(ids)
}

type env struct {
	t        *testing.T
	url      string
	store    eventstore.Store
	svc      *command.Service
	clock    *clock.Fake
	tokens   tokens
	members  *countingMembers
	runner   *follow.Runner
	accounts *auth.Service
	mailbox  string
	blobDir  string
	hub      *graph.Hub
	resolver *graph.Resolver
	authn    graph.Authenticator
}

func newEnv(t *testing.T) *env { return buildEnv(t, false) }

// newEnvWithAccounts signs in through the real accounts service.
func newEnvWithAccounts(t *testing.T) *env { return buildEnv(t, true) }

func buildEnv(t *testing.T, accounts bool) *env { return buildEnvWith(t, accounts, nil) }

// buildEnvWith lets a test change the resolver before the server starts.
func buildEnvWith(t *testing.T, accounts bool, change func(*graph.Resolver)) *env {
	t.Helper()
	store, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 4, 6, 15, 0, 0, 0, time.UTC))
	svc, err := command.New(store, domain.DefaultProgram(), clk, command.Options{})
	if err != nil {
		t.Fatal(err)
	}
	members, matches, reports := &countingMembers{Members: projections.NewMembers()}, projections.NewMatches(), projections.NewReports(time.UTC)
	hub := graph.NewHub(0, matches)
	svc.CountOpenMatches(func(id uuid.UUID) (int, error) { return projections.OpenMatches(matches, id) })
	runner := follow.NewRunner(store, follow.Options{Logger: zerolog.Nop()}, members.Members, matches, reports, hub.Notifier())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = runner.Run(ctx); close(done) }()
	e := &env{t: t, store: store, svc: svc, clock: clk, tokens: newTokens(), members: members, runner: runner, hub: hub}
	blobDir := t.TempDir()
	blobs, err := blob.Open(context.Background(), blob.DefaultURL(blobDir), svc.Program().DocumentContentTypes, svc.Program().Limits.DocumentSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	e.blobDir = blobDir
	r := &graph.Resolver{Commands: svc, Documents: documents.New(svc, blobs, zerolog.Nop()), Members: members, Matches: matches, Reports: reports, Store: store, Waiter: runner, Hub: hub, Clock: clk, Log: zerolog.Nop()}
	if change != nil {
		change(r)
	}
	var authn graph.Authenticator = e.tokens
	if accounts {
		dir := t.TempDir()
		authStore, err := authbolt.Open(dir, authbolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		e.mailbox = filepath.Join(dir, mail.DirName)
		box, err := mail.NewMailbox(e.mailbox, mail.MailboxOptions{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := auth.New(authStore, svc, box, clk, auth.Options{ResetURL: "https://mentorship.example.org/reset-password"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = acc.Close(context.Background()); _ = authStore.Close() })
		r.Accounts, e.accounts = acc, acc
		authn = graph.SessionAuth{Accounts: acc}
	}
	e.resolver, e.authn = r, authn
	mux := http.NewServeMux()
	mux.Handle("/", graph.NewHandler(r, graph.HandlerOptions{Auth: authn}))
	mux.Handle("GET /documents/", graph.Authenticate(authn, graph.DocumentHandler(r)))
	srv := httptest.NewServer(mux)
	e.url = srv.URL
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		<-done
		_ = store.Close()
	})
	return e
}

// serve starts a second server on the same program, as cmd/mentorship
// assembles it: the GraphQL endpoint built with opts (signed in like the
// first when opts.Auth is nil) at /graphql behind the server's request IDs
// and access log. It returns the endpoint's URL.
func (e *env) serve(opts graph.HandlerOptions) string {
	e.t.Helper()
	if opts.Auth == nil {
		opts.Auth = e.authn
	}
	srv := httptest.NewServer(server.New(server.Deps{
		Logger:   zerolog.Nop(),
		GraphQL:  graph.NewHandler(e.resolver, opts),
		Ready:    func(context.Context) error { return nil },
		Gatherer: prometheus.NewRegistry(),
	}))
	e.t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL + "/graphql"
}

// user registers a member (or staff/auditor) and gives them a token.
func (e *env) user(role domain.Role, name string) (domain.Actor, string) {
	e.t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: role}
	req := command.Request{Actor: a}
	if role == domain.RoleStaff || role == domain.RoleAuditor {
		req.Actor = domain.SystemActor()
	}
	res, err := e.svc.RegisterMember(context.Background(), req, a.ID, role, name, strings.ToLower(strings.Fields(name)[0])+"-"+a.ID.String()[:6]+"@example.org")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(context.Background(), res.Position); err != nil {
		e.t.Fatal(err)
	}
	token := "token-" + a.ID.String()
	e.tokens.add(token, a)
	return a, token
}

// waitSubscribers waits until n live subscriptions are registered with the
// hub: a subscribe message is handled asynchronously, so a change made right
// after sending it could otherwise be published before anyone listens.
func (e *env) waitSubscribers(n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.hub.Subscribers() < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d of %d subscriptions registered", e.hub.Subscribers(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *env) head() eventstore.Position {
	h, err := e.store.Head(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Status int
	Header http.Header
	Data   map[string]any
	Errors []gqlError
	raw    []byte
}

func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// get walks a path of keys and indexes through the response data.
func (r response) get(path ...any) any {
	var cur any = r.Data
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func (r response) str(path ...any) string {
	s, _ := r.get(path...).(string)
	return s
}

func (e *env) do(token, query string, vars map[string]any) response {
	e.t.Helper()
	return e.doAt(e.url, nil, token, query, vars)
}

// stream posts an operation asking for an event stream (SSE), signed in
// with token, and returns the open response; the caller closes its body.
func (e *env) stream(token, query string) *http.Response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// doAt posts an operation to url with the extra headers.
func (e *env) doAt(url string, header http.Header, token, query string, vars map[string]any) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return e.send(req, token, true)
}

// send sends a prepared request, signed in with token when it is not empty,
// and reads the GraphQL response; strict fails the test on a body that is
// not JSON.
func (e *env) send(req *http.Request, token string, strict bool) response {
	e.t.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Header: res.Header, raw: raw}
	var parsed struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil && strict {
		e.t.Fatalf("response is not JSON (%d): %s", res.StatusCode, raw)
	}
	out.Data, out.Errors = parsed.Data, parsed.Errors
	return out
}

// ok runs an operation that must succeed without errors or userErrors.
func (e *env) ok(token, query string, vars map[string]any) response {
	e.t.Helper()
	r := e.do(token, query, vars)
	if len(r.Errors) > 0 {
		e.t.Fatalf("errors: %s", r.raw)
	}
	if strings.Contains(string(r.raw), `"userErrors":[{`) {
		e.t.Fatalf("userErrors: %s", r.raw)
	}
	return r
}

// ws is a graphql-transport-ws client.
type ws struct {
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
}

func (e *env) dial(token string) *ws {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.CloseNow() })
	c := &ws{t: e.t, conn: conn, ctx: ctx}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	if m := c.read(); m["type"] != "connection_ack" {
		e.t.Fatalf("no ack: %v", m)
	}
	return c
}

func (c *ws) send(m map[string]any) {
	c.t.Helper()
	if err := wsjson.Write(c.ctx, c.conn, m); err != nil {
		c.t.Fatal(err)
	}
}

func (c *ws) read() map[string]any {
	c.t.Helper()
	for {
		var m map[string]any
		if err := wsjson.Read(c.ctx, c.conn, &m); err != nil {
			c.t.Fatalf("websocket read: %v", err)
		}
		if m["type"] == "ping" {
			c.send(map[string]any{"type": "pong"})
			continue
		}
		return m
	}
}

func (c *ws) subscribe(id, query string, vars map[string]any) {
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

// next reads the next data message of subscription id.
func (c *ws) next(id string) map[string]any {
	c.t.Helper()
	for {
		m := c.read()
		if m["id"] != id {
			continue
		}
		if m["type"] != "next" {
			c.t.Fatalf("subscription %s: %v", id, m)
		}
		payload, _ := m["payload"].(map[string]any)
		if errs, ok := payload["errors"]; ok {
			c.t.Fatalf("subscription %s errors: %v", id, errs)
		}
		data, _ := payload["data"].(map[string]any)
		return data
	}
}

func gid(kind string, id uuid.UUID) string { return model.GlobalID(kind, id) }

func readJSON(ctx context.Context, c *ws, v any) error { return wsjson.Read(ctx, c.conn, v) }
