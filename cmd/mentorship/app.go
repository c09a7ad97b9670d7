package main

import (
	"net/http"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/buildinfo"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/playground"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/server"
)

// api is the server's application: the command side, the resolvers and
// what the HTTP surface mounts.
type api struct {
	commands   *command.Service
	graphql    http.Handler
	playground http.Handler
}

// newAPI wires the command side and the GraphQL endpoint over the store and
// the read models.
func newAPI(cfg config.Config, log zerolog.Logger, store eventstore.Store, members *projections.Members, matches *projections.Matches, runner *projections.Runner, hub *graph.Hub) (*api, error) {
	clk := clock.System{Offset: cfg.ClockOffset}
	commands, err := command.New(store, domain.DefaultProgram(), clk, command.Options{})
	if err != nil {
		return nil, err
	}
	graph.RequestIDFunc = server.RequestID
	resolver := &graph.Resolver{
		Build: buildinfo.Read(), Environment: cfg.Env,
		Commands: commands, Members: members, Matches: matches, Store: store,
		Waiter: runner, Hub: hub, Clock: clk, Log: log,
	}
	a := &api{
		commands: commands,
		graphql:  graph.NewHandler(resolver, graph.HandlerOptions{Production: cfg.Production()}),
	}
	if !cfg.Production() {
		a.playground = playground.Handler("Mentorship GraphiQL", "/", "/graphql")
	}
	return a, nil
}
