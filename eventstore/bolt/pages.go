package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
)

// bbolt trusts its file: it maps it into memory and follows page numbers
// without checking them, so a damaged page makes it panic on an assertion,
// and a file shorter than its meta page says makes the mapping fault with
// SIGBUS, which no recover catches. The store therefore checks the file
// through ordinary reads before bbolt maps it (checkFile), and runs every
// bbolt call with memory faults turned into panics and panics turned into
// errors that name the file and, where known, the page (guard).

// The layout of bbolt's pages (go.etcd.io/bbolt/internal/common), which
// bbolt writes in the machine's byte order.
const (
	pageHeaderSize   = 16 // id (8) | flags (2) | count (2) | overflow (4)
	metaSize         = 64 // the meta after the page header, checksum included
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	noFreelist       = ^uint64(0)
)

// boltMeta is what checkFile needs of a meta page.
type boltMeta struct {
	pageSize uint64
	root     uint64
	freelist uint64
	pgid     uint64 // the high-water mark: pages 0 to pgid-1 are in use
	txid     uint64
}

// errMissingFile reports that the data directory holds no store file, or
// an empty one that bbolt would take for a new store.
var errMissingFile = errors.New("no store file")

// checkFile checks the store's file before bbolt maps it: both meta pages'
// magic, version and checksum; a size that is a whole number of pages and
// covers every page the newest meta counts; and the root and freelist
// pages it points to. It returns errMissingFile for a missing or empty
// file and an error wrapping eventstore.ErrCorrupt that names the file
// and page for a damaged one.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return errMissingFile
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	if size == 0 {
		return errMissingFile
	}
	name := filepath.Base(path)
	corrupt := func(page uint64, format string, args ...any) error {
		return fmt.Errorf("%w: %s is damaged at page %d: %s", eventstore.ErrCorrupt, name, page, fmt.Sprintf(format, args...))
	}
	m0, err0 := readMeta(f, 0, 0)
	pageSize := uint64(os.Getpagesize())
	if err0 == nil {
		pageSize = m0.pageSize
	}
	m1, err1 := readMeta(f, 1, pageSize)
	switch {
	case err0 != nil:
		return corrupt(0, "meta page: %v", err0)
	case err1 != nil:
		return corrupt(1, "meta page: %v", err1)
	case m0.pageSize != m1.pageSize:
		return corrupt(1, "meta page: page size %d differs from page 0's %d", m1.pageSize, m0.pageSize)
	}
	newest := m0
	if m1.txid > m0.txid {
		newest = m1
	}
	if uint64(size)%pageSize != 0 {
		return fmt.Errorf("%w: %s is %d bytes, not a whole number of %d-byte pages: it was cut short inside page %d", eventstore.ErrCorrupt, name, size, pageSize, uint64(size)/pageSize)
	}
	if pages := uint64(size) / pageSize; pages < max(m0.pgid, m1.pgid) {
		return fmt.Errorf("%w: %s is %d bytes (%d pages) but its meta pages count %d pages: it was cut short at page %d", eventstore.ErrCorrupt, name, size, pages, max(m0.pgid, m1.pgid), pages)
	}
	for i, m := range []boltMeta{m0, m1} {
		if m.root < 2 || m.root >= m.pgid {
			return corrupt(uint64(i), "meta page: the root page %d lies outside pages 2 to %d", m.root, m.pgid-1)
		}
		if m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid) {
			return corrupt(uint64(i), "meta page: the freelist page %d lies outside pages 2 to %d", m.freelist, m.pgid-1)
		}
	}
	if err := checkRoot(f, newest); err != nil {
		return corrupt(newest.root, "%v", err)
	}
	if newest.freelist != noFreelist {
		if err := checkFreelist(f, newest); err != nil {
			return corrupt(newest.freelist, "freelist page: %v", err)
		}
	}
	return nil
}

// readMeta reads and checks meta page id, which starts at id×pageSize.
func readMeta(r io.ReaderAt, id, pageSize uint64) (boltMeta, error) {
	var b [pageHeaderSize + metaSize]byte
	if _, err := r.ReadAt(b[:], int64(id*pageSize)); err != nil {
		return boltMeta{}, fmt.Errorf("unreadable: %v", err)
	}
	le := binary.NativeEndian
	if got := le.Uint64(b[0:]); got != id {
		return boltMeta{}, fmt.Errorf("it says it is page %d", got)
	}
	if flags := le.Uint16(b[8:]); flags != metaPageFlag {
		return boltMeta{}, fmt.Errorf("page type %#x is not a meta page's", flags)
	}
	m := b[pageHeaderSize:]
	if le.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("not a bbolt file (bad magic)")
	}
	if v := le.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("unknown bbolt version %d", v)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, errors.New("checksum mismatch")
	}
	meta := boltMeta{
		pageSize: uint64(le.Uint32(m[8:])),
		root:     le.Uint64(m[16:]),
		freelist: le.Uint64(m[32:]),
		pgid:     le.Uint64(m[40:]),
		txid:     le.Uint64(m[48:]),
	}
	if meta.pageSize < 1024 || meta.pageSize > 1<<24 || meta.pageSize&(meta.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("bad page size %d", meta.pageSize)
	}
	if meta.pgid < 4 {
		return boltMeta{}, fmt.Errorf("bad page count %d", meta.pgid)
	}
	return meta, nil
}

// pageHeader reads the header of page id.
func pageHeader(r io.ReaderAt, m boltMeta, id uint64) (flags uint16, count uint16, overflow uint32, err error) {
	var b [pageHeaderSize]byte
	if _, err := r.ReadAt(b[:], int64(id*m.pageSize)); err != nil {
		return 0, 0, 0, fmt.Errorf("unreadable: %v", err)
	}
	le := binary.NativeEndian
	if got := le.Uint64(b[0:]); got != id {
		return 0, 0, 0, fmt.Errorf("it says it is page %d", got)
	}
	flags, count, overflow = le.Uint16(b[8:]), le.Uint16(b[10:]), le.Uint32(b[12:])
	if id+uint64(overflow) >= m.pgid {
		return 0, 0, 0, fmt.Errorf("its %d overflow pages run past the last page %d", overflow, m.pgid-1)
	}
	return flags, count, overflow, nil
}

// checkRoot checks the header of the root bucket's page.
func checkRoot(r io.ReaderAt, m boltMeta) error {
	flags, _, _, err := pageHeader(r, m, m.root)
	if err != nil {
		return fmt.Errorf("root page: %v", err)
	}
	if flags != branchPageFlag && flags != leafPageFlag {
		return fmt.Errorf("root page: page type %#x is neither a branch's nor a leaf's", flags)
	}
	return nil
}

// checkFreelist checks the freelist page that bbolt reads at open: its
// header, that its IDs fit in it, and that each names a page in use.
func checkFreelist(r io.ReaderAt, m boltMeta) error {
	flags, count, overflow, err := pageHeader(r, m, m.freelist)
	if err != nil {
		return err
	}
	if flags != freelistPageFlag {
		return fmt.Errorf("page type %#x is not a freelist's", flags)
	}
	b := make([]byte, (uint64(overflow)+1)*m.pageSize-pageHeaderSize)
	if _, err := r.ReadAt(b, int64(m.freelist*m.pageSize+pageHeaderSize)); err != nil {
		return fmt.Errorf("unreadable: %v", err)
	}
	n, ids := uint64(count), b
	if count == 0xFFFF {
		// A long list keeps its length in the first slot.
		n, ids = binary.NativeEndian.Uint64(b), b[8:]
	}
	if n > uint64(len(ids))/8 {
		return fmt.Errorf("it lists %d pages but has room for %d", n, len(ids)/8)
	}
	for i := range n {
		if id := binary.NativeEndian.Uint64(ids[i*8:]); id < 2 || id >= m.pgid {
			return fmt.Errorf("it lists page %d, outside pages 2 to %d", id, m.pgid-1)
		}
	}
	return nil
}

// guard runs fn, which uses bbolt, so that damage found on the way is an
// error instead of a crash: a memory fault becomes a panic, and a panic
// (bbolt's assertions on damaged pages, or the fault) becomes an error
// wrapping eventstore.ErrCorrupt that names the file and the page. bbolt's
// managed transactions roll back on a panic, so the store stays usable for
// whatever does not touch the damaged page.
func guard(db *bbolt.DB, path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged(db, path, r)
		}
	}()
	return fn()
}

// damaged describes a panic that bbolt raised on a damaged file.
func damaged(db *bbolt.DB, path string, r any) error {
	name := filepath.Base(path)
	var fault interface{ Addr() uintptr }
	if e, ok := r.(runtime.Error); ok && errors.As(e, &fault) && db != nil {
		info := db.Info()
		if a := fault.Addr(); a >= info.Data && info.PageSize > 0 {
			page := (a - info.Data) / uintptr(info.PageSize)
			return fmt.Errorf("%w: %s is damaged at page %d: reading it faulted (%v); run verify", eventstore.ErrCorrupt, name, page, r)
		}
	}
	return fmt.Errorf("%w: %s is damaged: %v; run verify", eventstore.ErrCorrupt, name, r)
}

// view is bbolt's View under guard.
func (s *Store) view(fn func(*bbolt.Tx) error) error {
	return guard(s.db, s.path, func() error { return s.db.View(fn) })
}

// update is bbolt's Update under guard.
func (s *Store) update(fn func(*bbolt.Tx) error) error {
	return guard(s.db, s.path, func() error { return s.db.Update(fn) })
}
