package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"

	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/filestore"
)

func newKeeper(t testing.TB) *secrets.Keeper {
	t.Helper()
	k, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	kp := localsecrets.NewKeeper(k)
	t.Cleanup(func() { _ = kp.Close() })
	return kp
}

func newStore(t testing.TB) *filestore.Store {
	t.Helper()
	s, err := filestore.Open(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newKeyring(t testing.TB, s keyring.Store, kp *secrets.Keeper) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New(context.Background(), s, kp)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func seal(t testing.TB, k *keyring.Keyring, m uuid.UUID, text string) string {
	t.Helper()
	v, err := k.Seal(context.Background(), m, text)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSealIsDeterministicPerMemberAndText(t *testing.T) {
	k := newKeyring(t, newStore(t), newKeeper(t))
	a, b := uuid.New(), uuid.New()
	v := seal(t, k, a, "Ada Lovelace")
	if again := seal(t, k, a, "Ada Lovelace"); again != v {
		t.Fatalf("sealing twice gave %q and %q", v, again)
	}
	if other := seal(t, k, b, "Ada Lovelace"); other == v {
		t.Fatal("two members' equal texts sealed alike")
	}
	w := seal(t, k, a, "Ada Lovelace.")
	if w == v {
		t.Fatal("two texts sealed alike")
	}
	// A different text gets a different nonce, not only a different
	// ciphertext: reusing a nonce under one key would break AES-GCM.
	if nonce(t, w) == nonce(t, v) {
		t.Fatal("two texts of one member share a nonce")
	}
	if got := seal(t, k, a, ""); got != "" {
		t.Fatalf("the empty string sealed as %q", got)
	}
}

// nonce returns the nonce of a sealed string.
func nonce(t *testing.T, sealed string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(keyring.Prefix):])
	if err != nil {
		t.Fatal(err)
	}
	return string(raw[16:28])
}

func TestSealedFormat(t *testing.T) {
	k := newKeyring(t, newStore(t), newKeeper(t))
	m := uuid.New()
	text := "ada@example.org"
	v := seal(t, k, m, text)
	if !keyring.IsSealed(v) || v[0] != 0x01 {
		t.Fatalf("%q does not start with the prefix", v)
	}
	raw, err := base64.RawURLEncoding.DecodeString(v[len(keyring.Prefix):])
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 16+12+len(text)+16 {
		t.Fatalf("%d bytes, want member, nonce, ciphertext and tag: %d", len(raw), 16+12+len(text)+16)
	}
	if !bytes.Equal(raw[:16], m[:]) {
		t.Fatal("the string does not start with the member's ID")
	}
	if bytes.Contains(raw, []byte(text)) {
		t.Fatal("the text shows through")
	}
	for _, s := range []string{"", "Ada", "k1:x", "\x01k1", " \x01k1:"} {
		if keyring.IsSealed(s) {
			t.Fatalf("IsSealed(%q)", s)
		}
	}
}

func TestOpenRefusesWhatItCannotAuthenticate(t *testing.T) {
	k := newKeyring(t, newStore(t), newKeeper(t))
	ctx := context.Background()
	v := seal(t, k, uuid.New(), "notes")
	unknown := uuid.New()
	forged := keyring.Prefix + base64.RawURLEncoding.EncodeToString(append(unknown[:], make([]byte, 40)...))
	for name, tc := range map[string]struct {
		in   string
		want []error
	}{
		"plain text":         {"notes", []error{keyring.ErrNotSealed}},
		"empty":              {"", []error{keyring.ErrNotSealed}},
		"not base64":         {keyring.Prefix + "!!!!", []error{keyring.ErrTampered}},
		"too short":          {keyring.Prefix + base64.RawURLEncoding.EncodeToString(make([]byte, 43)), []error{keyring.ErrTampered}},
		"padded base64":      {v + "=", []error{keyring.ErrTampered}},
		"a member's ID only": {forged, []error{keyring.ErrTampered, keyring.ErrNotFound}},
	} {
		_, text, err := k.Open(ctx, tc.in)
		for _, want := range tc.want {
			if !errors.Is(err, want) {
				t.Errorf("%s: got %q, %v; want %v", name, text, err, want)
			}
		}
	}
}

// racing is a store whose first Create lets another process's Keyring
// store its key first, as when two instances seal for a new member at once.
type racing struct {
	keyring.Store
	before func(member uuid.UUID)
	once   sync.Once
}

func (r *racing) Create(ctx context.Context, member uuid.UUID, wrapped []byte) ([]byte, error) {
	r.once.Do(func() { r.before(member) })
	return r.Store.Create(ctx, member, wrapped)
}

func TestSealUsesTheKeyARacingInstanceStored(t *testing.T) {
	store, kp := newStore(t), newKeeper(t)
	other := newKeyring(t, store, kp)
	var theirs string
	r := &racing{Store: store, before: func(m uuid.UUID) { theirs = seal(t, other, m, "Ada") }}
	k := newKeyring(t, r, kp)
	m := uuid.New()
	ours := seal(t, k, m, "Ada")
	if theirs == "" || ours != theirs {
		t.Fatalf("the instance that lost the race sealed %q, the winner %q", ours, theirs)
	}
}

func TestInstancesRacingForAMemberAgree(t *testing.T) {
	store, kp := newStore(t), newKeeper(t)
	var keyrings []*keyring.Keyring
	var wg sync.WaitGroup
	var mu sync.Mutex
	// Instances starting at once on an empty store agree on one KEK.
	for range 4 {
		wg.Go(func() {
			k := newKeyring(t, store, kp)
			mu.Lock()
			keyrings = append(keyrings, k)
			mu.Unlock()
		})
	}
	wg.Wait()
	m := uuid.New()
	results := make([]string, 4*8)
	for i := range results {
		wg.Go(func() { results[i] = seal(t, keyrings[i%4], m, "Ada") })
	}
	wg.Wait()
	for i, v := range results {
		if v != results[0] {
			t.Fatalf("seal %d gave %q, seal 0 %q", i, v, results[0])
		}
	}
	for _, k := range keyrings {
		if _, text, err := k.Open(context.Background(), results[0]); err != nil || text != "Ada" {
			t.Fatalf("open: %q, %v", text, err)
		}
	}
}

func TestAnotherMasterKeyIsRefused(t *testing.T) {
	store := newStore(t)
	newKeyring(t, store, newKeeper(t))
	if _, err := keyring.New(context.Background(), store, newKeeper(t)); err == nil {
		t.Fatal("a keyring opened with another master key")
	}
}

// Once Erase has returned, no Seal or Open that starts afterwards uses the
// key, however the calls in flight interleave with it. Run with -race.
func TestNothingUsesAKeyOnceEraseReturned(t *testing.T) {
	for round := range 60 {
		store, kp := newStore(t), newKeeper(t)
		k := newKeyring(t, store, kp)
		ctx := context.Background()
		m := uuid.New()
		v := seal(t, k, m, "Ada")
		if round%2 == 1 {
			// Half the rounds start with a cold cache, so that the
			// workers fetch the key while Erase runs.
			k = newKeyring(t, store, kp)
		}
		var erased atomic.Bool
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					after := erased.Load()
					var err error
					if (w+i)%2 == 0 {
						_, err = k.Seal(ctx, m, "Ada")
					} else {
						_, _, err = k.Open(ctx, v)
					}
					if after && !errors.Is(err, keyring.ErrErased) {
						t.Errorf("a call that started after Erase returned got %v, want ErrErased", err)
						return
					}
					if err != nil && !errors.Is(err, keyring.ErrErased) {
						t.Errorf("call: %v", err)
						return
					}
					if after && i > 50 {
						return
					}
				}
			})
		}
		if err := k.Erase(ctx, m); err != nil {
			t.Fatal(err)
		}
		erased.Store(true)
		wg.Wait()
	}
}

func TestErasureByAnotherInstance(t *testing.T) {
	store, kp := newStore(t), newKeeper(t)
	ctx := context.Background()
	a, b := newKeyring(t, store, kp), newKeyring(t, store, kp)
	m := uuid.New()
	v := seal(t, a, m, "Ada")
	if _, _, err := b.Open(ctx, v); err != nil { // b caches the key
		t.Fatal(err)
	}
	if erased, err := b.Erased(ctx, m); err != nil || erased {
		t.Fatalf("erased before erasure: %v, %v", erased, err)
	}
	if err := a.Erase(ctx, m); err != nil {
		t.Fatal(err)
	}
	// b still holds the key until it forgets it.
	if _, _, err := b.Open(ctx, v); err != nil {
		t.Fatalf("b's cached key: %v", err)
	}
	b.Forget(m)
	if _, _, err := b.Open(ctx, v); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("after Forget: %v, want ErrErased", err)
	}
	// Erased asks the store and drops a cached key by itself.
	c := newKeyring(t, store, kp)
	w := seal(t, c, uuid.New(), "x")
	if _, _, err := c.Open(ctx, w); err != nil {
		t.Fatal(err)
	}
	other, _, _ := c.Open(ctx, w)
	if err := a.Erase(ctx, other); err != nil {
		t.Fatal(err)
	}
	if erased, err := c.Erased(ctx, other); err != nil || !erased {
		t.Fatalf("erased by another instance: %v, %v", erased, err)
	}
	if _, _, err := c.Open(ctx, w); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("open after Erased reported the erasure: %v", err)
	}
	if erased, err := c.Erased(ctx, uuid.New()); err != nil || erased {
		t.Fatalf("a member without a key: erased %v, %v", erased, err)
	}
}

// failingErase is a store whose Erase fails.
type failingErase struct{ keyring.Store }

func (failingErase) Erase(context.Context, uuid.UUID) error { return errors.New("disk full") }

func TestFailedEraseLeavesTheMemberUsable(t *testing.T) {
	store, kp := newStore(t), newKeeper(t)
	k := newKeyring(t, failingErase{store}, kp)
	ctx := context.Background()
	m := uuid.New()
	v := seal(t, k, m, "Ada")
	if err := k.Erase(ctx, m); err == nil {
		t.Fatal("the failure was not reported")
	}
	if _, text, err := k.Open(ctx, v); err != nil || text != "Ada" {
		t.Fatalf("open after a failed erasure: %q, %v", text, err)
	}
	if erased, err := k.Erased(ctx, m); err != nil || erased {
		t.Fatalf("erased after a failed erasure: %v, %v", erased, err)
	}
}
