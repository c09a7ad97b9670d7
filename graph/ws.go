package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"weak"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/refusal"
)

// wsProtocol is the WebSocket subprotocol transportWS speaks.
const wsProtocol = "graphql-transport-ws"

// The close codes graphql-transport-ws gives its protocol's errors
// (closeUnauthorized and closeForbidden are declared beside their first
// use).
const (
	closeBadRequest       = 4400
	closeInitTimeout      = 4408
	closeSubscriberExists = 4409
	closeTooManyInits     = 4429
)

// wsReadLimit is the largest message a client may send, as gqlgen's
// transport allows.
const wsReadLimit = 1 << 20

// transportWS serves graphql-transport-ws. gqlgen's transport keeps four
// goroutines for every connection, one of them the HTTP handler's, which
// blocks deep under the middleware and so keeps a large stack. This one
// returns from the handler as soon as the connection is upgraded and
// keeps one shallow goroutine per connection, which reads its messages,
// and one per running operation; pings come from a timer and closing on
// cancellation from context.AfterFunc. Operations run through the
// executor the server hands it, so every extension and interceptor runs
// as over HTTP.
type transportWS struct {
	accept websocket.AcceptOptions
	// init signs the connection in from its connection_init payload.
	init transport.WebsocketInitFunc
	// auth signs in again a connection whose upgrade request carried a
	// bearer token, since the request's own sign-in ends with the
	// handler.
	auth         Authenticator
	initTimeout  time.Duration
	pingInterval time.Duration
}

func newTransportWS(opts HandlerOptions) *transportWS {
	return &transportWS{
		accept: websocket.AcceptOptions{
			Subprotocols:   []string{wsProtocol},
			OriginPatterns: opts.OriginPatterns,
		},
		init:         websocketInit(opts.Auth),
		auth:         opts.Auth,
		initTimeout:  10 * time.Second,
		pingInterval: 10 * time.Second,
	}
}

var _ graphql.Transport = (*transportWS)(nil)

// Supports takes the WebSocket upgrades that offer graphql-transport-ws;
// gqlgen's transport serves the legacy graphql-ws.
func (t *transportWS) Supports(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(p) == wsProtocol {
				return true
			}
		}
	}
	return false
}

// Do upgrades the connection and hands it to a goroutine of its own.
func (t *transportWS) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	conn, err := websocket.Accept(leanHijack{w}, r, &t.accept)
	if err != nil {
		// Accept has answered: 403 for a foreign origin, 400 or 426 for
		// a request that is no WebSocket handshake.
		return
	}
	conn.SetReadLimit(wsReadLimit)
	c := &wsConn{t: t, ws: conn, exec: exec, ops: map[string]*wsOp{}}
	// The request's context ends when the handler returns, which is
	// now: the connection keeps its values (the request ID, the logger,
	// the client's address) and ends on its own close or the server's
	// shutdown instead.
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(r.Context()))
	// Armed once the connection is set up, below, so that its first tick
	// sees it whole.
	c.timer = time.AfterFunc(math.MaxInt64, c.tick)
	if stop := shutdownOf(r.Context()); stop != nil {
		c.stopShutdown = context.AfterFunc(stop, c.terminate)
	}
	if token := tokenFrom(r.Context()); token != "" && t.auth != nil {
		// Signed in by the upgrade's Authorization header: that sign-in
		// is the request's and ends with it, so the connection takes
		// one of its own, which ends when the token is revoked.
		ctx, cancel, actor, err := t.auth.Authenticate(c.ctx, token)
		if err != nil {
			code, reason := initRefusal(err)
			c.shut(code, reason)
			return
		}
		c.ctx = context.WithValue(WithActor(ctx, actor), tokenKey{}, token)
		c.setRelease(cancel)
		context.AfterFunc(ctx, func() { c.signInEnded(ctx) })
	}
	c.timer.Reset(t.initTimeout)
	go c.serve()
}

// wsConn is one graphql-transport-ws connection.
type wsConn struct {
	t    *transportWS
	ws   *websocket.Conn
	exec graphql.GraphExecutor
	// ctx is the connection's context, and after connection_init the
	// signed-in one, under which operations run. It and initialised are
	// the reading goroutines': one at a time, each started by the last.
	ctx         context.Context
	initialised bool
	cancel      context.CancelFunc
	// stopShutdown stops waiting for the server's shutdown.
	stopShutdown func() bool
	timer        *time.Timer
	// release ends the sign-ins taken for the connection.
	release atomic.Pointer[func()]

	acked  atomic.Bool
	closed atomic.Bool
	// unanswered counts the pings sent since the last pong.
	unanswered atomic.Int32

	// mu guards ops and is held while an operation's message is
	// written, so that nothing of an operation the client completed
	// reaches it after the completion was read.
	mu  sync.Mutex
	ops map[string]*wsOp
}

// wsOp is one running operation of a connection.
type wsOp struct {
	id     string
	idJSON []byte
	ctx    context.Context
	cancel context.CancelFunc
}

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func (c *wsConn) setRelease(f func()) {
	c.release.Store(&f)
	if c.closed.Load() {
		c.releaseAll()
	}
}

func (c *wsConn) releaseAll() {
	if f := c.release.Swap(nil); f != nil {
		(*f)()
	}
}

// terminate closes a connection whose context ended: the server shuts
// down or the token it signed in with was revoked.
func (c *wsConn) terminate() { c.shut(websocket.StatusNormalClosure, "terminated") }

// signInEnded closes a connection whose sign-in ended: with 4403 and why
// when its token was revoked (signed out, password changed) or expired,
// as a refused connection_init is closed, so that the client knows to
// sign in again rather than reconnect with the same token; as terminate
// does otherwise.
func (c *wsConn) signInEnded(ctx context.Context) {
	if r, ok := refusal.As(context.Cause(ctx)); ok && (r.Code == auth.CodeTokenRevoked || r.Code == auth.CodeTokenExpired) {
		c.shut(closeForbidden, r.Message)
		return
	}
	c.terminate()
}

// shut closes the connection with code and reason, ends its operations
// and releases its sign-ins; a negative code drops the connection without
// a close frame. Only the first call does anything.
func (c *wsConn) shut(code websocket.StatusCode, reason string) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	c.timer.Stop()
	if c.stopShutdown != nil {
		c.stopShutdown()
	}
	c.cancel()
	if code < 0 {
		_ = c.ws.CloseNow()
	} else {
		// The close handshake waits up to five seconds for the client's
		// answer: not on the caller's time.
		go func() { _ = c.ws.Close(code, closeReason(reason)) }()
	}
	c.releaseAll()
}

// closeReason cuts a close frame's reason to the 123 bytes it may hold.
func closeReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	s = s[:123]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// tick ends a connection that did not initialise in time, and after that
// pings the client, dropping it once two pings in a row went unanswered.
func (c *wsConn) tick() {
	if c.closed.Load() {
		return
	}
	if !c.acked.Load() {
		c.shut(closeInitTimeout, "Connection initialisation timeout")
		return
	}
	if c.unanswered.Load() >= 2 {
		c.shut(-1, "")
		return
	}
	c.unanswered.Add(1)
	// Armed before writing: a client that reads nothing blocks the write,
	// and the next tick drops it.
	c.timer.Reset(c.t.pingInterval)
	_ = c.write([]byte(`{"type":"ping"}`))
}

func (c *wsConn) write(b []byte) error {
	return c.ws.Write(context.Background(), websocket.MessageText, b)
}

// serve reads the client's next message and handles it, then reads the
// one after on a new goroutine. An idle connection waits on a goroutine
// that has done nothing but wait: handling a message (decoding JSON,
// signing in, validating a document) grows a goroutine's stack, and a
// grown stack is kept for as long as its goroutine, here the connection,
// lasts. Starting one for each message costs far less than the stack.
func (c *wsConn) serve() {
	_, data, err := c.ws.Read(context.Background())
	if err != nil {
		// The client closed the connection, broke it, or sent a message
		// over the limit (which the library answered with 1009); or the
		// connection was shut.
		c.shut(websocket.StatusNormalClosure, "terminated")
		return
	}
	if c.handle(data) {
		go c.serve()
	}
}

// handle acts on one message of the client, and returns false when it
// closed the connection.
func (c *wsConn) handle(data []byte) bool {
	start := graphql.Now()
	var m wsMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.shut(closeBadRequest, "the message is not a JSON object")
		return false
	}
	switch m.Type {
	case "connection_init":
		if c.initialised {
			c.shut(closeTooManyInits, "Too many initialisation requests")
			return false
		}
		c.initialised = true
		return c.initialise(m.Payload)
	case "subscribe":
		if !c.acked.Load() {
			c.shut(closeUnauthorized, "Unauthorized")
			return false
		}
		if m.ID == "" {
			c.shut(closeBadRequest, "a subscribe message needs an id")
			return false
		}
		if !c.subscribe(start, m.ID, m.Payload) {
			c.shut(closeSubscriberExists, "Subscriber for "+m.ID+" already exists")
			return false
		}
	case "complete":
		if m.ID == "" {
			c.shut(closeBadRequest, "a complete message needs an id")
			return false
		}
		c.mu.Lock()
		op := c.ops[m.ID]
		delete(c.ops, m.ID)
		c.mu.Unlock()
		if op != nil {
			op.cancel()
		}
	case "ping":
		_ = c.write(envelope("pong", nil, m.Payload))
	case "pong":
		c.unanswered.Store(0)
	default:
		c.shut(closeBadRequest, fmt.Sprintf("unknown message type %q", m.Type))
		return false
	}
	return true
}

// initialise signs the connection in from connection_init's payload and
// acknowledges it, or closes the connection and returns false.
func (c *wsConn) initialise(raw json.RawMessage) bool {
	var payload transport.InitPayload
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &payload); err != nil {
			c.shut(closeBadRequest, "the connection_init payload is not an object")
			return false
		}
	}
	ctx, ack, err := c.t.init(c.ctx, payload)
	if err != nil {
		code, reason := initRefusal(err)
		c.shut(code, reason)
		return false
	}
	if ctx != c.ctx {
		// The sign-in's context ends when its token is revoked, which
		// closes the connection.
		if cancel, ok := ctx.Value(cancelKey{}).(context.CancelFunc); ok {
			prev := c.release.Swap(nil)
			c.setRelease(func() {
				cancel()
				if prev != nil {
					(*prev)()
				}
			})
		}
		context.AfterFunc(ctx, func() { c.signInEnded(ctx) })
		c.ctx = ctx
	}
	var ackPayload json.RawMessage
	if ack != nil {
		ackPayload, err = json.Marshal(*ack)
		if err != nil {
			c.shut(websocket.StatusInternalError, "the acknowledgement could not be encoded")
			return false
		}
	}
	if err := c.write(envelope("connection_ack", nil, ackPayload)); err != nil {
		c.shut(-1, "")
		return false
	}
	c.acked.Store(true)
	c.timer.Reset(c.t.pingInterval)
	return true
}

// initRefusal is the close code and reason of a refused sign-in.
func initRefusal(err error) (websocket.StatusCode, string) {
	var apiErr *apiError
	switch {
	case errors.Is(err, ErrBadToken):
		return closeForbidden, ErrBadToken.Error()
	case errors.As(err, &apiErr) && apiErr.code == CodeUnavailable:
		return closeTryAgainLater, apiErr.msg
	default:
		return closeForbidden, "Forbidden"
	}
}

// subscribe starts operation id, or returns false when one of that id is
// running.
func (c *wsConn) subscribe(start time.Time, id string, payload json.RawMessage) bool {
	c.mu.Lock()
	if _, ok := c.ops[id]; ok {
		c.mu.Unlock()
		return false
	}
	idJSON, _ := json.Marshal(id)
	op := &wsOp{id: id, idJSON: idJSON}
	op.ctx, op.cancel = context.WithCancel(c.ctx)
	c.ops[id] = op
	c.mu.Unlock()

	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	// Numbers stay as written, as gqlgen's transports read them, so that
	// a 64-bit position survives.
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		c.sendErrors(op, gqlerror.List{{Message: "invalid json"}})
		c.finish(op, false)
		return true
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	go c.run(op, params)
	return true
}

// run prepares an operation and starts it: validating the document and
// calling the resolvers go deep, so a subscription then waits for its
// events on a new goroutine, whose stack stays small, while this one's
// ends.
func (c *wsConn) run(op *wsOp, params *graphql.RawParams) {
	ctx := graphql.StartOperationTrace(op.ctx)
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			c.sendErrors(op, resp.Errors)
			c.finish(op, false)
			return
		}
		c.sendResponse(op, &graphql.Response{Errors: errs})
		c.finish(op, true)
		return
	}
	ctx = graphql.WithOperationContext(ctx, rc)
	defer c.recover(op, ctx, rc)
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		go c.stream(op, ctx, rc, responses)
		return
	}
	for c.answer(op, ctx, responses) {
	}
}

// stream writes a subscription's next answer, once its event comes, then
// waits for the one after on a new goroutine, for the reason serve does:
// executing and encoding an answer grows a stack that an idle
// subscription would keep. Looping on one goroutine instead kept 8 to
// 16 KiB per idle subscription of matchUpdated against 4 KiB, but saves
// growing each new goroutine's stack again, which took about a tenth of
// the server's CPU in a fan-out of one change to 10,000 subscribers.
func (c *wsConn) stream(op *wsOp, ctx context.Context, rc *graphql.OperationContext, responses graphql.ResponseHandler) {
	defer c.recover(op, ctx, rc)
	if c.answer(op, ctx, responses) {
		go c.stream(op, ctx, rc, responses)
	}
}

// answer writes an operation's next answer, or completes it when it has
// no more and returns false.
func (c *wsConn) answer(op *wsOp, ctx context.Context, responses graphql.ResponseHandler) bool {
	resp := responses(ctx)
	if resp == nil {
		c.finish(op, true)
		return false
	}
	c.sendResponse(op, resp)
	return true
}

// recover answers an operation that panicked with an error, as gqlgen's
// transport does.
func (c *wsConn) recover(op *wsOp, ctx context.Context, rc *graphql.OperationContext) {
	r := recover()
	if r == nil {
		return
	}
	err := rc.Recover(ctx, r)
	var gqlErr *gqlerror.Error
	if !errors.As(err, &gqlErr) {
		gqlErr = &gqlerror.Error{}
		if err != nil {
			gqlErr.Message = err.Error()
		}
	}
	c.sendErrors(op, gqlerror.List{gqlErr})
	c.finish(op, false)
}

// finish forgets op, telling the client it is complete when complete is
// set and the client did not end it itself.
func (c *wsConn) finish(op *wsOp, complete bool) {
	c.mu.Lock()
	if c.ops[op.id] == op {
		if complete && !c.closed.Load() {
			_ = c.write(envelope("complete", op.idJSON, nil))
		}
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
	op.cancel()
}

// send writes b, a message of op, unless the client ended op.
func (c *wsConn) send(op *wsOp, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops[op.id] == op {
		_ = c.write(b)
	}
}

func (c *wsConn) sendErrors(op *wsOp, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		b = []byte(`[{"message":"the errors could not be encoded"}]`)
	}
	c.send(op, envelope("error", op.idJSON, b))
}

var wsBuffers = sync.Pool{New: func() any { return new([]byte) }}

func (c *wsConn) sendResponse(op *wsOp, resp *graphql.Response) {
	bp := wsBuffers.Get().(*[]byte)
	b := append((*bp)[:0], `{"id":`...)
	b = append(b, op.idJSON...)
	b = append(b, `,"type":"next","payload":`...)
	b = appendResponse(b, resp)
	b = append(b, '}')
	c.send(op, b)
	if cap(b) <= 64<<10 {
		*bp = b
		wsBuffers.Put(bp)
	}
}

// appendResponse appends resp's JSON to b. An answer with data alone, as
// nearly all are, is written around the data the executor encoded,
// without encoding/json reading it through again.
func appendResponse(b []byte, resp *graphql.Response) []byte {
	if len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil && len(resp.Data) > 0 {
		b = append(b, `{"data":`...)
		b = append(b, resp.Data...)
		return append(b, '}')
	}
	j, err := json.Marshal(resp)
	if err != nil {
		return append(b, `{"errors":[{"message":"the answer could not be encoded"}],"data":null}`...)
	}
	return append(b, j...)
}

// envelope encodes a message; idJSON and payload are JSON already, and
// left out when empty.
func envelope(typ string, idJSON []byte, payload json.RawMessage) []byte {
	b := make([]byte, 0, 32+len(idJSON)+len(payload))
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if len(idJSON) > 0 {
		b = append(b, `,"id":`...)
		b = append(b, idJSON...)
	}
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

// The servers' shutdowns, by server: a connection outlives its request's
// context, so it waits for its server's Shutdown instead, as the
// request's context would have ended with it.
var shutdowns sync.Map // weak.Pointer[http.Server] -> context.Context

// shutdownOf returns a context that ends when the server that serves ctx's
// request shuts down, or nil when no server is known.
func shutdownOf(ctx context.Context) context.Context {
	srv, _ := ctx.Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	key := weak.Make(srv)
	if v, ok := shutdowns.Load(key); ok {
		return v.(context.Context)
	}
	stop, cancel := context.WithCancel(context.Background())
	if v, loaded := shutdowns.LoadOrStore(key, stop); loaded {
		cancel()
		return v.(context.Context)
	}
	srv.RegisterOnShutdown(func() {
		cancel()
		shutdowns.Delete(key)
	})
	// A server closed without Shutdown, as tests close theirs, is
	// forgotten once it is garbage.
	runtime.AddCleanup(srv, func(k weak.Pointer[http.Server]) { shutdowns.Delete(k) }, key)
	return stop
}
