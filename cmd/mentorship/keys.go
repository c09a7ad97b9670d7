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
func openKeys(ctx context.Context, cfg config.Config, raw eventstore.Store) (*keyring.Keyring, func() error, error) {
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
	keys, err := keyring.New(ctx, store, keeper)
	if err != nil {
		_ = store.Close()
		_ = keeper.Close()
		return nil, nil, err
	}
	return keys, func() error { return errors.Join(store.Close(), keeper.Close()) }, nil
}

// sealStore wraps store so that members' personal texts are sealed at rest
// under their keys and opened for every reader.
func sealStore(store eventstore.Store, keys *keyring.Keyring) eventstore.Store {
	return sealed.Wrap(store, sealed.Keyring(keys), keyring.Prefix)
}
