package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// An event that does not decode is read again a few times, then stops the
// notifier at its position, reported by Healthy and the log. It is never skipped: no
// email of a later event is composed. The emails already in the outbox
// are still delivered.
func TestAnEventThatDoesNotDecodeStopsComposing(t *testing.T) {
	var logs lockedBuffer
	f := newFixture(t, fixtureOptions{down: true, logger: zerolog.New(&logs)})
	ada := f.register(domain.RoleMentee, "Ada Lovelace", "ada@home.example", "", domain.ContactEmail)
	lin := f.register(domain.RoleMentee, "Lin Wei", "lin@home.example", "", domain.ContactEmail)
	grace := f.register(domain.RoleMentor, "Grace Hopper", "grace@home.example", "", domain.ContactEmail)
	before := f.request(ada, grace, "")
	bad := eventstore.EventData{ID: uuid.New(), Type: "MatchRequested", SchemaVersion: 1, Data: []byte(`{"matchId": 42}`)}
	res, err := f.store.Append(context.Background(), "match-broken", eventstore.Any(), bad)
	if err != nil {
		t.Fatal(err)
	}
	after := f.request(lin, grace, "")
	at := fmt.Sprintf("position %d", res.LastPosition)

	stops := func() {
		t.Helper()
		if err := f.n.Tick(context.Background()); err == nil || !strings.Contains(err.Error(), at) {
			t.Fatalf("tick returned %v, want the event at %s", err, at)
		}
		if err := f.n.Healthy(); err == nil || !strings.Contains(err.Error(), at) {
			t.Fatalf("Healthy = %v, want the notifier stopped at %s", err, at)
		}
		if err := f.n.Tick(context.Background()); err == nil {
			t.Fatal("a second tick passed the event")
		}
	}
	stops()
	if !strings.Contains(logs.String(), "reading it again") {
		t.Errorf("the event was not read again before the notifier stopped:\n%s", logs.String())
	}
	stopped := false
	for line := range strings.SplitSeq(logs.String(), "\n") {
		stopped = stopped || (strings.Contains(line, "follower stopped") && strings.Contains(line, `"follower":"notifier"`) &&
			strings.Contains(line, fmt.Sprintf(`"position":%d`, res.LastPosition)))
	}
	if !stopped {
		t.Errorf("no log line says the notifier stopped at the position:\n%s", logs.String())
	}
	if es := f.forMatch(before); len(es) != 1 {
		t.Errorf("the request before the event has %d emails, want 1", len(es))
	}
	if es := f.forMatch(after); len(es) != 0 {
		t.Errorf("the request after the event has emails %+v: the event was skipped", es)
	}

	// Delivery goes on: the email composed before the event arrives.
	f.relay.Resume()
	f.clock.Advance(time.Hour)
	if err := f.n.Tick(context.Background()); err == nil {
		t.Error("a stopped notifier ticks without an error")
	}
	expect(t, "stopped", f.received(), want{to: grace.login, subject: "Ada Lovelace asks you to be their mentor"})

	// A restart reads the event again and stops at it again.
	f.restart()
	stops()
	if es := f.forMatch(after); len(es) != 0 {
		t.Errorf("after a restart the request after the event has emails %+v", es)
	}
}
