package kurrent

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/keyring"
)

// KeyStreamPrefix starts, after the namespace, the name of every stream
// the key store writes. The engine keeps such streams out of ReadAll,
// SubscribeAll, Head and Verify, and refuses them to Append, ReadStream and
// VerifyStream, so that the application never sees or writes them.
const KeyStreamPrefix = "keyring."

// Event types of the key streams.
const (
	keyCreatedType = "KeyCreated"
	metaStoredType = "MetaStored"
)

// KeyStore is the KurrentDB keyring.Store: each member's wrapped data key
// is the one event of a stream of its own, and each named value (the
// wrapped key-encryption key) likewise.
//
//   - Create appends to the member's stream expecting it not to exist;
//     when another writer got there first, the server refuses and Create
//     reads the stored key, so concurrent Creates in any number of
//     processes agree. A retried attempt carries the same event ID, which
//     the server deduplicates.
//   - Erase tombstones the member's stream. KurrentDB refuses every later
//     read of or append to a tombstoned stream, which makes the erasure
//     permanent: no key can be created for the member again, and
//     tombstoning a stream that never existed remembers the member too.
//   - The bytes of a tombstoned stream's events leave the server's disk
//     when the server scavenges (KurrentDB's compaction, started by an
//     operator or on a schedule), not when Erase returns. Until then they
//     stay in the database files, and in $all for readers that do not
//     filter them, wrapped by the key-encryption key. Run scavenges as
//     often as erasures need to be final.
//
// Streams are named KeyStreamPrefix + "member." + the member's UUID in hex
// (no dashes, so KurrentDB's by-category projection makes no category
// stream per member), and KeyStreamPrefix + "meta." + the name, under the
// store's namespace.
//
// It has been tested against kurrenttest, the protocol-level server in this
// repository, which models tombstones as the client library and
// KurrentDB's gRPC service describe them; against a real KurrentDB only
// when KURRENTDB_URL is set, when the conformance suite runs there too.
type KeyStore struct {
	s      *Store
	own    bool // Close closes s
	closed atomic.Bool
}

var _ keyring.Store = (*KeyStore)(nil)

// Keys returns the key store in this store's database and namespace,
// sharing its connection. Closing the key store leaves the event store
// open.
func (s *Store) Keys() *KeyStore { return &KeyStore{s: s} }

// OpenKeyStore opens a key store with a connection of its own, which its
// Close closes; see Open for the arguments.
func OpenKeyStore(ctx context.Context, connString string, opts Options) (*KeyStore, error) {
	s, err := Open(ctx, connString, opts)
	if err != nil {
		return nil, fmt.Errorf("open key store: %w", err)
	}
	return &KeyStore{s: s, own: true}, nil
}

// Close closes the key store, and its connection if it has its own.
// Calls after Close return eventstore.ErrClosed.
func (k *KeyStore) Close() error {
	if k.closed.Swap(true) || !k.own {
		return nil
	}
	return k.s.Close()
}

// memberStream is the server name of a member's key stream.
func (k *KeyStore) memberStream(member uuid.UUID) string {
	return k.s.serverName(KeyStreamPrefix + "member." + hex.EncodeToString(member[:]))
}

// metaStream is the server name of a named value's stream.
func (k *KeyStore) metaStream(name string) string {
	return k.s.serverName(KeyStreamPrefix + "meta." + name)
}

// Create implements keyring.Store.
func (k *KeyStore) Create(ctx context.Context, member uuid.UUID, wrapped []byte) ([]byte, error) {
	v, err := k.create(ctx, k.memberStream(member), keyCreatedType, wrapped)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb key store: create the key of member %s: %w", member, err)
	}
	return v, nil
}

// Get implements keyring.Store.
func (k *KeyStore) Get(ctx context.Context, member uuid.UUID) ([]byte, error) {
	v, err := k.first(ctx, k.memberStream(member), keyCreatedType)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb key store: get the key of member %s: %w", member, err)
	}
	return v, nil
}

// Erase implements keyring.Store by tombstoning the member's stream.
func (k *KeyStore) Erase(ctx context.Context, member uuid.UUID) error {
	if k.closed.Load() {
		return fmt.Errorf("kurrentdb key store: erase member %s: %w", member, eventstore.ErrClosed)
	}
	stream := k.memberStream(member)
	_, _, err := do(k.s, ctx, func(ctx context.Context, c *esdb.Client) (*esdb.DeleteResult, error) {
		return c.TombstoneStream(ctx, stream, esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Any{}})
	})
	// A stream tombstoned already, by an earlier call or by an attempt
	// whose answer was lost, is what Erase wants.
	if err != nil && code(err) != esdb.ErrorCodeStreamDeleted {
		return fmt.Errorf("kurrentdb key store: erase member %s: %w", member, err)
	}
	return nil
}

// Meta implements keyring.Store.
func (k *KeyStore) Meta(ctx context.Context, name string) ([]byte, error) {
	if err := validMetaName(name); err != nil {
		return nil, err
	}
	v, err := k.first(ctx, k.metaStream(name), metaStoredType)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb key store: get %q: %w", name, err)
	}
	return v, nil
}

// PutMeta implements keyring.Store.
func (k *KeyStore) PutMeta(ctx context.Context, name string, value []byte) ([]byte, error) {
	if err := validMetaName(name); err != nil {
		return nil, err
	}
	v, err := k.create(ctx, k.metaStream(name), metaStoredType, value)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb key store: put %q: %w", name, err)
	}
	return v, nil
}

// validMetaName checks that a name can be part of a stream name.
func validMetaName(name string) error {
	if err := eventstore.ValidateStreamName(name); err != nil || strings.ContainsAny(name, " /") {
		return fmt.Errorf("kurrentdb key store: %q is not a usable name", name)
	}
	return nil
}

// create writes value as the first and only event of stream unless the
// stream exists, and returns the stream's value.
func (k *KeyStore) create(ctx context.Context, stream, eventType string, value []byte) ([]byte, error) {
	if k.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if len(value) == 0 {
		return nil, errors.New("an empty value")
	}
	ev := esdb.EventData{EventID: uuid.New(), EventType: eventType, ContentType: esdb.ContentTypeBinary, Data: value}
	_, _, err := do(k.s, ctx, func(ctx context.Context, c *esdb.Client) (*esdb.WriteResult, error) {
		return c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev)
	})
	switch code(err) {
	case esdb.ErrorCodeWrongExpectedVersion:
		// Another writer created it first: theirs is the value.
		return k.first(ctx, stream, eventType)
	case esdb.ErrorCodeStreamDeleted:
		return nil, keyring.ErrErased
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(value), nil
}

// first returns the data of the first event of stream.
func (k *KeyStore) first(ctx context.Context, stream, eventType string) ([]byte, error) {
	if k.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	page, _, err := do(k.s, ctx, func(ctx context.Context, c *esdb.Client) (streamPage, error) {
		return readServerStream(ctx, c, stream, esdb.Forwards, esdb.Start{}, 1)
	})
	switch {
	case code(err) == esdb.ErrorCodeStreamDeleted:
		return nil, keyring.ErrErased
	case err != nil:
		return nil, err
	case !page.found || len(page.events) == 0:
		return nil, keyring.ErrNotFound
	}
	e := page.events[0]
	if e.EventType != eventType || len(e.Data) == 0 {
		return nil, fmt.Errorf("stream %q starts with a %q event, not the %q event this store writes", stream, e.EventType, eventType)
	}
	return e.Data, nil
}

// reservedStream refuses the application a stream name the key store
// uses.
func reservedStream(stream string) error {
	if strings.HasPrefix(stream, KeyStreamPrefix) {
		return fmt.Errorf("%w: names starting with %q are the key store's", eventstore.ErrInvalidStreamName, KeyStreamPrefix)
	}
	return nil
}
