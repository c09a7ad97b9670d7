package graph

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
)

// Authenticator turns a bearer token into the actor it signs in. The
// returned context ends when the token is revoked, which closes the
// subscriptions opened with it; the caller calls the cancel function once
// the request or connection is over.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (context.Context, context.CancelFunc, domain.Actor, error)
}

type tokenKey struct{}

type clientAddrKey struct{}

// tokenFrom returns the bearer token the request signed in with.
func tokenFrom(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey{}).(string)
	return t
}

// clientAddrFrom returns the address the request came from, for rate
// limits.
func clientAddrFrom(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

type actorKey struct{}

// WithActor returns ctx carrying the signed-in actor.
func WithActor(ctx context.Context, a domain.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the signed-in actor, if any.
func ActorFrom(ctx context.Context) (domain.Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(domain.Actor)
	return a, ok
}

// ErrBadToken is returned for a token that signs nobody in.
var ErrBadToken = errors.New("the token is invalid, expired or revoked")

var errBadToken = &apiError{CodeUnauthenticated, ErrBadToken.Error()}

// errSignInUnavailable answers a token that could not be checked now.
var errSignInUnavailable = &apiError{CodeUnavailable, "signing in cannot be checked now; try again"}

// bearer extracts the token of an Authorization header value.
func bearer(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Authenticate is HTTP middleware that signs in requests carrying a bearer
// token. A request with a bad token is refused with 401; one without a
// token goes on anonymously.
func Authenticate(auth Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		r = r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, host))
		header := r.Header.Get("Authorization")
		token := bearer(header)
		if header != "" && token == "" {
			// A Basic or empty credential is a client's mistake, not a
			// request to go on signed out.
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
			WriteError(w, r, http.StatusUnauthorized, errNotBearer)
			return
		}
		if token == "" || auth == nil {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel, actor, err := auth.Authenticate(r.Context(), token)
		switch {
		case errors.Is(err, ErrBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			WriteError(w, r, http.StatusUnauthorized, errBadToken)
			return
		case err != nil:
			// The token may well be good: the sessions cannot be read
			// now, which the client should try again, not sign in anew.
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("a token could not be checked")
			w.Header().Set("Retry-After", "1")
			WriteError(w, r, http.StatusServiceUnavailable, errSignInUnavailable)
			return
		}
		defer cancel()
		ctx = context.WithValue(WithActor(ctx, actor), tokenKey{}, token)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type cancelKey struct{}

// closeForbidden is the WebSocket close code of a refused connection_init.
const closeForbidden = 4403

// closeTryAgainLater is the WebSocket close code of a connection_init
// whose token could not be checked now.
const closeTryAgainLater = 1013

// websocketInit signs in a WebSocket from the token in its connection_init
// payload ({"Authorization": "Bearer ..."} or {"token": "..."}).
func websocketInit(auth Authenticator) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		token := bearer(payload.Authorization())
		if token == "" {
			token = payload.GetString("token")
		}
		if token == "" || auth == nil {
			return ctx, nil, nil
		}
		sctx, cancel, actor, err := auth.Authenticate(ctx, token)
		switch {
		case errors.Is(err, ErrBadToken):
			// 4403 is how graphql-transport-ws refuses a connection.
			ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, closeForbidden), ErrBadToken.Error())
			return ctx, nil, ErrBadToken
		case err != nil:
			// 1013 (try again later): the token could not be checked now.
			ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, closeTryAgainLater), errSignInUnavailable.msg)
			return ctx, nil, errSignInUnavailable
		}
		sctx = context.WithValue(WithActor(sctx, actor), tokenKey{}, token)
		return context.WithValue(sctx, cancelKey{}, cancel), nil, nil
	}
}

// websocketClose releases what websocketInit took for the connection.
func websocketClose(ctx context.Context, _ int) {
	if cancel, ok := ctx.Value(cancelKey{}).(context.CancelFunc); ok {
		cancel()
	}
}
