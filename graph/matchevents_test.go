package graph_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
)

// subscribeCounter counts the subscriptions opened on the log through it.
type subscribeCounter struct {
	eventstore.Store
	n atomic.Int32
}

func (s *subscribeCounter) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	s.n.Add(1)
	return s.Store.SubscribeAll(ctx, from)
}

// Many matchEvents subscribers, resuming or not, share the hub: none opens
// a subscription on the store of its own, and each hears of a change.
func TestMatchEventsSubscribersShareTheHub(t *testing.T) {
	counter := &subscribeCounter{}
	e := buildEnvWith(t, false, func(r *graph.Resolver) {
		counter.Store = r.Store
		r.Store = counter
	})
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	mentee, _ := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, _ := e.user(domain.RoleMentor, "Max Mentor")
	const q = `subscription($since: Position) { matchEvents(since: $since) { position type matchId status } }`
	const subscribers = 24
	conns := make([]*ws, subscribers)
	for i := range conns {
		conns[i] = e.dial(staffTok)
		vars := map[string]any{}
		if i%2 == 0 {
			vars["since"] = "0"
		}
		conns[i].subscribe("1", q, vars)
	}
	e.waitSubscribers(subscribers)
	id, _, err := e.svc.RequestMatch(context.Background(), command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		got := c.next("1")["matchEvents"].(map[string]any)
		if got["matchId"] != gid(model.KindMatch, id) || got["status"] != "PENDING" || got["type"] != "MatchRequested" {
			t.Fatalf("subscriber %d: %v", i, got)
		}
	}
	if n := counter.n.Load(); n != 0 {
		t.Fatalf("%d subscriptions opened on the store for %d subscribers", n, subscribers)
	}
}
