package sealed

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/keyring"
)

// Keyring adapts a *keyring.Keyring to Keys.
func Keyring(k *keyring.Keyring) Keys { return keyringKeys{k} }

type keyringKeys struct{ k *keyring.Keyring }

func (a keyringKeys) Seal(ctx context.Context, member uuid.UUID, text string) (string, error) {
	return a.k.Seal(ctx, member, text)
}

func (a keyringKeys) Open(ctx context.Context, s string) (string, bool, error) {
	_, text, err := a.k.Open(ctx, s)
	if errors.Is(err, keyring.ErrErased) {
		return "", true, nil
	}
	return text, false, err
}

func (keyringKeys) IsSealed(s string) bool { return keyring.IsSealed(s) }

func (a keyringKeys) Forget(member uuid.UUID) { a.k.Forget(member) }
