package graph

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/rs/cors"
)

// CORS lets the browser pages of the allowed origins call the API from
// another origin: the same host patterns that may open WebSockets (such as
// app.example.org or localhost:*, matched against the origin's host and
// port), so that one setting, --allowed-origins, governs both. A preflight
// from an allowed origin is answered with that origin echoed back and the
// methods and headers a GraphQL client sends (Authorization, Content-Type
// and the upload preflight headers); another origin gets no CORS headers
// at all, so the browser keeps the answer from its page. Credentials
// (cookies) are not allowed: clients send bearer tokens.
func CORS(patterns []string) func(http.Handler) http.Handler {
	c := cors.New(cors.Options{
		AllowOriginFunc: func(origin string) bool { return originAllowed(patterns, origin) },
		AllowedMethods:  []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{
			"Authorization", "Content-Type", "Accept",
			"Apollo-Require-Preflight", "GraphQL-Preflight", "X-Apollo-Operation-Name",
			"X-Request-ID",
		},
		ExposedHeaders: []string{"X-Request-ID", "Retry-After", "Content-Disposition"},
		MaxAge:         600,
	})
	return c.Handler
}

// originAllowed matches an Origin header's host against the patterns, as
// the WebSocket origin check does.
func originAllowed(patterns []string, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := strings.ToLower(u.Host)
	for _, p := range patterns {
		if ok, err := path.Match(strings.ToLower(p), host); ok && err == nil {
			return true
		}
	}
	return false
}
