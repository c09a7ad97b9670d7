// Package keyringtest is the conformance suite that every keyring.Store
// engine runs, so that the engines keep one contract.
package keyringtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"

	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/filestore"
)

// Run runs the suite. open returns a store over the storage of the test t:
// the first call for a t gets empty storage, and later calls for the same
// t (after the suite closed the store it had) open the same storage again,
// as a restarted process would. The suite closes every store it opens.
func Run(t *testing.T, open func(t *testing.T) keyring.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) keyring.Store)
	}{
		{"CreateGet", testCreateGet},
		{"CreateRace", testCreateRace},
		{"EraseThenGetCreate", testEraseThenGetCreate},
		{"EraseIdempotent", testEraseIdempotent},
		{"EraseNeverCreated", testEraseNeverCreated},
		{"EraseKeepsOthers", testEraseKeepsOthers},
		{"EraseRacesCreate", testEraseRacesCreate},
		{"Meta", testMeta},
		{"Reopen", testReopen},
		{"SealOpenAcrossReopen", testSealOpenAcrossReopen},
		{"Tampered", testTampered},
		{"OpenErased", testOpenErased},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// opened returns open(t) and closes it when the test ends unless close
// was called on it first.
func opened(t *testing.T, open func(t *testing.T) keyring.Store) (keyring.Store, func()) {
	t.Helper()
	s := open(t)
	var once sync.Once
	closer := func() {
		once.Do(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(closer)
	return s, closer
}

// wrapped is a stand-in for a wrapped key: the stores treat keys as opaque.
func wrapped(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 93)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustCreate(t *testing.T, s keyring.Store, member uuid.UUID, key []byte) []byte {
	t.Helper()
	got, err := s.Create(context.Background(), member, key)
	if err != nil {
		t.Fatalf("create %s: %v", member, err)
	}
	return got
}

func wantGet(t *testing.T, s keyring.Store, member uuid.UUID, want []byte, wantErr error) {
	t.Helper()
	got, err := s.Get(context.Background(), member)
	switch {
	case wantErr != nil && !errors.Is(err, wantErr):
		t.Fatalf("get %s: got %x, %v; want %v", member, got, err, wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("get %s: %v", member, err)
	case wantErr == nil && !bytes.Equal(got, want):
		t.Fatalf("get %s: got %x, want %x", member, got, want)
	}
}

func testCreateGet(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, _ := opened(t, open)
	ctx := context.Background()
	m := uuid.New()
	wantGet(t, s, m, nil, keyring.ErrNotFound)
	first := wrapped(t)
	if got := mustCreate(t, s, m, first); !bytes.Equal(got, first) {
		t.Fatalf("the first create returned %x, want the given %x", got, first)
	}
	wantGet(t, s, m, first, nil)
	if got := mustCreate(t, s, m, wrapped(t)); !bytes.Equal(got, first) {
		t.Fatalf("a second create returned %x, want the stored %x", got, first)
	}
	wantGet(t, s, m, first, nil)
	wantGet(t, s, uuid.New(), nil, keyring.ErrNotFound)
	// The returned slice is the caller's.
	got, err := s.Get(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	got[0] ^= 0xff
	wantGet(t, s, m, first, nil)
}

func testCreateRace(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, _ := opened(t, open)
	for round := range 3 {
		m := uuid.New()
		const n = 16
		results := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				key := make([]byte, 93)
				key[0] = byte(i)
				_, _ = rand.Read(key[1:])
				<-start
				results[i], errs[i] = s.Create(context.Background(), m, key)
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d: create %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(results[i], results[0]) {
				t.Fatalf("round %d: creates %d and 0 returned different keys: %x and %x", round, i, results[i], results[0])
			}
		}
		wantGet(t, s, m, results[0], nil)
	}
}

func testEraseThenGetCreate(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, _ := opened(t, open)
	ctx := context.Background()
	m := uuid.New()
	mustCreate(t, s, m, wrapped(t))
	if err := s.Erase(ctx, m); err != nil {
		t.Fatal(err)
	}
	wantGet(t, s, m, nil, keyring.ErrErased)
	if got, err := s.Create(ctx, m, wrapped(t)); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("create after erase: got %x, %v; want ErrErased", got, err)
	}
	wantGet(t, s, m, nil, keyring.ErrErased)
}

func testEraseIdempotent(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, _ := opened(t, open)
	ctx := context.Background()
	m := uuid.New()
	mustCreate(t, s, m, wrapped(t))
	for i := range 3 {
		if err := s.Erase(ctx, m); err != nil {
			t.Fatalf("erase %d: %v", i+1, err)
		}
	}
	wantGet(t, s, m, nil, keyring.ErrErased)
}

func testEraseNeverCreated(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, closeStore := opened(t, open)
	ctx := context.Background()
	m := uuid.New()
	if err := s.Erase(ctx, m); err != nil {
		t.Fatal(err)
	}
	wantGet(t, s, m, nil, keyring.ErrErased)
	if _, err := s.Create(ctx, m, wrapped(t)); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("create for a member erased before it had a key: %v, want ErrErased", err)
	}
	closeStore()
	s, _ = opened(t, open)
	wantGet(t, s, m, nil, keyring.ErrErased)
	if _, err := s.Create(ctx, m, wrapped(t)); !errors.Is(err, keyring.ErrErased) {
		t.Fatalf("create after reopening: %v, want ErrErased", err)
	}
}

func testEraseKeepsOthers(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, _ := opened(t, open)
	ctx := context.Background()
	keys := map[uuid.UUID][]byte{}
	for range 5 {
		m := uuid.New()
		keys[m] = mustCreate(t, s, m, wrapped(t))
	}
	var gone uuid.UUID
	for m := range keys {
		gone = m
		break
	}
	if err := s.Erase(ctx, gone); err != nil {
		t.Fatal(err)
	}
	for m, k := range keys {
		if m == gone {
			wantGet(t, s, m, nil, keyring.ErrErased)
		} else {
			wantGet(t, s, m, k, nil)
		}
	}
}

// Creates racing with an Erase of the same member: whatever interleaving
// happens, the member ends erased and every Create that succeeded returned
// the one key.
func testEraseRacesCreate(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, _ := opened(t, open)
	ctx := context.Background()
	for range 3 {
		m := uuid.New()
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen [][]byte
		)
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				key := wrapped(t)
				<-start
				got, err := s.Create(ctx, m, key)
				if err != nil && !errors.Is(err, keyring.ErrErased) {
					t.Errorf("create: %v", err)
				}
				if err == nil {
					mu.Lock()
					seen = append(seen, got)
					mu.Unlock()
				}
			})
		}
		wg.Go(func() {
			<-start
			if err := s.Erase(ctx, m); err != nil {
				t.Errorf("erase: %v", err)
			}
		})
		close(start)
		wg.Wait()
		for _, k := range seen {
			if !bytes.Equal(k, seen[0]) {
				t.Fatalf("creates returned different keys: %x and %x", k, seen[0])
			}
		}
		wantGet(t, s, m, nil, keyring.ErrErased)
	}
}

func testMeta(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, _ := opened(t, open)
	ctx := context.Background()
	if v, err := s.Meta(ctx, "kek"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("meta before put: %x, %v; want ErrNotFound", v, err)
	}
	first := wrapped(t)
	if got, err := s.PutMeta(ctx, "kek", first); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("first put: %x, %v; want %x", got, err, first)
	}
	if got, err := s.PutMeta(ctx, "kek", wrapped(t)); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("second put: %x, %v; want the stored %x", got, err, first)
	}
	if got, err := s.Meta(ctx, "kek"); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("meta: %x, %v; want %x", got, err, first)
	}
	other := wrapped(t)
	if got, err := s.PutMeta(ctx, "other", other); err != nil || !bytes.Equal(got, other) {
		t.Fatalf("a second name: %x, %v; want %x", got, err, other)
	}
	// Names and members do not mix.
	wantGet(t, s, uuid.Nil, nil, keyring.ErrNotFound)

	const n = 16
	results := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, err := s.PutMeta(ctx, "raced", wrapped(t))
			if err != nil {
				t.Errorf("put %d: %v", i, err)
			}
			results[i] = v
		})
	}
	wg.Wait()
	for i := range n {
		if !bytes.Equal(results[i], results[0]) {
			t.Fatalf("racing puts returned different values")
		}
	}
}

func testReopen(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, closeStore := opened(t, open)
	ctx := context.Background()
	keys := map[uuid.UUID][]byte{}
	for range 10 {
		m := uuid.New()
		keys[m] = mustCreate(t, s, m, wrapped(t))
	}
	erasedMember, neverMember := uuid.New(), uuid.New()
	mustCreate(t, s, erasedMember, wrapped(t))
	if err := s.Erase(ctx, erasedMember); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, neverMember); err != nil {
		t.Fatal(err)
	}
	meta := wrapped(t)
	if _, err := s.PutMeta(ctx, "kek", meta); err != nil {
		t.Fatal(err)
	}
	closeStore()
	if _, err := s.Get(ctx, erasedMember); err == nil {
		t.Fatal("get on a closed store succeeded")
	}

	for round := range 2 {
		s, closeStore = opened(t, open)
		for m, k := range keys {
			wantGet(t, s, m, k, nil)
		}
		wantGet(t, s, erasedMember, nil, keyring.ErrErased)
		wantGet(t, s, neverMember, nil, keyring.ErrErased)
		if got, err := s.Meta(ctx, "kek"); err != nil || !bytes.Equal(got, meta) {
			t.Fatalf("round %d: meta after reopening: %x, %v", round, got, err)
		}
		// The reopened store goes on creating.
		m := uuid.New()
		keys[m] = mustCreate(t, s, m, wrapped(t))
		closeStore()
	}
}

// keeper is a master key for the test, the same for every Keyring of it.
func keeper(t *testing.T) *secrets.Keeper {
	t.Helper()
	k, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	kp := localsecrets.NewKeeper(k)
	t.Cleanup(func() { _ = kp.Close() })
	return kp
}

func newKeyring(t *testing.T, s keyring.Store, kp *secrets.Keeper) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New(context.Background(), s, kp)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testSealOpenAcrossReopen(t *testing.T, open func(t *testing.T) keyring.Store) {
	kp := keeper(t)
	s, closeStore := opened(t, open)
	ctx := context.Background()
	k := newKeyring(t, s, kp)
	texts := map[uuid.UUID]string{uuid.New(): "Ada Lovelace", uuid.New(): "ada@example.org", uuid.New(): "Grüße, 日本"}
	sealed := map[uuid.UUID]string{}
	for m, text := range texts {
		v, err := k.Seal(ctx, m, text)
		if err != nil {
			t.Fatal(err)
		}
		if !keyring.IsSealed(v) || strings.Contains(v, text) {
			t.Fatalf("sealed %q as %q", text, v)
		}
		sealed[m] = v
	}
	closeStore()

	s, _ = opened(t, open)
	k = newKeyring(t, s, kp)
	for m, v := range sealed {
		gotM, got, err := k.Open(ctx, v)
		if err != nil || gotM != m || got != texts[m] {
			t.Fatalf("open after reopening: %s, %q, %v; want %s, %q", gotM, got, err, m, texts[m])
		}
		// Sealing again after the restart gives the same string, as a
		// retried append needs.
		again, err := k.Seal(ctx, m, texts[m])
		if err != nil || again != v {
			t.Fatalf("sealing again after reopening gave %q, %v; want %q", again, err, v)
		}
	}
}

func testTampered(t *testing.T, open func(t *testing.T) keyring.Store) {
	s, _ := opened(t, open)
	ctx := context.Background()
	k := newKeyring(t, s, keeper(t))
	m := uuid.New()
	v, err := k.Seal(ctx, m, "the meeting notes")
	if err != nil {
		t.Fatal(err)
	}
	body := v[len(keyring.Prefix):]
	// Change one character at every place past the member's ID (the first
	// 22 characters cover its 16 bytes), keeping it base64.
	for i := 22; i < len(body); i++ {
		c := byte('A')
		if body[i] == 'A' {
			c = 'B'
		}
		changed := keyring.Prefix + body[:i] + string(c) + body[i+1:]
		if _, text, err := k.Open(ctx, changed); !errors.Is(err, keyring.ErrTampered) {
			t.Fatalf("changed character %d: got %q, %v; want ErrTampered", i, text, err)
		}
	}
	if _, _, err := k.Open(ctx, v[:len(v)-4]); !errors.Is(err, keyring.ErrTampered) {
		t.Fatalf("cut short: %v, want ErrTampered", err)
	}
	// The string of one member presented as another's.
	other := uuid.New()
	if _, err := k.Seal(ctx, other, "x"); err != nil {
		t.Fatal(err)
	}
	raw := []byte(v)
	swapped, err := k.Seal(ctx, other, "the meeting notes")
	if err != nil {
		t.Fatal(err)
	}
	forged := string(raw[:len(keyring.Prefix)]) + swapped[len(keyring.Prefix):len(keyring.Prefix)+22] + body[22:]
	if _, _, err := k.Open(ctx, forged); !errors.Is(err, keyring.ErrTampered) {
		t.Fatalf("another member's ID on the string: %v, want ErrTampered", err)
	}
	if _, _, err := k.Open(ctx, "the meeting notes"); !errors.Is(err, keyring.ErrNotSealed) {
		t.Fatalf("plain text: %v, want ErrNotSealed", err)
	}
}

func testOpenErased(t *testing.T, open func(t *testing.T) keyring.Store) {
	kp := keeper(t)
	s, closeStore := opened(t, open)
	ctx := context.Background()
	k := newKeyring(t, s, kp)
	m, kept := uuid.New(), uuid.New()
	v, err := k.Seal(ctx, m, "Ada Lovelace")
	if err != nil {
		t.Fatal(err)
	}
	w, err := k.Seal(ctx, kept, "Charles Babbage")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Erase(ctx, m); err != nil {
		t.Fatal(err)
	}
	check := func(k *keyring.Keyring) {
		t.Helper()
		gotM, text, err := k.Open(ctx, v)
		if !errors.Is(err, keyring.ErrErased) || text != "" || gotM != m {
			t.Fatalf("open an erased member's string: %s, %q, %v; want %s and ErrErased", gotM, text, err, m)
		}
		if _, err := k.Seal(ctx, m, "again"); !errors.Is(err, keyring.ErrErased) {
			t.Fatalf("seal for an erased member: %v, want ErrErased", err)
		}
		if erased, err := k.Erased(ctx, m); err != nil || !erased {
			t.Fatalf("erased = %v, %v; want true", erased, err)
		}
		if _, text, err := k.Open(ctx, w); err != nil || text != "Charles Babbage" {
			t.Fatalf("another member's string: %q, %v", text, err)
		}
	}
	check(k)
	closeStore()
	s, _ = opened(t, open)
	check(newKeyring(t, s, kp))
}

// Local returns a keyring over a file store in dir and a random local
// master key, all closed when tb ends: the keys of a test or benchmark
// that needs members' keys but not a particular engine.
func Local(tb testing.TB, dir string) *keyring.Keyring {
	tb.Helper()
	s, err := filestore.Open(filepath.Join(dir, "keys.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	master, err := localsecrets.NewRandomKey()
	if err != nil {
		tb.Fatal(err)
	}
	kp := localsecrets.NewKeeper(master)
	tb.Cleanup(func() { _ = kp.Close() })
	k, err := keyring.New(context.Background(), s, kp)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
