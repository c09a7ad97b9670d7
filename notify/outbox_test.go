package notify_test

import (
	"testing"

	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/notify/outboxtest"
)

// The bbolt outbox passes the outbox conformance suite.
func TestOutboxConformance(t *testing.T) {
	outboxtest.Run(t, func(t *testing.T) notify.OutboxStore {
		o, err := notify.OpenOutbox(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = o.Close() })
		return o
	})
}
