// Package redistest gives tests a real Redis and a key namespace of their
// own. The server is MENTORSHIP_TEST_REDIS_URL (redis://127.0.0.1:6379/0 when
// unset). A test that needs Redis fails when it cannot reach it under CI
// (CI=true), because there a missing Redis is a broken setup; elsewhere it
// is skipped, so that a developer without Redis can still run the rest.
package redistest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// URL is the Redis the tests use.
func URL() string {
	if u := os.Getenv("MENTORSHIP_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Client connects to the test Redis and returns a client and a namespace no
// other test uses. The namespace's keys are deleted when the test ends.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("test redis url: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if strings.EqualFold(os.Getenv("CI"), "true") {
			t.Fatalf("redis at %s is not reachable: %v", URL(), err)
		}
		t.Skipf("redis at %s is not reachable: %v (set CI=true to make this a failure)", URL(), err)
	}
	ns := "test-" + uuid.NewString()[:8]
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, "*"+ns+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		_ = c.Close()
	})
	return c, ns
}
