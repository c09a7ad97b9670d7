package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/internal/promtooltest"
)

// After a mix of operations /metrics shows each named operation by type
// and outcome, anonymous and refused ones, the HTTP responses, the outbox
// and every follower of the log, and promtool finds nothing to lint.
func TestMetricsAfterAMixOfOperations(t *testing.T) {
	ts := startServer(t, "")
	mentee, _, mentorID := signUpPair(t, ts.URL)
	mentee.gql(`query Viewer { viewer { role } }`, nil)
	mentee.gql(`query Viewer { viewer { role } }`, nil)
	mentee.gql(`{ viewer { role } }`, nil)
	mentee.gql(`mutation Request($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } } }`, map[string]any{"m": mentorID})
	// A second request is refused by the program: a userError is an
	// answer, not an error.
	code, res := postGraphQL(t, ts.URL, `mutation Again($m: ID!) { requestMatch(input: {mentorId: $m}) { userErrors { code } } }`,
		map[string]any{"m": mentorID}, bearer(mentee.token))
	if code != 200 || !strings.Contains(string(res.Data), "PENDING_REQUEST_EXISTS") {
		t.Fatalf("second request: %d %s %+v", code, res.Data, res.Errors)
	}
	// Errors: a field signed out, a document that does not parse, a name
	// that is not a safe label.
	if _, res := postGraphQL(t, ts.URL, `query Mine { myMatches(group: PENDING) { totalCount } }`, nil, nil); len(res.Errors) == 0 {
		t.Fatal("myMatches signed out: no error")
	}
	if code, _ := postGraphQL(t, ts.URL, `query Broken { viewer {`, nil, nil); code == 200 {
		t.Fatal("a broken document was answered 200")
	}
	long := "Q" + strings.Repeat("x", 80)
	mentee.gql(`query `+long+` { viewer { role } }`, nil)

	_, body := get(t, ts.URL+"/metrics")
	for series, least := range map[string]float64{
		`mentorship_graphql_operations_total{operation="Viewer",outcome="ok",type="query"} `:            2,
		`mentorship_graphql_operations_total{operation="anonymous",outcome="ok",type="query"} `:         1,
		`mentorship_graphql_operations_total{operation="Request",outcome="ok",type="mutation"} `:        1,
		`mentorship_graphql_operations_total{operation="Again",outcome="ok",type="mutation"} `:          1,
		`mentorship_graphql_operations_total{operation="Mine",outcome="error",type="query"} `:           1,
		`mentorship_graphql_operations_total{operation="anonymous",outcome="rejected",type="unknown"} `: 1,
		`mentorship_graphql_operations_total{operation="other",outcome="ok",type="query"} `:             1,
		`mentorship_graphql_operation_duration_seconds_count{operation="Viewer",type="query"} `:         2,
		`mentorship_graphql_operation_duration_seconds_count{operation="Request",type="mutation"} `:     1,
		`mentorship_http_responses_total{code="200",route="/graphql"} `:                                 8,
		`mentorship_outbox_stats_up `:                               1,
		`mentorship_follower_position{follower="read_models"} `:     1,
		`mentorship_follower_position{follower="process_manager"} `: 1,
	} {
		if n := metricValue(body, series); n < least {
			t.Errorf("%s is %v, want at least %v", series, n, least)
		}
	}
	for _, series := range []string{
		`mentorship_outbox_pending `, `mentorship_outbox_failing `, `mentorship_outbox_oldest_pending_age_seconds `,
		`mentorship_outbox_sent_total `, `mentorship_rate_limited_total{limit="sign_in"} `,
		`mentorship_follower_lag_events{follower="notifier"} `, `mentorship_follower_stopped{follower="notifier"} `,
		`mentorship_follower_stopped{follower="read_models"} `, `mentorship_follower_stopped{follower="process_manager"} `,
	} {
		if n := metricValue(body, series); n < 0 {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if strings.Contains(body, long) {
		t.Error("an operation name longer than the label limit became a label")
	}
	promtooltest.Run(t, []byte(body), "check", "metrics")
}

// An unbounded number of operation names keeps a bounded number of
// series: past the cap, new names fold into "other".
func TestOperationNamesAreCapped(t *testing.T) {
	ts := startServer(t, "")
	for i := range 230 {
		name := "Op" + strings.Repeat("a", i%10) + string(rune('A'+i/10))
		code, _ := postGraphQL(t, ts.URL, `query `+name+`{ version { version } }`, nil, http.Header{})
		if code != 200 {
			t.Fatalf("query %s: %d", name, code)
		}
	}
	_, body := get(t, ts.URL+"/metrics")
	series := 0
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "mentorship_graphql_operations_total{") {
			series++
		}
	}
	if series > 201 {
		t.Errorf("%d operation series, want at most the cap and other", series)
	}
	if n := metricValue(body, `mentorship_graphql_operations_total{operation="other",outcome="ok",type="query"} `); n < 30 {
		t.Errorf("other holds %v operations, want the 30 past the cap", n)
	}
}
