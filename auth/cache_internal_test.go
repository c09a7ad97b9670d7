package auth

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestSessionCache(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	member := uuid.New()
	a := SessionRecord{Hash: TokenHash{1}, MemberID: member}
	b := SessionRecord{Hash: TokenHash{2}, MemberID: member}
	other := SessionRecord{Hash: TokenHash{3}, MemberID: uuid.New()}
	c := newSessionCache(time.Second)
	for _, r := range []SessionRecord{a, b, other} {
		c.put(r, c.begin(), now)
	}
	if _, ok := c.get(a.Hash, now.Add(999*time.Millisecond)); !ok {
		t.Fatal("a fresh entry was not found")
	}
	if _, ok := c.get(a.Hash, now.Add(time.Second)); ok {
		t.Fatal("an entry outlived its time to live")
	}

	// A read that began before a revocation cannot put its answer back.
	epoch := c.begin()
	c.remove(a.Hash, uuid.Nil)
	c.put(a, epoch, now)
	if _, ok := c.get(a.Hash, now); ok {
		t.Fatal("a read from before the revocation was cached")
	}
	if _, ok := c.get(b.Hash, now); !ok {
		t.Fatal("revoking one session dropped another")
	}

	// A member's revocation drops all their sessions and no one else's.
	c.remove(TokenHash{}, member)
	if _, ok := c.get(b.Hash, now); ok {
		t.Fatal("the member's other session is still cached")
	}
	if _, ok := c.get(other.Hash, now); !ok {
		t.Fatal("another member's session was dropped")
	}
	c.flush()
	if _, ok := c.get(other.Hash, now); ok {
		t.Fatal("flush kept an entry")
	}

	off := newSessionCache(-1)
	off.put(a, off.begin(), now)
	if _, ok := off.get(a.Hash, now); ok {
		t.Fatal("a disabled cache answered")
	}
}
