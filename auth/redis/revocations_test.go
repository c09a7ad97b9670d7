package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/auth"
	authredis "github.com/mentorship/mentorship/auth/redis"
	"github.com/mentorship/mentorship/internal/redistest"
)

func newRevocations(t *testing.T, client goredis.UniversalClient, ns string) *authredis.Revocations {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := authredis.NewRevocations(ctx, client, authredis.Options{Prefix: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// collect subscribes to r and returns the channels its calls arrive on.
func collect(t *testing.T, r *authredis.Revocations) (<-chan auth.Revocation, <-chan struct{}) {
	revoked, missed := make(chan auth.Revocation, 16), make(chan struct{}, 16)
	unsubscribe := r.Subscribe(func(rev auth.Revocation) { revoked <- rev }, func() { missed <- struct{}{} })
	t.Cleanup(unsubscribe)
	return revoked, missed
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
		panic("unreachable")
	}
}

func TestRevocationsReachEveryInstance(t *testing.T) {
	client, ns := redistest.Client(t)
	a, b := newRevocations(t, client, ns), newRevocations(t, client, ns)
	elsewhere := newRevocations(t, client, ns+"-other")
	fromA, _ := collect(t, a)
	fromB, _ := collect(t, b)
	leaked, _ := collect(t, elsewhere)
	revs := []auth.Revocation{
		{Reason: auth.RevokedSignOut, Session: tokenHash("session")},
		{Reason: auth.RevokedPasswordChange, Member: uuid.New(), Generation: 4},
		{Reason: auth.RevokedPasswordReset, Member: uuid.New(), Generation: 1},
	}
	for _, rev := range revs {
		if err := a.Publish(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range revs {
		for name, ch := range map[string]<-chan auth.Revocation{"the publisher": fromA, "another instance": fromB} {
			if diff := cmp.Diff(want, receive(t, ch, "revocation at "+name)); diff != "" {
				t.Errorf("%s received (-want +got):\n%s", name, diff)
			}
		}
	}
	select {
	case rev := <-leaked:
		t.Errorf("another namespace received %+v", rev)
	default:
	}
}

func TestUnsubscribeStopsTheCalls(t *testing.T) {
	client, ns := redistest.Client(t)
	r := newRevocations(t, client, ns)
	stopped := make(chan auth.Revocation, 1)
	unsubscribe := r.Subscribe(func(rev auth.Revocation) { stopped <- rev }, nil)
	live, _ := collect(t, r)
	unsubscribe()
	if err := r.Publish(context.Background(), auth.Revocation{Reason: auth.RevokedSignOut, Session: tokenHash("s")}); err != nil {
		t.Fatal(err)
	}
	receive(t, live, "revocation at the remaining subscriber")
	select {
	case rev := <-stopped:
		t.Errorf("an unsubscribed function received %+v", rev)
	default:
	}
}

func TestLostLinkReportsRevocationsMissed(t *testing.T) {
	client, ns := redistest.Client(t)
	named := namedClient(t, client, "revocations-"+ns)
	r := newRevocations(t, named, ns)
	revoked, missed := collect(t, r)
	killSubscriptions(t, client, "revocations-"+ns)
	receive(t, missed, "report of missed revocations after the link was cut")
	// The subscription works again.
	rev := auth.Revocation{Reason: auth.RevokedSignOut, Session: tokenHash("s")}
	if err := r.Publish(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, revoked, "revocation after subscribing again"); got != rev {
		t.Errorf("received %+v, want %+v", got, rev)
	}
}

func TestUnreadableMessageReportsRevocationsMissed(t *testing.T) {
	client, ns := redistest.Client(t)
	r := newRevocations(t, client, ns)
	_, missed := collect(t, r)
	if err := client.Publish(context.Background(), "{"+ns+":auth}:revocations", "not json").Err(); err != nil {
		t.Fatal(err)
	}
	receive(t, missed, "report of missed revocations after an unreadable message")
}

func TestCloseEndsTheSubscription(t *testing.T) {
	client, ns := redistest.Client(t)
	r := newRevocations(t, client, ns)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Redis notices the closed connection on its own time.
	channel := "{" + ns + ":auth}:revocations"
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := client.PubSubNumSub(context.Background(), channel).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n[channel] == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers left after Close", n[channel])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// namedClient returns a client of the same Redis whose connections carry
// name, so that a test can find and cut them.
func namedClient(t *testing.T, client *goredis.Client, name string) *goredis.Client {
	t.Helper()
	opts := *client.Options()
	opts.ClientName = name
	c := goredis.NewClient(&opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// killSubscriptions cuts the pub/sub connections of the clients called
// name, as a network failure would.
func killSubscriptions(t *testing.T, client *goredis.Client, name string) {
	t.Helper()
	ctx := context.Background()
	list, err := client.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.SplitSeq(strings.TrimSpace(list), "\n") {
		fields := map[string]string{}
		for f := range strings.FieldsSeq(line) {
			k, v, _ := strings.Cut(f, "=")
			fields[k] = v
		}
		if fields["name"] != name || fields["sub"] == "0" {
			continue
		}
		if err := client.ClientKillByFilter(ctx, "ID", fields["id"]).Err(); err != nil {
			t.Fatal(err)
		}
		killed++
	}
	if killed == 0 {
		t.Fatalf("no subscription of client %q to cut", name)
	}
}
