package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/durable"
)

// HeadFileName is the head record the store keeps beside its file: the last
// position that bbolt held after a flush, with the chain's hash there. It
// lives outside events.db so that truncating, replacing or rewinding that
// file cannot take the record with it: Open refuses a log that ends before
// the recorded position or holds another hash there.
//
// The record lags the log (it is written after the background flushes,
// never per commit, so it costs no fsync on the append path), but it never
// runs ahead of it: everything it names was durable in bbolt when it was
// written.
//
// The file has two 64-byte slots, written alternately in place and
// fdatasynced, each: "MNTRHEAD" | sequence (8) | position (8) | hash (32) |
// CRC-32C of the 56 bytes before (4) | zero (4). The valid slot with the
// higher sequence is the record, so a write torn by a crash leaves the
// previous one.
const HeadFileName = "events.head"

const (
	headMagic    = "MNTRHEAD"
	headSlotSize = 64
	headFileSize = 2 * headSlotSize
)

// headRecord is a position of the log and the chain's hash there.
type headRecord struct {
	seq  uint64
	pos  eventstore.Position
	hash []byte
}

// headFile writes the head record; only the flusher and Open use it.
type headFile struct {
	f      *os.File
	noSync bool
	cur    headRecord
}

// readHeadFile reads dir's head record. found is false when there is none;
// a file that holds no valid slot is an error wrapping ErrCorrupt.
func readHeadFile(dir string) (rec headRecord, found bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, HeadFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return headRecord{}, false, nil
	}
	if err != nil {
		return headRecord{}, false, fmt.Errorf("read %s: %w", HeadFileName, err)
	}
	valid := false
	for off := 0; off+headSlotSize <= len(b); off += headSlotSize {
		if r, ok := parseHeadSlot(b[off : off+headSlotSize]); ok && (!valid || r.seq > rec.seq) {
			rec, valid = r, true
		}
	}
	if !valid {
		return headRecord{}, true, fmt.Errorf("%w: %s is damaged: neither of its slots passes its checksum", eventstore.ErrCorrupt, HeadFileName)
	}
	return rec, true, nil
}

func parseHeadSlot(b []byte) (headRecord, bool) {
	if string(b[:8]) != headMagic || crc32.Checksum(b[:56], castagnoli) != binary.BigEndian.Uint32(b[56:]) {
		return headRecord{}, false
	}
	r := headRecord{seq: binary.BigEndian.Uint64(b[8:]), pos: eventstore.Position(binary.BigEndian.Uint64(b[16:]))}
	if r.pos > 0 {
		r.hash = bytes.Clone(b[24:56])
	}
	return r, true
}

func headSlot(r headRecord) []byte {
	b := make([]byte, 0, headSlotSize)
	b = append(b, headMagic...)
	b = binary.BigEndian.AppendUint64(b, r.seq)
	b = binary.BigEndian.AppendUint64(b, uint64(r.pos))
	hash := make([]byte, hashSize)
	copy(hash, r.hash)
	b = append(b, hash...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return append(b, 0, 0, 0, 0)
}

// createHeadFile writes a new head file holding rec, replacing any other
// atomically (written beside it, synced, renamed, directory synced), and
// opens it for later records.
func createHeadFile(dir string, rec headRecord, noSync bool) (*headFile, error) {
	path := filepath.Join(dir, HeadFileName)
	tmp, err := os.CreateTemp(dir, "."+HeadFileName+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", HeadFileName, err)
	}
	defer os.Remove(tmp.Name())
	rec.seq++
	b := make([]byte, headFileSize)
	copy(b[rec.seq%2*headSlotSize:], headSlot(rec))
	_, err = tmp.Write(b)
	if err == nil && !noSync {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil && !noSync {
		err = durable.SyncDir(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", HeadFileName, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", HeadFileName, err)
	}
	return &headFile{f: f, noSync: noSync, cur: rec}, nil
}

// record writes pos and hash into the older slot and syncs it. Positions
// only move forwards.
func (h *headFile) record(pos eventstore.Position, hash []byte) error {
	if pos <= h.cur.pos {
		return nil
	}
	next := headRecord{seq: h.cur.seq + 1, pos: pos, hash: hash}
	if _, err := h.f.WriteAt(headSlot(next), int64(next.seq%2)*headSlotSize); err != nil {
		return fmt.Errorf("write %s: %w", HeadFileName, err)
	}
	if !h.noSync {
		if err := unix.Fdatasync(int(h.f.Fd())); err != nil {
			return fmt.Errorf("sync %s: %w", HeadFileName, err)
		}
	}
	h.cur = next
	return nil
}

func (h *headFile) close() error {
	if h == nil {
		return nil
	}
	return h.f.Close()
}

// checkHeadRecord compares the log with the head record: the log must
// reach the recorded position and hold the recorded hash there. It returns
// an error wrapping eventstore.ErrShorterLog when it does not.
func (s *Store) checkHeadRecord(rec headRecord) error {
	head := eventstore.Position(s.head.Load())
	if rec.pos > head {
		return fmt.Errorf("%w: %s ends at position %d, but %s records that it held position %d: events were lost or removed", eventstore.ErrShorterLog, FileName, head, HeadFileName, rec.pos)
	}
	if rec.pos == 0 {
		return nil
	}
	var hash []byte
	err := s.view(func(tx *bbolt.Tx) error {
		raw, err := recordAt(tx, rec.pos)
		if err != nil {
			return err
		}
		_, h, err := recordParts(raw)
		hash = h
		return err
	})
	if err != nil {
		return fmt.Errorf("read position %d, which %s records: %w", rec.pos, HeadFileName, err)
	}
	if !bytes.Equal(hash, rec.hash) {
		return fmt.Errorf("%w: %s holds another event at position %d than %s records (hash %x, recorded %x): the log was rewritten or replaced", eventstore.ErrShorterLog, FileName, rec.pos, HeadFileName, hash, rec.hash)
	}
	return nil
}

// trimIndex drops from the stream index every revision whose position lies
// past head, for a log accepted shorter than its index says: the streams'
// runs and heads then describe the events the log holds, and appends and
// reads of those streams work again. It returns how many streams changed.
func trimIndex(tx *bbolt.Tx, head eventstore.Position) (int, error) {
	streams, heads := tx.Bucket(bucketStreams), tx.Bucket(bucketHeads)
	type put struct{ key, val []byte } // a nil val deletes
	var runs, lasts []put
	c := streams.Cursor()
	err := heads.ForEach(func(name, v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: malformed head of stream %q", eventstore.ErrCorrupt, name)
		}
		stream := string(name)
		prefix := runPrefix(stream)
		var last []byte
		changed := false
		for k, run := runFor(c, stream, eventstore.Revision(binary.BigEndian.Uint64(v))); k != nil && bytes.HasPrefix(k, prefix); k, run = c.Prev() {
			ps, err := decodeRun(run)
			if err != nil {
				return fmt.Errorf("%w: stream %q: %v", eventstore.ErrCorrupt, stream, err)
			}
			n := 0
			for n < len(ps) && ps[n] <= head {
				n++
			}
			if n == len(ps) {
				last = binary.BigEndian.AppendUint64(nil, uint64(runStart(k))+uint64(n)-1)
				break
			}
			changed = true
			if n == 0 {
				runs = append(runs, put{bytes.Clone(k), nil})
				continue
			}
			runs = append(runs, put{bytes.Clone(k), appendRun(nil, ps[:n])})
			last = binary.BigEndian.AppendUint64(nil, uint64(runStart(k))+uint64(n)-1)
			break
		}
		if changed {
			lasts = append(lasts, put{bytes.Clone(name), last})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, b := range []struct {
		bucket *bbolt.Bucket
		puts   []put
	}{{streams, runs}, {heads, lasts}} {
		for _, p := range b.puts {
			if p.val == nil {
				err = b.bucket.Delete(p.key)
			} else {
				err = b.bucket.Put(p.key, p.val)
			}
			if err != nil {
				return 0, err
			}
		}
	}
	return len(lasts), nil
}
