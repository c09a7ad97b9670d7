package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/auth"
	authredis "github.com/mentorship/mentorship/auth/redis"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/internal/redistest"
)

// instances are two services sharing one Redis store, as two API
// instances behind a load balancer would. b is always linked to the
// revocations channel, through a client whose connections carry
// subscriber, so that a test can cut them.
type instances struct {
	a          *fixture
	b          *auth.Service
	redis      *goredis.Client
	subscriber string
}

// newInstances starts the two services. Only b subscribes when linkA is
// false, so that revocations made through a reach b only through the
// store.
func newInstances(t *testing.T, linkA bool) *instances {
	t.Helper()
	client, ns := redistest.Client(t)
	in := &instances{redis: client, subscriber: "auth-test-" + ns}
	var revocationsA auth.Revocations
	if linkA {
		revocationsA = newRevocations(t, client, ns)
	}
	var store auth.Store
	in.a = newFixture(t, fixtureOptions{
		opts: auth.Options{Revocations: revocationsA},
		store: func(t *testing.T, clk clock.Clock) auth.Store {
			s, err := authredis.New(client, authredis.Options{Prefix: ns, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			store = s
			return s
		},
	})
	opts := *client.Options()
	opts.ClientName = in.subscriber
	named := goredis.NewClient(&opts)
	t.Cleanup(func() { named.Close() })
	revocationsB := newRevocations(t, named, ns)
	b, err := auth.New(store, in.a.commands, in.a.mailbox, in.a.clock, auth.WithCheapHashing(auth.Options{ResetURL: resetURL, Revocations: revocationsB}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	in.b = b
	return in
}

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

// watchOnB authenticates token on b and watches its session there.
func (in *instances) watchOnB(t *testing.T, token string) context.Context {
	t.Helper()
	_, sess, err := in.b.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := in.b.Watch(context.Background(), sess)
	t.Cleanup(stop)
	if ctx.Err() != nil {
		t.Fatalf("a fresh session's context already ended: %v", context.Cause(ctx))
	}
	return ctx
}

// cutB cuts b's subscription to the revocations channel, as a network
// failure would.
func (in *instances) cutB(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	list, err := in.redis.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	cut := 0
	for line := range strings.SplitSeq(strings.TrimSpace(list), "\n") {
		fields := map[string]string{}
		for f := range strings.FieldsSeq(line) {
			k, v, _ := strings.Cut(f, "=")
			fields[k] = v
		}
		if fields["name"] == in.subscriber && fields["sub"] != "0" {
			if err := in.redis.ClientKillByFilter(ctx, "ID", fields["id"]).Err(); err != nil {
				t.Fatal(err)
			}
			cut++
		}
	}
	if cut == 0 {
		t.Fatal("b has no subscription to cut")
	}
}

// waitEnded fails unless ctx ends, within a few seconds, with a cause
// matching want. A revocation reaches another instance asynchronously.
func waitEnded(t *testing.T, ctx context.Context, want error) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("the session's context on the other instance is still live, want it ended with %v", want)
	}
	wantEnded(t, ctx, want)
}

func TestSignOutThroughOneInstanceEndsWatchesOnAnother(t *testing.T) {
	in := newInstances(t, true)
	in.a.register(t, domain.RoleMentee, "ada@example.org", password)
	token, _ := in.a.login(t, domain.RoleMentee, "ada@example.org", password)
	other, _ := in.a.login(t, domain.RoleMentee, "ada@example.org", password)
	live, otherLive := in.watchOnB(t, token), in.watchOnB(t, other)
	if err := in.a.svc.Logout(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, live, auth.ErrTokenRevoked)
	if otherLive.Err() != nil {
		t.Errorf("signing one session out ended another on b: %v", context.Cause(otherLive))
	}
	if _, _, err := in.b.Authenticate(context.Background(), token); err != auth.ErrTokenRevoked {
		t.Errorf("signed-out token on b: %v, want ErrTokenRevoked", err)
	}
}

func TestPasswordChangeThroughOneInstanceEndsWatchesOnAnother(t *testing.T) {
	in := newInstances(t, true)
	ctx := context.Background()
	in.a.register(t, domain.RoleMentor, "grace@example.org", password)
	in.a.register(t, domain.RoleMentor, "ada@example.org", password)
	first, _ := in.a.login(t, domain.RoleMentor, "grace@example.org", password)
	second, _ := in.a.login(t, domain.RoleMentor, "grace@example.org", password)
	bystander, _ := in.a.login(t, domain.RoleMentor, "ada@example.org", password)
	live1, live2, bystanderLive := in.watchOnB(t, first), in.watchOnB(t, second), in.watchOnB(t, bystander)
	fresh, _, err := in.a.svc.ChangePassword(ctx, first, password, "a brand new password", "")
	if err != nil {
		t.Fatal(err)
	}
	waitEnded(t, live1, auth.ErrTokenRevoked)
	waitEnded(t, live2, auth.ErrTokenRevoked)
	if bystanderLive.Err() != nil {
		t.Errorf("a password change ended another account's session on b: %v", context.Cause(bystanderLive))
	}
	in.watchOnB(t, fresh)
}

func TestPasswordResetThroughOneInstanceEndsWatchesOnAnother(t *testing.T) {
	in := newInstances(t, true)
	in.a.register(t, domain.RoleMentee, "ada@example.org", password)
	token, _ := in.a.login(t, domain.RoleMentee, "ada@example.org", password)
	live := in.watchOnB(t, token)
	reset := in.a.requestReset(t, domain.RoleMentee, "ada@example.org")
	if _, err := in.a.svc.ResetPassword(context.Background(), reset, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, live, auth.ErrTokenRevoked)
}

func TestInstanceChecksItsWatchesAfterLosingTheLink(t *testing.T) {
	in := newInstances(t, false)
	in.a.register(t, domain.RoleMentee, "ada@example.org", password)
	token, _ := in.a.login(t, domain.RoleMentee, "ada@example.org", password)
	other, _ := in.a.login(t, domain.RoleMentee, "ada@example.org", password)
	live, otherLive := in.watchOnB(t, token), in.watchOnB(t, other)
	// a publishes nothing, so b hears of this sign-out only when it checks
	// the store, as it does after its link was down and messages may have
	// been lost.
	if err := in.a.svc.Logout(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if live.Err() != nil {
		t.Fatalf("the context ended with no revocation published: %v", context.Cause(live))
	}
	in.cutB(t)
	waitEnded(t, live, auth.ErrTokenRevoked)
	if otherLive.Err() != nil {
		t.Errorf("the check ended a valid session's context: %v", context.Cause(otherLive))
	}
}
