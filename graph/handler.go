package graph

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/mentorship/mentorship/graph/generated"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
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
}

// NewHandler builds the GraphQL endpoint with only the transports the API
// offers: WebSocket (graphql-transport-ws and graphql-ws) and SSE before
// POST, and GET for queries only.
func NewHandler(r *Resolver, opts HandlerOptions) http.Handler {
	limits := opts.Limits.withDefaults()
	cfg := generated.Config{Resolvers: r}
	// A list costs its items' complexity times the page size asked for; an
	// explicit null first asks for the largest page.
	perPage := func(first *int, max int) int {
		if first != nil && *first >= 0 {
			return *first
		}
		return max
	}
	cfg.Complexity.Query.SearchMentors = func(child int, _ *model.SearchMentorsInput, first *int, _ *string) int {
		return 1 + child*perPage(first, maxPage)
	}
	cfg.Complexity.Query.MyMatches = func(child int, _ *model.MatchGroup, first *int, _ *string) int {
		return 1 + child*perPage(first, maxPage)
	}
	cfg.Complexity.Query.MySessions = func(child int, _ *string, first *int, _ *string) int {
		return 1 + child*perPage(first, maxPage)
	}
	cfg.Complexity.Query.Resources = func(child int, first *int, _ *string) int {
		return 1 + child*perPage(first, maxPage)
	}
	cfg.Complexity.Query.MatchHistory = func(child int, _ string, first *int, _ *string) int {
		return 1 + child*perPage(first, maxHistoryPage)
	}
	srv := handler.New(generated.NewExecutableSchema(cfg))
	srv.AddTransport(transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: opts.OriginPatterns,
		}},
		InitFunc:              websocketInit(opts.Auth),
		CloseFunc:             websocketClose,
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 10 * time.Second,
		PingPongInterval:      10 * time.Second,
	})
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	maxUpload := r.program().Limits.DocumentSize + 1<<20
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: maxUpload, MaxMemory: 1 << 20})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(limiter{limits})
	if opts.ReadOnly {
		srv.Use(readOnly{})
	}
	srv.Use(extension.FixedComplexityLimit(limits.MaxComplexity))
	if !opts.Production {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(ErrorPresenter(r.Log, requestIDFrom))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		// A shared read-model store that cannot answer panics with
		// projections.ErrUnavailable; the error presenter turns it into
		// UNAVAILABLE, as it does the same error returned.
		if err, ok := v.(error); ok && errors.Is(err, projections.ErrUnavailable) {
			return err
		}
		r.Log.Error().Interface("panic", v).Str("correlation_id", requestIDFrom(ctx)).Msg("resolver panicked")
		return &apiError{CodeInternal, "internal error"}
	})
	// Fresh batch loaders for every response, so that a subscription's
	// events never see each other's cached reads.
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(withLoaders(ctx, r.newLoaders()))
	})
	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	return Authenticate(opts.Auth, requirePreflight(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		limit := maxBody
		if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "multipart/form-data" {
			limit = maxUpload
		}
		req.Body = http.MaxBytesReader(w, req.Body, limit)
		srv.ServeHTTP(w, req)
	})))
}

// readSafely runs a read outside a resolver, in a subscription's own
// goroutine, where the GraphQL server does not recover panics: a shared
// read-model store that cannot answer becomes an error that ends the
// subscription instead of the process.
func readSafely[T any](read func() T) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			e, ok := p.(error)
			if !ok || !errors.Is(e, projections.ErrUnavailable) {
				panic(p)
			}
			err = e
		}
	}()
	return read(), nil
}
