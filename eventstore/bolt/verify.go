package bolt

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
	"strconv"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/eventstore"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	// Records is how many records passed every check, in global order.
	Records uint64
	// Head is the last position that passed and HeadHash the chain's hash
	// there. When the whole log passes they are the store's head and the
	// hash to publish elsewhere.
	Head     eventstore.Position
	HeadHash []byte
	// Broken is the first position that fails a check, or 0 when every
	// record passed.
	Broken eventstore.Position
	// Problem says what is wrong at Broken.
	Problem string
}

// OK reports whether every record passed.
func (r VerifyReport) OK() bool { return r.Broken == 0 }

// verifyChunk is how many records one read transaction checks, so that a
// long walk never holds bbolt's pages for long.
const verifyChunk = 16384

// errBroken stops a walk once the report names a broken position.
var errBroken = errors.New("broken record")

// Verify walks every stored record in global order, up to the head at the
// moment it starts, and checks each one: its checksum, that positions are
// dense, that the position stored inside the record is the one it is
// stored at, and that its hash follows from the previous record's hash and
// its own stored bytes. The newest bbolt record's hash must also be the
// recorded head's. Records that only the journal holds yet are read from
// the journal files on disk. The report names the first position that
// fails and why; the error is for failures to read at all.
//
// The chain covers the bytes as stored, never a decoded or decrypted form,
// and Verify needs nothing but those bytes. Events are stored as plain JSON
// today; should personal data later be kept encrypted under a per-member
// key and erased by deleting the key, the ciphertext would stay, every hash
// would stay valid, and the log would still verify.
//
// progress, when set, is told how far the walk has got every few thousand
// records. To verify a store whose newest records are damaged, open it with
// Options.SkipTailCheck.
func (s *Store) Verify(ctx context.Context, progress func(done, total eventstore.Position)) (VerifyReport, error) {
	if s.closed.Load() {
		return VerifyReport{}, eventstore.ErrClosed
	}
	v := &verifier{ctx: ctx, s: s, target: eventstore.Position(s.head.Load()), next: 1}
	for v.next <= v.target {
		moved, err := v.walkBolt()
		if err == nil && !moved {
			moved, err = v.walkJournal()
		}
		if err == nil && !moved {
			// The flusher may have moved the record into bbolt and
			// dropped its journal segment in between.
			moved, err = v.walkBolt()
		}
		if err == nil && !moved {
			err = v.fail(v.next, "position %d is missing: no stored block or journal frame holds it", v.next)
		}
		if errors.Is(err, errBroken) {
			break
		}
		if err != nil {
			return v.result(), fmt.Errorf("verify: %w", err)
		}
		if progress != nil {
			progress(v.next-1, v.target)
		}
	}
	if v.report.OK() {
		if err := v.walkIndex(); err != nil && !errors.Is(err, errBroken) {
			return v.result(), fmt.Errorf("verify: %w", err)
		}
	}
	if progress != nil && v.report.OK() {
		progress(v.target, v.target)
	}
	return v.result(), nil
}

// walkIndex reads every page of the stream index, so that a damaged page
// there is reported too, and checks that the index lists no position past
// the head bbolt records with it: an index pointing past the head means
// that events were removed and the head rewritten to hide it.
func (v *verifier) walkIndex() error {
	return v.s.view(func(tx *bbolt.Tx) error {
		var head uint64
		if h := tx.Bucket(bucketMeta).Get(keyHead); len(h) == 8+hashSize {
			head = binary.BigEndian.Uint64(h)
		}
		if err := tx.Bucket(bucketHeads).ForEach(func(k, h []byte) error { return v.ctx.Err() }); err != nil {
			return err
		}
		return tx.Bucket(bucketStreams).ForEach(func(k, run []byte) error {
			ps, err := decodeRun(run)
			if err != nil || len(k) < 9 {
				return v.fail(eventstore.Position(head), "the stream index is damaged at key %q", k)
			}
			if len(ps) > 0 && uint64(ps[len(ps)-1]) > head {
				stream := string(k[:len(k)-9])
				return v.fail(ps[len(ps)-1], "stream %q lists position %d, past the recorded head %d: events were removed and the head rewritten", stream, ps[len(ps)-1], head)
			}
			return v.ctx.Err()
		})
	})
}

type verifier struct {
	ctx    context.Context
	s      *Store
	target eventstore.Position // the last position to check
	next   eventstore.Position // the next position to check
	prev   [hashSize]byte      // the hash of next-1
	report VerifyReport
}

func (v *verifier) result() VerifyReport {
	r := v.report
	r.Head = v.next - 1
	if r.Head > 0 {
		r.HeadHash = bytes.Clone(v.prev[:])
	}
	return r
}

// fail records the first broken position and stops the walk.
func (v *verifier) fail(pos eventstore.Position, format string, args ...any) error {
	if v.report.Broken == 0 {
		v.report.Broken = pos
		v.report.Problem = fmt.Sprintf(format, args...)
	}
	return errBroken
}

// check verifies the record stored at pos, which must be v.next, and moves
// the chain on. where names the copy for the report ("" for bbolt).
func (v *verifier) check(pos eventstore.Position, raw []byte, where string) error {
	body, hash, err := recordParts(raw)
	if err != nil {
		return v.fail(pos, "%s%v", where, err)
	}
	if err := checkPlacement(pos, body); err != nil {
		return v.fail(pos, "%s%v", where, err)
	}
	prev := v.prev[:]
	if pos == 1 {
		prev = nil
	}
	if h := chainHash(prev, body); !bytes.Equal(h[:], hash) {
		return v.fail(pos, "%shash chain broken: the stored hash does not follow from the previous record's hash and this record's bytes", where)
	}
	copy(v.prev[:], hash)
	v.next = pos + 1
	v.report.Records++
	return nil
}

// checkPlacement checks that a record's body is well formed and belongs at
// pos.
func checkPlacement(pos eventstore.Position, body []byte) error {
	if body[0] != recordFormat {
		return fmt.Errorf("unknown record format %d", body[0])
	}
	switch stored := eventstore.Position(binary.BigEndian.Uint64(body[1:9])); {
	case stored > pos:
		return fmt.Errorf("position %d is missing: the record stored in its place is position %d's", pos, stored)
	case stored < pos:
		return fmt.Errorf("the record stored at position %d is position %d's", pos, stored)
	}
	d := decoder{b: body[9:]}
	d.take(16)
	d.uvarint() // revision
	d.uvarint() // schema version
	d.time()    // occurred at
	d.time()    // recorded at
	for range 7 {
		// Stream, type, the four metadata strings and the data.
		d.take(int(d.uvarint()))
	}
	if d.err != nil {
		return fmt.Errorf("malformed record: %v", d.err)
	}
	if len(d.b) != 0 {
		return errors.New("malformed record: trailing bytes")
	}
	return nil
}

// walkBolt checks up to verifyChunk records from v.next on in one read
// transaction. It reports whether bbolt held v.next.
func (v *verifier) walkBolt() (bool, error) {
	start := v.next
	err := v.s.view(func(tx *bbolt.Tx) error {
		var headPos eventstore.Position
		var headHash []byte
		if h := tx.Bucket(bucketMeta).Get(keyHead); h != nil {
			if len(h) != 8+hashSize {
				return v.fail(v.next, "the recorded head is malformed")
			}
			headPos, headHash = eventstore.Position(binary.BigEndian.Uint64(h)), h[8:]
		}
		if v.next > headPos {
			return nil
		}
		stop := min(v.target, headPos, v.next+verifyChunk-1)
		atHead := stop == headPos
		c := tx.Bucket(bucketEvents).Cursor()
		k, block := c.Seek(posKey(uint64(v.next)))
		if k == nil || binary.BigEndian.Uint64(k) > uint64(v.next) {
			k, block = c.Prev()
		}
		if k == nil {
			return v.fail(v.next, "position %d is missing: no stored block holds it", v.next)
		}
		for firstBlock := true; k != nil && v.next <= stop; k, block = c.Next() {
			if err := v.ctx.Err(); err != nil {
				return err
			}
			if len(k) != 8 {
				return v.fail(v.next, "a block after position %d has a malformed key", v.next-1)
			}
			first := eventstore.Position(binary.BigEndian.Uint64(k))
			if first > v.next {
				return v.fail(v.next, "position %d is missing: the next stored block starts at %d", v.next, first)
			}
			if first < v.next && !firstBlock {
				return v.fail(first, "position %d is stored twice: a block starting there overlaps the one before", first)
			}
			firstBlock = false
			if err := v.walkBlock(first, block, stop, atHead); err != nil {
				return err
			}
		}
		if v.next <= stop {
			return v.fail(v.next, "position %d is missing: no stored block holds it", v.next)
		}
		if !atHead {
			return nil
		}
		// The walk reached bbolt's recorded head: its hash must be the
		// newest record's, and no block may follow.
		if !bytes.Equal(v.prev[:], headHash) {
			return v.fail(headPos, "its hash differs from the recorded head's")
		}
		if k != nil {
			return v.fail(headPos+1, "a block starting at %d lies beyond the recorded head %d", binary.BigEndian.Uint64(k), headPos)
		}
		return nil
	})
	return v.next > start, err
}

// walkBlock checks the records of one block from v.next up to stop. It
// splits the block itself, so that a damaged length prefix is reported at
// the position it hides. atHead says that stop is bbolt's recorded head,
// beyond which no record may lie.
func (v *verifier) walkBlock(first eventstore.Position, block []byte, stop eventstore.Position, atHead bool) error {
	pos := first
	for len(block) > 0 {
		n, k := binary.Uvarint(block)
		if k <= 0 || n > uint64(len(block)-k) {
			return v.fail(max(pos, v.next), "the block at position %d is damaged before this record", first)
		}
		rec := block[k : k+int(n)]
		block = block[k+int(n):]
		switch {
		case pos > stop:
			if !atHead {
				// The walk's chunk or target ends inside the
				// block.
				return nil
			}
			return v.fail(pos, "position %d lies beyond the recorded head %d", pos, stop)
		case pos >= v.next:
			if err := v.check(pos, rec, ""); err != nil {
				return err
			}
		}
		pos++
	}
	return nil
}

// walkJournal checks the records from v.next on that only the journal
// holds yet, reading the segment that holds v.next from disk. Copies of
// older records that the segment still holds get their checksum and
// position checked. It reports whether it found v.next.
func (v *verifier) walkJournal() (bool, error) {
	start := v.next
	path, first, err := segmentHolding(v.s.journal.dir, v.next)
	if err != nil || path == "" {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Released after a flush: bbolt holds its records now.
		return false, nil
	}
	if err != nil {
		return false, err
	}
	name := filepath.Base(path)
	pos := first
	for off := 0; off < len(b) && pos <= v.target; {
		if err := v.ctx.Err(); err != nil {
			return v.next > start, err
		}
		recs, n, sumOK, ok := splitFrame(b[off:])
		if !ok {
			return v.next > start, v.fail(pos, "journal %s is damaged at byte %d, in the frame that holds position %d", name, off, pos)
		}
		frameFirst := pos
		where := "journal " + name + ": "
		for _, rec := range recs {
			if pos > v.target {
				break
			}
			if pos >= v.next {
				if err := v.check(pos, rec, where); err != nil {
					return v.next > start, err
				}
			} else if err := checkCopy(pos, rec); err != nil {
				return v.next > start, v.fail(pos, "%s%v", where, err)
			}
			pos++
		}
		if !sumOK {
			return v.next > start, v.fail(frameFirst, "journal %s: the frame holding positions %d to %d fails its checksum", name, frameFirst, frameFirst+eventstore.Position(len(recs))-1)
		}
		off += n
	}
	return v.next > start, nil
}

// checkCopy checks a journal copy of a record that bbolt also holds.
func checkCopy(pos eventstore.Position, raw []byte) error {
	body, _, err := recordParts(raw)
	if err != nil {
		return err
	}
	return checkPlacement(pos, body)
}

// segmentHolding returns the journal segment whose records start at or
// before pos and latest, with its first position, or "" when none does.
func segmentHolding(dir string, pos eventstore.Position) (string, eventstore.Position, error) {
	paths, err := listSegments(dir)
	if err != nil {
		return "", 0, err
	}
	var path string
	var first eventstore.Position
	for _, p := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), segmentPrefix), segmentSuffix)
		f, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		if eventstore.Position(f) <= pos && eventstore.Position(f) >= first {
			path, first = p, eventstore.Position(f)
		}
	}
	return path, first, nil
}

// splitFrame splits the frame at the start of b whose structure is intact,
// and says whether its checksum holds: parseFrame takes only intact frames,
// Verify splits damaged ones too, so that the damaged record can be named.
// ok is false when the structure itself is broken.
func splitFrame(b []byte) (records [][]byte, n int, sumOK, ok bool) {
	if len(b) < frameHeader || !bytes.Equal(b[:4], frameMagic) {
		return nil, 0, false, false
	}
	size := uint64(binary.BigEndian.Uint32(b[4:]))
	if size > uint64(len(b)-frameHeader) {
		return nil, 0, false, false
	}
	payload := b[frameHeader : frameHeader+int(size)]
	sumOK = crc32.Checksum(payload, castagnoli) == binary.BigEndian.Uint32(b[8:])
	count, k := binary.Uvarint(payload)
	if k <= 0 {
		return nil, 0, false, false
	}
	payload = payload[k:]
	for ; count > 0; count-- {
		l, k := binary.Uvarint(payload)
		if k <= 0 || l > uint64(len(payload)-k) {
			return nil, 0, false, false
		}
		records = append(records, payload[k:k+int(l)])
		payload = payload[k+int(l):]
	}
	if len(payload) != 0 {
		return nil, 0, false, false
	}
	return records, frameHeader + int(size), sumOK, true
}
