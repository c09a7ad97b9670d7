package notify

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bbolt "go.etcd.io/bbolt"
)

// OutboxStats is where the emails waiting in the outbox stand.
type OutboxStats struct {
	// Pending counts the emails not tried yet, Failing those whose last
	// attempt failed and that wait for the next.
	Pending, Failing int
	// Oldest is when the outbox took the oldest email still waiting
	// (pending or failing); zero when none waits.
	Oldest time.Time
}

// Stats reads where the waiting emails stand. Only waiting emails are
// read: the outbox indexes them by their next attempt.
func (o *Outbox) Stats() (OutboxStats, error) {
	var st OutboxStats
	err := o.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < 8 {
				return fmt.Errorf("due key %x is too short", k)
			}
			e, ok, err := get(tx, string(k[8:]))
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			switch e.Status {
			case StatusPending:
				st.Pending++
			case StatusFailing:
				st.Failing++
			default:
				continue
			}
			if st.Oldest.IsZero() || e.CreatedAt.Before(st.Oldest) {
				st.Oldest = e.CreatedAt
			}
		}
		return nil
	})
	if err != nil {
		return OutboxStats{}, fmt.Errorf("outbox: stats: %w", err)
	}
	return st, nil
}

// outboxCounts counts the emails this process settled, for the metrics.
type outboxCounts struct {
	sent, failed atomic.Uint64
}

var (
	outboxPendingDesc = prometheus.NewDesc("mentorship_outbox_pending",
		"Emails in the outbox not tried yet.", nil, nil)
	outboxFailingDesc = prometheus.NewDesc("mentorship_outbox_failing",
		"Emails in the outbox whose last attempt failed and that wait for the next.", nil, nil)
	outboxOldestDesc = prometheus.NewDesc("mentorship_outbox_oldest_pending_age_seconds",
		"How long ago the outbox took the oldest email still waiting to be sent (pending or failing); 0 when none waits.", nil, nil)
	outboxSentDesc = prometheus.NewDesc("mentorship_outbox_sent_total",
		"Emails the mail relay accepted since the process started.", nil, nil)
	outboxGivenUpDesc = prometheus.NewDesc("mentorship_outbox_given_up_total",
		"Emails given up since the process started: refused by the relay for good, or failing past the give-up age.", nil, nil)
	outboxUpDesc = prometheus.NewDesc("mentorship_outbox_stats_up",
		"1 when the outbox file could be read for these metrics, 0 otherwise.", nil, nil)
)

// outboxCollector reads the outbox at each scrape.
type outboxCollector struct {
	outbox OutboxStore
	now    func() time.Time
}

// Describe sends the descriptions of the outbox metrics.
func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{outboxPendingDesc, outboxFailingDesc, outboxOldestDesc, outboxSentDesc, outboxGivenUpDesc, outboxUpDesc} {
		ch <- d
	}
}

// Collect reads the outbox once and sends every outbox metric.
func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	sent, givenUp := c.outbox.Settled()
	ch <- prometheus.MustNewConstMetric(outboxSentDesc, prometheus.CounterValue, float64(sent))
	ch <- prometheus.MustNewConstMetric(outboxGivenUpDesc, prometheus.CounterValue, float64(givenUp))
	st, err := c.outbox.Stats()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 1)
	age := 0.0
	if !st.Oldest.IsZero() {
		age = max(c.now().Sub(st.Oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(outboxFailingDesc, prometheus.GaugeValue, float64(st.Failing))
	ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, age)
}

// Register adds the outbox's metrics to reg: the emails waiting and the
// age of the oldest, by the notifier's clock, and the emails sent and
// given up.
func (n *Notifier) Register(reg prometheus.Registerer) {
	RegisterOutbox(reg, n.outbox, n.clock.Now)
}

// RegisterOutbox adds the metrics of an outbox store to reg, read at each
// scrape with now as the clock: for an instance that shares the store
// without running the notifier itself.
func RegisterOutbox(reg prometheus.Registerer, outbox OutboxStore, now func() time.Time) {
	reg.MustRegister(outboxCollector{outbox: outbox, now: now})
}
