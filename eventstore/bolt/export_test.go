package bolt

// SetDiskFull makes the store's journal writes and flushes fail with
// ENOSPC, as on a full disk, until it is called with false.
func SetDiskFull(s *Store, full bool) { s.faults.diskFull.Store(full) }

// SetSyncFails makes the journal's fdatasync fail with ENOSPC.
func SetSyncFails(s *Store, fail bool) { s.faults.syncFails.Store(fail) }
