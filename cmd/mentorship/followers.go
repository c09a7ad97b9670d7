package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentorship/mentorship/eventstore"
)

// registerFollower adds the metrics of one follower of the log to reg:
// its position, how far it is behind the head, and whether it stopped at
// an event it cannot handle. Every follower (the read models, the
// notifier, the process manager) reports under the same names, with its
// own follower label, so that one alert covers them all.
func registerFollower(reg prometheus.Registerer, name string, store eventstore.Store, position func() eventstore.Position, healthy func() error) {
	labels := prometheus.Labels{"follower": name}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_follower_position", ConstLabels: labels,
			Help: "Global position of the last event a follower of the log handled.",
		}, func() float64 { return float64(position()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_follower_lag_events", ConstLabels: labels,
			Help: "How many events a follower of the log is behind its head.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			head, err := store.Head(ctx)
			if err != nil {
				return 0
			}
			return float64(max(head, position()) - position())
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_follower_stopped", ConstLabels: labels,
			Help: "1 when a follower of the log stopped at an event it cannot handle (see /readyz), 0 while it runs.",
		}, func() float64 {
			if healthy() != nil {
				return 1
			}
			return 0
		}),
	)
}
