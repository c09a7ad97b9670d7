// Package keyring encrypts members' personal data with a key per member,
// so that erasing a member (crypto-shredding) is deleting one key: the event
// log keeps its ciphertext, and its tamper-evidence chain, which covers the
// ciphertext, still verifies, but nobody can read the member's data again.
//
//	keeper, err := keyring.MasterKeeper(ctx, cfg.MasterKeyURL, cfg.DataDir)
//	store, err := filestore.Open(filepath.Join(cfg.DataDir, filestore.FileName))
//	k, err := keyring.New(ctx, store, keeper)
//	sealed, err := k.Seal(ctx, member, "Ada Lovelace")
//	member, text, err := k.Open(ctx, sealed)
//	err = k.Erase(ctx, member) // later Opens of sealed give ErrErased
//
// # Keys
//
// There are three levels of keys, so that a key management service (KMS)
// is called once when the process starts rather than once per member:
//
//   - The master key lives outside the application: in a KMS (AWS KMS, GCP
//     KMS, HashiCorp Vault) or, in development, in a file of the data
//     directory. MasterKeeper opens it from a gocloud.dev/secrets URL.
//   - The key-encryption key (KEK), 32 random bytes, is made when the first
//     Keyring opens a store, wrapped (encrypted) by the master key, and kept
//     in the store under the meta name "kek". New unwraps it once.
//   - Each member's data key, 64 random bytes (32 for AES-256-GCM, 32 for
//     HMAC-SHA256), is made when something is first sealed for the member,
//     wrapped by the KEK with AES-256-GCM (the member's UUID as additional
//     data, so a wrapped key moved to another member does not open), and
//     kept in the store. The store only ever holds wrapped keys.
//
// Erasing a member deletes its wrapped data key from the store. Copies of
// the wrapped key that outlive the deletion (a backup, a disk block the
// file system has not reused yet) still need the KEK, and so the master
// key, to be of any use.
//
// # Sealed strings
//
// A sealed string is Prefix followed by the unpadded URL-safe base64
// (base64.RawURLEncoding) of
//
//	member UUID (16 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag (16 bytes)
//
// The member's UUID is authenticated as additional data. Prefix begins
// with a control character, which the domain refuses in every text a user
// types, so no user text can pass for a sealed one, and IsSealed is a
// prefix check. The empty string is sealed as itself.
//
// # Deterministic encryption
//
// Sealing the same text for the same member twice gives the same string:
// the event stores recognise a retried append by comparing its data byte
// for byte, so a retry must reproduce it. The nonce is therefore not
// random but the first 12 bytes of HMAC-SHA256 of the text under the
// member's HMAC key, a synthetic-IV (SIV) construction:
//
//   - AES-GCM fails only when one nonce is used for two different texts
//     under one key. Here the nonce is a pseudorandom function of the
//     text, so two different texts of one member get the same nonce only by
//     a 96-bit collision of HMAC-SHA256, which is negligible.
//   - What leaks is that two equal texts of one member seal to equal
//     strings. Different members have different keys, so equal texts of two
//     members look unrelated. Nothing else is revealed beyond the text's
//     length, which AES-GCM never hides.
//   - Each member's key is used only for that member's texts, which are far
//     fewer than AES-GCM's limits per key.
//
// # Caching and several processes
//
// A Keyring keeps unwrapped data keys in memory as 64 raw bytes per member
// (about 100 bytes per member with the map, so 100,000 members take about
// 10 MB), and the ciphers (AES-GCM and HMAC) of the CachedCiphers members
// used last, about a kilobyte each, since building them cost more than
// sealing a short text. A cipher serves only while its member's key is
// cached, and leaves the cache with the key. Erase drops the cached key
// and cipher before it returns; from then on Seal and Open of the member
// in that Keyring fail with ErrErased, also when they had fetched the key
// from the store before. Where several processes share one store, a process
// that did not erase the member keeps its cached key until it calls
// Forget (for example on seeing the erasure in the event log) or
// restarts; Erased always asks the store.
package keyring
