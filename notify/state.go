package notify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/statecodec"
)

// The composer's directory is saved in the outbox file together with the
// last event it reflects, so that a restart loads it and reads only the
// events after that one instead of the whole log. State, checkpoint and the
// outbox position are written in one bbolt transaction: a crash leaves
// either the old state or the new one, each with its own checkpoint.
//
// Layout of the value:
//
//	"MNTRNTFY" | format (uvarint) | checkpoint: position (uvarint),
//	event ID (16 bytes), stream, revision (uvarint) |
//	members: count, then ID, name, login email, contact email, phone,
//	preferred method each | matches: count, then ID, requested at,
//	accepted at each | CRC-32C of everything before (4 bytes)
//
// Integers are varints and strings length-prefixed. A state whose format
// this build does not know, whose checksum fails, or whose checkpoint is
// not in the log is ignored and the whole log read instead: losing the
// state costs time, not correctness.

const stateMagic = "MNTRNTFY"

// stateFormat numbers the layout above together with what learn takes
// from each event. A build that changes either, or that upcasts old events
// differently, bumps it, so that a state learnt by another build is never
// used.
const stateFormat = 1

// saveEvery is the least number of events between two saves of the
// state. A save encodes and writes the whole directory (some 40 ms and
// 12 MB for 100,000 members), so the notifier waits for saveEvery events,
// or for half as many events as the directory has entries when that is
// more: saving then costs a small constant per event however large the
// program grows, and a restart after a crash reads at most that many
// events again (Close saves, so a clean restart reads none).
const saveEvery = 4096

var keyState = []byte("composer") // in bucketMeta: the composer's state

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SaveState stores the encoded state and, in the same transaction, moves
// the outbox position up to composed, so that the file never holds a
// state whose checkpoint is past the emails it recorded as composed.
func (o *Outbox) SaveState(state []byte, composed eventstore.Position) error {
	err := o.update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyState, state); err != nil {
			return err
		}
		if v := meta.Get(keyPosition); len(v) == 8 && eventstore.Position(binary.BigEndian.Uint64(v)) >= composed {
			return nil
		}
		return meta.Put(keyPosition, binary.BigEndian.AppendUint64(nil, uint64(composed)))
	})
	if err != nil {
		return fmt.Errorf("outbox: save state: %w", err)
	}
	return nil
}

// LoadState calls decode with the saved state, which is valid only during
// the call, and reports whether there was one.
func (o *Outbox) LoadState(decode func([]byte) error) (bool, error) {
	found := false
	err := o.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyState)
		if v == nil {
			return nil
		}
		found = true
		return decode(v)
	})
	return found, err
}

// encodeState returns the composer's state with its checkpoint.
func encodeState(c *composer, cp statecodec.Checkpoint) []byte {
	e := statecodec.Encoder{B: make([]byte, 0, 64+len(c.members)*112+len(c.matches)*40)}
	e.B = append(e.B, stateMagic...)
	e.Uvarint(stateFormat)
	e.Checkpoint(cp)
	e.Uvarint(uint64(len(c.members)))
	for id, p := range c.members {
		e.UUID(id)
		e.Str(p.name)
		e.Str(p.email)
		e.Str(p.contact.Email)
		e.Str(p.contact.Phone)
		e.Str(string(p.contact.PreferredMethod))
	}
	e.Uvarint(uint64(len(c.matches)))
	for id, d := range c.matches {
		e.UUID(id)
		e.Time(d.requestedAt)
		e.Time(d.acceptedAt)
	}
	return binary.BigEndian.AppendUint32(e.B, crc32.Checksum(e.B, castagnoli))
}

// decodeState reads a state written by encodeState into a new composer
// with settings s.
func decodeState(b []byte, s Settings) (*composer, statecodec.Checkpoint, error) {
	var cp statecodec.Checkpoint
	if len(b) < len(stateMagic)+4 || string(b[:len(stateMagic)]) != stateMagic {
		return nil, cp, errors.New("not a saved directory")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return nil, cp, errors.New("checksum mismatch")
	}
	d := statecodec.Decoder{B: body[len(stateMagic):]}
	if v := d.Uvarint(); v != stateFormat {
		return nil, cp, fmt.Errorf("format %d, this build reads %d", v, stateFormat)
	}
	cp = d.Checkpoint()
	c := newComposer(s)
	n := d.Count(16)
	c.members = make(map[uuid.UUID]person, n)
	for range n {
		id := d.UUID()
		p := person{name: d.Str(), email: d.Str()}
		p.contact.Email, p.contact.Phone = d.Str(), d.Str()
		p.contact.PreferredMethod = contactMethod(d.Str())
		c.members[id] = p
	}
	n = d.Count(16)
	c.matches = make(map[uuid.UUID]matchDates, n)
	for range n {
		id := d.UUID()
		c.matches[id] = matchDates{requestedAt: d.Time(), acceptedAt: d.Time()}
	}
	if d.Err == nil && len(d.B) > 0 {
		d.Err = errors.New("trailing bytes")
	}
	if d.Err != nil {
		return nil, cp, d.Err
	}
	return c, cp, nil
}

// contactMethod returns the program's own constant for s, so that a
// hundred thousand members share two strings instead of holding a copy
// each.
func contactMethod(s string) domain.ContactMethod {
	for _, m := range []domain.ContactMethod{domain.ContactEmail, domain.ContactPhone} {
		if s == string(m) {
			return m
		}
	}
	return domain.ContactMethod(s)
}
