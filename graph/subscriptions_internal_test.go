package graph

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A subscription's place is given back when it ends, and only then.
func TestASubscriptionsPlaceIsFreedWhenItEnds(t *testing.T) {
	var s openSubscriptions
	account := uuid.New()
	ctx1, end1 := context.WithCancel(context.Background())
	ctx2, end2 := context.WithCancel(context.Background())
	defer end2()
	if s.hold(ctx1, account, 2) != nil || s.hold(ctx2, account, 2) != nil {
		t.Fatal("two places of two refused")
	}
	if s.hold(context.Background(), account, 2) == nil {
		t.Fatal("a third place of two given")
	}
	end1()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := s.open[account]
		s.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d places held after one subscription ended", n)
		}
		time.Sleep(time.Millisecond)
	}
	ctx3, end3 := context.WithCancel(context.Background())
	defer end3()
	if err := s.hold(ctx3, account, 2); err != nil {
		t.Fatalf("the freed place: %v", err)
	}
}
