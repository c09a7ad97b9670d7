package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"gocloud.dev/secrets"
)

// Prefix starts every sealed string. Its first byte is a control
// character, which the domain refuses in every text a user types, so no
// typed text looks sealed. "k1" names the format described in the package
// documentation.
const Prefix = "\x01k1:"

// ErrNotSealed reports a string given to Open that does not start with
// Prefix.
var ErrNotSealed = errors.New("keyring: not a sealed string")

// ErrTampered reports a sealed string that fails authentication: it was
// changed, cut, or sealed under another key.
var ErrTampered = errors.New("keyring: sealed string fails authentication")

// KEKMeta is the meta name under which a store keeps the key-encryption
// key, wrapped by the master key.
const KEKMeta = "kek"

const (
	memberSize  = 16
	nonceSize   = 12
	tagSize     = 16
	aesKeySize  = 32
	dataKeySize = aesKeySize + 32 // AES-256 key, then HMAC-SHA256 key
	kekSize     = 32
	// wrapVersion is the first byte of a wrapped data key: version 1 is
	// nonce (12 bytes) | AES-256-GCM of the data key under the KEK, with
	// the member's UUID as additional data.
	wrapVersion = 1
	wrappedSize = 1 + nonceSize + dataKeySize + tagSize
)

// encoding is the base64 of sealed strings; Strict refuses the
// non-canonical spellings that would make two strings decode alike.
var encoding = base64.RawURLEncoding.Strict()

// dataKey is a member's unwrapped data key: the AES key, then the HMAC key.
type dataKey [dataKeySize]byte

// Keyring seals and opens members' personal strings with a data key per
// member, kept wrapped in a Store. It is safe for concurrent use.
type Keyring struct {
	store Store
	kek   cipher.AEAD

	mu sync.RWMutex
	// cache holds unwrapped data keys by member; a nil value marks a member
	// known to be erased (or being erased by this Keyring).
	cache map[uuid.UUID]*dataKey
	// ciphers holds the ciphers of the members used most recently, built
	// from their keys in cache: building AES-GCM and the HMAC for every
	// text cost more than sealing it. An entry is used only while cache
	// still holds the very key it was built from, and every change of a
	// member's entry in cache (erase, forget) drops it under mu.
	ciphers *lru.Cache[uuid.UUID, *memberCipher]
}

// CachedCiphers is how many members' ciphers a Keyring keeps ready (about
// a kilobyte each); the raw keys of every member used stay cached as
// well, at about a tenth of that.
const CachedCiphers = 1024

// memberCipher is a member's data key made ready for use.
type memberCipher struct {
	key  *dataKey // the cached key it was built from
	aead cipher.AEAD

	mu sync.Mutex // guards mac and sum
	// mac is HMAC-SHA256 under the key's HMAC half, made at the first
	// Seal: opening, which reading the log does for every member, does
	// not need it.
	mac hash.Hash
	sum []byte
}

// nonce returns the synthetic nonce of text: the first bytes of its HMAC.
func (c *memberCipher) nonce(text []byte) [nonceSize]byte {
	var nonce [nonceSize]byte
	c.mu.Lock()
	if c.mac == nil {
		c.mac = hmac.New(sha256.New, c.key[aesKeySize:])
	}
	c.mac.Reset()
	_, _ = c.mac.Write(text)
	c.sum = c.mac.Sum(c.sum[:0])
	copy(nonce[:], c.sum)
	c.mu.Unlock()
	return nonce
}

// New returns a Keyring over store. It unwraps the store's key-encryption
// key with keeper, the master key, making and storing one first when the
// store has none; this is the only call to keeper. keeper stays the
// caller's to close. An error from unwrapping usually means a master key
// other than the one the store was started with.
func New(ctx context.Context, store Store, keeper *secrets.Keeper) (*Keyring, error) {
	if store == nil || keeper == nil {
		return nil, errors.New("keyring: new: a store and a master key are needed")
	}
	wrapped, err := store.Meta(ctx, KEKMeta)
	if errors.Is(err, ErrNotFound) {
		wrapped, err = newKEK(ctx, store, keeper)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: new: key-encryption key: %w", err)
	}
	kek, err := keeper.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("keyring: new: the master key does not open the stored key-encryption key (is it the master key this store was started with?): %w", err)
	}
	if len(kek) != kekSize {
		return nil, fmt.Errorf("keyring: new: the key-encryption key is %d bytes, want %d", len(kek), kekSize)
	}
	aead, err := newGCM(kek)
	clear(kek)
	if err != nil {
		return nil, fmt.Errorf("keyring: new: %w", err)
	}
	return newKeyring(store, aead), nil
}

func newKeyring(store Store, kek cipher.AEAD) *Keyring {
	ciphers, err := lru.New[uuid.UUID, *memberCipher](CachedCiphers)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Keyring{store: store, kek: kek, cache: map[uuid.UUID]*dataKey{}, ciphers: ciphers}
}

// newKEK makes a key-encryption key, wraps it with the master key and
// stores it unless another process stored one first; it returns the stored
// one, wrapped.
func newKEK(ctx context.Context, store Store, keeper *secrets.Keeper) ([]byte, error) {
	kek := make([]byte, kekSize)
	if _, err := rand.Read(kek); err != nil {
		return nil, err
	}
	wrapped, err := keeper.Encrypt(ctx, kek)
	clear(kek)
	if err != nil {
		return nil, fmt.Errorf("wrap with the master key: %w", err)
	}
	return store.PutMeta(ctx, KEKMeta, wrapped)
}

// IsSealed reports whether s is a sealed string (by its prefix only; Open
// authenticates it).
func IsSealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// Seal encrypts text for member. The same text sealed for the same member
// always gives the same string. The member's data key is made on first
// use; the empty string stays empty. It returns an error wrapping
// ErrErased for an erased member.
func (k *Keyring) Seal(ctx context.Context, member uuid.UUID, text string) (string, error) {
	if text == "" {
		return "", nil
	}
	key, err := k.dataKey(ctx, member, true)
	if err != nil {
		return "", fmt.Errorf("keyring: seal for member %s: %w", member, err)
	}
	c, err := k.cipher(member, key)
	if err != nil {
		return "", fmt.Errorf("keyring: seal for member %s: %w", member, err)
	}
	plain := []byte(text)
	nonce := c.nonce(plain)

	raw := make([]byte, memberSize+nonceSize, memberSize+nonceSize+len(text)+tagSize)
	copy(raw, member[:])
	copy(raw[memberSize:], nonce[:])
	raw = c.aead.Seal(raw, nonce[:], plain, member[:])

	out := make([]byte, len(Prefix)+encoding.EncodedLen(len(raw)))
	copy(out, Prefix)
	encoding.Encode(out[len(Prefix):], raw)
	return string(out), nil
}

// Open decrypts a sealed string and returns the member it was sealed for
// and its text. Errors wrap ErrNotSealed for a string without Prefix,
// ErrTampered for one that fails authentication (and also ErrNotFound when
// it names a member without a key), and ErrErased for a string of an
// erased member; with ErrErased the member named by the string is returned
// too, so that callers can say whose data is gone.
func (k *Keyring) Open(ctx context.Context, sealed string) (uuid.UUID, string, error) {
	if !IsSealed(sealed) {
		return uuid.Nil, "", fmt.Errorf("keyring: open: %w", ErrNotSealed)
	}
	raw, err := encoding.DecodeString(sealed[len(Prefix):])
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("keyring: open: %w: not base64: %v", ErrTampered, err)
	}
	if len(raw) < memberSize+nonceSize+tagSize {
		return uuid.Nil, "", fmt.Errorf("keyring: open: %w: %d bytes is too short", ErrTampered, len(raw))
	}
	member := uuid.UUID(raw[:memberSize])
	key, err := k.dataKey(ctx, member, false)
	switch {
	case errors.Is(err, ErrErased):
		return member, "", fmt.Errorf("keyring: open a string sealed for member %s: %w", member, err)
	case errors.Is(err, ErrNotFound):
		return uuid.Nil, "", fmt.Errorf("keyring: open a string sealed for member %s: %w: the member has no key (%w)", member, ErrTampered, err)
	case err != nil:
		return uuid.Nil, "", fmt.Errorf("keyring: open a string sealed for member %s: %w", member, err)
	}
	c, err := k.cipher(member, key)
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("keyring: open: %w", err)
	}
	// The text is opened in place: raw is this call's own copy.
	ciphertext := raw[memberSize+nonceSize:]
	text, err := c.aead.Open(ciphertext[:0], raw[memberSize:memberSize+nonceSize], ciphertext, raw[:memberSize])
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("keyring: open a string sealed for member %s: %w", member, ErrTampered)
	}
	return member, string(text), nil
}

// Erase erases member's key in the store for good and drops the cached
// copy. Seal and Open of the member fail with ErrErased from the moment
// Erase is called; if the store fails to erase, the member is usable again
// and the error is returned. Erasing twice, or erasing a member that never
// had a key, is not an error.
func (k *Keyring) Erase(ctx context.Context, member uuid.UUID) error {
	k.mu.Lock()
	prev, had := k.cache[member]
	k.cache[member] = nil
	k.ciphers.Remove(member)
	k.mu.Unlock()
	if err := k.store.Erase(ctx, member); err != nil {
		if !had || prev != nil {
			k.mu.Lock()
			if cur, ok := k.cache[member]; ok && cur == nil {
				delete(k.cache, member)
			}
			k.mu.Unlock()
		}
		return fmt.Errorf("keyring: erase member %s: %w", member, err)
	}
	return nil
}

// Erased reports whether member's key was erased. Unless this Keyring
// erased it, it asks the store, so it sees erasures made by other
// processes sharing the store, and then drops any cached key.
func (k *Keyring) Erased(ctx context.Context, member uuid.UUID) (bool, error) {
	k.mu.RLock()
	key, ok := k.cache[member]
	k.mu.RUnlock()
	if ok && key == nil {
		return true, nil
	}
	_, err := k.store.Get(ctx, member)
	switch {
	case err == nil, errors.Is(err, ErrNotFound):
		return false, nil
	case errors.Is(err, ErrErased):
		k.mu.Lock()
		k.cache[member] = nil
		k.ciphers.Remove(member)
		k.mu.Unlock()
		return true, nil
	}
	return false, fmt.Errorf("keyring: erased member %s: %w", member, err)
}

// Forget drops member's cached key, if any, so that its next use asks the
// store. Where several processes share a store, call it when another
// process erased the member (Erase in this process needs no Forget).
func (k *Keyring) Forget(member uuid.UUID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.cache[member]; ok && key != nil {
		delete(k.cache, member)
	}
	k.ciphers.Remove(member)
}

// cipher returns the cipher of member's key, which dataKey just returned,
// from the cipher cache or built anew. A cipher built while the key left
// the cache (erased or forgotten meanwhile) serves this call only.
func (k *Keyring) cipher(member uuid.UUID, key *dataKey) (*memberCipher, error) {
	if c, ok := k.ciphers.Get(member); ok && c.key == key {
		return c, nil
	}
	aead, err := newGCM(key[:aesKeySize])
	if err != nil {
		return nil, err
	}
	c := &memberCipher{key: key, aead: aead}
	k.mu.RLock()
	if cur, ok := k.cache[member]; ok && cur == key {
		k.ciphers.Add(member, c)
	}
	k.mu.RUnlock()
	return c, nil
}

// dataKey returns member's unwrapped data key from the cache or the store,
// making one when create is set and the member has none.
func (k *Keyring) dataKey(ctx context.Context, member uuid.UUID, create bool) (*dataKey, error) {
	k.mu.RLock()
	key, ok := k.cache[member]
	k.mu.RUnlock()
	if ok {
		if key == nil {
			return nil, ErrErased
		}
		return key, nil
	}
	wrapped, err := k.store.Get(ctx, member)
	if errors.Is(err, ErrNotFound) && create {
		wrapped, err = k.create(ctx, member)
	}
	if errors.Is(err, ErrErased) {
		_, _ = k.remember(member, nil)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	key, err = k.unwrap(member, wrapped)
	if err != nil {
		return nil, err
	}
	return k.remember(member, key)
}

// create makes a data key for member and stores it, wrapped, unless
// another call stored one first, and returns the stored one.
func (k *Keyring) create(ctx context.Context, member uuid.UUID) ([]byte, error) {
	var key dataKey
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("make a data key: %w", err)
	}
	wrapped, err := k.wrap(member, &key)
	clear(key[:])
	if err != nil {
		return nil, err
	}
	return k.store.Create(ctx, member, wrapped)
}

// remember caches key (nil for an erased member) unless the cache already
// knows the member, and returns what the cache holds. A member marked
// erased stays erased, so a key fetched before Erase began is never cached
// after it.
func (k *Keyring) remember(member uuid.UUID, key *dataKey) (*dataKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	cur, ok := k.cache[member]
	if !ok {
		k.cache[member] = key
		cur = key
	}
	if cur == nil {
		return nil, ErrErased
	}
	return cur, nil
}

// wrap encrypts a data key with the KEK.
func (k *Keyring) wrap(member uuid.UUID, key *dataKey) ([]byte, error) {
	var nonce [nonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("wrap a data key: %w", err)
	}
	out := make([]byte, 1, wrappedSize)
	out[0] = wrapVersion
	out = append(out, nonce[:]...)
	return k.kek.Seal(out, nonce[:], key[:], member[:]), nil
}

// unwrap decrypts a wrapped data key with the KEK.
func (k *Keyring) unwrap(member uuid.UUID, wrapped []byte) (*dataKey, error) {
	if len(wrapped) != wrappedSize || wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("the stored key of member %s is not a wrapped data key (%d bytes)", member, len(wrapped))
	}
	var key dataKey
	plain, err := k.kek.Open(key[:0], wrapped[1:1+nonceSize], wrapped[1+nonceSize:], member[:])
	if err != nil || len(plain) != dataKeySize {
		return nil, fmt.Errorf("the stored key of member %s does not open with the key-encryption key", member)
	}
	return &key, nil
}

// newGCM returns AES-GCM with a 12-byte nonce under key.
func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
