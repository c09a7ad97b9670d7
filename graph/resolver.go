// Package graph holds the GraphQL resolvers. They only translate between
// GraphQL and the command and query sides; rules live in domain/.
package graph

import "github.com/mentorship/mentorship/buildinfo"

//go:generate sh -c "cd .. && go run github.com/99designs/gqlgen generate --config gqlgen.yml"

// Resolver is the root resolver; it carries the server's dependencies.
type Resolver struct {
	// Build and Environment describe the running server.
	Build       buildinfo.Info
	Environment string
}
