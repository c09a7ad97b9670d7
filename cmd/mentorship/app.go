package main

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/buildinfo"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/playground"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/server"
)

// api is the server's application: the command side, accounts, the
// resolvers and what the HTTP surface mounts.
type api struct {
	commands   *command.Service
	accounts   *auth.Service
	graphql    http.Handler
	playground http.Handler
	documents  http.Handler
	audit      http.Handler
	closers    []func() error
}

// Close stops the accounts service and closes its store.
func (a *api) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// newAccounts opens the accounts service over the data directory: its bbolt
// file and the mailbox folder that stands in for SMTP.
func newAccounts(cfg config.Config, log zerolog.Logger, clk clock.Clock, commands *command.Service) (*auth.Service, []func() error, error) {
	store, err := authbolt.Open(cfg.DataDir, authbolt.Options{})
	if err != nil {
		return nil, nil, err
	}
	box, err := mail.NewMailbox(filepath.Join(cfg.DataDir, mail.DirName), mail.MailboxOptions{Clock: clk})
	if err != nil {
		_ = store.Close()
		return nil, nil, err
	}
	acc, err := auth.New(store, commands, box, clk, auth.Options{
		ResetURL: cfg.FrontendURL + "/reset-password", ProgramName: cfg.ProgramName, Logger: log,
	})
	if err != nil {
		_ = store.Close()
		return nil, nil, err
	}
	return acc, []func() error{store.Close, func() error { return acc.Close(context.Background()) }}, nil
}

// newAPI wires the command side, accounts and the GraphQL endpoint over the
// store and the read models.
func newAPI(cfg config.Config, log zerolog.Logger, store eventstore.Store, members *projections.Members, matches *projections.Matches, runner *projections.Runner, hub *graph.Hub) (*api, error) {
	clk := clock.System{Offset: cfg.ClockOffset}
	commands, err := command.New(store, domain.DefaultProgram(), clk, command.Options{})
	if err != nil {
		return nil, err
	}
	accounts, closers, err := newAccounts(cfg, log, clk, commands)
	if err != nil {
		return nil, err
	}
	blobURL := cfg.BlobURL
	if blobURL == "" {
		blobURL = blob.DefaultURL(cfg.DataDir)
	}
	program := commands.Program()
	blobs, err := blob.Open(context.Background(), blobURL, program.DocumentContentTypes, program.Limits.DocumentSize)
	if err != nil {
		for _, c := range closers {
			_ = c()
		}
		return nil, err
	}
	closers = append(closers, blobs.Close)
	if n, err := blobs.CleanLeftovers(context.Background()); err != nil || n > 0 {
		log.Info().Int("removed", n).AnErr("error", err).Msg("cleaned unfinished uploads")
	}
	graph.RequestIDFunc = server.RequestID
	resolver := &graph.Resolver{
		Build: buildinfo.Read(), Environment: cfg.Env,
		Commands: commands, Accounts: accounts, Blobs: blobs, Members: members, Matches: matches, Store: store,
		Waiter: runner, Hub: hub, Clock: clk, Log: log,
	}
	authn := graph.SessionAuth{Accounts: accounts}
	a := &api{
		commands:  commands,
		accounts:  accounts,
		closers:   closers,
		documents: graph.Authenticate(authn, graph.DocumentHandler(resolver)),
		audit:     graph.Authenticate(authn, audit.Handler(store, audit.HandlerOptions{Log: log})),
		graphql: graph.NewHandler(resolver, graph.HandlerOptions{
			Production: cfg.Production(), OriginPatterns: cfg.AllowedOrigins, Auth: authn,
		}),
	}
	if !cfg.Production() {
		a.playground = playground.Handler("Mentorship GraphiQL", "/", "/graphql")
	}
	return a, nil
}
