package auth

import (
	"context"
	"errors"
	"math"

	"github.com/google/uuid"
)

// memberDeleter is a store that deletes a member's sessions and resets.
type memberDeleter interface {
	DeleteMember(ctx context.Context, member uuid.UUID) (int, error)
}

// DeleteAccount removes a member's credentials, for their erasure: the
// login email and the password hash are deleted, and every session of the
// member stops working at once (a session is valid only with its
// account's credentials), here and, with Options.Revocations, on the other
// instances. An account that has no credentials (a member staff
// registered without a password, or one deleted before) is done already.
func (s *Service) DeleteAccount(ctx context.Context, member uuid.UUID) error {
	cred, err := s.store.CredentialByID(ctx, member)
	if errors.Is(err, ErrNotFound) {
		if d, ok := s.store.(memberDeleter); ok {
			if _, err := d.DeleteMember(ctx, member); err != nil {
				return wrapInternal("delete account", err)
			}
		}
		s.revoke(ctx, Revocation{Reason: RevokedAccountClosed, Member: member, Generation: math.MaxUint64})
		return nil
	}
	if err != nil {
		return wrapInternal("delete account", err)
	}
	err = s.store.UpdateCredential(ctx, cred.Role, cred.EmailKey, func(cur *Credential) (*Credential, error) {
		if cur == nil || cur.MemberID != member {
			return cur, nil
		}
		return nil, nil
	})
	if err != nil {
		return wrapInternal("delete account", err)
	}
	// Sessions and reset links stop working without the credentials; a
	// store that can also delete their records (the addresses signed in
	// from) does. Elsewhere they expire.
	if d, ok := s.store.(memberDeleter); ok {
		if _, err := d.DeleteMember(ctx, member); err != nil {
			return wrapInternal("delete account", err)
		}
	}
	s.revoke(ctx, Revocation{Reason: RevokedAccountClosed, Member: member, Generation: math.MaxUint64})
	s.logger(ctx).Info().Str("member_id", member.String()).Msg("account deleted; sessions ended")
	return nil
}
