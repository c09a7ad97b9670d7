package keyring

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gocloud.dev/secrets"
	_ "gocloud.dev/secrets/awskms"     // awskms://
	_ "gocloud.dev/secrets/gcpkms"     // gcpkms://
	_ "gocloud.dev/secrets/hashivault" // hashivault://
	"gocloud.dev/secrets/localsecrets"

	"github.com/mentorship/mentorship/internal/durable"
)

// MasterKeyFile is the name of the development master key file that
// MasterKeeper keeps in the data directory when no URL is configured.
const MasterKeyFile = "master.key"

// MasterKeeper opens the master key, which wraps the key-encryption key.
//
// With a URL it opens it through gocloud.dev/secrets: "awskms://",
// "gcpkms://" and "hashivault://" name a key in a key management service
// (each reads its credentials the usual way of its platform), and
// "base64key://KEY" is a key given in the URL itself (32 bytes in URL-safe
// base64). A "base64key://" without a key is refused: gocloud.dev would make
// a new random key on every start, and nothing sealed before a restart
// could be opened after it.
//
// With an empty URL and a data directory (development), it uses the key in
// MasterKeyFile in dataDir, making a random one there, readable by its
// owner only, on the first start. The file is as secret as the data: anyone
// who has both can read everything. Production configuration should refuse
// such URLs; see IsDevelopmentURL.
//
// The caller closes the keeper.
func MasterKeeper(ctx context.Context, masterURL, dataDir string) (*secrets.Keeper, error) {
	if masterURL == "" {
		if dataDir == "" {
			return nil, errors.New("keyring: master key: neither a URL nor a data directory to keep a development key in")
		}
		key, err := developmentKey(filepath.Join(dataDir, MasterKeyFile))
		if err != nil {
			return nil, fmt.Errorf("keyring: master key: %w", err)
		}
		return localsecrets.NewKeeper(key), nil
	}
	// Errors name the scheme only: a base64key URL holds the key itself.
	u, err := url.Parse(masterURL)
	if err != nil {
		return nil, errors.New("keyring: master key: the URL does not parse")
	}
	if u.Scheme == localsecrets.Scheme && u.Host == "" {
		return nil, errors.New("keyring: master key: a base64key URL needs the key (32 bytes in URL-safe base64); without one a new key would be made on every start")
	}
	keeper, err := secrets.OpenKeeper(ctx, masterURL)
	if err != nil {
		if u.Scheme == localsecrets.Scheme {
			return nil, errors.New("keyring: master key: the base64key URL does not hold a 32-byte key in URL-safe base64")
		}
		return nil, fmt.Errorf("keyring: master key (%s): %w", u.Scheme, err)
	}
	return keeper, nil
}

// IsDevelopmentURL reports whether a master key URL given to MasterKeeper
// is one for development: empty (a key file in the data directory) or
// "base64key://" (a key in the configuration itself). Both keep the master
// key next to the data or the configuration rather than in a key
// management service, so production configuration should refuse them.
func IsDevelopmentURL(masterURL string) bool {
	if masterURL == "" {
		return true
	}
	scheme, _, ok := strings.Cut(masterURL, "://")
	return !ok || strings.EqualFold(scheme, localsecrets.Scheme)
}

// developmentKey returns the 32-byte key in the file at path, making the
// file with a random key when it does not exist. The file is written to a
// temporary file, synced, and linked into place only if no other process
// made it first, then the directory is synced; so the key is either there
// whole or not at all, and concurrent first starts agree on one key.
func developmentKey(path string) ([32]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if _, err := rand.Read(key[:]); err != nil {
		return key, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return key, fmt.Errorf("make the data directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, MasterKeyFile+".tmp-*")
	if err != nil {
		return key, fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	text := base64.URLEncoding.EncodeToString(key[:]) + "\n"
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(text)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return key, fmt.Errorf("write %s: %w", path, err)
	}
	// A link fails if the file exists, where a rename would replace a key
	// another process has just made and begun to use.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		// A file system without hard links: rename, which cannot tell.
		if err := os.Rename(tmp.Name(), path); err != nil {
			return key, fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := durable.SyncDir(dir); err != nil {
		return key, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

// readKeyFile reads a development key file, refusing one that others than
// its owner may read.
func readKeyFile(path string) ([32]byte, error) {
	var key [32]byte
	info, err := os.Stat(path)
	if err != nil {
		return key, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return key, fmt.Errorf("%s may be read by others than its owner (mode %v); make it 0600", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return key, err
	}
	key, err = localsecrets.Base64Key(strings.TrimSpace(string(b)))
	if err != nil {
		return key, fmt.Errorf("%s does not hold a 32-byte key in URL-safe base64", path)
	}
	return key, nil
}
