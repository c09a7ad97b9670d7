package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mentorship/mentorship/buildinfo"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/dashboard"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	otelstore "github.com/mentorship/mentorship/eventstore/otel"
	"github.com/mentorship/mentorship/eventstore/prom"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/server"
	"github.com/mentorship/mentorship/tracing"
)

// traceExporter, when set, receives the server's spans in place of the
// OTLP exporter; tests set it.
var traceExporter sdktrace.SpanExporter

// environ lists the process's environment variables, where serve looks
// for misspelled settings.
var environ = os.Environ

// serve runs the API server until ctx is cancelled, then shuts down
// gracefully: it stops accepting, closes WebSockets, waits for requests in
// flight and closes the store.
//
// A log shorter than the rest of the data directory proves is refused;
// --accept-shorter-log (or MENTORSHIP_ACCEPT_SHORTER_LOG) serves it anyway,
// once, logging what it accepted.
func serve(ctx context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mentorship serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	acceptFlagValue := fs.Bool(acceptFlag, false, fmt.Sprintf("serve an embedded log that is shorter than the rest of the data directory proves, after restoring from a backup is ruled out: the losses are logged and recorded, and the proof records rewritten (env %s, default \"false\")", acceptEnv))
	cfg, err := config.Parse(fs, args, env)
	if err != nil {
		return err
	}
	accept, err := acceptShorterLog(fs, *acceptFlagValue, env)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	for _, u := range config.UnknownVariables(environ(), acceptEnv) {
		log.Warn().Str("variable", u.Name).Str("did_you_mean", u.DidYouMean).
			Msgf("the environment variable %s matches no setting and is ignored; did you mean %s?", u.Name, u.DidYouMean)
	}
	// Tracing is on only when an OTLP endpoint is configured.
	traces, err := tracing.Setup(ctx, env, tracing.Options{Exporter: traceExporter, Version: buildinfo.Read().Version})
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := traces.Shutdown(flushCtx); err != nil {
			log.Error().Err(err).Msg("exporting the last spans")
		}
	}()
	if traces.Enabled() {
		log.Info().Msg("tracing: exporting spans over OTLP")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := checkMasterKey(cfg); err != nil {
		return err
	}
	opened := time.Now()
	raw, err := openServedStore(ctx, cfg, reg, accept, log)
	if err != nil {
		return err
	}
	var store eventstore.Store = prom.Wrap(raw, reg)
	defer func() {
		if err := store.Close(); err != nil {
			log.Error().Err(err).Msg("closing the event store")
		}
	}()
	keys, closeKeys, err := openKeys(ctx, cfg, raw, !cfg.ReadOnly)
	if err != nil {
		return err
	}
	defer func() {
		if err := closeKeys(); err != nil {
			log.Error().Err(err).Msg("closing the key store")
		}
	}()
	store = sealStore(store, keys)
	if traces.Enabled() {
		store = otelstore.Wrap(store, cfg.Engine())
	}
	head, _ := store.Head(ctx)
	log.Info().Str("engine", cfg.Engine()).Str("data_dir", cfg.DataDir).Uint64("head", uint64(head)).Dur("took", time.Since(opened)).Msg("event store open")

	// The read models catch up from the log in the background; the server
	// is ready once they reach the head seen at start.
	models, err := openReadModels(cfg, log, store, reg, head)
	if err != nil {
		return err
	}
	defer models.Close()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mentorship_live_subscriptions", Help: "Open subscriptions to match changes on this instance.",
	}, func() float64 { return float64(models.hub.Subscribers()) }))
	runner := models.follower
	follow.Register(reg, "read_models", store, runner.Reached, runner.Healthy)
	runCtx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- models.run(runCtx) }()
	defer func() {
		stopRunner()
		if err := <-runnerDone; err != nil {
			log.Error().Err(err).Msg("projections stopped")
		}
	}()
	go func() {
		started := time.Now()
		if err := runner.WaitFor(runCtx, head); err == nil {
			log.Info().Uint64("position", uint64(head)).Dur("took", time.Since(started)).Msg("read models caught up")
		}
	}()

	api, err := newAPI(cfg, log, store, keys, models, reg, traces.Enabled())
	if err != nil {
		return err
	}
	// The outbox and the time-driven rules run beside the server; they
	// stop with it, before their files close.
	bgCtx, stopBackground := context.WithCancel(ctx)
	var background sync.WaitGroup
	for _, run := range api.background {
		background.Go(func() {
			if err := run(bgCtx); err != nil {
				log.Error().Err(err).Msg("background work stopped")
			}
		})
	}
	if !cfg.ReadOnly {
		// An erasure that a crash or a failed step left unfinished is
		// finished once the read models show who was erased.
		background.Go(func() {
			if err := runner.WaitFor(bgCtx, head); err != nil {
				return
			}
			finishErasures(bgCtx, models.members, keys, api.commands, log)
		})
	}
	defer func() {
		stopBackground()
		background.Wait()
		if err := api.Close(); err != nil {
			log.Error().Err(err).Msg("closing accounts, outbox and process managers")
		}
	}()
	// A running server takes backups itself, through the data
	// directory's control socket: only it can read the files it holds.
	if embedded, ok := raw.(*bolt.Store); ok {
		ctl, err := startControl(cfg.DataDir, func(ctx context.Context, dest string) (backupSummary, error) {
			return writeBackup(ctx, embedded, cfg.DataDir, dest, api.copiers)
		}, log)
		if err != nil {
			return err
		}
		defer func() {
			if err := ctl.Close(); err != nil {
				log.Error().Err(err).Msg("closing the control socket")
			}
		}()
	}
	// The server listens while its read models catch up with the log it
	// started with (/readyz says how far they are); until they have,
	// requests for data wait for them rather than be answered from part
	// of the log.
	caughtUp := func(h http.Handler) http.Handler {
		if h == nil {
			return nil
		}
		return graph.CatchingUp(h, catchUpWait, func(ctx context.Context) error { return runner.WaitFor(ctx, head) })
	}
	handler := server.New(server.Deps{
		Logger:        log,
		GraphQL:       caughtUp(api.graphql),
		Playground:    api.playground,
		Documents:     caughtUp(api.documents),
		AuditExport:   caughtUp(api.audit),
		MyData:        caughtUp(api.myData),
		ReportsExport: caughtUp(api.reports),
		Dashboard:     dashboard.Handler(),
		Ready: func(ctx context.Context) error {
			if _, err := store.Head(ctx); err != nil {
				return err
			}
			if err := runner.Healthy(); err != nil {
				return err
			}
			for _, healthy := range api.health {
				if err := healthy(); err != nil {
					return err
				}
			}
			if reached := runner.Reached(); reached < head {
				return fmt.Errorf("read models at position %d of %d", reached, head)
			}
			return nil
		},
		Gatherer:       reg,
		Registerer:     reg,
		TrustedProxies: cfg.TrustedProxies,
		AccessLogEvery: &cfg.AccessLogEvery,
		Tracing:        traces.Enabled(),
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// The address is ours before the demo is written, so a server that
	// cannot listen leaves the data directory as it found it.
	if err := loadDemo(ctx, cfg, api, head, stdout); err != nil {
		_ = ln.Close()
		return err
	}
	// Whatever the demo wrote is in the read models before the first
	// request.
	if now, err := store.Head(ctx); err == nil && now > head {
		waitCtx, cancelWait := context.WithTimeout(ctx, time.Minute)
		err := runner.WaitFor(waitCtx, now)
		cancelWait()
		if err != nil {
			_ = ln.Close()
			return err
		}
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
	// Loading the snapshots and the workers' saved states leaves garbage
	// several times the size of what the read models keep; hand it back to
	// the system once, in the background, rather than hold it until the
	// heap next grows that large.
	go debug.FreeOSMemory()
	fmt.Fprintf(stdout, "Mentorship is listening on %s (GraphQL at %s/graphql)\n", url, url)
	if api.playground != nil {
		fmt.Fprintf(stdout, "GraphiQL: %s/\n", url)
	}

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

// acceptShorterLog reads serve's --accept-shorter-log, or when the flag is
// not given its environment twin, as the configuration package reads
// every setting: the flag wins over the environment.
func acceptShorterLog(fs *flag.FlagSet, flagValue bool, env func(string) string) (bool, error) {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == acceptFlag })
	if given {
		return flagValue, nil
	}
	v := env(acceptEnv)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("configuration: %s=%q: want true or false", acceptEnv, v)
	}
	return b, nil
}

// catchUpWait is how long a request that comes while the read models
// catch up with the log the server started with waits for them before it
// is answered 503: long enough for a restart from snapshots (well under a
// second), short enough that a client of a server rebuilding from the
// whole log hears why rather than hangs.
const catchUpWait = 5 * time.Second
