package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Tokens are 32 random bytes (256 bits) in unpadded URL-safe base64 behind
// a short prefix that tells session tokens from reset tokens at a glance
// (and lets secret scanners recognise them). Only their SHA-256 hash is
// stored: a token has too much entropy to need a slow hash, and the hash
// alone opens nothing.
const (
	sessionPrefix = "mst_"
	resetPrefix   = "msr_"
	tokenBytes    = 32
)

// TokenHash is the SHA-256 hash of a token, the key under which a session
// or a reset token is stored.
type TokenHash [sha256.Size]byte

// newToken returns a fresh token with prefix and its hash.
func newToken(prefix string) (string, TokenHash) {
	t := prefix + base64.RawURLEncoding.EncodeToString(randomBytes(tokenBytes))
	return t, hashToken(t)
}

func hashToken(t string) TokenHash { return sha256.Sum256([]byte(t)) }

// parseToken checks that t has the shape of a token with prefix and returns
// its hash. Malformed tokens are refused without a storage lookup.
func parseToken(prefix, t string) (TokenHash, bool) {
	body, ok := strings.CutPrefix(t, prefix)
	if !ok || base64.RawURLEncoding.DecodedLen(len(body)) != tokenBytes {
		return TokenHash{}, false
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(body); err != nil {
		return TokenHash{}, false
	}
	return hashToken(t), true
}

// MarshalText writes the hash in hex, so that stored records show it
// compactly.
func (h TokenHash) MarshalText() ([]byte, error) {
	return hex.AppendEncode(nil, h[:]), nil
}

// UnmarshalText reads a hash written by MarshalText.
func (h *TokenHash) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(h) {
		return fmt.Errorf("token hash: want %d hex digits, got %d", 2*len(h), len(b))
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// sessionID is the public name of a session in logs and payloads: a prefix
// of its token's hash, which reveals nothing about the token.
func (h TokenHash) sessionID() string { return hex.EncodeToString(h[:12]) }
