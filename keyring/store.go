package keyring

import (
	"context"
	"errors"

	"github.com/google/uuid"
)

// ErrErased reports that a member's key was erased: nothing sealed for the
// member can be opened again, and no key can be created for the member
// again. Check it with errors.Is.
var ErrErased = errors.New("keyring: the member's key was erased")

// ErrNotFound reports that no key was ever created for a member (from
// Store.Get), or that a named value is absent (from Store.Meta).
var ErrNotFound = errors.New("keyring: not found")

// Store keeps each member's wrapped data key durably. The keys it holds are
// already encrypted (wrapped) by the key-encryption key, so a store never
// sees a key that can open anything by itself. Implementations are safe for
// concurrent use, by several goroutines and by several processes where the
// engine supports them; keyringtest.Run checks the contract.
type Store interface {
	// Create stores wrapped as member's key unless a key is stored
	// already, and returns the stored one: the given one, or the one stored
	// earlier. Concurrent Creates for one member, in one process or in
	// several, all return the same key. It returns an error wrapping
	// ErrErased for an erased member. The key is durable when Create
	// returns.
	Create(ctx context.Context, member uuid.UUID, wrapped []byte) ([]byte, error)
	// Get returns the member's wrapped key; an error wrapping ErrNotFound
	// when none was created, ErrErased after Erase.
	Get(ctx context.Context, member uuid.UUID) ([]byte, error)
	// Erase deletes the member's key for good and remembers the member as
	// erased, so that no key can be created for it again. It is
	// idempotent, and erasing a member that never had a key is remembered
	// too. When it returns, the key's bytes are gone from the store's
	// durable storage, or, where the engine cannot promise that (see its
	// documentation), will be gone after the engine's own clean-up.
	Erase(ctx context.Context, member uuid.UUID) error
	// Meta returns the small value stored under name, or an error wrapping
	// ErrNotFound when there is none.
	Meta(ctx context.Context, name string) ([]byte, error)
	// PutMeta stores value under name unless a value is stored already,
	// and returns the stored one (create-if-absent, like Create). It is
	// durable when PutMeta returns.
	PutMeta(ctx context.Context, name string, value []byte) ([]byte, error)
	// Close releases the store. Calls after Close fail.
	Close() error
}
