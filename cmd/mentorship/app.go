package main

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/google/uuid"
	"github.com/mentorship/mentorship/audit"
	"github.com/mentorship/mentorship/auth"
	authbolt "github.com/mentorship/mentorship/auth/bolt"
	authredis "github.com/mentorship/mentorship/auth/redis"
	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/buildinfo"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/documents"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"

	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/playground"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/server"
)

// api is the server's application: the command side, accounts, email, the
// process managers, the resolvers and what the HTTP surface mounts.
type api struct {
	commands   *command.Service
	accounts   *auth.Service
	graphql    http.Handler
	playground http.Handler
	documents  http.Handler
	audit      http.Handler
	myData     http.Handler
	reports    http.Handler
	// background runs until its context ends: the email outbox and the
	// time-driven rules (none on a read-only server).
	background []func(context.Context) error
	// health reports why a background worker stopped (an event it cannot
	// learn), for /readyz; nil while it runs.
	health  []func() error
	closers []func() error
	// copiers write consistent copies of the data directory's files that
	// this process holds open, by file name, for backups.
	copiers map[string]func(path string) error
}

// Close stops the accounts service, the outbox and the process managers and
// closes their files, newest first.
func (a *api) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// blobCollectionEvery is how often a worker removes the documents' bytes
// that no recorded document points at. The first pass waits as long, so
// that a restart does not scan the log again right away.
const blobCollectionEvery = 24 * time.Hour

// collectBlobs removes, once a day, the bytes that uploads left when a
// server stopped between storing them and recording their documents.
func collectBlobs(store eventstore.Store, blobs *blob.Store, log zerolog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(blobCollectionEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			n, err := documents.CollectBlobs(ctx, store, blobs, time.Now().Add(-documents.BlobsGrace))
			if err != nil && ctx.Err() == nil {
				log.Error().Err(err).Msg("collecting unreferenced document bytes")
			} else if n > 0 {
				log.Info().Int("removed", n).Msg("removed document bytes no document points at")
			}
		}
	}
}

// newSender returns where the program's emails go: the SMTP relay when one
// is configured, the data directory's mailbox folder otherwise.
func newSender(cfg config.Config, clk clock.Clock) (mail.Sender, error) {
	if cfg.SMTPHost == "" {
		return mail.NewMailbox(filepath.Join(cfg.DataDir, mail.DirName), mail.MailboxOptions{From: cfg.MailFrom, Clock: clk})
	}
	tlsPolicy, err := mail.ParseTLSPolicy(cfg.SMTPTLS)
	if err != nil {
		return nil, err
	}
	return mail.NewSMTP(mail.SMTPConfig{
		Host: cfg.SMTPHost, Port: cfg.SMTPPort, TLS: tlsPolicy,
		Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, From: cfg.MailFrom, Clock: clk,
	})
}

// newAccounts opens the accounts service over the data directory's
// auth.db, for the offline commands.
func newAccounts(cfg config.Config, log zerolog.Logger, clk clock.Clock, commands *command.Service) (*auth.Service, []func() error, error) {
	sender, err := newSender(cfg, clk)
	if err != nil {
		return nil, nil, err
	}
	return newAccountsSending(cfg, log, clk, commands, sender, nil, nil, nil)
}

// newAccountsSending opens the accounts service, sending its emails
// through sender. Credentials, sessions and rate counters live in the data
// directory's auth.db, or in Redis when one is configured, where every
// instance shares them and hears of each other's revocations.
// shared, when not nil, is the server's Redis client, which the caller
// closes; without it a client of its own is opened when Redis is
// configured.
// copiers, when not nil, receives the copier of auth.db for backups.
func newAccountsSending(cfg config.Config, log zerolog.Logger, clk clock.Clock, commands *command.Service, sender mail.Sender, shared goredis.UniversalClient, copiers map[string]func(string) error, compactAuth *func(context.Context) error) (_ *auth.Service, _ []func() error, err error) {
	// closers are what is open so far, closed newest first on a failure.
	var closers []func() error
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				_ = closers[i]()
			}
		}
	}()
	opts := auth.Options{ResetURL: cfg.FrontendURL + "/reset-password", ProgramName: cfg.ProgramName, Logger: log,
		SignupsPerAddress: auth.Rate{Attempts: cfg.SignupLimit.Attempts, Per: cfg.SignupLimit.Per}, NoSignupLimit: cfg.SignupLimit.Off}
	var store auth.Store
	if cfg.RedisURL == "" {
		bs, err := authbolt.Open(cfg.DataDir, authbolt.Options{})
		if err != nil {
			return nil, nil, err
		}
		store, closers = bs, append(closers, bs.Close)
		if copiers != nil {
			copiers[authbolt.FileName] = bs.CopyFile
		}
		if compactAuth != nil {
			*compactAuth = bs.Compact
		}
	} else {
		client := shared
		if client == nil {
			if client, err = newRedisClient(cfg); err != nil {
				return nil, nil, err
			}
			closers = append(closers, client.Close)
		}
		ropts := authredis.Options{Prefix: cfg.RedisPrefix, Clock: clk, Logger: log}
		if store, err = authredis.New(client, ropts); err != nil {
			return nil, nil, err
		}
		revs, err := authredis.NewRevocations(context.Background(), client, ropts)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, revs.Close)
		opts.Revocations = revs
	}
	// Reset emails carry a live token, so they wait for the relay in
	// memory rather than in the outbox file; see notify.Resets.
	resets, err := notify.NewResets(sender, clk, notify.ResetOptions{
		Settings: notify.Settings{ProgramName: cfg.ProgramName, StaffEmail: cfg.StaffEmail, FrontendURL: cfg.FrontendURL},
		Logger:   log,
	})
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, resets.Close)
	acc, err := auth.New(store, commands, resets, clk, opts)
	if err != nil {
		return nil, nil, err
	}
	return acc, append(closers, func() error { return acc.Close(context.Background()) }), nil
}

// newAPI wires the command side, accounts, documents, email, the process
// managers and the GraphQL endpoint over the store and the read models.
func newAPI(cfg config.Config, log zerolog.Logger, store eventstore.Store, keys *keyring.Keyring, models *readModels, reg prometheus.Registerer, traced bool) (_ *api, err error) {
	a := &api{copiers: map[string]func(string) error{}}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	if cfg.ReadOnly {
		store = eventstore.ReadOnly(store)
	}
	clk := clock.System{Offset: cfg.ClockOffset}
	program := cfg.Program
	commands, err := command.New(store, program, clk, command.Options{})
	if err != nil {
		return nil, err
	}
	a.commands = commands
	sender, err := newSender(cfg, clk)
	if err != nil {
		return nil, err
	}
	var compactAuth func(context.Context) error
	accounts, closers, err := newAccountsSending(cfg, log, clk, commands, sender, models.redis, a.copiers, &compactAuth)
	if err != nil {
		return nil, err
	}
	a.accounts = accounts
	a.closers = append(a.closers, closers...)
	reg.MustRegister(accounts.RateLimited())

	blobURL := cfg.BlobURL
	if blobURL == "" {
		blobURL = blob.DefaultURL(cfg.DataDir)
	}
	blobs, err := blob.Open(context.Background(), blobURL, program.DocumentContentTypes, program.Limits.DocumentSize)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, blobs.Close)
	// A read-only server may share the live blobs folder (replay --out
	// links to it), so only a writing server tidies it.
	if !cfg.ReadOnly {
		if n, err := blobs.CleanLeftovers(context.Background()); err != nil || n > 0 {
			log.Info().Int("removed", n).AnErr("error", err).Msg("cleaned unfinished uploads")
		}
	}

	outbox, outboxErase, err := a.openWorkers(cfg, log, store, sender, clk, commands, blobs, models, reg)
	if err != nil {
		return nil, err
	}

	commands.CountOpenMatches(func(id uuid.UUID) (int, error) { return projections.OpenMatches(models.matches, id) })
	mailbox, _ := sender.(*mail.Mailbox)
	commands.OnErase(erasure{
		commands: commands, store: store, models: models, accounts: accounts, compactAuth: compactAuth,
		blobs: blobs, outbox: outboxErase, mailbox: mailbox, keys: keys,
	}.steps()...)

	resolver := &graph.Resolver{
		Build: buildinfo.Read(), Environment: cfg.Env,
		Commands: commands, Accounts: accounts, Documents: documents.New(commands, blobs, log), Members: models.members, Matches: models.matches, Reports: models.reports, Store: store,
		Waiter: models.follower, Hub: models.hub, Clock: clk, Log: log, WriteTimeout: cfg.WriteWait,
		MaxSubscriptions: cfg.MaxSubscriptions,
	}
	if outbox != nil {
		resolver.Outbox = outbox
	}
	authn := graph.SessionAuth{Accounts: accounts}
	// Browser pages of the allowed origins download documents and the
	// audit export with the same bearer token as the GraphQL requests.
	cors := graph.CORS(cfg.AllowedOrigins)
	a.documents = cors(graph.WithRequestID(server.RequestID, graph.Authenticate(authn, graph.DocumentHandler(resolver))))
	a.myData = cors(graph.WithRequestID(server.RequestID, graph.Authenticate(authn, graph.MyDataHandler(resolver))))
	a.audit = cors(graph.WithRequestID(server.RequestID, graph.Authenticate(authn, audit.Handler(store, audit.HandlerOptions{
		Log: log,
		// A staff member's reason for the personal fields is on record
		// before the export shows them.
		Reveal: func(ctx context.Context, actor domain.Actor, reason, scope string) error {
			_, err := commands.RevealPersonalData(ctx, command.Request{Actor: actor}, reason, scope)
			return err
		},
	}))))
	a.reports = cors(graph.WithRequestID(server.RequestID, graph.Authenticate(authn, graph.ReportsExportHandler(resolver))))
	a.graphql = graph.NewHandler(resolver, graph.HandlerOptions{
		Production: cfg.Production(), OriginPatterns: cfg.AllowedOrigins, Auth: authn, ReadOnly: cfg.ReadOnly,
		RequestID: server.RequestID,
		Metrics:   graph.NewMetrics(reg, accounts.RateLimited()),
		Tracing:   traced,
		Limits: graph.Limits{
			MaxDepth: cfg.QueryLimits.MaxDepth, MaxFields: cfg.QueryLimits.MaxFields,
			MaxComplexity: cfg.QueryLimits.MaxComplexity, MaxDuration: cfg.QueryLimits.Timeout,
		},
	})
	if !cfg.Production() {
		a.playground = playground.Handler("Mentorship GraphiQL", "/", "/graphql")
	}
	return a, nil
}
