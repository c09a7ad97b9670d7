// Package bolt is the embedded event store engine: one bbolt file in the data
// directory, durable before an append returns, with group commit so that
// concurrent appends share one transaction and one fsync.
//
// A single writer goroutine owns every write. It takes whatever appends are
// queued, checks and writes them in one transaction, commits (one fsync) and
// then answers them all. Because there is one writer, the tamper-evidence
// chain runs over the whole log in global order.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/mentorship/mentorship/eventstore"
)

// FileName is the name of the store's file inside the data directory.
const FileName = "events.db"

var (
	bucketEvents  = []byte("events")  // first position -> block of records
	bucketStreams = []byte("streams") // stream \x00 first revision -> run of positions
	bucketHeads   = []byte("heads")   // stream -> last revision
	bucketMeta    = []byte("meta")    // store-wide facts
	keyHead       = []byte("head")    // last position and its hash
	keyVersion    = []byte("version") // layout version
)

// Flushing tuning: the flusher moves journaled events into bbolt at least
// this often, sooner when this many are waiting, and the writer waits when
// the flusher falls this far behind.
const (
	flushInterval = 250 * time.Millisecond
	flushAt       = 32768
	flushChunk    = 65536
	maxMem        = 262144
)

const layoutVersion = 2

// Options tune the engine. The zero value is usable.
type Options struct {
	// MaxEventSize caps one event's data and metadata in bytes
	// (eventstore.DefaultMaxEventSize when 0).
	MaxEventSize int
	// MaxBatch caps how many appends share one transaction (1024 when 0).
	MaxBatch int
	// ReadBatch is ReadAll's default limit and the subscription's page size
	// (1024 when 0).
	ReadBatch int
	// LockTimeout is how long Open waits for another process to release
	// the file (100 ms when 0).
	LockTimeout time.Duration
	// NoSync skips fsync: for benchmarks of everything but the disk, and
	// for commands that write a new store nobody uses until they have
	// synced its files themselves (seed, migrate).
	NoSync bool
	// Now returns the recorded-at time; time.Now when nil.
	Now func() time.Time
	// OnCommit, when set, is told about every group commit.
	OnCommit func(appends, events int, took time.Duration)
	// FlushInterval is how often journaled events move into bbolt
	// (250 ms when 0).
	FlushInterval time.Duration
	// FlushAt moves journaled events into bbolt as soon as this many wait
	// (32768 when 0). Tests set 1 to exercise bbolt on every read.
	FlushAt int
	// SkipTailCheck lets Open accept a file whose newest records fail
	// their checks, which it otherwise refuses. It is for forensics only:
	// the verify command sets it so that Verify can name the damaged
	// position; nothing that appends should.
	SkipTailCheck bool
	// MustExist makes Open refuse a data directory without a store file
	// (or with an empty one) instead of creating a new store, for the
	// commands that only read the log.
	MustExist bool
	// AcceptShorterLog lets Open take a log that is shorter than its head
	// record says, or holds another event at the recorded position. Open
	// then trims the stream index to the events the log holds and writes
	// a new head record, so that the next open is clean, and Accepted
	// tells what was accepted. It is the operator's explicit decision
	// after a loss; nothing takes it by default.
	AcceptShorterLog bool
}

// Store is the embedded engine.
type Store struct {
	db      *bbolt.DB
	path    string
	opts    Options
	journal *journal

	// headFile is the head record the flusher moves on; nil when the
	// store was opened for forensics (SkipTailCheck).
	headFile *headFile
	// faults are failures tests inject into the storage layer.
	faults faults
	// shorter is the head record's disagreement with the log found at
	// Open: accepted (AcceptShorterLog) or left for Verify to report
	// (SkipTailCheck).
	shorter error

	reqs       chan *appendRequest
	quit       chan struct{}
	writerDone chan struct{}
	syncq      chan *pending
	syncerDone chan struct{}
	closeOnce  sync.Once
	closed     atomic.Bool

	head   atomic.Uint64 // last durable position
	notify atomic.Pointer[chan struct{}]

	// mu guards mem. Readers hold it only to take a snapshot; the writer
	// holds it shared while it checks a batch and exclusively to publish
	// one; the flusher holds it exclusively to drop what bbolt now holds.
	mu  sync.RWMutex
	mem memtable

	flushKick   chan struct{}
	flushQuit   chan struct{}
	flusherDone chan struct{}
	trimmed     atomic.Pointer[chan struct{}]
	broken      atomic.Pointer[error]

	// Owned by the writer goroutine: the last position and hash it has
	// written to the journal (durable or not yet), and the batches the
	// syncer has not published yet.
	wHead    eventstore.Position
	lastHash []byte
	frameBuf []byte
	heads    map[string]eventstore.Revision
	inflight []*pending
}

// memtable holds the events that are durable in the journal but not yet in
// bbolt: positions base+1 onwards. Its events never change once added, so a
// reader may keep a copy of the slice header after letting go of the lock.
type memtable struct {
	base    eventstore.Position
	events  []*memEvent
	streams map[string][]eventstore.Position
}

type memEvent struct {
	raw []byte // the stored record
	ev  eventstore.RecordedEvent
}

var _ eventstore.Store = (*Store)(nil)

type appendRequest struct {
	ctx      context.Context
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	result   eventstore.AppendResult
	err      error
	done     chan struct{}
}

// Open opens or creates the store in dir. It fails with eventstore.ErrLocked
// when another process has the directory open, with eventstore.ErrCorrupt
// when the files fail their integrity checks (naming the file and the page
// or position), and with eventstore.ErrShorterLog when the log ends before,
// or differs at, the position its head record names, or when the store's
// file is missing or empty beside a head record. Events left in the
// journal by a crash are moved into bbolt before Open returns.
func Open(dir string, opts Options) (*Store, error) {
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.ReadBatch <= 0 {
		opts.ReadBatch = 1024
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 100 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = flushInterval
	}
	if opts.FlushAt <= 0 {
		opts.FlushAt = flushAt
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	rec, haveRec, recErr := readHeadFile(dir)
	switch err := checkFile(path); {
	case errors.Is(err, errMissingFile) && haveRec && !opts.AcceptShorterLog:
		return nil, fmt.Errorf("open event store: %w: %s is missing or empty, but %s records that the log held position %d", eventstore.ErrShorterLog, FileName, HeadFileName, rec.pos)
	case errors.Is(err, errMissingFile) && opts.MustExist:
		return nil, fmt.Errorf("open event store: %w: %s is missing or empty in %s", eventstore.ErrCorrupt, FileName, dir)
	case err != nil && !errors.Is(err, errMissingFile):
		return nil, fmt.Errorf("open event store: %w", err)
	}
	var db *bbolt.DB
	err := guard(nil, path, func() error {
		var err error
		db, err = bbolt.Open(path, 0o600, &bbolt.Options{
			Timeout: opts.LockTimeout,
			// The freelist is synced with each commit: commits are
			// large background flushes, and without it every open
			// would scan the whole file to rebuild the freelist.
			NoFreelistSync:  false,
			FreelistType:    bbolt.FreelistMapType,
			InitialMmapSize: 1 << 30,
			NoSync:          opts.NoSync,
		})
		return err
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("open event store: %w: %s is in use (is another server running on this data directory?)", eventstore.ErrLocked, dir)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, fmt.Errorf("open event store: %w: %s: %v", eventstore.ErrCorrupt, path, err)
	case err != nil:
		return nil, fmt.Errorf("open event store: %w", err)
	}
	s := &Store{
		db:          db,
		path:        path,
		opts:        opts,
		reqs:        make(chan *appendRequest, 4096),
		quit:        make(chan struct{}),
		writerDone:  make(chan struct{}),
		syncq:       make(chan *pending, 16),
		syncerDone:  make(chan struct{}),
		flushKick:   make(chan struct{}, 1),
		flushQuit:   make(chan struct{}),
		flusherDone: make(chan struct{}),
		mem:         memtable{streams: map[string][]eventstore.Position{}},
		heads:       map[string]eventstore.Revision{},
	}
	s.journal = &journal{dir: dir, noSync: opts.NoSync, faults: &s.faults}
	ch := make(chan struct{})
	s.notify.Store(&ch)
	tr := make(chan struct{})
	s.trimmed.Store(&tr)
	fail := func(format string, err error) (*Store, error) {
		_ = s.headFile.close()
		_ = db.Close()
		return nil, fmt.Errorf(format, err)
	}
	if err := s.init(); err != nil {
		return fail("open event store: %w", err)
	}
	if err := s.recover(); err != nil {
		return fail("open event store: %w", err)
	}
	if err := s.settleHeadRecord(dir, rec, haveRec, recErr); err != nil {
		return fail("open event store: %w", err)
	}
	s.mem.base = eventstore.Position(s.head.Load())
	if _, err := s.journal.startSegment(s.mem.base + 1); err != nil {
		return fail("open event store: journal: %w", err)
	}
	s.wHead = s.mem.base
	go s.writer()
	go s.syncer()
	go s.flusher()
	return s, nil
}

// settleHeadRecord checks the log against the head record read before
// bbolt opened the file, and then (except for forensics) writes the record
// of the log as it is. A disagreement is refused, or accepted with
// AcceptShorterLog, which also trims the stream index to the log, or kept
// for Verify to report with SkipTailCheck.
func (s *Store) settleHeadRecord(dir string, rec headRecord, haveRec bool, recErr error) error {
	problem := recErr
	if problem == nil && haveRec {
		problem = s.checkHeadRecord(rec)
	}
	switch {
	case problem == nil:
	case s.opts.SkipTailCheck:
		s.shorter = problem
		return nil
	case !s.opts.AcceptShorterLog:
		return problem
	default:
		s.shorter = problem
	}
	if s.opts.AcceptShorterLog {
		// The head record may be gone with the events: whatever else
		// proved the loss, the stream index must describe the log.
		head := eventstore.Position(s.head.Load())
		var trimmed int
		if err := s.update(func(tx *bbolt.Tx) error {
			var err error
			trimmed, err = trimIndex(tx, head)
			return err
		}); err != nil {
			return fmt.Errorf("trim the stream index to position %d: %w", head, err)
		}
		if trimmed > 0 {
			problem = fmt.Errorf("%w: the stream index of %d streams listed events past the log's end at position %d; they are dropped from it", eventstore.ErrShorterLog, trimmed, head)
			s.shorter = errors.Join(s.shorter, problem)
		}
	}
	if s.opts.SkipTailCheck {
		return nil
	}
	pos, hash := eventstore.Position(s.head.Load()), s.lastHash
	if haveRec && problem == nil {
		// The record holds: move it on in place.
		f, err := os.OpenFile(filepath.Join(dir, HeadFileName), os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", HeadFileName, err)
		}
		s.headFile = &headFile{f: f, noSync: s.opts.NoSync, cur: rec}
		return s.headFile.record(pos, hash)
	}
	hf, err := createHeadFile(dir, headRecord{seq: rec.seq, pos: pos, hash: hash}, s.opts.NoSync)
	if err != nil {
		return err
	}
	s.headFile = hf
	return nil
}

// Shorter returns the head record's disagreement with the log that Open
// accepted (AcceptShorterLog) or left for the verify command to report
// (SkipTailCheck), wrapping eventstore.ErrShorterLog or, for a damaged
// head record, eventstore.ErrCorrupt; nil when the log reaches the record.
func (s *Store) Shorter() error { return s.shorter }

// tailCheck is how many of the newest records Open verifies. A full check is
// the verify command's job; this catches a damaged tail, the likeliest place
// for damage after a crash or a bad copy.
const tailCheck = 256

// init creates the buckets of a new file, or checks an existing one: the
// layout version, the head against the last record, and the newest records'
// checksums and chain.
func (s *Store) init() error {
	return s.update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			for _, name := range [][]byte{bucketEvents, bucketStreams, bucketHeads, bucketMeta} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			v := binary.BigEndian.AppendUint32(nil, layoutVersion)
			return tx.Bucket(bucketMeta).Put(keyVersion, v)
		}
		events, streams, heads := tx.Bucket(bucketEvents), tx.Bucket(bucketStreams), tx.Bucket(bucketHeads)
		if events == nil || streams == nil || heads == nil {
			return fmt.Errorf("%w: missing buckets", eventstore.ErrCorrupt)
		}
		if v := meta.Get(keyVersion); len(v) != 4 || binary.BigEndian.Uint32(v) != layoutVersion {
			return fmt.Errorf("%w: unknown layout version", eventstore.ErrCorrupt)
		}
		head := meta.Get(keyHead)
		lastKey, _ := events.Cursor().Last()
		if head == nil {
			if lastKey != nil {
				return fmt.Errorf("%w: events stored but no head recorded", eventstore.ErrCorrupt)
			}
			return nil
		}
		if len(head) != 8+hashSize {
			return fmt.Errorf("%w: malformed head", eventstore.ErrCorrupt)
		}
		headPos := binary.BigEndian.Uint64(head)
		if lastKey == nil || binary.BigEndian.Uint64(lastKey) > headPos {
			return fmt.Errorf("%w: head says position %d but the last stored block starts at %v", eventstore.ErrCorrupt, headPos, keyPos(lastKey))
		}
		if !s.opts.SkipTailCheck {
			if err := checkTail(events, headPos, head[8:]); err != nil {
				return err
			}
		}
		s.head.Store(headPos)
		s.lastHash = bytes.Clone(head[8:])
		return nil
	})
}

func keyPos(k []byte) any {
	if len(k) != 8 {
		return "none"
	}
	return binary.BigEndian.Uint64(k)
}

// checkTail walks the newest records backwards, checking each checksum, that
// positions are dense, that the newest hash is the head's, and that each
// record's hash follows from its predecessor's.
func checkTail(events *bbolt.Bucket, headPos uint64, headHash []byte) error {
	c := events.Cursor()
	want := headPos
	var later, laterHash []byte // the body and hash of the record after the current one
	checked := 0
	for k, block := c.Last(); k != nil && checked < tailCheck; k, block = c.Prev() {
		first := binary.BigEndian.Uint64(k)
		var recs [][]byte
		if err := blockRecords(block, func(_ int, rec []byte) bool { recs = append(recs, rec); return true }); err != nil {
			return fmt.Errorf("%w: block at position %d: %v", eventstore.ErrCorrupt, first, err)
		}
		if first+uint64(len(recs))-1 != want {
			return fmt.Errorf("%w: position %d is missing", eventstore.ErrCorrupt, want)
		}
		for i := len(recs) - 1; i >= 0 && checked < tailCheck; i-- {
			pos := first + uint64(i)
			body, hash, err := recordParts(recs[i])
			if err != nil {
				return fmt.Errorf("%w: position %d: %v", eventstore.ErrCorrupt, pos, err)
			}
			if binary.BigEndian.Uint64(body[1:9]) != pos {
				return fmt.Errorf("%w: position %d holds the record of position %d", eventstore.ErrCorrupt, pos, binary.BigEndian.Uint64(body[1:9]))
			}
			if later == nil && !bytes.Equal(hash, headHash) {
				return fmt.Errorf("%w: position %d: hash differs from the recorded head", eventstore.ErrCorrupt, pos)
			}
			if later != nil {
				if h := chainHash(hash, later); !bytes.Equal(h[:], laterHash) {
					return fmt.Errorf("%w: position %d: hash chain broken", eventstore.ErrCorrupt, pos+1)
				}
			}
			if pos == 1 {
				if h := chainHash(nil, body); !bytes.Equal(h[:], hash) {
					return fmt.Errorf("%w: position 1: hash chain broken", eventstore.ErrCorrupt)
				}
			}
			later, laterHash = body, hash
			want--
			checked++
		}
	}
	return nil
}
