package seed

import (
	"context"
	"strings"
	"sync"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// cacheBudget bounds the bytes of events the cache holds; past it, no new
// stream enters until others leave.
const cacheBudget = 512 << 20

// recordOverhead estimates the bytes of a cached event beyond its data.
const recordOverhead = 256

// streamCache keeps the events of the streams the generator works on, its
// matches and members, in memory, so that commands, which load a whole
// stream each time, do not read it back from the store. It only serves
// whole-stream forward reads and learns from its own appends, which is
// exact while the generator is the store's only writer; an append that
// finds the stream elsewhere than the cache expected drops the entry, and
// the next read goes to the store. Closed matches leave the cache, and it
// admits no new stream while it holds more than cacheBudget bytes.
type streamCache struct {
	eventstore.Store
	mu      sync.Mutex
	streams map[string]cachedStream
	bytes   int
}

type cachedStream struct {
	events []eventstore.RecordedEvent
	bytes  int
}

var _ eventstore.Store = (*streamCache)(nil)

func newStreamCache(store eventstore.Store) *streamCache {
	return &streamCache{Store: store, streams: map[string]cachedStream{}}
}

func cacheable(stream string) bool {
	return strings.HasPrefix(stream, domain.MatchCategory+"-") || strings.HasPrefix(stream, domain.MemberCategory+"-")
}

// ReadStream serves a stream from memory when it can.
func (c *streamCache) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if opts != (eventstore.ReadStreamOptions{}) || !cacheable(stream) {
		return c.Store.ReadStream(ctx, stream, opts)
	}
	c.mu.Lock()
	s, ok := c.streams[stream]
	c.mu.Unlock()
	if ok {
		return s.events, nil
	}
	evs, err := c.Store.ReadStream(ctx, stream, opts)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, ok := c.streams[stream]; !ok {
		c.admit(stream, evs)
	}
	c.mu.Unlock()
	return evs, nil
}

// admit caches a stream while the budget allows; c.mu is held.
func (c *streamCache) admit(stream string, evs []eventstore.RecordedEvent) {
	if c.bytes > cacheBudget {
		return
	}
	s := cachedStream{events: evs}
	for _, e := range evs {
		s.bytes += len(e.Data) + recordOverhead
	}
	c.streams[stream] = s
	c.bytes += s.bytes
}

// drop removes a stream from the cache; c.mu is held.
func (c *streamCache) drop(stream string) {
	if s, ok := c.streams[stream]; ok {
		c.bytes -= s.bytes
		delete(c.streams, stream)
	}
}

// Append appends to the store and then to the cached stream. Readers keep
// the slices they were given: appending never changes their elements.
func (c *streamCache) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := c.Store.Append(ctx, stream, expected, events...)
	if !cacheable(stream) {
		return res, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.streams[stream]
	switch {
	case err != nil:
		c.drop(stream)
		return res, err
	case ok && len(s.events) > 0 && s.events[len(s.events)-1].Revision+1 == res.FirstRevision, !ok && res.FirstRevision == 0:
	default:
		c.drop(stream)
		return res, nil
	}
	contiguous := res.LastPosition-res.FirstPosition == eventstore.Position(len(events)-1)
	recs := make([]eventstore.RecordedEvent, len(events))
	for i, e := range events {
		recs[i] = eventstore.RecordedEvent{
			ID: e.ID, Stream: stream, Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data, Metadata: e.Metadata,
			Revision: res.FirstRevision + eventstore.Revision(i),
		}
		if contiguous {
			recs[i].Position = res.FirstPosition + eventstore.Position(i)
		}
	}
	if !ok {
		c.admit(stream, recs)
		return res, nil
	}
	added := 0
	for _, e := range recs {
		added += len(e.Data) + recordOverhead
	}
	c.streams[stream] = cachedStream{events: append(s.events, recs...), bytes: s.bytes + added}
	c.bytes += added
	return res, nil
}

// forget drops a stream that no command will load again.
func (c *streamCache) forget(stream string) {
	c.mu.Lock()
	c.drop(stream)
	c.mu.Unlock()
}
