// Package bolt is the default auth.Store: one bbolt file, auth.db, in the
// data directory, beside the event store's file. Each method is one bbolt
// transaction, durable when it returns. Records are JSON; keys are token
// hashes, member IDs and role-and-email pairs, so the file holds password
// hashes and token hashes but never a password or a token.
package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/internal/boltfile"
)

// FileName is the store's file inside the data directory.
const FileName = "auth.db"

var (
	bucketCredentials = []byte("credentials") // role \x00 email key -> credential
	bucketMembers     = []byte("members")     // member ID -> role \x00 email key
	bucketSessions    = []byte("sessions")    // token hash -> session
	bucketResets      = []byte("resets")      // token hash -> reset token
	bucketRates       = []byte("rates")       // rate key -> rate state
	bucketMeta        = []byte("meta")        // store-wide facts
	keyVersion        = []byte("version")
)

const layoutVersion = "1"

// Options tune the store. The zero value is usable.
type Options struct {
	// LockTimeout is how long Open waits for another process to release
	// the file (1 s when 0).
	LockTimeout time.Duration
	// NoSync skips fsync, for tests that need speed more than durability.
	NoSync bool
}

// Store keeps the auth records in a bbolt file. It is safe for concurrent
// use.
type Store struct {
	// mu keeps every transaction out while Compact replaces db.
	mu   sync.RWMutex
	db   *bbolt.DB
	opts *bbolt.Options
}

var _ auth.Store = (*Store)(nil)

// Open opens (creating when missing) dir/auth.db. The file is readable by
// its owner only.
func Open(dir string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth store: %w", err)
	}
	bopts := &bbolt.Options{Timeout: opts.LockTimeout, NoSync: opts.NoSync}
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, bopts)
	if err != nil {
		return nil, fmt.Errorf("auth store: open %s: %w", FileName, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketCredentials, bucketMembers, bucketSessions, bucketResets, bucketRates, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keyVersion); {
		case v == nil:
			return meta.Put(keyVersion, []byte(layoutVersion))
		case string(v) != layoutVersion:
			return fmt.Errorf("layout version %q, want %q", v, layoutVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("auth store: %w", err)
	}
	return &Store{db: db, opts: bopts}, nil
}

// Close closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	return s.db.Close()
}

// Compact rewrites auth.db without its free pages, where bbolt leaves the
// bytes of deleted records: after an account is deleted for an erasure,
// its email must leave the file too.
func (s *Store) Compact(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	db, err := boltfile.Compact(s.db, s.opts)
	if db != nil {
		s.db = db
	} else {
		s.db = nil
	}
	if err != nil {
		return fmt.Errorf("auth store: %w", err)
	}
	return nil
}

func (s *Store) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return fmt.Errorf("auth store: %w", auth.ErrUnavailable)
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return fmt.Errorf("auth store: %w", auth.ErrUnavailable)
	}
	return s.db.Update(fn)
}

// credentialKey is the key of an account: its role and email key.
func credentialKey(role domain.Role, emailKey string) []byte {
	return append(append([]byte(role), 0), emailKey...)
}

// Credential returns the credentials of role and emailKey.
func (s *Store) Credential(ctx context.Context, role domain.Role, emailKey string) (auth.Credential, error) {
	var c auth.Credential
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return getJSON(tx.Bucket(bucketCredentials), credentialKey(role, emailKey), &c)
	})
	return c, err
}

// CredentialByID returns the credentials of member id.
func (s *Store) CredentialByID(ctx context.Context, id uuid.UUID) (auth.Credential, error) {
	var c auth.Credential
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		key := tx.Bucket(bucketMembers).Get(id[:])
		if key == nil {
			return auth.ErrNotFound
		}
		return getJSON(tx.Bucket(bucketCredentials), key, &c)
	})
	return c, err
}

// UpdateCredential runs fn on the credentials of role and emailKey and
// stores the result, keeping the member index in step.
func (s *Store) UpdateCredential(ctx context.Context, role domain.Role, emailKey string, fn func(cur *auth.Credential) (*auth.Credential, error)) error {
	key := credentialKey(role, emailKey)
	return s.update(ctx, func(tx *bbolt.Tx) error {
		creds, members := tx.Bucket(bucketCredentials), tx.Bucket(bucketMembers)
		var cur *auth.Credential
		var old auth.Credential
		switch err := getJSON(creds, key, &old); {
		case err == nil:
			c := old
			cur = &c
		case !errors.Is(err, auth.ErrNotFound):
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if cur != nil {
			if err := members.Delete(old.MemberID[:]); err != nil {
				return err
			}
		}
		if next == nil {
			return creds.Delete(key)
		}
		if next.Role != role || next.EmailKey != emailKey {
			return auth.ErrKeyMismatch
		}
		if next.MemberID == uuid.Nil {
			return fmt.Errorf("credential without a member ID: %w", auth.ErrKeyMismatch)
		}
		if members.Get(next.MemberID[:]) != nil {
			return auth.ErrExists
		}
		if err := members.Put(next.MemberID[:], key); err != nil {
			return err
		}
		return putJSON(creds, key, next)
	})
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, r auth.SessionRecord) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if b.Get(r.Hash[:]) != nil {
			return auth.ErrExists
		}
		return putJSON(b, r.Hash[:], r)
	})
}

// Session returns the session of hash.
func (s *Store) Session(ctx context.Context, hash auth.TokenHash) (auth.SessionRecord, error) {
	var r auth.SessionRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return getJSON(tx.Bucket(bucketSessions), hash[:], &r)
	})
	return r, err
}

// UpdateSession runs fn on the session of hash and stores the result.
func (s *Store) UpdateSession(ctx context.Context, hash auth.TokenHash, fn func(*auth.SessionRecord) error) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var r auth.SessionRecord
		if err := getJSON(b, hash[:], &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		if r.Hash != hash {
			return auth.ErrKeyMismatch
		}
		return putJSON(b, hash[:], r)
	})
}

// CreateReset stores a new reset token.
func (s *Store) CreateReset(ctx context.Context, r auth.ResetRecord) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketResets)
		if b.Get(r.Hash[:]) != nil {
			return auth.ErrExists
		}
		return putJSON(b, r.Hash[:], r)
	})
}

// TakeReset deletes and returns the reset token of hash.
func (s *Store) TakeReset(ctx context.Context, hash auth.TokenHash) (auth.ResetRecord, error) {
	var r auth.ResetRecord
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketResets)
		if err := getJSON(b, hash[:], &r); err != nil {
			return err
		}
		return b.Delete(hash[:])
	})
	return r, err
}

// UpdateRates runs fn on the states of keys and stores what it leaves.
func (s *Store) UpdateRates(ctx context.Context, keys []string, fn func([]auth.RateState) error) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRates)
		states := make([]auth.RateState, len(keys))
		for i, k := range keys {
			if err := getJSON(b, []byte(k), &states[i]); err != nil && !errors.Is(err, auth.ErrNotFound) {
				return err
			}
		}
		if err := fn(states); err != nil {
			return err
		}
		for i, k := range keys {
			var err error
			if len(states[i].Hits) == 0 {
				err = b.Delete([]byte(k))
			} else {
				err = putJSON(b, []byte(k), states[i])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Sweep deletes what has expired at now.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		sweeps := []struct {
			bucket  []byte
			expired func([]byte) (bool, error)
		}{
			{bucketSessions, func(v []byte) (bool, error) {
				var r auth.SessionRecord
				err := json.Unmarshal(v, &r)
				return !now.Before(r.ExpiresAt) || !now.Before(r.IdleExpiresAt), err
			}},
			{bucketResets, func(v []byte) (bool, error) {
				var r auth.ResetRecord
				err := json.Unmarshal(v, &r)
				return !now.Before(r.ExpiresAt), err
			}},
			{bucketRates, func(v []byte) (bool, error) {
				var r auth.RateState
				err := json.Unmarshal(v, &r)
				return !now.Before(r.ExpiresAt), err
			}},
		}
		for _, sw := range sweeps {
			gone, err := deleteWhere(tx, sw.bucket, sw.expired)
			if err != nil {
				return err
			}
			n += gone
		}
		return nil
	})
	return n, err
}

// deleteWhere deletes the records of a bucket that gone picks, and
// returns how many went.
func deleteWhere(tx *bbolt.Tx, bucket []byte, gone func(v []byte) (bool, error)) (int, error) {
	var dead [][]byte
	b := tx.Bucket(bucket)
	err := b.ForEach(func(k, v []byte) error {
		g, err := gone(v)
		if err != nil {
			return fmt.Errorf("%s %x: %w", bucket, k, err)
		}
		if g {
			dead = append(dead, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}

func getJSON(b *bbolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return auth.ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("auth store: decode record %x: %w", key, err)
	}
	return nil
}

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// CopyFile writes a consistent copy of auth.db, as of one read
// transaction, to path, while the store stays in use: for backups.
func (s *Store) CopyFile(path string) error {
	return s.view(context.Background(), func(tx *bbolt.Tx) error { return tx.CopyFile(path, 0o600) })
}

// DeleteMember deletes every session and password-reset record of member,
// for their erasure: the records hold no name or email, but the addresses
// the member signed in from. It returns how many records went.
func (s *Store) DeleteMember(ctx context.Context, member uuid.UUID) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		for _, name := range [][]byte{bucketSessions, bucketResets} {
			gone, err := deleteWhere(tx, name, func(v []byte) (bool, error) {
				var r struct {
					MemberID uuid.UUID
				}
				err := json.Unmarshal(v, &r)
				return r.MemberID == member, err
			})
			if err != nil {
				return err
			}
			n += gone
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("auth store: delete member: %w", err)
	}
	return n, nil
}
