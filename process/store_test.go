package process_test

import (
	"testing"

	"github.com/mentorship/mentorship/process"
	"github.com/mentorship/mentorship/process/statetest"
)

// process.db passes the state store conformance suite.
func TestFileConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) process.StateStore {
		f, err := process.OpenFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.Close() })
		return f
	})
}
