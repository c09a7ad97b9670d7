package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	"github.com/mentorship/mentorship/projections/redis"
	"github.com/mentorship/mentorship/seed"
)

// Redis dies while the projector is catching up on the log and comes back
// a moment later. The projector goes on by itself from the checkpoint that
// Redis kept with the state, and the read models end exactly those of the
// log: nothing applied twice, nothing skipped, whatever batch the kill
// interrupted.
func TestRedisDiesWhileProjecting(t *testing.T) {
	rs := redistest.StartProcess(t)
	store, svc, clk := readmodeltest.NewProgram(t)
	ctx := context.Background()
	if _, err := seed.Generate(ctx, store, svc.Program(), seed.Options{Mentors: 100, Mentees: 300, Events: 8000, Seed: 5, Days: 200, End: clk.Now(), Workers: 2}); err != nil {
		t.Fatal(err)
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: rs.Addr(), MaxRetries: -1})
	defer c.Close()
	rm := redis.New(c, redis.Options{Prefix: "fault", Owner: "projector", LeaseTTL: time.Second, Logger: zerolog.Nop()})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = rm.Run(runCtx, store, redis.RunOptions{Project: true}) }()
	defer func() { cancel(); <-done }()

	// Kill Redis once the read models are part of the way through.
	deadline := time.Now().Add(30 * time.Second)
	for rm.Reached() < head/10 {
		if time.Now().After(deadline) {
			t.Fatalf("the projector reached only position %d of %d", rm.Reached(), head)
		}
		time.Sleep(time.Millisecond)
	}
	rs.Kill()
	killedAt := rm.Reached()
	if killedAt >= head {
		t.Fatalf("the projector was done (position %d) before Redis was killed; the history is too short to interrupt it", killedAt)
	}
	short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	if err := rm.WaitFor(short, head); err == nil {
		t.Fatal("read-your-writes did not wait while Redis was gone")
	}
	rs.Start()
	wait, stopWait := context.WithTimeout(ctx, 60*time.Second)
	defer stopWait()
	if err := rm.WaitFor(wait, head); err != nil {
		t.Fatalf("the projector did not finish after Redis came back (killed at %d of %d): %v", killedAt, head, err)
	}
	events := readmodeltest.Events(t, store)
	readmodeltest.Compare(t, svc.Program(), clk.Now(), events, readmodeltest.Reference(t, events), models(rm))
	t.Logf("killed at position %d of %d", killedAt, head)
}
