package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// textCache is gqlgen's query and persisted-query cache with a budget on
// the text it holds, not only on its entries: a thousand entries of 1 MiB
// queries (mostly comments, which no limit counts) would hold a gigabyte
// that nothing frees. Entries past maxEntry bytes are not kept at all, and
// the oldest entries go when the total passes budget.
type textCache[T any] struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, T]
	bytes    int
	budget   int
	maxEntry int
	size     func(key string, v T) int
}

var _ graphql.Cache[string] = (*textCache[string])(nil)

func newTextCache[T any](entries, budget, maxEntry int, size func(string, T) int) *textCache[T] {
	c := &textCache[T]{budget: budget, maxEntry: maxEntry, size: size}
	l, err := simplelru.NewLRU[string, T](entries, func(k string, v T) { c.bytes -= c.size(k, v) })
	if err != nil {
		panic(err) // only for a size below 1
	}
	c.lru = l
	return c
}

// Get looks a query up.
func (c *textCache[T]) Get(_ context.Context, key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// Add keeps a query unless it is too large to keep, making room within
// the budget first.
func (c *textCache[T]) Add(_ context.Context, key string, v T) {
	n := c.size(key, v)
	if n > c.maxEntry {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(key) {
		return
	}
	for c.bytes+n > c.budget && c.lru.Len() > 0 {
		c.lru.RemoveOldest()
	}
	c.bytes += n
	c.lru.Add(key, v)
}

// Query and persisted-query cache sizes: most clients send a few dozen
// operations of a few kilobytes, so these hold every one of them.
const (
	cacheEntries  = 1000
	cacheBudget   = 4 << 20
	cacheMaxEntry = 32 << 10
)
