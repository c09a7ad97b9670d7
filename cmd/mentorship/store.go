package main

import (
	"context"

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
