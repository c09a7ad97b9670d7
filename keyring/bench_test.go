package keyring_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
)

// BenchmarkSeal seals a short personal string with the member's key in
// the cache.
func BenchmarkSeal(b *testing.B) {
	k := newKeyring(b, newStore(b), newKeeper(b))
	ctx := context.Background()
	m := uuid.New()
	seal(b, k, m, "warm")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(ctx, m, "Ada Lovelace <ada@example.org>"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens a short sealed string with the member's key in the
// cache.
func BenchmarkOpen(b *testing.B) {
	k := newKeyring(b, newStore(b), newKeeper(b))
	ctx := context.Background()
	v := seal(b, k, uuid.New(), "Ada Lovelace <ada@example.org>")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := k.Open(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenParallel opens strings of 1,000 members from every core.
func BenchmarkOpenParallel(b *testing.B) {
	k := newKeyring(b, newStore(b), newKeeper(b))
	ctx := context.Background()
	sealed := make([]string, 1000)
	for i := range sealed {
		sealed[i] = seal(b, k, uuid.New(), "Ada Lovelace <ada@example.org>")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, err := k.Open(ctx, sealed[i%len(sealed)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
