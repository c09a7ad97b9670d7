package process

import (
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/statecodec"
)

// What the manager learnt of the open matches, the follow-ups still
// waiting and, with the retention rule on, the members, is saved in
// process.db together with the last event it reflects, so that a restart
// loads it and reads only the events after that one instead of the whole
// log. The state, its checkpoint and the settled position are written in
// one bbolt transaction: a crash leaves either the old state or the new
// one, each with its own checkpoint.
//
// Only what the log decides is saved. What a run did (the rules it fired
// whose marks it has not read, the retry times after failures) is not: a
// restart learns the marks from the log, and a rule fired again finds its
// mark and decides nothing. The schedule is rebuilt from the matches and
// the members.
//
// Layout of the value:
//
//	"MNTRPROC" | format (uvarint) | checkpoint: position (uvarint),
//	event ID (16 bytes), stream, revision (uvarint) |
//	matches: count, then ID, mentee, mentor, status, requested at,
//	accepted at, ended at, marks (a byte of bits), and slots (count, then
//	member and state) each | follow-ups: count, then position, event
//	type, match, member, occurred at each | members: a byte, 1 when the
//	retention rule was on and 0 when it was off, then count, then ID,
//	since, signed in, slots and requests asked each | CRC-32C of
//	everything before (4 bytes)
//
// Integers are varints and strings length-prefixed. A state whose format
// this build does not know, whose checksum fails, whose checkpoint is not
// in the log, or that was saved with the retention rule on while it is off
// now or the other way round (the members are followed only while it is
// on) is ignored and the whole log read instead: losing the state costs
// time, not correctness.

const stateMagic = "MNTRPROC"

// stateFormat numbers the layout above together with what learn takes
// from each event. A build that changes either, or that upcasts old events
// differently, bumps it, so that a state learnt by another build is never
// used.
const stateFormat = 2

// saveEvery is the least number of events between two saves of the state.
// A save encodes and writes every open match (some 50 ms and 7 MB for
// 60,000) and member, so the manager waits for saveEvery events, or for
// half as many events as it knows matches and members when that is more:
// saving then costs a small constant per event however large the program
// grows, and a restart after a crash reads at most that many events again
// (Close saves, so a clean restart reads none).
const saveEvery = 4096

var keyState = []byte("state") // in bucketMeta

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The marks of a match, as bits of one byte.
const (
	markWindow = 1 << iota
	markReminded
	markSession
	markReviewed
)

// savedState is a state as decoded, before the manager takes it.
type savedState struct {
	at        statecodec.Checkpoint
	matches   map[uuid.UUID]*match
	followUps []followUp
	members   map[uuid.UUID]*member
}

// load restores the matches, the follow-ups and the checkpoint from
// process.db and rebuilds the schedule. A state that is missing,
// unreadable, of another format or of another log is logged and left
// aside: the manager then learns from the whole log. It fails only when
// ctx ends, and the next call looks again.
func (m *Manager) load(ctx context.Context) error {
	started := time.Now()
	var st savedState
	found, err := m.st.Load(func(v []byte) error {
		var err error
		st, err = m.decodeState(v)
		return err
	})
	if err == nil && found {
		err = st.at.Verify(ctx, m.store)
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case !found && err == nil:
		m.log.Info().Msg("no saved state; learning the open matches from the whole log")
	case err != nil:
		m.log.Warn().Err(err).Msg("saved state not used; learning the open matches from the whole log")
	default:
		m.restore(st)
		m.log.Info().Int("matches", len(m.matches)).Int("follow_ups", len(m.followUp)).
			Uint64("position", uint64(st.at.Pos)).Dur("took", time.Since(started)).Msg("state restored")
	}
	m.loaded = true
	return nil
}

// restore takes a decoded state. The settled position may have moved past
// some of its follow-ups after it was saved: those are done.
func (m *Manager) restore(st savedState) {
	m.matches, m.read, m.stateAt = st.matches, st.at, st.at.Pos
	m.position.Store(uint64(st.at.Pos))
	for _, f := range st.followUps {
		if f.position > m.settled {
			m.followUp = append(m.followUp, f)
			m.waiting[f.matchID]++
		}
	}
	// A match kept only for a follow-up that is done by now goes.
	for id := range m.matches {
		m.tidy(id)
	}
	m.timers = m.timers[:0]
	for id, mt := range m.matches {
		for r := range ruleCount {
			if at, ok := mt.due(m.program, r); ok {
				m.timers = append(m.timers, timer{at: at, id: id, rule: r})
			}
		}
	}
	if st.members != nil {
		m.members = st.members
	}
	for id, mb := range m.members {
		if at, ok := mb.due(m.program); ok {
			mb.scheduled = at
			m.timers = append(m.timers, timer{at: at, id: id, rule: ruleRetention})
		}
	}
	heap.Init(&m.timers)
}

// saveIfDue saves the state once enough events passed since the last
// save. A failed save is logged only: the manager goes on, and a restart
// reads more of the log.
func (m *Manager) saveIfDue() {
	if m.read.Pos-m.stateAt < eventstore.Position(max(m.saveEvery, (len(m.matches)+len(m.members))/2)) || m.Healthy() != nil {
		return
	}
	if err := m.saveState(); err != nil {
		m.log.Warn().Err(err).Msg("state not saved")
	}
}

// saveState writes the state at the read position together with the
// settled position. A stopped manager must not call it: learning the
// event it stopped on may have changed part of the state.
func (m *Manager) saveState() error {
	state := m.encodeState()
	settled := max(m.settled, m.saved)
	if err := m.st.Save(state, settled); err != nil {
		return err
	}
	m.stateAt, m.saved = m.read.Pos, settled
	return nil
}

// encodeState returns the state with its checkpoint.
func (m *Manager) encodeState() []byte {
	e := statecodec.Encoder{B: make([]byte, 0, 64+len(m.matches)*120+len(m.followUp)*64+len(m.members)*48)}
	e.B = append(e.B, stateMagic...)
	e.Uvarint(stateFormat)
	e.Checkpoint(m.read)
	e.Uvarint(uint64(len(m.matches)))
	for id, mt := range m.matches {
		e.UUID(id)
		e.UUID(mt.mentee)
		e.UUID(mt.mentor)
		e.Str(string(mt.status))
		e.Time(mt.requestedAt)
		e.Time(mt.acceptedAt)
		e.Time(mt.endedAt)
		e.B = append(e.B, bit(mt.windowMarked, markWindow)|bit(mt.reminded, markReminded)|
			bit(mt.hasSession, markSession)|bit(mt.reviewed, markReviewed))
		e.Uvarint(uint64(len(mt.slots)))
		for _, s := range mt.slots {
			e.UUID(s.member)
			e.Str(string(s.state))
		}
	}
	e.Uvarint(uint64(len(m.followUp)))
	for _, f := range m.followUp {
		e.Uvarint(uint64(f.position))
		e.Str(f.typ)
		e.UUID(f.matchID)
		e.UUID(f.memberID)
		e.Time(f.at.Add(-m.opts.ReconcileAfter))
	}
	m.encodeMembers(&e)
	return binary.BigEndian.AppendUint32(e.B, crc32.Checksum(e.B, castagnoli))
}

// decodeState reads a state written by encodeState. The follow-ups' grace
// periods are those of this manager's options.
func (m *Manager) decodeState(b []byte) (savedState, error) {
	var st savedState
	if len(b) < len(stateMagic)+4 || string(b[:len(stateMagic)]) != stateMagic {
		return st, errors.New("not a saved state")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return st, errors.New("checksum mismatch")
	}
	d := statecodec.Decoder{B: body[len(stateMagic):]}
	if v := d.Uvarint(); v != stateFormat {
		return st, fmt.Errorf("format %d, this build reads %d", v, stateFormat)
	}
	st.at = d.Checkpoint()
	n := d.Count(48)
	st.matches = make(map[uuid.UUID]*match, n)
	for range n {
		id := d.UUID()
		mt := &match{mentee: d.UUID(), mentor: d.UUID(), status: matchStatus(d.Bytes())}
		mt.requestedAt, mt.acceptedAt, mt.endedAt = d.Time(), d.Time(), d.Time()
		var marks byte
		if b := d.Take(1); b != nil {
			marks = b[0]
		}
		mt.windowMarked, mt.reminded = marks&markWindow != 0, marks&markReminded != 0
		mt.hasSession, mt.reviewed = marks&markSession != 0, marks&markReviewed != 0
		if n := d.Count(17); n > 0 {
			mt.slots = make([]slot, n)
			for i := range mt.slots {
				mt.slots[i] = slot{member: d.UUID(), state: slotState(d.Bytes())}
			}
		}
		st.matches[id] = mt
	}
	n = d.Count(34)
	st.followUps = make([]followUp, 0, n)
	for range n {
		f := followUp{position: eventstore.Position(d.Uvarint()), typ: followUpType(d.Bytes()), matchID: d.UUID(), memberID: d.UUID()}
		f.at = d.Time().Add(m.opts.ReconcileAfter)
		st.followUps = append(st.followUps, f)
	}
	st.members = m.decodeMembers(&d)
	if d.Err == nil && len(d.B) > 0 {
		d.Err = errors.New("trailing bytes")
	}
	if d.Err != nil {
		return savedState{}, d.Err
	}
	return st, nil
}

func bit(set bool, b byte) byte {
	if set {
		return b
	}
	return 0
}

// matchStatus, slotState and followUpType return the domain's own
// constants, so that decoding allocates nothing for them and the matches
// share a few strings instead of holding a copy each.
func matchStatus(b []byte) domain.MatchStatus {
	return known(b, domain.StatusPending, domain.StatusActive, domain.StatusDeclined, domain.StatusCancelled, domain.StatusEnded)
}

func slotState(b []byte) domain.SlotState {
	return known(b, domain.SlotPending, domain.SlotActive, domain.SlotReserved, domain.SlotReleased)
}

// eventTypes are the domain's event type names, which followUpType shares.
var eventTypes = domain.EventTypes()

func followUpType(b []byte) string {
	return known(b, eventTypes...)
}

// known returns the value among values that b spells, or a new string.
func known[S ~string](b []byte, values ...S) S {
	for _, v := range values {
		if string(b) == string(v) {
			return v
		}
	}
	return S(b)
}

// encodeMembers writes the members section of the state. A member kept
// only until an unfinished erasure finishes is left out: what a run did is
// not saved.
func (m *Manager) encodeMembers(e *statecodec.Encoder) {
	if m.members == nil {
		e.B = append(e.B, 0)
		return
	}
	e.B = append(e.B, 1)
	n := 0
	for _, mb := range m.members {
		if !mb.erased {
			n++
		}
	}
	e.Uvarint(uint64(n))
	for id, mb := range m.members {
		if mb.erased {
			continue
		}
		e.UUID(id)
		e.Time(mb.since)
		e.Time(mb.signedIn)
		e.Uvarint(uint64(mb.slots))
		e.Uvarint(uint64(mb.asked))
	}
}

// decodeMembers reads the members section, failing d when the rule was on
// and is off now, or the other way round.
func (m *Manager) decodeMembers(d *statecodec.Decoder) map[uuid.UUID]*member {
	b := d.Take(1)
	if b == nil {
		return nil
	}
	switch tracked := b[0] == 1; {
	case b[0] > 1:
		d.Fail(fmt.Errorf("members marked %d", b[0]))
		return nil
	case tracked && m.members == nil:
		d.Fail(errors.New("saved with the retention rule on, which is off now"))
		return nil
	case !tracked && m.members != nil:
		d.Fail(errors.New("saved with the retention rule off, which is on now"))
		return nil
	case !tracked:
		return nil
	}
	n := d.Count(20)
	members := make(map[uuid.UUID]*member, n)
	for range n {
		id := d.UUID()
		mb := &member{since: d.Time(), signedIn: d.Time()}
		mb.slots, mb.asked = int32(min(d.Uvarint(), math.MaxInt32)), int32(min(d.Uvarint(), math.MaxInt32))
		members[id] = mb
	}
	return members
}
