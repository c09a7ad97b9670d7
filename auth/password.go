package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// The password rules. Passwords are checked, never shortened: a password
// longer than MaxPasswordBytes is refused rather than cut, so that two
// passwords sharing their first bytes never match each other.
const (
	// MinPasswordLength is the fewest characters (Unicode code points) a
	// password may have.
	MinPasswordLength = 12
	// MaxPasswordBytes is the most bytes a password may have.
	MaxPasswordBytes = 256
)

// Params are the argon2id cost settings. They are recorded in every stored
// hash, so hashes made with older settings still verify; a successful
// sign-in rehashes them with the current settings.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (lanes).
	Threads uint8
	// SaltLength is the length of the random salt in bytes.
	SaltLength uint32
	// KeyLength is the length of the derived key in bytes.
	KeyLength uint32
}

// DefaultParams returns the production settings: OWASP's recommended
// argon2id configuration of 19 MiB, 2 iterations and 1 lane, with a 16-byte
// salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
}

// Validate refuses settings below the production minimum (DefaultParams),
// so that a configuration cannot weaken stored passwords.
func (p Params) Validate() error {
	min := DefaultParams()
	switch {
	case p.Memory < min.Memory:
		return fmt.Errorf("argon2id memory %d KiB is below the minimum %d KiB", p.Memory, min.Memory)
	case p.Time < min.Time:
		return fmt.Errorf("argon2id time %d is below the minimum %d", p.Time, min.Time)
	case p.Threads < min.Threads:
		return fmt.Errorf("argon2id threads %d is below the minimum %d", p.Threads, min.Threads)
	case p.SaltLength < min.SaltLength:
		return fmt.Errorf("argon2id salt of %d bytes is below the minimum %d", p.SaltLength, min.SaltLength)
	case p.KeyLength < min.KeyLength:
		return fmt.Errorf("argon2id key of %d bytes is below the minimum %d", p.KeyLength, min.KeyLength)
	}
	return nil
}

// Bounds on settings read back from a stored hash, so that a corrupted
// record cannot make a sign-in allocate without limit.
const (
	maxStoredMemory = 1 << 20 // KiB, 1 GiB
	maxStoredTime   = 64
	maxStoredKey    = 128
)

// CheckPassword applies the password rules to a new password and returns
// a *refusal.Error with CodeWeakPassword naming the broken rule. field names the
// input in the error ("password", "newPassword").
func CheckPassword(field, password string) error {
	switch {
	case !utf8.ValidString(password):
		return weakPassword(field, "must be valid UTF-8 text")
	case len(password) > MaxPasswordBytes:
		return weakPassword(field, "must be at most %d bytes long (it is never shortened); this one has %d", MaxPasswordBytes, len(password))
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return weakPassword(field, "must be at least %d characters long; this one has %d", MinPasswordLength, n)
	}
	return nil
}

// hashPassword derives an argon2id key with a fresh random salt and
// encodes it in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, base64 without padding.
func hashPassword(p Params, password string) string {
	salt := randomBytes(int(p.SaltLength))
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLength)
	return encodePHC(p, salt, key)
}

func encodePHC(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("malformed argon2id hash")

// parsePHC decodes a hash made by hashPassword.
func parsePHC(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, errBadHash
	}
	kvs := strings.Split(parts[3], ",")
	if len(kvs) != 3 {
		return Params{}, nil, nil, errBadHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kvs[i], name)
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return Params{}, nil, nil, errBadHash
		}
		vals[i] = n
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.Strict().DecodeString(parts[4])
	key, err2 := b64.Strict().DecodeString(parts[5])
	p := Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]), SaltLength: uint32(len(salt)), KeyLength: uint32(len(key))}
	if err1 != nil || err2 != nil || vals[2] == 0 || vals[2] > 255 || p.Time == 0 || p.Time > maxStoredTime ||
		p.Memory < 8*uint32(p.Threads) || p.Memory > maxStoredMemory || len(key) < 16 || len(key) > maxStoredKey || len(salt) < 8 {
		return Params{}, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password matches encoded, comparing the
// keys in constant time, and whether encoded was made with settings other
// than current (and so should be rehashed).
func verifyPassword(current Params, password, encoded string) (ok, stale bool, err error) {
	p, salt, key, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLength)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, p != current, nil
}

// randomBytes returns n bytes from the operating system's generator.
// crypto/rand.Read never fails on supported platforms; it is checked all
// the same, because continuing without randomness would be unsafe.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return b
}
