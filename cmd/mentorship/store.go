package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/prom"
)

// openStore opens the event store the settings choose: KurrentDB when a
// connection string is given, the embedded engine in the data directory
// otherwise.
func openStore(ctx context.Context, cfg config.Config, reg prometheus.Registerer) (eventstore.Store, error) {
	if cfg.KurrentDBURL != "" {
		return kurrent.Open(ctx, cfg.KurrentDBURL, kurrent.Options{MaxEventSize: cfg.MaxEventSize})
	}
	return bolt.Open(cfg.DataDir, bolt.Options{MaxEventSize: cfg.MaxEventSize, OnCommit: prom.CommitObserver(reg)})
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
