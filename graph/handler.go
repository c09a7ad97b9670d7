package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/mentorship/mentorship/command"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/mentorship/mentorship/graph/generated"
)

// HandlerOptions tune the GraphQL endpoint.
type HandlerOptions struct {
	// Production turns introspection off.
	Production bool
	// OriginPatterns are the browser origins allowed to open WebSockets
	// (host patterns such as "localhost:*"); same-origin is always allowed.
	OriginPatterns []string
	// Auth signs requests in; nil leaves everyone anonymous.
	Auth Authenticator
	// Limits bound each operation.
	Limits Limits
	// MaxBodyBytes caps a request body (1 MiB when 0).
	MaxBodyBytes int64
	// ReadOnly refuses every mutation but signing in and out.
	ReadOnly bool
	// BodyTimeout is how long a request's body may take to arrive (30 s
	// when 0: 1 MiB at 35 KiB/s); an upload has ten times as long.
	BodyTimeout time.Duration
	// RequestID returns the ID of the request a context belongs to, which
	// errors carry as extensions.correlationId and events as their
	// correlation ID; nil keeps none.
	RequestID func(context.Context) string
	// Metrics, when set, counts and times the operations.
	Metrics *Metrics
	// Tracing gives each operation and root field an OpenTelemetry span.
	Tracing bool
}

// NewHandler builds the GraphQL endpoint with only the transports the API
// offers: WebSocket (graphql-transport-ws and graphql-ws) and SSE before
// POST, and GET for queries only.
func NewHandler(r *Resolver, opts HandlerOptions) http.Handler {
	limits := opts.Limits.withDefaults()
	es := generated.NewExecutableSchema(generated.Config{Resolvers: r})
	srv := handler.New(es)
	maxUpload := r.program().Limits.DocumentSize + 1<<20
	transports := []graphql.Transport{
		// graphql-transport-ws, and after it the legacy graphql-ws.
		newTransportWS(opts),
		transport.Websocket{
			Implementation: initGuard{transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
				OriginPatterns: opts.OriginPatterns,
			}}},
			InitFunc:              websocketInit(opts.Auth),
			CloseFunc:             websocketClose,
			InitTimeout:           10 * time.Second,
			KeepAlivePingInterval: 10 * time.Second,
			PingPongInterval:      10 * time.Second,
		},
		transport.SSE{},
		transport.Options{},
		transport.GET{},
		transport.POST{},
		safeMultipart{transport.MultipartForm{MaxUploadSize: maxUpload, MaxMemory: 1 << 20}},
	}
	for _, t := range transports {
		srv.AddTransport(t)
	}
	// A parsed document is kept under its text, whose length stands for
	// its size; a persisted query under its hash.
	docs := newTextCache(cacheEntries, cacheBudget, cacheMaxEntry, func(q string, _ *ast.QueryDocument) int { return len(q) })
	srv.SetQueryCache(docs)
	srv.Use(extension.AutomaticPersistedQuery{Cache: newTextCache(cacheEntries, cacheBudget, cacheMaxEntry, func(h, q string) int { return len(h) + len(q) })})
	srv.Use(newLimiter(limits, es.Schema(), opts.Production))
	srv.Use(inlineDefer{})
	srv.Use(strictVariables{schema: es.Schema(), docs: docs})
	srv.Use(mutationCheck{schema: es.Schema()})
	if opts.ReadOnly {
		srv.Use(readOnly{})
	}
	if opts.Production {
		// "Did you mean" names fields, arguments and enum values that
		// the schema keeps to itself when introspection is off. gqlgen
		// turns off only the field suggestions; the others are cut from
		// the messages.
		srv.SetDisableSuggestion(true)
		srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
			resp := next(ctx)
			if resp != nil {
				for _, e := range resp.Errors {
					if i := strings.Index(e.Message, " Did you mean"); i >= 0 {
						e.Message = e.Message[:i]
					}
				}
			}
			return resp
		})
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(ErrorPresenter(r.Log))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		logFor(ctx, r.Log).Error().Interface("panic", v).Str("correlation_id", requestIDFrom(ctx)).Msg("resolver panicked")
		return &apiError{CodeInternal, "internal error"}
	})
	// Fresh batch loaders for every response, so that a subscription's
	// events never see each other's cached reads.
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		// Commands record what they read, so that a refusal's answer
		// shows the state that refused it (see settle).
		ctx, _ = command.WithSeen(ctx)
		return next(withLoaders(ctx, r.newLoaders()))
	})
	bodyTimeout := opts.BodyTimeout
	if bodyTimeout <= 0 {
		bodyTimeout = 30 * time.Second
	}
	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	return CORS(opts.OriginPatterns)(observe(opts, srv.Use, WithRequestID(opts.RequestID, Authenticate(opts.Auth, requirePreflight(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The answer's media type follows the Accept header.
		w.Header().Add("Vary", "Accept")
		if _, signedIn := ActorFrom(req.Context()); signedIn {
			// A signed-in answer is the caller's: no cache keeps it.
			w.Header().Set("Cache-Control", "private, no-store")
		}
		if !slices.ContainsFunc(transports, func(t graphql.Transport) bool { return t.Supports(req) }) {
			WriteError(w, req, http.StatusBadRequest, badInput("send GraphQL as a POST of JSON or a multipart form, a GET for queries, or over a WebSocket"))
			return
		}
		if strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
			srv.ServeHTTP(w, req)
			return
		}
		if !(transport.SSE{}).Supports(req) {
			// One answer only: @defer is resolved in place (see inlineDefer).
			req = req.WithContext(withOneAnswer(req.Context()))
		}
		cw := &codedWriter{ResponseWriter: w, req: req}
		defer cw.finish()
		// A body that trickles in would hold its connection and buffer
		// without end: it has a while to arrive, an upload longer.
		bodyTime := bodyTimeout
		if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "multipart/form-data" {
			bodyTime = 10 * bodyTimeout
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTime))
		if req.Method == http.MethodGet {
			for _, vs := range req.URL.Query() {
				if slices.ContainsFunc(vs, func(v string) bool { return !utf8.ValidString(v) }) {
					WriteError(w, req, http.StatusBadRequest, errNotUTF8)
					return
				}
			}
			srv.ServeHTTP(cw, req)
			return
		}
		if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "multipart/form-data" {
			if req.ContentLength > maxUpload {
				writeTooLarge(w, req, maxUpload)
				return
			}
			cw.tooLarge = newLimitedBody(w, req.Body, maxUpload)
			req.Body = cw.tooLarge
			srv.ServeHTTP(cw, req)
			return
		}
		// Read the body here, so that one over the limit is refused as
		// too large rather than failing inside the transport.
		if req.ContentLength > maxBody {
			writeTooLarge(w, req, maxBody)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeTooLarge(w, req, maxBody)
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			WriteError(w, req, http.StatusRequestTimeout, badInput(fmt.Sprintf("the request body did not arrive within %s", bodyTimeout)))
			return
		case err != nil:
			WriteError(w, req, http.StatusBadRequest, badInput("the request body could not be read"))
			return
		case !utf8.Valid(body):
			WriteError(w, req, http.StatusBadRequest, errNotUTF8)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		srv.ServeHTTP(cw, req)
	}))))))
}

// writeTooLarge refuses a request body over limit bytes.
func writeTooLarge(w http.ResponseWriter, req *http.Request, limit int64) {
	WriteError(w, req, http.StatusRequestEntityTooLarge, badInput(fmt.Sprintf("the request body is larger than %d bytes", limit)))
}
