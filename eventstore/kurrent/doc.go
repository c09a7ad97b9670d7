// Package kurrent is the KurrentDB engine of the event store: it implements
// eventstore.Store on KurrentDB (formerly EventStoreDB) through the official
// Go client, github.com/EventStore/EventStore-Client-Go/v4, for deployments
// that outgrow one machine and run several API instances against one
// database.
//
//	s, err := kurrent.Open(ctx, "esdb://localhost:2113?tls=false", kurrent.Options{})
//
// The connection string is the client's ("esdb://" for one node,
// "esdb+discover://" for a cluster found through gossip, with the client's
// settings as query parameters); "kurrentdb://" and "kurrent://" are read as
// "esdb://". Options.Namespace puts a prefix in front of every stream name
// and limits ReadAll, SubscribeAll, Head and Verify to the streams under it,
// so that several deployments or test runs can share a database.
//
// # How the contract maps onto KurrentDB
//
//   - Streams keep their names (after the namespace). Names starting with
//     '$' are refused, as by every engine: KurrentDB keeps them for itself.
//     So are names starting with KeyStreamPrefix, which the key store uses
//     (see below).
//   - An event is stored with its ID, its type and its data as JSON
//     (content type application/json). The rest of the envelope (schema
//     version, actor ID and role, correlation and causation IDs,
//     occurred-at) is the event's JSON user metadata, together with the
//     tamper-evidence hash. RecordedAt is the server's creation time of the
//     event (100 ns resolution).
//   - Revisions are KurrentDB's stream revisions. A position is the event's
//     commit position in $all. KurrentDB reports commit and prepare
//     positions as equal for events appended over gRPC, so the commit
//     position alone names an event. Positions are offsets in the server's
//     log, growing with commit order and leaving gaps; Start (0) is before
//     everything.
//   - The server's own events ('$'-prefixed streams or event types, such as
//     stream metadata, users, settings and projection links) never reach
//     the caller: subscriptions filter them on the server (by event type, or
//     by namespace prefix), and reads, which the client library cannot
//     filter on the server, drop them as they page through $all.
//   - Errors: a refused expectation is *eventstore.WrongExpectedRevisionError
//     with the stream's actual state, a missing stream
//     eventstore.ErrStreamNotFound, any call on a closed store
//     eventstore.ErrClosed, and bad input the same typed errors as the
//     embedded engine, checked with eventstore.ValidateAppend and
//     eventstore.ValidateStreamName before anything is sent.
//
// # Appends
//
// An append reads the end of its stream, then writes with the exact revision
// it read (or "no stream") whatever the caller expected. The new events'
// hashes chain to the event it read, and the pinned revision makes the
// server refuse the write if that event is no longer the last, so the chain
// cannot fork even with several writers. An append that expects Any or
// StreamExists and loses that race starts over, up to
// Options.ContentionAttempts times, and then reports a wrong expected
// revision.
//
// Retries are idempotent as in the embedded engine. The same event IDs found
// where the expectation points (or among the newest Options.RetryWindow
// events for Any and StreamExists) answer with the stored events' revisions
// and positions; the same IDs with another type, schema version or data give
// eventstore.ErrIdempotencyConflict, as does finding only some of the IDs.
// KurrentDB itself deduplicates by ID alone; the engine relies on that only
// when an attempt timed out or found the server unavailable, in which case it
// sends the same events at the same revision again (Options.Attempts in all)
// and then reads them back to compare their contents and learn their
// positions.
//
// An append costs a read and a write. Appends of several events, and
// appends that needed a second attempt, read their events back, because the
// server answers with the last event's position only.
//
// # Subscriptions
//
// SubscribeAll is a catch-up subscription to $all that turns live by
// itself. The client library does not resubscribe after a drop (a restart,
// a leader change, a consumer too slow for the server); the engine does,
// from the last position it delivered, which the server treats as
// exclusive, and it also skips anything at or before that position. The
// consumer sees neither a gap nor a duplicate. Drops in a row without an
// event in between wait longer each time, up to five seconds, and after
// Options.Resubscribes of them the subscription ends with the error.
// Refused credentials and undecodable events end it at once.
//
// # Members' keys
//
// KeyStore, from Store.Keys or OpenKeyStore, is the keyring.Store of this
// engine, for the crypto-shredding of members' personal data: one stream
// per member holding its wrapped data key, and one per named value (the
// wrapped key-encryption key), under the store's namespace and named with
// KeyStreamPrefix. ReadAll, SubscribeAll, Head and Verify never show these
// streams. Erasing a member tombstones its stream: KurrentDB then refuses
// to read it or to append to it ever again, so the erasure is permanent,
// but the bytes of its events leave the server's disk only when the server
// scavenges. Until then they remain in the database files, wrapped by the
// key-encryption key. KeyStore's documentation has the details.
//
// # Connections
//
// Every attempt of an append or a read has its own deadline
// (Options.Timeout), and timeouts and unavailable servers are retried. The
// client library gives up on a server it fails to discover (after its
// maxDiscoverAttempts) and stays closed; the engine then replaces it, so a
// store outlives a server restart. The library also blocks calls on an
// internal channel without a deadline, and panics calls still waiting there
// when it is closed, so the engine closes a client only once no call is
// inside it, and abandons a call that stays blocked past its deadline.
//
// # Tamper evidence
//
// With several writers no one knows an event's global predecessor, so the
// hash chain runs per stream. Each event's user metadata is a JSON object
// whose members are, in this order: eventId, stream (without the
// namespace), type, schemaVersion, actorId, actorRole, correlationId,
// causationId (each of those four left out when empty), occurredAt (RFC 3339
// in UTC) and, last, hash. The hash is the lowercase hexadecimal SHA-256 of
// the previous event's hash in the same stream (raw bytes, nothing for the
// first event), then the event's data bytes as stored, then its metadata
// bytes as stored minus the hash member, that is, with the final
// `,"hash":"..."` cut off and the closing brace kept. Repeating ID, stream
// and type in the hashed metadata means that changing them breaks the chain
// as changing the data does. RecordedEvent.Hash holds the decoded hash.
// VerifyStream checks one stream's chain and Verify every stream's chain in
// one pass over the log; both report the first broken link as
// eventstore.ErrCorrupt.
//
// # Requirements and limits
//
//   - The server must report global positions on events read from a
//     stream. EventStoreDB added them in 2022; the engine refuses events
//     that come without one rather than guess.
//   - KurrentDB refuses appends whose events total more than its maximum
//     append size (1 MiB by default); keep Options.MaxEventSize and the
//     server's setting in step.
//   - Stream deletion and truncation are not part of the contract (only
//     the key store deletes, its own streams). A truncated or deleted
//     stream reads as the server shows it, and Verify reports the missing
//     start of its chain.
//   - With a namespace on a database that holds much else, Head and ReadAll
//     page through the other events; subscriptions do not.
//   - When another writer stores the same event IDs in the same stream
//     between an append's read and its write, the server deduplicates the
//     append by ID alone and reports success, so that one case escapes the
//     comparison of contents.
//
// # What has been tested, and against what
//
// No real KurrentDB server has run these tests: none could be installed
// where this engine was written. Everything in this package has run against
// kurrenttest, an in-memory server in this repository that speaks
// KurrentDB's gRPC protocol on a real listener, built on the service
// definitions that the client module ships. It models the behaviour listed
// in its documentation: expected revisions, deduplication by event ID only,
// positions with gaps, the server's own events and category links in $all,
// reads in both directions, filtered catch-up subscriptions with
// checkpoints, tombstones, server features and gossip.
//
// Against it pass, with the race detector:
//
//   - the shared conformance suite, every test, once with a fresh server
//     per test and once with every store in its own namespace on one shared
//     server, which is how the suite runs against a real server;
//   - appends retried after a lost answer, an unavailable server or a
//     timed-out attempt, stored once, and a caller's own retry after the
//     engine gave up;
//   - subscriptions dropped every few dozen events and across a server stop
//     and restart, delivering every event once and in order; a subscription
//     giving up on a server that stays down; closing the store during an
//     outage with appends and subscriptions in flight;
//   - the hash chain under concurrent writers, and its detection of changed
//     data, type, ID, metadata and order;
//   - namespaces sharing one server, events written by other programs, and
//     plain, gossip-discovered and "kurrentdb" connection strings;
//   - the keyring store conformance suite (keyringtest) on the key store,
//     with a connection of its own and in namespaces on a shared server;
//     the key streams hidden from ReadAll, SubscribeAll, Head and Verify
//     and refused to the application; erasure as a tombstone; a key
//     created again after a lost answer.
//
// A test server is only as faithful as its model. The real server may
// differ on details the engine was built not to depend on, such as the
// position it reports for an append it deduplicated, how it answers a
// partly matching retry, or why it drops a subscription; those were checked
// against the client's source and what KurrentDB's maintainers have
// written, not against a running server.
//
// The same conformance suite runs against a real server when the
// environment variable KURRENTDB_URL holds its connection string, each test
// in a fresh namespace so that the server need not be empty. For example,
// with a throwaway node in Docker (untried here):
//
//	docker run --rm -p 2113:2113 kurrentplatform/kurrentdb:latest --insecure
//	KURRENTDB_URL='esdb://localhost:2113?tls=false' go test -race -run RealServer ./eventstore/kurrent/
//
// That runs the keyring store suite on the key store there as well. Until
// someone runs it, treat the engine and its key store as tested against the
// protocol and not yet against KurrentDB. In particular, that a tombstone's
// bytes leave the disk at a scavenge is KurrentDB's documented behaviour,
// not something these tests can show.
package kurrent
