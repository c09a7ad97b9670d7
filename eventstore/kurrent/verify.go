package kurrent

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/mentorship/mentorship/eventstore"
)

// chain is where the check of one stream's hash chain has got to.
type chain struct {
	next eventstore.Revision // the revision expected next
	hash []byte              // the hash of the event before it
}

// check verifies that e is the next event of the stream and that its
// stored hash covers its predecessor's hash and its own stored bytes.
func (c *chain) check(stream string, e *esdb.RecordedEvent) error {
	rev := eventstore.Revision(e.EventNumber)
	if rev != c.next {
		return fmt.Errorf("%w: stream %q has revision %d where %d belongs", eventstore.ErrCorrupt, stream, rev, c.next)
	}
	var m readMeta
	if err := json.Unmarshal(e.UserMetadata, &m); err != nil {
		return fmt.Errorf("%w: stream %q revision %d: metadata: %v", eventstore.ErrCorrupt, stream, rev, err)
	}
	if m.EventID != e.EventID || m.Stream != stream || m.Type != e.EventType {
		return fmt.Errorf("%w: stream %q revision %d: the server's ID, stream or type differ from the hashed ones", eventstore.ErrCorrupt, stream, rev)
	}
	stored, err := hex.DecodeString(m.Hash)
	base := withoutHash(e.UserMetadata)
	if err != nil || len(stored) == 0 || base == nil {
		return fmt.Errorf("%w: stream %q revision %d carries no valid hash", eventstore.ErrCorrupt, stream, rev)
	}
	if !bytes.Equal(chainHash(c.hash, e.Data, base), stored) {
		return fmt.Errorf("%w: stream %q revision %d does not match its hash", eventstore.ErrCorrupt, stream, rev)
	}
	c.next, c.hash = rev+1, stored
	return nil
}

// VerifyStream recomputes the tamper-evidence chain of one stream from its
// first event and returns an error wrapping eventstore.ErrCorrupt at the
// first event whose stored bytes or predecessor do not match its hash.
func (s *Store) VerifyStream(ctx context.Context, stream string) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if err := eventstore.ValidateStreamName(stream); err != nil {
		return fmt.Errorf("verify stream: %w", err)
	}
	if err := reservedStream(stream); err != nil {
		return fmt.Errorf("verify stream: %w", err)
	}
	var c chain
	for {
		page, _, err := do(s, ctx, func(ctx context.Context, cl *esdb.Client) (streamPage, error) {
			return readServerStream(ctx, cl, s.serverName(stream), esdb.Forwards, esdb.Revision(uint64(c.next)), uint64(s.opts.ReadBatch))
		})
		switch {
		case err != nil:
			return fmt.Errorf("verify stream %q: %w", stream, err)
		case !page.found:
			return fmt.Errorf("verify stream %q: %w", stream, eventstore.ErrStreamNotFound)
		}
		for _, e := range page.events {
			if err := c.check(stream, e); err != nil {
				return fmt.Errorf("verify stream: %w", err)
			}
		}
		if len(page.events) < s.opts.ReadBatch {
			return nil
		}
	}
}

// Verify checks the chain of every stream in one pass over the log, and
// returns how many events it checked. It holds the last hash of every
// stream it has seen, about a hundred bytes per stream.
func (s *Store) Verify(ctx context.Context) (int, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	chains := map[string]*chain{}
	n := 0
	err := s.scanAll(ctx, esdb.Forwards, esdb.Start{}, func(e *esdb.RecordedEvent) (bool, error) {
		stream, ok := s.ownStream(e.StreamID, e.EventType)
		if !ok {
			return true, nil
		}
		c := chains[stream]
		if c == nil {
			c = &chain{}
			chains[stream] = c
		}
		n++
		return true, c.check(stream, e)
	}, s.opts.ReadBatch)
	if err != nil {
		return n, fmt.Errorf("verify: %w", err)
	}
	return n, nil
}
