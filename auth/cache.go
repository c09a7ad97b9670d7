package auth

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// sessionCache keeps sessions the service found valid for a moment, so
// that a client's requests do not each read the session and its
// credentials from the store (twice: on authentication and when the
// request's context is watched). A revocation, local or heard from
// another instance, removes the entries it concerns before it ends any
// live context, and a check that read the store before a revocation cannot
// put its stale answer back: every removal moves an epoch, and an entry is
// only added under the epoch its read began in. The time to live bounds
// what a lost revocation message could leave behind on another instance.
type sessionCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	epoch   uint64
	entries map[TokenHash]cachedSession
}

type cachedSession struct {
	rec SessionRecord
	at  time.Time
}

// maxCachedSessions bounds the cache; past it, it starts afresh.
const maxCachedSessions = 100_000

func newSessionCache(ttl time.Duration) *sessionCache {
	return &sessionCache{ttl: ttl, entries: map[TokenHash]cachedSession{}}
}

// get returns a session found valid less than ttl before now.
func (c *sessionCache) get(hash TokenHash, now time.Time) (SessionRecord, bool) {
	if c.ttl <= 0 {
		return SessionRecord{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return SessionRecord{}, false
	}
	return e.rec, true
}

// begin returns the epoch a store read starts in.
func (c *sessionCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// put keeps a session found valid at now, unless something was removed
// since the read began.
func (c *sessionCache) put(rec SessionRecord, epoch uint64, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	if len(c.entries) >= maxCachedSessions {
		clear(c.entries)
	}
	c.entries[rec.Hash] = cachedSession{rec: rec, at: now}
}

// used records a session's new last use, if it is cached.
func (c *sessionCache) used(hash TokenHash, lastUsed, idleExpires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[hash]; ok {
		e.rec.LastUsedAt, e.rec.IdleExpiresAt = lastUsed, idleExpires
		c.entries[hash] = e
	}
}

// remove drops a session, or every session of a member, or both.
func (c *sessionCache) remove(session TokenHash, member uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if session != (TokenHash{}) {
		delete(c.entries, session)
	}
	if member != uuid.Nil {
		for h, e := range c.entries {
			if e.rec.MemberID == member {
				delete(c.entries, h)
			}
		}
	}
}

// flush drops everything, after revocations may have been lost.
func (c *sessionCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.entries)
}

// cacheTTL is Options.SessionCacheTTL with its default.
func cacheTTL(d time.Duration) time.Duration {
	if d == 0 {
		return time.Second
	}
	return d
}
