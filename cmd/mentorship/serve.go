package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mentorship/mentorship/buildinfo"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/prom"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/server"
)

// serve runs the API server until ctx is cancelled, then shuts down
// gracefully: it stops accepting, closes WebSockets, waits for requests in
// flight and closes the store.
func serve(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg, err := config.Load("mentorship serve", args, env, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	opened := time.Now()
	raw, err := bolt.Open(cfg.DataDir, bolt.Options{MaxEventSize: cfg.MaxEventSize, OnCommit: prom.CommitObserver(reg)})
	if err != nil {
		return err
	}
	store := prom.Wrap(raw, reg)
	defer func() {
		if err := store.Close(); err != nil {
			log.Error().Err(err).Msg("closing the event store")
		}
	}()
	head, _ := store.Head(ctx)
	log.Info().Str("data_dir", cfg.DataDir).Uint64("head", uint64(head)).Dur("took", time.Since(opened)).Msg("event store open")

	resolver := &graph.Resolver{Build: buildinfo.Read(), Environment: cfg.Env}
	handler := server.New(server.Deps{
		Logger:  log,
		GraphQL: graph.NewHandler(resolver, graph.HandlerOptions{Production: cfg.Production()}),
		Ready: func(ctx context.Context) error {
			_, err := store.Head(ctx)
			return err
		},
		Gatherer: reg,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Every request context derives from base, so cancelling it on
	// shutdown also ends WebSocket connections, which Shutdown alone
	// leaves open.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	srv.RegisterOnShutdown(cancelBase)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info().Str("addr", ln.Addr().String()).Msg("listening")
	fmt.Fprintf(stdout, "Mentorship is listening on %s (GraphQL at %s/graphql)\n", url, url)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}
