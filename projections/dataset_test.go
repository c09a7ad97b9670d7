package projections_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/filestore"
	"github.com/mentorship/mentorship/sealed"
)

// Generated data directories live for the whole test binary, so that
// benchmarks (and their repeated runs with growing b.N) share them; TestMain
// removes them at exit.
var datasets = struct {
	sync.Mutex
	dirs map[workload]string
	errs map[workload]error
}{dirs: map[workload]string{}, errs: map[workload]error{}}

func TestMain(m *testing.M) {
	if rssProbe() {
		return
	}
	code := m.Run()
	datasets.Lock()
	for _, dir := range datasets.dirs {
		_ = os.RemoveAll(dir)
	}
	datasets.Unlock()
	os.Exit(code)
}

// dataset returns a data directory holding the workload in the embedded
// store, generating it on first use.
func dataset(tb testing.TB, w workload) string {
	tb.Helper()
	datasets.Lock()
	defer datasets.Unlock()
	if dir, ok := datasets.dirs[w]; ok {
		return dir
	}
	if err, ok := datasets.errs[w]; ok {
		tb.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mentorship-dataset-")
	if err == nil {
		err = fill(dir, w)
	}
	if err != nil {
		datasets.errs[w] = err
		_ = os.RemoveAll(dir)
		tb.Fatal(err)
	}
	datasets.dirs[w] = dir
	return dir
}

// fill writes the workload into a new store in dir. Generating skips fsync:
// only reading the data is measured.
func fill(dir string, w workload) error {
	store, err := bolt.Open(dir, bolt.Options{NoSync: true, MaxBatch: 4096})
	if err != nil {
		return err
	}
	ctx := context.Background()
	var log eventstore.Store = store
	if w.Sealed {
		keys, closeKeys, err := openKeys(dir)
		if err != nil {
			_ = store.Close()
			return err
		}
		defer closeKeys()
		log = sealed.Wrap(store, sealed.Keyring(keys), keyring.Prefix)
	}
	err = generate(w, func(stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) error {
		_, err := log.Append(ctx, stream, expected, events...)
		return err
	})
	if err == nil {
		var head eventstore.Position
		head, err = store.Head(ctx)
		if err == nil && int(head) != w.Events {
			err = fmt.Errorf("generated %d events, want %d", head, w.Events)
		}
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	return err
}

// openKeys opens the members' keys of a sealed dataset in dir, making them
// on first use, as the server keeps them in its data directory: keys.db
// wrapped under a development master key. It returns the function that
// closes them.
func openKeys(dir string) (*keyring.Keyring, func() error, error) {
	ctx := context.Background()
	keeper, err := keyring.MasterKeeper(ctx, "", dir)
	if err != nil {
		return nil, nil, err
	}
	store, err := filestore.Open(filepath.Join(dir, "keys.db"))
	if err != nil {
		_ = keeper.Close()
		return nil, nil, err
	}
	keys, err := keyring.New(ctx, store, keeper)
	if err != nil {
		_ = store.Close()
		_ = keeper.Close()
		return nil, nil, err
	}
	return keys, func() error { return errors.Join(store.Close(), keeper.Close()) }, nil
}
