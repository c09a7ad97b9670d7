package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// The query cache keeps to its text budget whatever it is sent: an entry
// over the largest is not kept, and the oldest go to make room.
func TestTextCacheKeepsToItsBudget(t *testing.T) {
	ctx := context.Background()
	c := newTextCache(1000, 10<<10, 4<<10, func(k string, _ int) int { return len(k) })
	huge := "{ __typename } #" + strings.Repeat("x", 900<<10)
	c.Add(ctx, huge, 1)
	if _, ok := c.Get(ctx, huge); ok {
		t.Fatal("a 900 KiB query was kept")
	}
	for i := range 100 {
		c.Add(ctx, fmt.Sprintf("%04d", i)+strings.Repeat("y", 1<<10), i)
		if c.bytes > 10<<10 {
			t.Fatalf("after %d entries the cache holds %d bytes", i+1, c.bytes)
		}
	}
	newest := "0099" + strings.Repeat("y", 1<<10)
	if v, ok := c.Get(ctx, newest); !ok || v != 99 {
		t.Fatal("the newest entry was not kept")
	}
	if _, ok := c.Get(ctx, "0000"+strings.Repeat("y", 1<<10)); ok {
		t.Fatal("the oldest entry was kept past the budget")
	}
	// Adding what is there changes nothing.
	before := c.bytes
	c.Add(ctx, newest, 99)
	if c.bytes != before {
		t.Fatalf("adding an entry again counted it twice: %d, then %d", before, c.bytes)
	}
}
