package keyring_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gocloud.dev/secrets"

	"github.com/mentorship/mentorship/keyring"
)

func TestDevelopmentMasterKeyIsMadeOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	first, err := keyring.MasterKeeper(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	info, err := os.Stat(filepath.Join(dir, keyring.MasterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("the key file has mode %v, want 0600", info.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "*tmp*")); len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
	sealed, err := first.Encrypt(ctx, []byte("kek"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := keyring.MasterKeeper(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if plain, err := second.Decrypt(ctx, sealed); err != nil || string(plain) != "kek" {
		t.Fatalf("the key made on the first start does not open on the second: %q, %v", plain, err)
	}
}

func TestConcurrentFirstStartsAgreeOnOneMasterKey(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	keepers := make([]*secrets.Keeper, 8)
	var wg sync.WaitGroup
	for i := range keepers {
		wg.Go(func() {
			k, err := keyring.MasterKeeper(ctx, "", dir)
			if err != nil {
				t.Error(err)
				return
			}
			keepers[i] = k
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	sealed, err := keepers[0].Encrypt(ctx, []byte("kek"))
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keepers {
		if _, err := k.Decrypt(ctx, sealed); err != nil {
			t.Fatalf("keeper %d has another key: %v", i, err)
		}
		_ = k.Close()
	}
}

func TestBadDevelopmentKeyFilesAreRefused(t *testing.T) {
	ctx := context.Background()
	key := base64.URLEncoding.EncodeToString(make([]byte, 32))
	for name, tc := range map[string]struct {
		content string
		mode    os.FileMode
	}{
		"readable by others": {key, 0o644},
		"not a key":          {"hello", 0o600},
		"a short key":        {base64.URLEncoding.EncodeToString(make([]byte, 16)), 0o600},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, keyring.MasterKeyFile)
		if err := os.WriteFile(path, []byte(tc.content), tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		if k, err := keyring.MasterKeeper(ctx, "", dir); err == nil {
			_ = k.Close()
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := keyring.MasterKeeper(ctx, "", ""); err == nil {
		t.Error("no URL and no data directory: accepted")
	}
}

func TestMasterKeyURLs(t *testing.T) {
	ctx := context.Background()
	key := base64.URLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	k, err := keyring.MasterKeeper(ctx, "base64key://"+key, "")
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Close()
	// Without a key, gocloud.dev would make a new one on every start.
	if _, err := keyring.MasterKeeper(ctx, "base64key://", ""); err == nil {
		t.Error("a base64key URL without a key was accepted")
	}
	secret := "c2VjcmV0LWJ1dC10b28tc2hvcnQ="
	_, err = keyring.MasterKeeper(ctx, "base64key://"+secret, "")
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("a bad base64key URL: %v (the error must not repeat the key)", err)
	}
	if _, err := keyring.MasterKeeper(ctx, "nosuchkms://key", ""); err == nil {
		t.Error("an unknown scheme was accepted")
	}
	// The key management services' drivers are linked in.
	for _, scheme := range []string{"awskms", "gcpkms", "hashivault", "base64key"} {
		if !secrets.DefaultURLMux().ValidKeeperScheme(scheme) {
			t.Errorf("no driver for %s://", scheme)
		}
	}
}

func TestIsDevelopmentURL(t *testing.T) {
	for url, want := range map[string]bool{
		"":                          true,
		"base64key://abc":           true,
		"BASE64KEY://abc":           true,
		"awskms://alias/mentorship": false,
		"gcpkms://projects/p/k":     false,
		"hashivault://mentorship":   false,
		"not a url":                 true,
	} {
		if got := keyring.IsDevelopmentURL(url); got != want {
			t.Errorf("IsDevelopmentURL(%q) = %v, want %v", url, got, want)
		}
	}
}
