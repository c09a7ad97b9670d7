// Package statetest is the conformance suite of process.StateStore: every
// implementation (the bbolt file, Redis) runs it and must behave the same.
package statetest

import (
	"errors"
	"testing"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/process"
)

// Open returns a new, empty store, ready for the manager's writes, that
// the test owns.
type Open func(t *testing.T) process.StateStore

// Run runs every case of the suite on stores from open.
func Run(t *testing.T, open Open) {
	t.Run("Empty", func(t *testing.T) {
		st := open(t)
		if pos, err := st.Settled(); err != nil || pos != 0 {
			t.Errorf("settled %d, %v in a new store", pos, err)
		}
		if found, err := st.Load(func([]byte) error { t.Error("decode called without a state"); return nil }); err != nil || found {
			t.Errorf("a state in a new store: %v, %v", found, err)
		}
	})
	t.Run("SaveAndLoad", func(t *testing.T) {
		st := open(t)
		if err := st.Save([]byte("one"), 5); err != nil {
			t.Fatal(err)
		}
		if err := st.Save([]byte("two"), 3); err != nil {
			t.Fatal(err)
		}
		var got string
		if found, err := st.Load(func(b []byte) error { got = string(b); return nil }); err != nil || !found || got != "two" {
			t.Fatalf("state %q, %v, %v; want the last saved", got, found, err)
		}
		if pos, err := st.Settled(); err != nil || pos != 5 {
			t.Errorf("settled %d, %v; want 5: it never moves back", pos, err)
		}
		bad := errors.New("bad state")
		if _, err := st.Load(func([]byte) error { return bad }); !errors.Is(err, bad) {
			t.Errorf("decode's error: %v", err)
		}
	})
	t.Run("SaveSettled", func(t *testing.T) {
		st := open(t)
		for _, pos := range []uint64{1<<60 + 1, 1 << 60, 7} {
			if err := st.SaveSettled(eventstore.Position(pos)); err != nil {
				t.Fatal(err)
			}
		}
		if pos, err := st.Settled(); err != nil || pos != 1<<60+1 {
			t.Errorf("settled %d, %v; want %d: positions compare exactly and never move back", pos, err, uint64(1<<60+1))
		}
	})
}
