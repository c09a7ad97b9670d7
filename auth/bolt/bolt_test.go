package bolt_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/auth/bolt"
	"github.com/mentorship/mentorship/auth/conformance"
)

func open(t *testing.T, dir string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		Open: func(t *testing.T) (auth.Store, func(*testing.T) auth.Store) {
			dir := t.TempDir()
			s := open(t, dir)
			current := s
			t.Cleanup(func() { current.Close() })
			return s, func(t *testing.T) auth.Store {
				if err := current.Close(); err != nil {
					t.Fatal(err)
				}
				current = open(t, dir)
				return current
			}
		},
	})
}

func TestFileInDataDirOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := open(t, dir)
	defer s.Close()
	fi, err := os.Stat(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("%s has mode %v, want no access for group and others", bolt.FileName, perm)
	}
}
