package bolt

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/mentorship/mentorship/eventstore"
)

// recordFormat is the first byte of every stored record. A new layout gets a
// new number and the decoder keeps reading the old ones.
const recordFormat = 1

// hashSize and crcSize are the fixed-size trailer of a stored record: the
// chain hash, then a CRC-32C over everything before it.
const (
	hashSize = sha256.Size
	crcSize  = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errShortRecord = errors.New("record is truncated")

// encodeRecord lays out one event as stored bytes:
//
//	body | sha256(prevHash | body) | crc32c(body | hash)
//
// The body holds every field of the envelope, including the event's global
// position, so that a record moved to another key no longer verifies.
func encodeRecord(dst []byte, ev *eventstore.EventData, stream string, rev eventstore.Revision, pos eventstore.Position, recordedAt time.Time, prevHash []byte) (record, data, hash []byte) {
	m := &ev.Metadata
	if dst == nil {
		dst = make([]byte, 0, 96+len(stream)+len(ev.Type)+len(m.ActorID)+len(m.ActorRole)+len(m.CorrelationID)+len(m.CausationID)+len(ev.Data)+hashSize+crcSize)
	}
	start := len(dst)
	dst = append(dst, recordFormat)
	dst = binary.BigEndian.AppendUint64(dst, uint64(pos))
	dst = append(dst, ev.ID[:]...)
	dst = binary.AppendUvarint(dst, uint64(rev))
	dst = binary.AppendUvarint(dst, uint64(ev.SchemaVersion))
	dst = appendTime(dst, ev.Metadata.OccurredAt)
	dst = appendTime(dst, recordedAt)
	dst = appendString(dst, stream)
	dst = appendString(dst, ev.Type)
	dst = appendString(dst, ev.Metadata.ActorID)
	dst = appendString(dst, ev.Metadata.ActorRole)
	dst = appendString(dst, ev.Metadata.CorrelationID)
	dst = appendString(dst, ev.Metadata.CausationID)
	dst = binary.AppendUvarint(dst, uint64(len(ev.Data)))
	dataAt := len(dst)
	dst = append(dst, ev.Data...)
	h := chainHash(prevHash, dst[start:])
	dst = append(dst, h[:]...)
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
	if len(ev.Data) > 0 {
		data = dst[dataAt : dataAt+len(ev.Data) : dataAt+len(ev.Data)]
	}
	return dst[start:], data, dst[len(dst)-crcSize-hashSize : len(dst)-crcSize]
}

// chainHash links a record's body to its predecessor's hash.
func chainHash(prev, body []byte) [hashSize]byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(body)
	var out [hashSize]byte
	h.Sum(out[:0])
	return out
}

func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(dst, 0)
	}
	return binary.AppendVarint(dst, t.UnixNano())
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// recordParts splits a stored record into body and hash after checking its
// CRC, so that a flipped bit anywhere is reported as corruption.
func recordParts(raw []byte) (body, hash []byte, err error) {
	if len(raw) < 1+8+16+hashSize+crcSize {
		return nil, nil, errShortRecord
	}
	n := len(raw) - crcSize
	if crc32.Checksum(raw[:n], castagnoli) != binary.BigEndian.Uint32(raw[n:]) {
		return nil, nil, errors.New("record checksum mismatch")
	}
	return raw[:n-hashSize], raw[n-hashSize : n], nil
}

// decodeRecord turns stored bytes into an event. The result owns its memory:
// raw may point into the memory-mapped file, which is only valid inside the
// read transaction.
func decodeRecord(raw []byte) (eventstore.RecordedEvent, error) {
	return decodeRecordInto(raw, nil)
}

// decodeRecordInto is decodeRecord with the event's data and hash copied to
// the end of *arena, when arena is not nil, rather than to memory of their
// own.
func decodeRecordInto(raw []byte, arena *[]byte) (eventstore.RecordedEvent, error) {
	var ev eventstore.RecordedEvent
	body, hash, err := recordParts(raw)
	if err != nil {
		return ev, err
	}
	if body[0] != recordFormat {
		return ev, fmt.Errorf("unknown record format %d", body[0])
	}
	d := decoder{b: body[1:]}
	ev.Position = eventstore.Position(d.u64())
	copy(ev.ID[:], d.take(16))
	ev.Revision = eventstore.Revision(d.uvarint())
	ev.SchemaVersion = int(d.uvarint())
	ev.Metadata.OccurredAt = d.time()
	ev.Metadata.RecordedAt = d.time()
	// The six strings lie next to each other: one conversion copies them
	// all, and each is a slice of that one string, so a record costs two
	// allocations (the strings, then the data with the hash) instead of
	// seven. Reading the whole log quickly depends on it.
	region := d.b
	var spans [6][2]int
	for i := range spans {
		n := int(d.uvarint())
		at := len(region) - len(d.b)
		d.take(n)
		spans[i] = [2]int{at, at + n}
	}
	if d.err != nil {
		return ev, d.err
	}
	strs := string(region[:len(region)-len(d.b)])
	ev.Stream = strs[spans[0][0]:spans[0][1]]
	ev.Type = strs[spans[1][0]:spans[1][1]]
	ev.Metadata.ActorID = strs[spans[2][0]:spans[2][1]]
	ev.Metadata.ActorRole = strs[spans[3][0]:spans[3][1]]
	ev.Metadata.CorrelationID = strs[spans[4][0]:spans[4][1]]
	ev.Metadata.CausationID = strs[spans[5][0]:spans[5][1]]
	data := d.take(int(d.uvarint()))
	if d.err != nil {
		return ev, d.err
	}
	if len(d.b) != 0 {
		return ev, errors.New("record has trailing bytes")
	}
	var buf []byte
	if arena == nil {
		buf = make([]byte, len(data)+len(hash))
		copy(buf, data)
		copy(buf[len(data):], hash)
	} else {
		at := len(*arena)
		*arena = append(append(*arena, data...), hash...)
		buf = (*arena)[at:len(*arena):len(*arena)]
	}
	if len(data) > 0 {
		ev.Data = buf[:len(data):len(data)]
	}
	ev.Hash = buf[len(data):]
	return ev, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShortRecord
	}
	d.b = nil
}

func (d *decoder) u64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time {
	if d.err != nil {
		return time.Time{}
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return time.Time{}
	}
	d.b = d.b[n:]
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}
