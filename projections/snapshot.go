package projections

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/durable"
)

// A snapshot is one file holding a projection's whole state together with
// its checkpoint, so that a restart loads it and applies only the events
// after the checkpoint. State and checkpoint are written in one file, which
// appears under its final name only once complete and synced (written
// beside it, fsynced, renamed, directory fsynced): a crash leaves either the
// old snapshot or the new one, never a state without its checkpoint.
//
// Layout:
//
//	"MNTRSNAP" | format (uint32) | name | state version (uint32) |
//	position (uint64) | ID of the event at position (16 bytes) | state |
//	CRC-32C of everything before (uint32) | "PANS"
//
// Integers in the state are varints, strings length-prefixed; a value of
// a small set (a role, a discipline, a status) is written in full the first
// time and by its number after that. A file whose
// format or state version this build does not know, whose checksum fails,
// or whose checkpoint is not in the log is refused, and the projection is
// rebuilt from the log instead.

const (
	snapshotMagic  = "MNTRSNAP"
	snapshotTail   = "PANS"
	snapshotFormat = 1
	snapshotSuffix = ".snapshot"
)

// ErrNoSnapshot is returned when a projection has no snapshot yet.
var ErrNoSnapshot = errors.New("no snapshot")

// ErrSnapshotRejected is returned for a snapshot that cannot be used: from
// an unknown format, damaged, or taken of another log. The projection then
// rebuilds from the log.
var ErrSnapshotRejected = errors.New("snapshot rejected")

// SnapshotInfo describes a snapshot written or loaded.
type SnapshotInfo struct {
	Projection string
	Path       string
	Position   eventstore.Position
	Bytes      int64
	// Locked is how long the projection's lock was held to capture its
	// state (saving only): events and queries wait that long. Encoding
	// and writing the capture take the rest of Took, without the lock.
	Locked time.Duration
	Took   time.Duration
}

// snapshotter is a projection whose state can be saved and loaded.
type snapshotter interface {
	Projection
	// stateVersion numbers the layout of the projection's state.
	stateVersion() uint32
	// freeze captures the state and its checkpoint under the
	// projection's lock, as briefly as it can: mostly pointers to what
	// events do not change in place, while the projection copies what an
	// event would change before changing it, until the capture is
	// released.
	freeze() frozenState
	// decodeState replaces the state and checkpoint with those read.
	decodeState(d *snapDecoder, pos eventstore.Position, last uuid.UUID) error
}

// frozenState is a projection's state as captured by freeze, which stays
// as it was while events are applied.
type frozenState interface {
	// position is the checkpoint the state is at.
	position() eventstore.Position
	// encode writes the checkpoint (position and event ID) and the state.
	// It takes no lock of the projection's.
	encode(e *snapEncoder)
	// release tells the projection the capture is no longer read, so
	// that its events stop copying what they change. It must be called
	// once, after encode.
	release()
}

var (
	_ snapshotter = (*Members)(nil)
	_ snapshotter = (*Matches)(nil)
)

// SnapshotPath is where a projection's snapshot lives in dir.
func SnapshotPath(dir string, p Projection) string {
	return filepath.Join(dir, p.Name()+snapshotSuffix)
}

// SaveSnapshot writes a projection's state and checkpoint to its snapshot
// file in dir, replacing the previous one atomically.
func SaveSnapshot(dir string, p Projection) (SnapshotInfo, error) {
	started := time.Now()
	info := SnapshotInfo{Projection: p.Name(), Path: SnapshotPath(dir, p)}
	sp, ok := p.(snapshotter)
	if !ok {
		return info, fmt.Errorf("save snapshot: projection %s cannot be saved", p.Name())
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return info, fmt.Errorf("save snapshot: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+p.Name()+".*.tmp")
	if err != nil {
		return info, fmt.Errorf("save snapshot: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	e := newSnapEncoder(&syncingWriter{f: f})
	info.Position, info.Locked = encodeSnapshot(e, sp)
	if e.err != nil {
		return info, fmt.Errorf("save snapshot %s: %w", p.Name(), e.err)
	}
	info.Bytes = e.n
	if err := f.Sync(); err != nil {
		return info, fmt.Errorf("save snapshot %s: %w", p.Name(), err)
	}
	if err := f.Close(); err != nil {
		f = nil
		_ = os.Remove(tmp)
		return info, fmt.Errorf("save snapshot %s: %w", p.Name(), err)
	}
	f = nil
	if err := os.Rename(tmp, info.Path); err != nil {
		_ = os.Remove(tmp)
		return info, fmt.Errorf("save snapshot %s: %w", p.Name(), err)
	}
	if err := durable.SyncDir(dir); err != nil {
		return info, fmt.Errorf("save snapshot %s: %w", p.Name(), err)
	}
	info.Took = time.Since(started)
	return info, nil
}

// snapSyncEvery is how much of a snapshot is written between two syncs.
// Syncing only once at the end leaves the whole file (tens of megabytes)
// to the disk at once, and the event store's own syncs, which every
// mutation waits for, queue behind it: on a test machine's disk the
// longest such sync took about 30 ms with one sync at the end of a 75 MB
// file and about 11 ms with a sync every 8 MB.
const snapSyncEvery = 8 << 20

// syncingWriter writes a snapshot file, syncing it every snapSyncEvery
// bytes.
type syncingWriter struct {
	f        *os.File
	unsynced int
}

func (w *syncingWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	if w.unsynced += n; err == nil && w.unsynced >= snapSyncEvery {
		w.unsynced = 0
		err = w.f.Sync()
	}
	return n, err
}

// encodeSnapshot writes a whole snapshot of sp to e: it freezes the state,
// which holds the projection's lock for the time it returns as locked, and
// encodes the frozen state without the lock, so that events go on being
// applied while it is written.
func encodeSnapshot(e *snapEncoder, sp snapshotter) (pos eventstore.Position, locked time.Duration) {
	e.raw([]byte(snapshotMagic))
	e.u32(snapshotFormat)
	e.str(sp.Name())
	e.u32(sp.stateVersion())
	start := time.Now()
	fr := sp.freeze()
	locked = time.Since(start)
	func() {
		defer fr.release()
		fr.encode(e)
	}()
	e.flush()
	e.b = binary.BigEndian.AppendUint32(e.b, e.crc)
	e.b = append(e.b, snapshotTail...)
	e.write()
	return fr.position(), locked
}

// LoadSnapshot loads a projection's snapshot from dir into p, which must
// be empty. The snapshot's checkpoint must name an event of store's log
// (the same position and event ID), so that a snapshot of another or a
// rewound log is never used. It returns ErrNoSnapshot when there is none
// and an error wrapping ErrSnapshotRejected when it cannot be used; p is
// then left empty.
func LoadSnapshot(store eventstore.Store, dir string, p Projection) (SnapshotInfo, error) {
	started := time.Now()
	info := SnapshotInfo{Projection: p.Name(), Path: SnapshotPath(dir, p)}
	sp, ok := p.(snapshotter)
	if !ok {
		return info, fmt.Errorf("load snapshot: projection %s cannot be loaded", p.Name())
	}
	if p.Position() != eventstore.Start {
		return info, fmt.Errorf("load snapshot: projection %s is not empty", p.Name())
	}
	data, err := os.ReadFile(info.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return info, ErrNoSnapshot
	}
	if err != nil {
		return info, fmt.Errorf("load snapshot %s: %w", p.Name(), err)
	}
	info.Bytes = int64(len(data))
	reject := func(format string, args ...any) (SnapshotInfo, error) {
		return info, fmt.Errorf("%w: %s: %s", ErrSnapshotRejected, info.Path, fmt.Sprintf(format, args...))
	}
	if len(data) < len(snapshotMagic)+4+8 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return reject("not a snapshot file")
	}
	body, tail := data[:len(data)-8], data[len(data)-8:]
	if string(tail[4:]) != snapshotTail {
		return reject("truncated")
	}
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(tail) {
		return reject("checksum mismatch")
	}
	d := &snapDecoder{b: body[len(snapshotMagic):], strs: map[string]string{}}
	if v := d.u32(); v != snapshotFormat {
		return reject("unknown format version %d", v)
	}
	if name := d.str(); name != p.Name() {
		return reject("snapshot of projection %q", name)
	}
	if v := d.u32(); v != sp.stateVersion() {
		return reject("unknown state version %d", v)
	}
	pos := eventstore.Position(d.u64())
	last := d.uuid()
	if d.err != nil {
		return reject("%v", d.err)
	}
	info.Position = pos
	if err := checkCheckpoint(store, pos, last); err != nil {
		return reject("%v", err)
	}
	if err := sp.decodeState(d, pos, last); err != nil {
		return reject("%v", err)
	}
	info.Took = time.Since(started)
	return info, nil
}

// checkCheckpoint checks that the log holds the event a snapshot was taken
// after.
func checkCheckpoint(store eventstore.Store, pos eventstore.Position, id uuid.UUID) error {
	if pos == eventstore.Start {
		return nil
	}
	recs, err := store.ReadAll(context.Background(), pos-1, 1)
	if err != nil {
		return fmt.Errorf("reading the checkpoint's event: %w", err)
	}
	if len(recs) == 0 || recs[0].Position != pos {
		return fmt.Errorf("the log has no event at position %d", pos)
	}
	if recs[0].ID != id {
		return fmt.Errorf("the event at position %d is %s, not %s: the snapshot is of another log", pos, recs[0].ID, id)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// snapBuffer is how much encoded state is buffered before it goes to the
// file.
const snapBuffer = 1 << 20

// snapEncoder writes a snapshot, computing its checksum on the way.
type snapEncoder struct {
	w    io.Writer
	b    []byte
	crc  uint32
	n    int64
	err  error
	syms map[string]uint64 // values written with sym, by number
	// limit is how much is buffered before it is written (snapBuffer).
	limit int
}

func newSnapEncoder(w io.Writer) *snapEncoder {
	return &snapEncoder{w: w, b: make([]byte, 0, snapBuffer+4096), limit: snapBuffer}
}

func (e *snapEncoder) flush() {
	e.crc = crc32.Update(e.crc, castagnoli, e.b)
	e.write()
}

func (e *snapEncoder) write() {
	if e.err == nil {
		n, err := e.w.Write(e.b)
		e.n += int64(n)
		e.err = err
	}
	e.b = e.b[:0]
}

func (e *snapEncoder) check() {
	if len(e.b) >= e.limit {
		e.flush()
	}
}

func (e *snapEncoder) raw(b []byte) { e.b = append(e.b, b...); e.check() }
func (e *snapEncoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *snapEncoder) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *snapEncoder) uvarint(v uint64) {
	e.b = binary.AppendUvarint(e.b, v)
}
func (e *snapEncoder) varint(v int64) { e.b = binary.AppendVarint(e.b, v) }
func (e *snapEncoder) uuid(u uuid.UUID) {
	e.b = append(e.b, u[:]...)
}
func (e *snapEncoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *snapEncoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
	e.check()
}

// sym writes a value of a small set (a role, a discipline, a status):
// the first time in full, after that as its number, so that loading
// shares one copy of each value and looks nothing up.
func (e *snapEncoder) sym(s string) {
	if k, ok := e.syms[s]; ok {
		e.uvarint(k)
		return
	}
	if e.syms == nil {
		e.syms = map[string]uint64{}
	}
	e.syms[s] = uint64(len(e.syms)) + 1
	e.uvarint(0)
	e.str(s)
}

// symList writes a list of values of small sets, keeping nil and empty
// apart.
func (e *snapEncoder) symList(l []string) {
	if l == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(l)) + 1)
	for _, s := range l {
		e.sym(s)
	}
}

// time writes a time exactly: UTC times (all the domain records) as
// seconds and nanoseconds, others with their offset.
func (e *snapEncoder) time(t time.Time) {
	switch {
	case t.IsZero():
		e.b = append(e.b, 0)
	case t.Location() == time.UTC:
		e.b = append(e.b, 1)
		e.varint(t.Unix())
		e.uvarint(uint64(t.Nanosecond()))
	default:
		b, err := t.MarshalBinary()
		if err != nil {
			e.err = err
		}
		e.b = append(e.b, 2)
		e.uvarint(uint64(len(b)))
		e.b = append(e.b, b...)
	}
}

// snapDecoder reads a snapshot's state. A read past the end or a bad
// value sets err and makes every later read return zero values.
type snapDecoder struct {
	b    []byte
	err  error
	strs map[string]string // short strings read once, shared
	slab []byte            // the block strings are copied into
	syms []string          // values read with sym, by number less one
}

var errSnapshotShort = errors.New("state is truncated")

func (d *snapDecoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *snapDecoder) take(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail(errSnapshotShort)
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *snapDecoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (d *snapDecoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *snapDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errSnapshotShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *snapDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errSnapshotShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and checks it against what is left, so that a
// damaged length cannot make the decoder allocate without bound.
func (d *snapDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errSnapshotShort)
		return 0
	}
	return int(n)
}

func (d *snapDecoder) int() int {
	v := d.varint()
	if v < math.MinInt || v > math.MaxInt {
		d.fail(errors.New("integer out of range"))
		return 0
	}
	return int(v)
}

func (d *snapDecoder) bool() bool {
	b := d.take(1)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		d.fail(errors.New("bad boolean"))
	}
	return b[0] == 1
}

func (d *snapDecoder) uuid() uuid.UUID {
	var u uuid.UUID
	copy(u[:], d.take(16))
	return u
}

// str reads a string; short ones, mostly values of the program's lists,
// are shared between the views that hold them.
func (d *snapDecoder) str() string {
	b := d.take(d.count())
	if len(b) == 0 {
		return ""
	}
	if len(b) > 32 {
		return d.copyStr(b)
	}
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := d.copyStr(b)
	if len(d.strs) < 1<<16 {
		d.strs[s] = s
	}
	return s
}

// text reads a string of its own (a name, a biography, a note), which is
// not worth looking up among the shared ones.
func (d *snapDecoder) text() string {
	return d.copyStr(d.take(d.count()))
}

// sym reads a value written by snapEncoder.sym.
func (d *snapDecoder) sym() string {
	k := d.uvarint()
	if k == 0 {
		s := d.text()
		if d.err == nil {
			d.syms = append(d.syms, s)
		}
		return s
	}
	if k > uint64(len(d.syms)) {
		d.fail(errors.New("unknown value number"))
		return ""
	}
	return d.syms[k-1]
}

func (d *snapDecoder) symList() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n-1)
	for i := range out {
		out[i] = d.sym()
	}
	return out
}

// strSlab is the size of the blocks the decoder copies strings into.
const strSlab = 64 << 10

// copyStr copies b into the decoder's current block of string bytes and
// returns it as a string. A snapshot holds hundreds of thousands of
// strings; one allocation each is most of the cost of loading it and
// leaves the garbage collector as many objects to track, whereas blocks
// hold only the strings' bytes, which no one ever writes again. Strings
// longer than a block's quarter get their own allocation.
func (d *snapDecoder) copyStr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > strSlab/4 {
		return string(b)
	}
	if len(d.slab)+len(b) > cap(d.slab) {
		d.slab = make([]byte, 0, strSlab)
	}
	start := len(d.slab)
	d.slab = append(d.slab, b...)
	return unsafe.String(&d.slab[start], len(b))
}

func (d *snapDecoder) time() time.Time {
	switch k := d.take(1); {
	case k == nil:
		return time.Time{}
	case k[0] == 0:
		return time.Time{}
	case k[0] == 1:
		sec := d.varint()
		nsec := d.uvarint()
		if nsec >= 1e9 {
			d.fail(errors.New("bad nanoseconds"))
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	case k[0] == 2:
		var t time.Time
		if err := t.UnmarshalBinary(d.take(d.count())); err != nil {
			d.fail(err)
		}
		return t
	default:
		d.fail(errors.New("bad time"))
		return time.Time{}
	}
}

// done checks that the whole state was read.
func (d *snapDecoder) done() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return errors.New("state has trailing bytes")
	}
	return nil
}
