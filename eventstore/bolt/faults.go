package bolt

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
)

// faults make the storage layer fail as a full disk does, so that tests
// can check what an append answers and what survives without filling a
// real disk. Nothing but tests turns them on.
type faults struct {
	// diskFull makes journal writes stop half way and flushes into bbolt
	// fail, both with ENOSPC.
	diskFull atomic.Bool
	// syncFails makes the journal's fdatasync fail with ENOSPC, as it
	// may on thinly provisioned or network storage.
	syncFails atomic.Bool
}

// flushFault is the error a flush into bbolt meets, if any.
func (f *faults) flushFault(path string) error {
	if f.diskFull.Load() {
		return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
	}
	return nil
}

// noSpace reports whether err is the file system being out of space or
// quota, which passes once space returns.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
