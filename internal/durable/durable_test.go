package durable_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mentorship/mentorship/internal/durable"
)

func TestSyncTreeAndItsErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "a", "b", "link")); err != nil {
		t.Fatal(err)
	}
	if err := durable.SyncTree(dir); err != nil {
		t.Fatalf("sync a tree with a symlink: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	if err := durable.SyncDir(missing); err == nil {
		t.Error("syncing a missing directory succeeded")
	}
	if err := durable.SyncFile(missing); err == nil {
		t.Error("syncing a missing file succeeded")
	}
	if err := durable.SyncTree(missing); err == nil {
		t.Error("syncing a missing tree succeeded")
	}
}
