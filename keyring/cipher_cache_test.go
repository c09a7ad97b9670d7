package keyring_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/keyring"
)

// The ciphers kept ready give the same strings as ciphers built for the
// call: a keyring with a cold cache seals every text to the same string
// and opens every string to the same text as one that sealed the texts
// before, for many members and texts.
func TestCachedCiphersAgreeWithFreshOnes(t *testing.T) {
	store, kp := newStore(t), newKeeper(t)
	ctx := context.Background()
	warm := newKeyring(t, store, kp)
	members := make([]uuid.UUID, 40)
	for i := range members {
		members[i] = uuid.New()
	}
	texts := []string{"Ada", "Ada Lovelace <ada@example.org>", "é日本😀\n\"quoted\"", "x"}
	sealed := map[string]string{}
	for round := range 3 {
		for _, m := range members {
			for _, text := range texts {
				v := seal(t, warm, m, text)
				id := m.String() + text
				if prev, ok := sealed[id]; ok && prev != v {
					t.Fatalf("round %d: %q sealed to %q, before to %q", round, text, v, prev)
				}
				sealed[id] = v
			}
		}
	}
	cold := newKeyring(t, store, kp)
	for _, m := range members {
		for _, text := range texts {
			v := sealed[m.String()+text]
			if got := seal(t, cold, m, text); got != v {
				t.Fatalf("a fresh keyring sealed %q to %q, the warm one to %q", text, got, v)
			}
			for _, k := range []*keyring.Keyring{warm, cold} {
				owner, got, err := k.Open(ctx, v)
				if err != nil || owner != m || got != text {
					t.Fatalf("open: %s %q %v, want %s %q", owner, got, err, m, text)
				}
			}
		}
	}
}

// The keyring keeps ciphers for a bounded number of members, and the
// members beyond the bound still seal and open.
func TestCipherCacheIsBounded(t *testing.T) {
	k := newKeyring(t, newStore(t), newKeeper(t))
	ctx := context.Background()
	n := keyring.CachedCiphers + 100
	sealed := make([]string, n)
	for i := range n {
		sealed[i] = seal(t, k, uuid.New(), fmt.Sprint("text ", i))
	}
	if got := keyring.Ciphers(k); got != keyring.CachedCiphers {
		t.Fatalf("%d ciphers kept, want %d", got, keyring.CachedCiphers)
	}
	for i, v := range sealed {
		if _, text, err := k.Open(ctx, v); err != nil || text != fmt.Sprint("text ", i) {
			t.Fatalf("open %d: %q %v", i, text, err)
		}
	}
}

// Erasing a member drops its cipher with its key: nothing of the key stays
// usable through the cipher cache, in the keyring that erased it and in
// one that learns of the erasure through Forget or Erased.
func TestErasureDropsTheCachedCipher(t *testing.T) {
	store, kp := newStore(t), newKeeper(t)
	ctx := context.Background()
	a, b, c := newKeyring(t, store, kp), newKeyring(t, store, kp), newKeyring(t, store, kp)
	m := uuid.New()
	v := seal(t, a, m, "Ada")
	for _, k := range []*keyring.Keyring{b, c} {
		if _, _, err := k.Open(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	for name, k := range map[string]*keyring.Keyring{"a": a, "b": b, "c": c} {
		if !keyring.HasCipher(k, m) {
			t.Fatalf("%s keeps no cipher for a member it used", name)
		}
	}
	if err := a.Erase(ctx, m); err != nil {
		t.Fatal(err)
	}
	if keyring.HasCipher(a, m) {
		t.Fatal("the erasing keyring kept the cipher of the erased member")
	}
	if _, err := a.Seal(ctx, m, "Ada"); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("seal after Erase: %v, want ErrErased", err)
	}
	if _, _, err := a.Open(ctx, v); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("open after Erase: %v, want ErrErased", err)
	}
	b.Forget(m)
	if keyring.HasCipher(b, m) {
		t.Fatal("Forget kept the cipher")
	}
	if _, _, err := b.Open(ctx, v); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("open after Forget: %v, want ErrErased", err)
	}
	if erased, err := c.Erased(ctx, m); err != nil || !erased {
		t.Fatalf("Erased: %v, %v", erased, err)
	}
	if keyring.HasCipher(c, m) {
		t.Fatal("Erased kept the cipher of the erased member")
	}
	if _, _, err := c.Open(ctx, v); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("open after Erased: %v, want ErrErased", err)
	}
}

// A member forgotten while its key is still in the store gets a cipher of
// the key fetched again, not the one built before.
func TestForgetThenUseAgain(t *testing.T) {
	k := newKeyring(t, newStore(t), newKeeper(t))
	ctx := context.Background()
	m := uuid.New()
	v := seal(t, k, m, "Ada")
	k.Forget(m)
	if keyring.HasCipher(k, m) {
		t.Fatal("Forget kept the cipher")
	}
	if got := seal(t, k, m, "Ada"); got != v {
		t.Fatalf("sealed %q after Forget, %q before", got, v)
	}
	if _, text, err := k.Open(ctx, v); err != nil || text != "Ada" {
		t.Fatalf("open after Forget: %q %v", text, err)
	}
}
