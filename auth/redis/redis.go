// Package redis keeps the auth records in Redis, so that several API
// instances share sign-in tokens, reset tokens and rate counters, and tells
// the instances about each other's revocations over Redis pub/sub.
//
// Store implements auth.Store. Every key lives under one hash tag,
// {<prefix>:auth}, so that the whole store sits in one slot of a Redis
// Cluster and a transaction may span any of its keys. Records are JSON, as
// in auth/bolt; keys are token hashes, member IDs and role-and-email pairs,
// so Redis holds password hashes and token hashes but never a password or
// a token. Update methods run their function under WATCH and commit with
// MULTI/EXEC, running it again when another writer got there first.
//
// Sessions, reset tokens and rate states also carry a Redis expiry, so that
// Redis drops them without a sweep, ExpiryGrace after they expire. Their
// times come from the service's clock, which tests fake and an operator may
// shift, so the expiry is set relative to that clock (PX) rather than as a
// wall-clock instant.
//
// Revocations implements auth.Revocations on one pub/sub channel under the
// same prefix.
package redis

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// Options configure a Store and Revocations.
type Options struct {
	// Prefix namespaces the keys and the channel, so that several
	// deployments (or tests) share one Redis; it is required. Keys are
	// {<Prefix>:auth}:<kind>:<id>.
	Prefix string
	// Clock is the clock of the service using the store, required by New:
	// record times are read on it, and Redis expiries are set as the time
	// left on it.
	Clock clock.Clock
	// ExpiryGrace is how long Redis keeps an expired session, reset token
	// or rate state before dropping it (1 hour when 0). Until then the
	// service still tells an expired token from an unknown one, and Sweep
	// still counts it; it also absorbs clock skew between instances.
	ExpiryGrace time.Duration
	// Logger receives the log lines of Revocations about a lost link to
	// Redis and messages it cannot read (none when zero).
	Logger zerolog.Logger
}

// maxAttempts bounds how often an update runs again after a conflicting
// write, so that a key under constant contention yields an error rather
// than an endless loop.
const maxAttempts = 200

// readAttempts bounds how often CredentialByID reads the member index
// again after finding that the credentials it pointed at moved. A move
// takes a concurrent write, so a second read almost always settles it.
const readAttempts = 3

// sweepBatch is how many keys Sweep reads and deletes in one transaction.
const sweepBatch = 100

// Store keeps the auth records in Redis. It is safe for concurrent use,
// also from several processes: every write is one atomic transaction.
type Store struct {
	client goredis.UniversalClient
	keys   keys
	clock  clock.Clock
	grace  time.Duration
}

var _ auth.Store = (*Store)(nil)

// New returns a store over client under opts.Prefix. It does no I/O; the
// caller owns client and closes it after the last use of the store.
func New(client goredis.UniversalClient, opts Options) (*Store, error) {
	if client == nil || opts.Clock == nil {
		return nil, errors.New("auth store: a client and a clock are required")
	}
	k, err := newKeys(opts.Prefix)
	if err != nil {
		return nil, err
	}
	if opts.ExpiryGrace < 0 {
		return nil, errors.New("auth store: the expiry grace must not be negative")
	}
	if opts.ExpiryGrace == 0 {
		opts.ExpiryGrace = time.Hour
	}
	return &Store{client: client, keys: k, clock: opts.Clock, grace: opts.ExpiryGrace}, nil
}

// keys names the store's keys and channel under one hash tag.
type keys struct {
	base string // {<prefix>:auth}
}

func newKeys(prefix string) (keys, error) {
	if prefix == "" || strings.ContainsAny(prefix, "{}") {
		return keys{}, fmt.Errorf("auth store: prefix %q must be non-empty and without braces", prefix)
	}
	return keys{base: "{" + prefix + ":auth}"}, nil
}

// credential is the key of an account, its role and email key apart as in
// auth/bolt.
func (k keys) credential(role domain.Role, emailKey string) string {
	return k.base + ":cred:" + string(role) + "\x00" + emailKey
}

func (k keys) member(id uuid.UUID) string { return k.base + ":member:" + id.String() }

func (k keys) session(h auth.TokenHash) string {
	return k.base + ":session:" + hex.EncodeToString(h[:])
}

func (k keys) reset(h auth.TokenHash) string { return k.base + ":reset:" + hex.EncodeToString(h[:]) }

func (k keys) rate(key string) string { return k.base + ":rate:" + key }

func (k keys) revocations() string { return k.base + ":revocations" }

// pattern matches the keys of one kind, with the prefix escaped for SCAN.
func (k keys) pattern(kind string) string {
	var b strings.Builder
	for _, r := range k.base + ":" + kind + ":" {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}

// ttl is how long Redis keeps a record that expires at expires on the
// service's clock: the time left plus the grace, and never less than the
// grace, to the millisecond above.
func (s *Store) ttl(expires time.Time) time.Duration {
	d := max(expires.Sub(s.clock.Now()), 0) + s.grace
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// sessionExpiry is when a session stops working, whichever lifetime ends
// first.
func sessionExpiry(r auth.SessionRecord) time.Time {
	if r.IdleExpiresAt.Before(r.ExpiresAt) {
		return r.IdleExpiresAt
	}
	return r.ExpiresAt
}

// Credential returns the credentials of role and emailKey.
func (s *Store) Credential(ctx context.Context, role domain.Role, emailKey string) (auth.Credential, error) {
	var c auth.Credential
	if err := ctx.Err(); err != nil {
		return c, err
	}
	err := s.get(ctx, s.client, s.keys.credential(role, emailKey), &c)
	return c, wrap("get credential", err)
}

// CredentialByID returns the credentials of member id. It reads the member
// index and then the credentials it points at; when a concurrent write
// moved the member ID in between, it reads again.
func (s *Store) CredentialByID(ctx context.Context, id uuid.UUID) (auth.Credential, error) {
	if err := ctx.Err(); err != nil {
		return auth.Credential{}, err
	}
	for range readAttempts {
		key, err := s.client.Get(ctx, s.keys.member(id)).Result()
		if errors.Is(err, goredis.Nil) {
			return auth.Credential{}, auth.ErrNotFound
		}
		if err != nil {
			return auth.Credential{}, wrap("get credential by id", err)
		}
		var c auth.Credential
		switch err := s.get(ctx, s.client, key, &c); {
		case err == nil && c.MemberID == id:
			return c, nil
		case err != nil && !errors.Is(err, auth.ErrNotFound):
			return auth.Credential{}, wrap("get credential by id", err)
		}
	}
	return auth.Credential{}, auth.ErrNotFound
}

// UpdateCredential runs fn on the credentials of role and emailKey and
// stores the result, keeping the member index in step, in one transaction.
func (s *Store) UpdateCredential(ctx context.Context, role domain.Role, emailKey string, fn func(cur *auth.Credential) (*auth.Credential, error)) error {
	key := s.keys.credential(role, emailKey)
	var fnErr error
	err := s.transact(ctx, "update credential", func(tx *goredis.Tx) error {
		var old auth.Credential
		var cur *auth.Credential
		switch err := s.get(ctx, tx, key, &old); {
		case err == nil:
			c := old
			cur = &c
		case !errors.Is(err, auth.ErrNotFound):
			return err
		}
		next, err := fn(cur)
		if err != nil {
			fnErr = err
			return err
		}
		if next == nil && cur == nil {
			return nil
		}
		var data []byte
		if next != nil {
			if next.Role != role || next.EmailKey != emailKey {
				return auth.ErrKeyMismatch
			}
			if next.MemberID == uuid.Nil {
				return fmt.Errorf("credential without a member ID: %w", auth.ErrKeyMismatch)
			}
			if cur == nil || next.MemberID != old.MemberID {
				taken, err := s.taken(ctx, tx, s.keys.member(next.MemberID))
				if err != nil {
					return err
				}
				if taken {
					return auth.ErrExists
				}
			}
			if data, err = json.Marshal(next); err != nil {
				return err
			}
		}
		return s.commit(ctx, tx, func(p goredis.Pipeliner) {
			if cur != nil {
				p.Del(ctx, s.keys.member(old.MemberID))
			}
			if next == nil {
				p.Del(ctx, key)
				return
			}
			p.Set(ctx, s.keys.member(next.MemberID), key, 0)
			p.Set(ctx, key, data, 0)
		})
	}, key)
	if fnErr != nil {
		return fnErr
	}
	return err
}

// taken watches key, so that a write to it from now on voids the
// transaction, and reports whether it exists.
func (s *Store) taken(ctx context.Context, tx *goredis.Tx, key string) (bool, error) {
	if err := tx.Watch(ctx, key).Err(); err != nil {
		return false, err
	}
	n, err := tx.Exists(ctx, key).Result()
	return n > 0, err
}

// CreateSession stores a new session with SET NX, which refuses a taken
// hash in the same step.
func (s *Store) CreateSession(ctx context.Context, r auth.SessionRecord) error {
	return s.create(ctx, "create session", s.keys.session(r.Hash), r, sessionExpiry(r))
}

// Session returns the session of hash.
func (s *Store) Session(ctx context.Context, hash auth.TokenHash) (auth.SessionRecord, error) {
	var r auth.SessionRecord
	if err := ctx.Err(); err != nil {
		return r, err
	}
	err := s.get(ctx, s.client, s.keys.session(hash), &r)
	return r, wrap("get session", err)
}

// UpdateSession runs fn on the session of hash and stores the result with
// an expiry that follows the session's new lifetimes.
func (s *Store) UpdateSession(ctx context.Context, hash auth.TokenHash, fn func(*auth.SessionRecord) error) error {
	key := s.keys.session(hash)
	var fnErr error
	err := s.transact(ctx, "update session", func(tx *goredis.Tx) error {
		var r auth.SessionRecord
		if err := s.get(ctx, tx, key, &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			fnErr = err
			return err
		}
		if r.Hash != hash {
			return auth.ErrKeyMismatch
		}
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return s.commit(ctx, tx, func(p goredis.Pipeliner) {
			p.Set(ctx, key, data, s.ttl(sessionExpiry(r)))
		})
	}, key)
	if fnErr != nil {
		return fnErr
	}
	return err
}

// CreateReset stores a new reset token with SET NX.
func (s *Store) CreateReset(ctx context.Context, r auth.ResetRecord) error {
	return s.create(ctx, "create reset", s.keys.reset(r.Hash), r, r.ExpiresAt)
}

// TakeReset deletes and returns the reset token of hash with GETDEL, so
// that of two concurrent takers only one gets it.
func (s *Store) TakeReset(ctx context.Context, hash auth.TokenHash) (auth.ResetRecord, error) {
	var r auth.ResetRecord
	if err := ctx.Err(); err != nil {
		return r, err
	}
	data, err := s.client.GetDel(ctx, s.keys.reset(hash)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return r, auth.ErrNotFound
	}
	if err != nil {
		return r, wrap("take reset", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("auth store: take reset: decode: %w", err)
	}
	return r, nil
}

// UpdateRates runs fn on the states of keys and stores what it leaves, in
// one transaction over every key.
func (s *Store) UpdateRates(ctx context.Context, keys []string, fn func([]auth.RateState) error) error {
	redisKeys := make([]string, len(keys))
	for i, k := range keys {
		redisKeys[i] = s.keys.rate(k)
	}
	var fnErr error
	err := s.transact(ctx, "update rates", func(tx *goredis.Tx) error {
		states := make([]auth.RateState, len(keys))
		if len(keys) > 0 {
			values, err := tx.MGet(ctx, redisKeys...).Result()
			if err != nil {
				return err
			}
			for i, v := range values {
				if err := decode(v, &states[i]); err != nil {
					return fmt.Errorf("rate state %q: %w", keys[i], err)
				}
			}
		}
		if err := fn(states); err != nil {
			fnErr = err
			return err
		}
		data := make([][]byte, len(keys))
		for i, st := range states {
			if len(st.Hits) == 0 {
				continue
			}
			var err error
			if data[i], err = json.Marshal(st); err != nil {
				return err
			}
		}
		return s.commit(ctx, tx, func(p goredis.Pipeliner) {
			for i, k := range redisKeys {
				if data[i] == nil {
					p.Del(ctx, k)
				} else {
					p.Set(ctx, k, data[i], s.ttl(states[i].ExpiresAt))
				}
			}
		})
	}, redisKeys...)
	if fnErr != nil {
		return fnErr
	}
	return err
}

// Sweep deletes what has expired at now. It finds the sessions, reset
// tokens and rate states with SCAN on the node that holds the store's
// slot, and deletes the expired ones in transactions of up to sweepBatch
// keys that check each record again, so that a session used meanwhile
// stays.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	node, err := s.node(ctx)
	if err != nil {
		return 0, wrap("sweep", err)
	}
	sweeps := []struct {
		kind    string
		expired func([]byte) (bool, error)
	}{
		{"session", func(v []byte) (bool, error) {
			var r auth.SessionRecord
			err := json.Unmarshal(v, &r)
			return !now.Before(sessionExpiry(r)), err
		}},
		{"reset", func(v []byte) (bool, error) {
			var r auth.ResetRecord
			err := json.Unmarshal(v, &r)
			return !now.Before(r.ExpiresAt), err
		}},
		{"rate", func(v []byte) (bool, error) {
			var r auth.RateState
			err := json.Unmarshal(v, &r)
			return !now.Before(r.ExpiresAt), err
		}},
	}
	n := 0
	for _, sw := range sweeps {
		iter := node.Scan(ctx, 0, s.keys.pattern(sw.kind), 1000).Iterator()
		var batch []string
		flush := func() error {
			deleted, err := s.sweepBatch(ctx, batch, sw.expired)
			n += deleted
			batch = batch[:0]
			return err
		}
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == sweepBatch {
				if err := flush(); err != nil {
					return n, err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return n, wrap("sweep", err)
		}
		if err := flush(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// sweepBatch deletes those of keys whose records expired, and returns how
// many it deleted. Keys that Redis dropped since the scan are skipped.
func (s *Store) sweepBatch(ctx context.Context, keys []string, expired func([]byte) (bool, error)) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	n := 0
	err := s.transact(ctx, "sweep", func(tx *goredis.Tx) error {
		values, err := tx.MGet(ctx, keys...).Result()
		if err != nil {
			return err
		}
		var dead []string
		for i, v := range values {
			str, ok := v.(string)
			if !ok {
				continue
			}
			gone, err := expired([]byte(str))
			if err != nil {
				return fmt.Errorf("decode %s: %w", keys[i], err)
			}
			if gone {
				dead = append(dead, keys[i])
			}
		}
		n = len(dead)
		if n == 0 {
			return nil
		}
		return s.commit(ctx, tx, func(p goredis.Pipeliner) { p.Del(ctx, dead...) })
	}, keys...)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// node returns the client of the Redis that holds the store's slot, where
// SCAN must run: a cluster or a ring scans one node at a time.
func (s *Store) node(ctx context.Context) (goredis.Cmdable, error) {
	switch c := s.client.(type) {
	case *goredis.ClusterClient:
		return c.MasterForKey(ctx, s.keys.base)
	case *goredis.Ring:
		return c.GetShardClientForKey(s.keys.base)
	}
	return s.client, nil
}

// create stores v under key unless the key is taken, with the expiry of a
// record that stops working at expires.
func (s *Store) create(ctx context.Context, op, key string, v any, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("auth store: %s: %w", op, err)
	}
	ok, err := s.client.SetNX(ctx, key, data, s.ttl(expires)).Result()
	if err != nil {
		return wrap(op, err)
	}
	if !ok {
		return auth.ErrExists
	}
	return nil
}

// transact runs fn with keys watched until it commits without a
// conflicting write, backing off a little more after each conflict. fn
// returns nil after committing or when it has nothing to write. Errors of
// the store's contract are returned as they are, others wrapped with op.
func (s *Store) transact(ctx context.Context, op string, fn func(*goredis.Tx) error, keys ...string) error {
	for attempt := range maxAttempts {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := s.client.Watch(ctx, fn, keys...)
		if !errors.Is(err, goredis.TxFailedErr) {
			return wrap(op, err)
		}
		pause := time.Duration(rand.Int64N(int64(min(time.Millisecond<<min(attempt, 5), 20*time.Millisecond)) + 1))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("auth store: %s: %d conflicting writes in a row: %w", op, maxAttempts, goredis.TxFailedErr)
}

// commit writes what queue queues in one MULTI/EXEC, unless ctx ended
// while the update was computed.
func (s *Store) commit(ctx context.Context, tx *goredis.Tx, queue func(goredis.Pipeliner)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		queue(p)
		return nil
	})
	return err
}

// get decodes the record under key into v, or returns auth.ErrNotFound.
func (s *Store) get(ctx context.Context, c goredis.Cmdable, key string, v any) error {
	data, err := c.Get(ctx, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return auth.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %q: %w", key, err)
	}
	return nil
}

// decode decodes one MGET value into v, leaving v alone for a missing key.
func decode(value any, v any) error {
	str, ok := value.(string)
	if !ok {
		return nil
	}
	return json.Unmarshal([]byte(str), v)
}

// wrap prefixes err with the store and op, except for nil, the sentinel
// errors of the store's contract and context errors, which callers match
// as they are.
//
// Any other error but a refusal of the accounts' own (an *refusal.Error from
// a callback) is Redis failing to answer, and is marked
// auth.ErrUnavailable so that the API answers it as a temporary failure.
func wrap(op string, err error) error {
	var refusal *refusal.Error
	switch {
	case err == nil,
		errors.Is(err, auth.ErrNotFound), errors.Is(err, auth.ErrExists), errors.Is(err, auth.ErrKeyMismatch),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &refusal):
		return fmt.Errorf("auth store: %s: %w", op, err)
	}
	return fmt.Errorf("auth store: %s: %w: %w", op, auth.ErrUnavailable, err)
}
