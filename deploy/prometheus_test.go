package deploy

import (
	"testing"

	"github.com/mentorship/mentorship/internal/promtooltest"
)

// The alerting rules load in Prometheus, and fire on the series their
// unit tests feed them.
func TestAlertingRules(t *testing.T) {
	out := promtooltest.Run(t, nil, "check", "rules", "prometheus/alerts.yml")
	t.Log(out)
	promtooltest.Run(t, nil, "test", "rules", "prometheus/alerts_test.yml")
}
