// Package prom instruments an event store with Prometheus metrics: append
// counts, outcomes and latencies, and the embedded engine's group commits.
package prom

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentorship/mentorship/eventstore"
)

// Store wraps an event store and records its appends.
type Store struct {
	eventstore.Store
	appends  *prometheus.CounterVec
	events   prometheus.Counter
	duration prometheus.Histogram
}

var _ eventstore.Store = (*Store)(nil)

// Wrap instruments s, registering the metrics with reg.
func Wrap(s eventstore.Store, reg prometheus.Registerer) *Store {
	w := &Store{
		Store: s,
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mentorship_eventstore_appends_total",
			Help: "Appends by outcome: ok, conflict (wrong expected revision), invalid or error.",
		}, []string{"outcome"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mentorship_eventstore_events_appended_total",
			Help: "Events in successful appends.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mentorship_eventstore_append_duration_seconds",
			Help:    "Time from an append call until it is durable.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
	}
	reg.MustRegister(w.appends, w.events, w.duration)
	return w
}

// Append implements eventstore.Store.
func (w *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	start := time.Now()
	res, err := w.Store.Append(ctx, stream, expected, events...)
	w.duration.Observe(time.Since(start).Seconds())
	outcome := "ok"
	switch {
	case err == nil:
		w.events.Add(float64(len(events)))
	case errors.Is(err, eventstore.ErrWrongExpectedRevision):
		outcome = "conflict"
	case errors.Is(err, eventstore.ErrInvalidEvent), errors.Is(err, eventstore.ErrInvalidStreamName),
		errors.Is(err, eventstore.ErrEventTooLarge), errors.Is(err, eventstore.ErrInvalidExpectedRevision),
		errors.Is(err, eventstore.ErrIdempotencyConflict):
		outcome = "invalid"
	default:
		outcome = "error"
	}
	w.appends.WithLabelValues(outcome).Inc()
	return res, err
}

// CommitObserver returns a hook for the embedded engine's Options.OnCommit
// that records how many appends and events share each commit.
func CommitObserver(reg prometheus.Registerer) func(appends, events int, took time.Duration) {
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "mentorship_eventstore_commit_appends",
		Help:    "Appends that shared one transaction and fsync.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 11),
	})
	took := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "mentorship_eventstore_commit_duration_seconds",
		Help:    "Time to write and fsync one group commit.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	reg.MustRegister(batch, took)
	return func(appends, _ int, d time.Duration) {
		batch.Observe(float64(appends))
		took.Observe(d.Seconds())
	}
}
