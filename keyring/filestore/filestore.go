// Package filestore is the embedded keyring.Store: one file, keys.db in the
// data directory, for a single process.
//
// # The file
//
// The file starts with the 8 bytes "keyring\x01" and goes on with frames.
// A frame is its body's length (4 bytes, little-endian), the CRC-32C
// (Castagnoli) of its body (4 bytes, little-endian) and the body, which is
// one or more records:
//
//	1 | member (16 bytes) | uvarint length | wrapped key     a member's key
//	2 | member (16 bytes)                                    an erased member
//	3 | uvarint length | name | uvarint length | value       a named value
//
// Create and PutMeta append a frame and sync the file before they return;
// concurrent calls share one frame and one sync. Erase rewrites the whole
// file without the member's key record, keeping a record that the member
// is erased: it writes a new file beside the old, syncs it, renames it over
// the old one and syncs the directory. So once Erase returns, the key's
// bytes are in no version of the file. They may survive in disk blocks
// the file system freed but has not reused yet, or in backups; there they
// are still wrapped by the key-encryption key, which the master key
// protects.
//
// # Crashes and damage
//
// A crash during an append can leave the last frame incomplete, or with a
// body that was not all written. Open cuts such a frame off (no call that
// wrote it had returned) and says so in Recovered. A frame that fails its
// CRC with other frames after it, or that cannot be parsed, is damage
// Open will not guess about: it returns an error naming the offset.
//
// The file is locked (flock on keys.db.lock beside it) while a Store has it
// open, so a second process, or a second Open in one process, is refused.
package filestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/mentorship/mentorship/internal/durable"
	"github.com/mentorship/mentorship/keyring"
)

// magic opens every keys file.
const magic = "keyring\x01"

// Record kinds.
const (
	kindKey    = 1
	kindErased = 2
	kindMeta   = 3
)

const (
	frameHeader = 8
	// maxFrame bounds a frame's body; a larger length is damage.
	maxFrame = 16 << 20
	// compactFrame is the body size at which a rewrite starts a new frame.
	compactFrame = 1 << 20
	// MaxValue bounds a wrapped key or a named value.
	MaxValue = 64 << 10
	// MaxName bounds a value's name.
	MaxName = 255
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FileName is the keys file's usual name in the data directory.
const FileName = "keys.db"

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("filestore: closed")

// Store is a keyring.Store in one file. It is safe for concurrent use.
type Store struct {
	path string
	lock *os.File // the lock file, flocked while open

	mu   sync.Mutex
	cond *sync.Cond // signalled when writing turns false
	f    *os.File
	size int64 // where the next frame goes
	// items holds the members' keys (name "") and the named values
	// (member uuid.Nil), durable or pending.
	items  map[itemKey]*entry
	erased map[uuid.UUID]struct{}
	// pend collects records for the next frame; whenever it is not nil,
	// writing is true and a writer will take it.
	pend    *batch
	writing bool  // a goroutine is writing the file
	broken  error // a failed write that could not be undone
	closed  bool
	note    string

	beforeWrite func() // a test's hook, called before each frame is written
}

// itemKey names a member's key (name empty) or a named value.
type itemKey struct {
	member uuid.UUID
	name   string
}

// entry is a stored value; b is the batch writing it, nil once durable.
type entry struct {
	key   itemKey
	value []byte
	b     *batch
}

// batch is the records of one frame and the entries they store.
type batch struct {
	body    []byte
	entries []*entry
	done    chan struct{}
	err     error
}

// Open opens the keys file at path, making it (and its directory) when
// missing. It cuts off a torn last frame left by a crash, which Recovered
// then reports, and refuses a damaged file and a file another Store has
// open.
func Open(path string) (*Store, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("filestore: open %s: %w", path, err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("filestore: open %s: lock file: %w", path, err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("filestore: open %s: the file is in use by another store (another process, or an unclosed Store)", path)
		}
		return nil, fmt.Errorf("filestore: open %s: lock: %w", path, err)
	}
	s := &Store{
		path:   path,
		lock:   lock,
		items:  map[itemKey]*entry{},
		erased: map[uuid.UUID]struct{}{},
	}
	s.cond = sync.NewCond(&s.mu)
	if err := s.load(); err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("filestore: open %s: %w", path, err)
	}
	return s, nil
}

// load reads the file into memory, making it first when it is missing.
func (s *Store) load() error {
	// A rewrite that a crash interrupted leaves its temporary file.
	if err := os.Remove(s.path + ".tmp"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if f, _, err = s.replace([]byte(magic)); err != nil {
			return fmt.Errorf("create: %w", err)
		}
	}
	if err != nil {
		return err
	}
	data, err := readAll(f)
	if err == nil {
		var good int64
		good, err = s.parse(data)
		if err == nil && good < int64(len(data)) {
			s.note = fmt.Sprintf("%s: cut off %d bytes of a frame torn by a crash at offset %d (nothing a returned call wrote was lost)", s.path, int64(len(data))-good, good)
			if err = f.Truncate(good); err == nil {
				err = f.Sync()
			}
		}
		s.size = good
	}
	if err != nil {
		_ = f.Close()
		return err
	}
	s.f = f
	return nil
}

// readAll reads a whole file from its start.
func readAll(f *os.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data := make([]byte, info.Size())
	n, err := f.ReadAt(data, 0)
	if n == len(data) {
		return data, nil
	}
	return nil, fmt.Errorf("read: %w", err)
}

// parse applies every whole frame of data and returns where the whole
// frames end. A torn last frame ends them early; other damage is an error.
func (s *Store) parse(data []byte) (int64, error) {
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		return 0, errors.New("not a keys file (its first bytes are not the keys file header)")
	}
	off := len(magic)
	for off < len(data) {
		rest := data[off:]
		if len(rest) < frameHeader {
			return int64(off), nil // a header cut short
		}
		n := int(binary.LittleEndian.Uint32(rest))
		sum := binary.LittleEndian.Uint32(rest[4:])
		if n == 0 || n > maxFrame {
			if allZero(rest) {
				return int64(off), nil // a tail the file system extended but never wrote
			}
			return 0, fmt.Errorf("damaged at offset %d: a frame of %d bytes", off, n)
		}
		if len(rest) < frameHeader+n {
			return int64(off), nil // a frame cut short
		}
		body := rest[frameHeader : frameHeader+n]
		if crc32.Checksum(body, castagnoli) != sum {
			if len(rest) == frameHeader+n {
				return int64(off), nil // the last frame, not all of it written
			}
			return 0, fmt.Errorf("damaged at offset %d: the frame's checksum does not match, and %d bytes follow it", off, len(rest)-frameHeader-n)
		}
		if err := s.apply(body); err != nil {
			return 0, fmt.Errorf("damaged at offset %d: %w", off, err)
		}
		off += frameHeader + n
	}
	return int64(off), nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// apply adds the records of one frame's body to the state.
func (s *Store) apply(body []byte) error {
	for len(body) > 0 {
		kind := body[0]
		body = body[1:]
		switch kind {
		case kindKey, kindErased:
			if len(body) < 16 {
				return errors.New("a record cut short")
			}
			member := uuid.UUID(body[:16])
			body = body[16:]
			if kind == kindErased {
				s.erased[member] = struct{}{}
				delete(s.items, itemKey{member: member})
				continue
			}
			value, rest, err := field(body, MaxValue)
			if err != nil {
				return err
			}
			body = rest
			k := itemKey{member: member}
			if _, erased := s.erased[member]; !erased && s.items[k] == nil {
				s.items[k] = &entry{key: k, value: value}
			}
		case kindMeta:
			name, rest, err := field(body, MaxName)
			if err != nil {
				return err
			}
			value, rest, err := field(rest, MaxValue)
			if err != nil {
				return err
			}
			body = rest
			k := itemKey{name: string(name)}
			if len(name) == 0 {
				return errors.New("a named value without a name")
			}
			if s.items[k] == nil {
				s.items[k] = &entry{key: k, value: value}
			}
		default:
			return fmt.Errorf("a record of unknown kind %d", kind)
		}
	}
	return nil
}

// field reads a uvarint-length-prefixed field of at most limit bytes.
func field(b []byte, limit int) (value, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(limit) || n > uint64(len(b)-k) {
		return nil, nil, errors.New("a record's field has a bad length")
	}
	return bytes.Clone(b[k : k+int(n)]), b[k+int(n):], nil
}

// record encodes one record.
func record(dst []byte, k itemKey, value []byte, erased bool) []byte {
	switch {
	case erased:
		dst = append(dst, kindErased)
		return append(dst, k.member[:]...)
	case k.name == "":
		dst = append(dst, kindKey)
		dst = append(dst, k.member[:]...)
	default:
		dst = append(dst, kindMeta)
		dst = binary.AppendUvarint(dst, uint64(len(k.name)))
		dst = append(dst, k.name...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	return append(dst, value...)
}

// frame encodes a frame around body.
func frame(dst, body []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(body)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(body, castagnoli))
	return append(dst, body...)
}

// Recovered describes what Open cut off a file torn by a crash, or is empty
// when the file was whole. Callers log it.
func (s *Store) Recovered() string { return s.note }

// usable returns why the store cannot be used, or nil. The caller holds mu.
func (s *Store) usable() error {
	if s.closed {
		return ErrClosed
	}
	if s.broken != nil {
		return fmt.Errorf("filestore: %s is unusable after a failed write; reopen it: %w", s.path, s.broken)
	}
	return nil
}

// Create implements keyring.Store.
func (s *Store) Create(ctx context.Context, member uuid.UUID, wrapped []byte) ([]byte, error) {
	v, err := s.put(ctx, itemKey{member: member}, wrapped)
	if err != nil {
		return nil, fmt.Errorf("filestore: create the key of member %s: %w", member, err)
	}
	return v, nil
}

// PutMeta implements keyring.Store.
func (s *Store) PutMeta(ctx context.Context, name string, value []byte) ([]byte, error) {
	if name == "" || len(name) > MaxName {
		return nil, fmt.Errorf("filestore: put %q: names are 1 to %d bytes", name, MaxName)
	}
	v, err := s.put(ctx, itemKey{name: name}, value)
	if err != nil {
		return nil, fmt.Errorf("filestore: put %q: %w", name, err)
	}
	return v, nil
}

// Get implements keyring.Store.
func (s *Store) Get(ctx context.Context, member uuid.UUID) ([]byte, error) {
	v, err := s.get(ctx, itemKey{member: member})
	if err != nil {
		return nil, fmt.Errorf("filestore: get the key of member %s: %w", member, err)
	}
	return v, nil
}

// Meta implements keyring.Store.
func (s *Store) Meta(ctx context.Context, name string) ([]byte, error) {
	v, err := s.get(ctx, itemKey{name: name})
	if err != nil {
		return nil, fmt.Errorf("filestore: get %q: %w", name, err)
	}
	return v, nil
}

// get returns a durable value, waiting for a pending one.
func (s *Store) get(ctx context.Context, k itemKey) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := s.usable(); err != nil {
			return nil, err
		}
		if _, ok := s.erased[k.member]; ok && k.name == "" {
			return nil, keyring.ErrErased
		}
		e := s.items[k]
		switch {
		case e == nil:
			return nil, keyring.ErrNotFound
		case e.b == nil:
			return bytes.Clone(e.value), nil
		}
		if err := s.wait(ctx, e.b); err != nil && ctx.Err() != nil {
			return nil, err
		}
	}
}

// put stores value under k unless a value is there, and returns the stored
// value once it is durable.
func (s *Store) put(ctx context.Context, k itemKey, value []byte) ([]byte, error) {
	if len(value) == 0 || len(value) > MaxValue {
		return nil, fmt.Errorf("values are 1 to %d bytes, not %d", MaxValue, len(value))
	}
	s.mu.Lock()
	for {
		if err := s.usable(); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		if _, ok := s.erased[k.member]; ok && k.name == "" {
			s.mu.Unlock()
			return nil, keyring.ErrErased
		}
		e := s.items[k]
		if e == nil {
			break
		}
		if e.b == nil {
			v := bytes.Clone(e.value)
			s.mu.Unlock()
			return v, nil
		}
		// Another call is storing a value; if its write fails, the entry
		// goes and this call stores its own.
		if err := s.wait(ctx, e.b); err != nil && ctx.Err() != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
	e := &entry{key: k, value: bytes.Clone(value)}
	s.items[k] = e
	if s.pend == nil {
		s.pend = &batch{done: make(chan struct{})}
	}
	b := s.pend
	b.body = record(b.body, k, value, false)
	b.entries = append(b.entries, e)
	lead := !s.writing
	s.writing = true
	s.mu.Unlock()
	if lead {
		s.writeLoop()
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if b.err != nil {
		return nil, b.err
	}
	return bytes.Clone(value), nil
}

// wait waits, with mu released, until b is written or ctx ends.
func (s *Store) wait(ctx context.Context, b *batch) error {
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeLoop writes pending batches, one frame and one sync each, until none
// is left. Only the goroutine that set writing runs it.
func (s *Store) writeLoop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.pend != nil {
		b := s.pend
		s.pend = nil
		s.write(b)
	}
	s.writing = false
	s.cond.Broadcast()
}

// write appends b to the file as one frame, syncs it and settles b. The
// caller holds mu and is the writer; mu is released during the write.
func (s *Store) write(b *batch) {
	err := s.broken
	if err == nil {
		f, off := s.f, s.size
		s.mu.Unlock()
		if s.beforeWrite != nil {
			s.beforeWrite()
		}
		buf := frame(nil, b.body)
		_, err = f.WriteAt(buf, off)
		if err == nil {
			err = f.Sync()
		}
		s.mu.Lock()
		if err == nil {
			s.size += int64(len(buf))
		} else if terr := undo(f, off); terr != nil {
			s.broken = fmt.Errorf("%w (and cutting it off failed: %v)", err, terr)
		}
	}
	s.finish(b, err)
}

// undo cuts a failed write off the file.
func undo(f *os.File, off int64) error {
	if err := f.Truncate(off); err != nil {
		return err
	}
	return f.Sync()
}

// finish settles a batch: its entries are durable, or gone when err is
// set. The caller holds mu.
func (s *Store) finish(b *batch, err error) {
	for _, e := range b.entries {
		if err == nil {
			e.b = nil
		} else if s.items[e.key] == e {
			delete(s.items, e.key)
		}
	}
	b.err = err
	close(b.done)
}

// Erase implements keyring.Store: it rewrites the file without the
// member's key and with a record that the member is erased.
func (s *Store) Erase(ctx context.Context, member uuid.UUID) error {
	if err := s.erase(member); err != nil {
		return fmt.Errorf("filestore: erase member %s: %w", member, err)
	}
	return nil
}

func (s *Store) erase(member uuid.UUID) error {
	s.mu.Lock()
	for s.writing && s.usable() == nil {
		s.cond.Wait()
	}
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	k := itemKey{member: member}
	prev := s.items[k]
	if _, erased := s.erased[member]; erased && prev == nil {
		s.mu.Unlock()
		return nil
	}
	// No write is in progress, so nothing is pending and prev is durable.
	// From here the member counts as erased: a Create racing with the
	// rewrite must not put the key back after it.
	s.writing = true
	delete(s.items, k)
	s.erased[member] = struct{}{}
	image := s.image()
	s.mu.Unlock()

	f, renamed, err := s.replace(image)

	s.mu.Lock()
	switch {
	case err == nil:
		_ = s.f.Close()
		s.f, s.size = f, int64(len(image))
	case renamed:
		// The new file is in place but the directory did not sync: after a
		// crash the old file, key and all, may be back. Only reopening
		// tells which file is there, so the store stops here.
		s.broken = fmt.Errorf("the rewritten file may not be durable: %w", err)
	default:
		// The old file is intact; the member is as it was.
		delete(s.erased, member)
		if prev != nil {
			s.items[k] = prev
		}
	}
	lead := s.pend != nil
	if !lead {
		s.writing = false
		s.cond.Broadcast()
	}
	s.mu.Unlock()
	if lead {
		s.writeLoop()
	}
	return err
}

// image is the whole file for the current state. The caller holds mu.
func (s *Store) image() []byte {
	out := []byte(magic)
	var body []byte
	flush := func(force bool) {
		if len(body) > 0 && (force || len(body) >= compactFrame) {
			out = frame(out, body)
			body = body[:0]
		}
	}
	for k, e := range s.items {
		body = record(body, k, e.value, false)
		flush(false)
	}
	for m := range s.erased {
		body = record(body, itemKey{member: m}, nil, true)
		flush(false)
	}
	flush(true)
	return out
}

// replace writes data as the new keys file: to a temporary file, synced,
// renamed over the old one, and the directory synced. It returns the new
// file, open. renamed reports that the new file took the old one's place,
// even when syncing the directory then failed.
func (s *Store) replace(data []byte) (f *os.File, renamed bool, err error) {
	tmp := s.path + ".tmp"
	f, err = os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, false, err
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
		renamed = err == nil
	}
	if err == nil {
		err = durable.SyncDir(filepath.Dir(s.path))
	}
	if err != nil {
		_ = f.Close()
		if !renamed {
			_ = os.Remove(tmp)
		}
		return nil, renamed, err
	}
	return f, true, nil
}

// Close waits for writes in progress, then closes the file and releases
// its lock. Calls after Close return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	for s.writing {
		s.cond.Wait()
	}
	s.closed = true
	s.cond.Broadcast()
	err := s.f.Close()
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("filestore: close %s: %w", s.path, err)
	}
	return nil
}

var _ keyring.Store = (*Store)(nil)
