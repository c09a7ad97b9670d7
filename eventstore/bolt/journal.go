package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/durable"
)

// The journal makes appends durable with one fdatasync per group commit.
// bbolt needs two fsyncs and many page writes per transaction, so the writer
// appends each group commit as one frame to the journal, syncs it and
// answers; a flusher copies the journaled events into bbolt in large
// transactions in the background and then deletes journal segments that
// bbolt holds in full. On open, frames past bbolt's head are replayed.
//
// A frame is: magic | payload length (4) | CRC-32C of payload (4) | payload,
// and the payload is a count followed by length-prefixed records, the same
// bytes bbolt stores.
var frameMagic = []byte("MJF1")

const (
	frameHeader     = 12
	segmentPrefix   = "journal-"
	segmentSuffix   = ".log"
	maxSegmentBytes = 64 << 20
)

type segment struct {
	path string
	last eventstore.Position // the newest position it holds; 0 when empty
}

type journal struct {
	dir    string
	noSync bool
	faults *faults

	f    *os.File // the segment being written, owned by the writer
	size int64

	mu   sync.Mutex
	segs []segment // oldest first; the last one is f
}

func segmentName(first eventstore.Position) string {
	return fmt.Sprintf("%s%020d%s", segmentPrefix, uint64(first), segmentSuffix)
}

func listSegments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), segmentPrefix) && strings.HasSuffix(e.Name(), segmentSuffix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

// appendFrame builds a frame from records.
func appendFrame(dst []byte, records [][]byte) []byte {
	start := len(dst)
	dst = append(dst, frameMagic...)
	dst = append(dst, make([]byte, 8)...)
	payload := len(dst)
	dst = binary.AppendUvarint(dst, uint64(len(records)))
	dst = appendBlock(dst, records...)
	binary.BigEndian.PutUint32(dst[start+4:], uint32(len(dst)-payload))
	binary.BigEndian.PutUint32(dst[start+8:], crc32.Checksum(dst[payload:], castagnoli))
	return dst
}

// parseFrame reads the frame at the start of b. ok is false when b does not
// start with a whole, intact frame.
func parseFrame(b []byte) (records [][]byte, n int, ok bool) {
	records, n, sumOK, ok := splitFrame(b)
	if !ok || !sumOK {
		return nil, 0, false
	}
	return records, n, true
}

// readJournal returns every record of every segment in order. A damaged
// frame at the very end of the newest segment is a write the crash cut short,
// never acknowledged; it is cut off. Damage anywhere else is corruption.
func readJournal(dir string) ([][]byte, error) {
	paths, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		off := 0
		for off < len(b) {
			recs, n, ok := parseFrame(b[off:])
			if !ok {
				if i != len(paths)-1 || laterFrame(b[off+1:]) {
					return nil, fmt.Errorf("%w: journal %s is damaged at byte %d", eventstore.ErrCorrupt, filepath.Base(p), off)
				}
				if err := os.Truncate(p, int64(off)); err != nil {
					return nil, err
				}
				break
			}
			out = append(out, recs...)
			off += n
		}
	}
	return out, nil
}

// laterFrame reports whether an intact frame follows somewhere in b, which
// means the damage before it is not a torn final write.
func laterFrame(b []byte) bool {
	for {
		i := bytes.Index(b, frameMagic)
		if i < 0 {
			return false
		}
		if _, _, ok := parseFrame(b[i:]); ok {
			return true
		}
		b = b[i+1:]
	}
}

// startSegment opens a new, empty segment for positions from first on and
// returns the one it replaces, still open: frames written to it may still
// be waiting for their fdatasync.
func (j *journal) startSegment(first eventstore.Position) (*os.File, error) {
	path := filepath.Join(j.dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if err := durable.SyncDir(j.dir); err != nil {
		_ = f.Close()
		return nil, err
	}
	old := j.f
	j.f, j.size = f, 0
	j.mu.Lock()
	j.segs = append(j.segs, segment{path: path})
	j.mu.Unlock()
	return old, nil
}

// append writes one frame holding events up to last, without syncing it.
// It returns the file written to, and whether the segment is full.
func (j *journal) append(frame []byte, last eventstore.Position) (*os.File, bool, error) {
	if j.faults != nil && j.faults.diskFull.Load() {
		// A full disk takes part of a write, then refuses the rest.
		_, _ = j.f.Write(frame[:len(frame)/2])
		return nil, false, &os.PathError{Op: "write", Path: j.f.Name(), Err: syscall.ENOSPC}
	}
	if _, err := j.f.Write(frame); err != nil {
		return nil, false, err
	}
	j.size += int64(len(frame))
	j.mu.Lock()
	j.segs[len(j.segs)-1].last = last
	j.mu.Unlock()
	return j.f, j.size >= maxSegmentBytes, nil
}

// rewind cuts off whatever a failed append left after the last whole
// frame, so that the segment ends where it did before.
func (j *journal) rewind() error {
	return j.f.Truncate(j.size)
}

// sync makes everything written to f durable.
func (j *journal) sync(f *os.File) error {
	if j.faults != nil && j.faults.syncFails.Load() {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: syscall.ENOSPC}
	}
	if j.noSync {
		return nil
	}
	return unix.Fdatasync(int(f.Fd()))
}

// release deletes the segments whose every event bbolt now holds, except
// the one being written.
func (j *journal) release(flushed eventstore.Position) error {
	j.mu.Lock()
	var drop []segment
	for len(j.segs) > 1 && j.segs[0].last <= flushed {
		drop = append(drop, j.segs[0])
		j.segs = j.segs[1:]
	}
	j.mu.Unlock()
	var errs []error
	for _, s := range drop {
		errs = append(errs, os.Remove(s.path))
	}
	return errors.Join(errs...)
}

// removeAll deletes every segment, after a clean close or a replay has
// moved everything into bbolt.
func (j *journal) removeAll() error {
	if j.f != nil {
		if err := j.f.Close(); err != nil {
			return err
		}
		j.f = nil
	}
	paths, err := listSegments(j.dir)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	j.mu.Lock()
	j.segs = nil
	j.mu.Unlock()
	return durable.SyncDir(j.dir)
}
