package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/filestore"
	"github.com/mentorship/mentorship/sealed"
)

// keysFileName is the embedded key store's file in the data directory.
const keysFileName = "keys.db"

// openKeys opens the members' data keys: in the data directory's key file
// beside the embedded log or in KurrentDB beside its events, and the master key that wraps them (from the
// settings, or a development key kept in the data directory).
//
// A log written before sealing has events but no key-encryption key. A
// command that writes (write) refuses it, since its new events would be
// sealed among old ones in the clear; a command that only reads gets nil
// keys, and sealStore leaves the store as it is (nothing in it is sealed).
func openKeys(ctx context.Context, cfg config.Config, raw eventstore.Store, write bool) (*keyring.Keyring, func() error, error) {
	if err := checkMasterKey(cfg); err != nil {
		return nil, nil, err
	}
	keeper, err := keyring.MasterKeeper(ctx, cfg.MasterKeyURL, cfg.DataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("master key: %w", err)
	}
	var store keyring.Store
	if k, ok := raw.(*kurrent.Store); ok {
		// Shared by every instance: one key stream per member,
		// tombstoned on erasure.
		store = k.Keys()
	} else {
		var fs *filestore.Store
		fs, err = filestore.Open(filepath.Join(cfg.DataDir, keysFileName))
		store = fs
	}
	if err != nil {
		_ = keeper.Close()
		return nil, nil, fmt.Errorf("key store: %w", err)
	}
	// A log with events but a key store that never held the key-encryption
	// key was written before personal data was sealed: serving it would
	// mix texts in the clear with sealed ones.
	if _, err := store.Meta(ctx, keyring.KEKMeta); errors.Is(err, keyring.ErrNotFound) {
		if head, herr := raw.Head(ctx); herr == nil && head > eventstore.Start {
			_ = store.Close()
			_ = keeper.Close()
			if !write {
				return nil, func() error { return nil }, nil
			}
			return nil, nil, fmt.Errorf("the log holds %d events but no member keys: it was written before members' personal data was sealed; copy it into a new data directory with `mentorship migrate --from %s --to NEW` and serve that", head, cfg.DataDir)
		}
	}
	keys, err := keyring.New(ctx, store, keeper)
	if err != nil {
		_ = store.Close()
		_ = keeper.Close()
		return nil, nil, err
	}
	return keys, func() error { return errors.Join(store.Close(), keeper.Close()) }, nil
}

// checkMasterKey refuses settings that would keep the master key beside
// the data (production) or give each instance its own (KurrentDB).
func checkMasterKey(cfg config.Config) error {
	switch {
	case cfg.MasterKeyURL == "" && cfg.Production():
		return errors.New("production needs --master-key-url (MENTORSHIP_MASTER_KEY_URL): the master key that wraps the members' data keys, from a key service (awskms://, gcpkms://, hashivault://) or a secret given to the server (base64key://<32 random bytes in URL-safe base64>); a key generated into the data directory would sit beside the data it protects")
	case cfg.MasterKeyURL == "" && cfg.KurrentDBURL != "":
		return errors.New("on KurrentDB every instance must share one master key: set --master-key-url (MENTORSHIP_MASTER_KEY_URL), for example base64key://<32 random bytes in URL-safe base64> in development")
	}
	return nil
}

// sealStore wraps store so that members' personal texts are sealed at rest
// under their keys and opened for every reader.
func sealStore(store eventstore.Store, keys *keyring.Keyring) eventstore.Store {
	if keys == nil {
		return store
	}
	return sealed.Wrap(store, sealed.Keyring(keys), keyring.Prefix)
}
