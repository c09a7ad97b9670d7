package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// Store is where the service keeps credentials, sessions, reset tokens and
// rate counters. The default adapter is auth/bolt (auth.db in the data
// directory); auth/redis shares them between instances. Every adapter
// passes the suite in auth/conformance. Nothing secret reaches a Store in
// clear: passwords arrive as argon2id hashes, tokens as SHA-256 hashes,
// rate keys as hashes of what they count.
//
// Update methods take a function and run it in one transaction with the
// current record, so that the rules live in the service and atomicity in
// the adapter. An adapter may run the function more than once (an
// optimistic one retries after a conflict), so it must only compute.
type Store interface {
	CredentialStore
	SessionStore
	ResetStore
	RateStore
	// Sweep deletes the sessions, reset tokens and rate states that have
	// expired at now, and returns how many records it deleted.
	Sweep(ctx context.Context, now time.Time) (int, error)
}

// Errors of Store adapters.
var (
	// ErrNotFound reports a record that does not exist.
	ErrNotFound = errors.New("auth store: not found")
	// ErrExists reports a record whose key (a token hash, a member ID) is
	// already taken.
	ErrExists = errors.New("auth store: already exists")
	// ErrKeyMismatch reports an update function that returned a record
	// under another key than the one it was given.
	ErrKeyMismatch = errors.New("auth store: record does not match its key")
)

// CredentialStatus is where an account's credentials stand.
type CredentialStatus string

// The statuses of credentials.
const (
	// StatusPending marks credentials whose account registration has not
	// been recorded yet. They never open a session.
	StatusPending CredentialStatus = "PENDING"
	// StatusActive marks the credentials of a registered account.
	StatusActive CredentialStatus = "ACTIVE"
)

// Credential is one account's sign-in record. An account is a role and an
// email: the same email may hold a mentee and a mentor account, each with
// its own member ID and password.
type Credential struct {
	// MemberID is the account's member ID; it is unique across
	// credentials.
	MemberID uuid.UUID
	// Role is the account's role, part of its key.
	Role domain.Role
	// EmailKey is the normalized (trimmed, lower-case) email, the other
	// part of the key.
	EmailKey string
	// Email is the email as first given, as recorded on the member.
	Email string
	// PasswordHash is the argon2id hash in PHC format.
	PasswordHash string
	// Status tells pending from active credentials.
	Status CredentialStatus
	// Attempt identifies the registration that is writing pending
	// credentials; empty when none is (active, or abandoned after a
	// failure and free to be taken over).
	Attempt string
	// AttemptAt is when Attempt began.
	AttemptAt time.Time
	// Generation counts password changes. A session or reset token is
	// valid only while the generation it was issued under is current, so
	// bumping it revokes them all in the same write as the new password.
	Generation uint64
	// CreatedAt is when the credentials were first written.
	CreatedAt time.Time
	// PasswordChangedAt is when the password was last set.
	PasswordChangedAt time.Time
}

// CredentialStore keeps credentials under their role and email key, with
// an index by member ID.
type CredentialStore interface {
	// Credential returns the credentials of role and emailKey, or
	// ErrNotFound.
	Credential(ctx context.Context, role domain.Role, emailKey string) (Credential, error)
	// CredentialByID returns the credentials of member id, or ErrNotFound.
	CredentialByID(ctx context.Context, id uuid.UUID) (Credential, error)
	// UpdateCredential calls fn with the credentials of role and emailKey
	// (nil when there are none) and stores what it returns in the same
	// transaction: a credential replaces the record, nil deletes it. When
	// fn fails, nothing changes and its error is returned as it is. The
	// returned credential must keep role and emailKey (ErrKeyMismatch) and
	// its MemberID must not belong to other credentials (ErrExists).
	UpdateCredential(ctx context.Context, role domain.Role, emailKey string, fn func(cur *Credential) (*Credential, error)) error
}

// SessionRecord is a signed-in session as stored: everything but the
// token, which only its holder knows.
type SessionRecord struct {
	// Hash is the SHA-256 hash of the session's token, its key.
	Hash TokenHash
	// MemberID and Role are the account the session acts for.
	MemberID uuid.UUID
	Role     domain.Role
	// Generation is the credentials' generation at sign-in.
	Generation uint64
	// ClientAddr is the address the session signed in from.
	ClientAddr string
	// CreatedAt is when the session began.
	CreatedAt time.Time
	// LastUsedAt is when the session was last seen, to a precision of the
	// service's touch interval.
	LastUsedAt time.Time
	// IdleExpiresAt is when the session ends unless it is used before.
	IdleExpiresAt time.Time
	// ExpiresAt is when the session ends however much it is used.
	ExpiresAt time.Time
	// RevokedAt is when the session was signed out; zero while it was not.
	RevokedAt time.Time
}

// SessionStore keeps sessions under their token hash.
type SessionStore interface {
	// CreateSession stores a new session, or fails with ErrExists when its
	// hash is taken.
	CreateSession(ctx context.Context, s SessionRecord) error
	// Session returns the session of hash, or ErrNotFound.
	Session(ctx context.Context, hash TokenHash) (SessionRecord, error)
	// UpdateSession calls fn with the session of hash and stores the
	// result in the same transaction; ErrNotFound when there is none. When
	// fn fails, nothing changes and its error is returned as it is. fn
	// must not change the hash (ErrKeyMismatch).
	UpdateSession(ctx context.Context, hash TokenHash, fn func(s *SessionRecord) error) error
}

// ResetRecord is an outstanding password reset token as stored.
type ResetRecord struct {
	// Hash is the SHA-256 hash of the reset token, its key.
	Hash TokenHash
	// MemberID is the account whose password the token resets.
	MemberID uuid.UUID
	// Generation is the credentials' generation when the token was
	// issued; any password change since voids the token.
	Generation uint64
	// CreatedAt is when the token was issued.
	CreatedAt time.Time
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
}

// ResetStore keeps reset tokens under their hash.
type ResetStore interface {
	// CreateReset stores a new reset token, or fails with ErrExists when
	// its hash is taken.
	CreateReset(ctx context.Context, r ResetRecord) error
	// TakeReset deletes the reset token of hash and returns it, in one
	// step, so that of two concurrent takers one gets ErrNotFound.
	TakeReset(ctx context.Context, hash TokenHash) (ResetRecord, error)
}

// RateState is what a rate limiter remembers about one key.
type RateState struct {
	// Hits are the times of the attempts still counted, oldest first.
	Hits []time.Time
	// ExpiresAt is when the state no longer matters; Sweep deletes it from
	// then on. A zero time means it may be deleted at once.
	ExpiresAt time.Time
}

// RateStore keeps the states of the rate limiters.
type RateStore interface {
	// UpdateRates calls fn with the states of keys (the zero RateState for
	// unknown keys), in the order of keys, and stores the states it leaves
	// in the same transaction; a state without hits is deleted. When fn
	// fails, nothing changes and its error is returned as it is.
	UpdateRates(ctx context.Context, keys []string, fn func(states []RateState) error) error
}
