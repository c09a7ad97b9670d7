package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/prom"
)

// openStore opens the event store the settings choose: KurrentDB when a
// connection string is given, the embedded engine in the data directory
// otherwise. It refuses an embedded log that is shorter than the rest of
// the data directory proves (see proof.go).
func openStore(ctx context.Context, cfg config.Config, reg prometheus.Registerer) (eventstore.Store, error) {
	return openServedStore(ctx, cfg, reg, false, zerolog.Nop())
}

// acceptFlag and acceptEnv are serve's way past a refused log.
const (
	acceptFlag = "accept-shorter-log"
	acceptEnv  = "MENTORSHIP_ACCEPT_SHORTER_LOG"
)

// openServedStore is openStore with the operator's choice: with accept, a
// log shorter than the data directory proves is served as it is, each
// loss is logged at error level, and the records that proved more are
// rewritten so that the next start is clean.
func openServedStore(ctx context.Context, cfg config.Config, reg prometheus.Registerer, accept bool, log zerolog.Logger) (eventstore.Store, error) {
	if cfg.KurrentDBURL != "" {
		return kurrent.Open(ctx, cfg.KurrentDBURL, kurrent.Options{MaxEventSize: cfg.MaxEventSize})
	}
	var accepted []string
	refuse := func(err error) error {
		return fmt.Errorf("%w\nrestore the data directory from a backup, or start serve with --%s (%s=true) to serve the log as it is and accept the loss", err, acceptFlag, acceptEnv)
	}
	if err := checkMissingLog(cfg.DataDir); err != nil {
		if !accept || !errors.Is(err, eventstore.ErrShorterLog) {
			return nil, refuse(err)
		}
		accepted = append(accepted, err.Error())
	}
	store, err := bolt.Open(cfg.DataDir, bolt.Options{MaxEventSize: cfg.MaxEventSize, OnCommit: prom.CommitObserver(reg), AcceptShorterLog: accept})
	if err != nil {
		if errors.Is(err, eventstore.ErrShorterLog) {
			return nil, refuse(err)
		}
		return nil, err
	}
	if err := store.Shorter(); err != nil {
		accepted = append(accepted, err.Error())
	}
	problems, err := checkProofs(ctx, cfg.DataDir, store)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("check the log against %s: %w", cfg.DataDir, err)
	}
	if len(problems) > 0 && !accept {
		_ = store.Close()
		return nil, refuse(shorterLogError(cfg.DataDir, problems))
	}
	if len(accepted) == 0 && len(problems) == 0 {
		return store, nil
	}
	head, _ := store.Head(ctx)
	for _, a := range accepted {
		log.Error().Str("accepted", a).Uint64("head", uint64(head)).Msg("SERVING A SHORTER LOG: the operator accepted the loss of events (--" + acceptFlag + ")")
	}
	for _, p := range summarize(problems) {
		log.Error().Str("accepted", p).Uint64("head", uint64(head)).Msg("SERVING A SHORTER LOG: the operator accepted what this record proved lost (--" + acceptFlag + ")")
	}
	if err := settleAccepted(cfg.DataDir, head, accepted, problems); err != nil {
		_ = store.Close()
		return nil, err
	}
	log.Warn().Str("record", acceptedFileName).Msg("the accepted losses are recorded in the data directory; the next start checks the log against the rewritten records")
	return store, nil
}

// logFlags are the settings that commands reading the log take as flags;
// the rest come from the environment as for serve.
var logFlags = []string{"data-dir", "kurrentdb-url", "max-event-size"}

// openLog opens the event store for a command that reads it. Unlike
// serve, it never creates one: a data directory without the embedded
// store's file is an error, so a mistyped --data-dir is not read as an
// empty log.
func openLog(ctx context.Context, cfg config.Config, opts bolt.Options) (eventstore.Store, error) {
	if cfg.KurrentDBURL != "" {
		return kurrent.Open(ctx, cfg.KurrentDBURL, kurrent.Options{MaxEventSize: cfg.MaxEventSize})
	}
	if err := embeddedStoreExists(cfg.DataDir); err != nil {
		return nil, err
	}
	opts.MaxEventSize = cfg.MaxEventSize
	opts.MustExist = true
	return bolt.Open(cfg.DataDir, opts)
}

func embeddedStoreExists(dir string) error {
	path := filepath.Join(dir, bolt.FileName)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no event store in %s (%s is missing): check --data-dir or MENTORSHIP_DATA_DIR", dir, bolt.FileName)
		}
		return err
	}
	return nil
}
