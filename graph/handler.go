package graph

import (
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
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
}

// NewHandler builds the GraphQL endpoint with only the transports the API
// offers: WebSocket (graphql-transport-ws and graphql-ws) and SSE before
// POST, and GET for queries only.
func NewHandler(r *Resolver, opts HandlerOptions) http.Handler {
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r}))
	srv.AddTransport(transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: opts.OriginPatterns,
		}},
		KeepAlivePingInterval: 10 * time.Second,
		PingPongInterval:      10 * time.Second,
		InitTimeout:           10 * time.Second,
	})
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if !opts.Production {
		srv.Use(extension.Introspection{})
	}
	return srv
}
