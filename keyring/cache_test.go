package keyring

import (
	"runtime"
	"testing"

	"github.com/google/uuid"
)

// The cache holds raw key bytes, not a cipher per member, so that 100,000
// members take a few megabytes.
func TestCacheOfManyMembersStaysSmall(t *testing.T) {
	const members = 100_000
	k := &Keyring{cache: map[uuid.UUID]*dataKey{}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range members {
		var key dataKey
		if _, err := k.remember(uuid.New(), &key); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := after.HeapAlloc - before.HeapAlloc
	t.Logf("%d cached keys take %.1f MB (%d bytes each)", members, float64(used)/1e6, used/members)
	if used > 16<<20 {
		t.Fatalf("%d cached keys take %d bytes, over 16 MiB", members, used)
	}
	runtime.KeepAlive(k)
}

// A wrapped data key opens only for the member it was wrapped for.
func TestWrappedKeyIsBoundToItsMember(t *testing.T) {
	kek, err := newGCM(make([]byte, kekSize))
	if err != nil {
		t.Fatal(err)
	}
	k := &Keyring{kek: kek, cache: map[uuid.UUID]*dataKey{}}
	a, b := uuid.New(), uuid.New()
	key := dataKey{1, 2, 3}
	wrapped, err := k.wrap(a, &key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.unwrap(a, wrapped); err != nil || *got != key {
		t.Fatalf("unwrap for its member: %v", err)
	}
	if _, err := k.unwrap(b, wrapped); err == nil {
		t.Fatal("a wrapped key opened for another member")
	}
}
