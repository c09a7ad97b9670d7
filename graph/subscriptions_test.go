package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
)

// An account holds a bounded number of subscriptions: one more is refused
// with RATE_LIMITED on any of its connections; another account is not
// held back.
func TestSubscriptionsPerAccountAreBounded(t *testing.T) {
	e := buildEnvWith(t, false, func(r *graph.Resolver) { r.MaxSubscriptions = 3 })
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	_, otherTok := e.user(domain.RoleMentee, "Olga Other")
	first, second := e.dial(tok), e.dial(tok)
	for i := range 3 {
		c := first
		if i == 2 {
			c = second
		}
		c.subscribe(fmt.Sprint(i), `subscription { myMatchUpdates { type } }`, nil)
	}
	e.waitSubscribers(3)
	second.subscribe("over", `subscription { myMatchUpdates { type } }`, nil)
	if m := second.read(); m["id"] != "over" || !strings.Contains(fmt.Sprint(m["payload"]), "RATE_LIMITED") {
		t.Fatalf("a fourth subscription: %v", m)
	}
	other := e.dial(otherTok)
	other.subscribe("1", `subscription { myMatchUpdates { type } }`, nil)
	e.waitSubscribers(4)

}
