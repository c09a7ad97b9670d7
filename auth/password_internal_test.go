package auth

import (
	"strings"
	"testing"
)

func TestPHCRoundTrip(t *testing.T) {
	p := cheapParams
	h := hashPassword(p, "a password of some length")
	ok, stale, err := verifyPassword(p, "a password of some length", h)
	if err != nil || !ok || stale {
		t.Fatalf("verify own hash: ok %v stale %v err %v", ok, stale, err)
	}
	if ok, _, _ := verifyPassword(p, "a password of some lengtH", h); ok {
		t.Error("a different password verified")
	}
	other := p
	other.Memory *= 2
	if _, stale, _ := verifyPassword(other, "a password of some length", h); !stale {
		t.Error("a hash with other settings is not reported stale")
	}
}

func TestMalformedHashesAreRefused(t *testing.T) {
	good := hashPassword(cheapParams, "a password of some length")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, bad := range []string{
		"",
		"plaintext",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key,
		good + "$extra",
	} {
		if _, _, _, err := parsePHC(bad); err == nil {
			t.Errorf("parsePHC(%q) accepted a malformed hash", bad)
		}
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":              "192.0.2.1",
		"192.0.2.1:443":          "192.0.2.1",
		"[::ffff:192.0.2.1]:443": "192.0.2.1",
		"2001:db8::1":            "2001:db8::/64",
		"[2001:db8::1%eth0]:80":  "2001:db8::/64",
		"unix-socket":            "unix-socket",
		"":                       "",
	} {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
