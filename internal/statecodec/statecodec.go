// Package statecodec is the compact binary form in which the email
// notifier and the process manager save what they learned from the log, so
// that a restart reads only the events after it: unsigned varints, UUIDs as
// 16 bytes, length-prefixed strings and exact times. Callers frame it with
// their own magic, format version and checksum.
package statecodec

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
)

// Encoder appends values to B.
type Encoder struct{ B []byte }

// Uvarint writes an unsigned varint.
func (e *Encoder) Uvarint(v uint64) { e.B = binary.AppendUvarint(e.B, v) }

// UUID writes a UUID as its 16 bytes.
func (e *Encoder) UUID(u uuid.UUID) { e.B = append(e.B, u[:]...) }

// Str writes a string with its length first.
func (e *Encoder) Str(s string) {
	e.B = binary.AppendUvarint(e.B, uint64(len(s)))
	e.B = append(e.B, s...)
}

// Time writes a time exactly: UTC times (all the domain records) as
// seconds and nanoseconds, others in their binary form with the offset.
func (e *Encoder) Time(t time.Time) {
	switch {
	case t.IsZero():
		e.B = append(e.B, 0)
	case t.Location() == time.UTC:
		e.B = append(e.B, 1)
		e.B = binary.AppendVarint(e.B, t.Unix())
		e.Uvarint(uint64(t.Nanosecond()))
	default:
		b, _ := t.MarshalBinary() // fails only for offsets no event holds
		e.B = append(e.B, 2)
		e.Str(string(b))
	}
}

// Decoder reads a state. A read past the end or a bad value sets err
// and makes every later read return zero values.
type Decoder struct {
	B   []byte
	Err error
}

// ErrShort reports a state that ends before its values do.
var ErrShort = errors.New("state is truncated")

// Fail records the first error and stops every later read.
func (d *Decoder) Fail(err error) {
	if d.Err == nil {
		d.Err = err
	}
	d.B = nil
}

// Take reads the next n bytes.
func (d *Decoder) Take(n int) []byte {
	if n < 0 || n > len(d.B) {
		d.Fail(ErrShort)
		return nil
	}
	out := d.B[:n]
	d.B = d.B[n:]
	return out
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.B)
	if n <= 0 {
		d.Fail(ErrShort)
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Count reads a number of items of at least size bytes each and checks it
// against what is left, so that a damaged count cannot make the decoder
// allocate without bound.
func (d *Decoder) Count(size int) int {
	n := d.Uvarint()
	if n > uint64(len(d.B)/size) {
		d.Fail(ErrShort)
		return 0
	}
	return int(n)
}

// UUID reads a UUID.
func (d *Decoder) UUID() uuid.UUID {
	var u uuid.UUID
	copy(u[:], d.Take(16))
	return u
}

// Bytes reads bytes written with their length first.
func (d *Decoder) Bytes() []byte { return d.Take(d.Count(1)) }

// Str reads a string written by Encoder.Str.
func (d *Decoder) Str() string { return string(d.Bytes()) }

// Time reads a time written by Encoder.Time.
func (d *Decoder) Time() time.Time {
	k := d.Take(1)
	switch {
	case k == nil || k[0] == 0:
		return time.Time{}
	case k[0] == 1:
		sec, n := binary.Varint(d.B)
		if n <= 0 {
			d.Fail(ErrShort)
			return time.Time{}
		}
		d.B = d.B[n:]
		nsec := d.Uvarint()
		if nsec >= 1e9 {
			d.Fail(errors.New("bad time"))
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	case k[0] == 2:
		var t time.Time
		if err := t.UnmarshalBinary(d.Take(d.Count(1))); err != nil {
			d.Fail(fmt.Errorf("bad time: %w", err))
		}
		return t
	}
	d.Fail(errors.New("bad time"))
	return time.Time{}
}

// Checkpoint is the last event a saved state reflects. Besides its
// position it names the event and where it sits in its stream, so that a
// state saved against another log (a restored backup, a replaced store)
// is recognised without reading the global log.
type Checkpoint struct {
	Pos      eventstore.Position
	ID       uuid.UUID
	Stream   string
	Revision eventstore.Revision
}

// CheckpointOf is the checkpoint of a state that reflects rec last.
func CheckpointOf(rec eventstore.RecordedEvent) Checkpoint {
	return Checkpoint{Pos: rec.Position, ID: rec.ID, Stream: rec.Stream, Revision: rec.Revision}
}

// Verify checks that store holds the checkpoint's event at its position.
func (c Checkpoint) Verify(ctx context.Context, store eventstore.Store) error {
	if c.Pos == eventstore.Start {
		return nil
	}
	recs, err := store.ReadStream(ctx, c.Stream, eventstore.ReadStreamOptions{From: c.Revision, Limit: 1})
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return fmt.Errorf("reading the checkpoint's event: %w", err)
	}
	if len(recs) == 0 || recs[0].ID != c.ID || recs[0].Position != c.Pos {
		return fmt.Errorf("the log does not hold event %s at position %d: the state is of another log", c.ID, c.Pos)
	}
	return nil
}

// Checkpoint writes a checkpoint.
func (e *Encoder) Checkpoint(c Checkpoint) {
	e.Uvarint(uint64(c.Pos))
	e.UUID(c.ID)
	e.Str(c.Stream)
	e.Uvarint(uint64(c.Revision))
}

// Checkpoint reads a checkpoint written by Encoder.Checkpoint.
func (d *Decoder) Checkpoint() Checkpoint {
	return Checkpoint{Pos: eventstore.Position(d.Uvarint()), ID: d.UUID(), Stream: d.Str(), Revision: eventstore.Revision(d.Uvarint())}
}
