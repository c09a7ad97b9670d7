package projections

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// reportsStateVersion numbers the layout of the reports' state in
// snapshots; change the layout, change the number.
const reportsStateVersion = 1

var _ snapshotter = (*Reports)(nil)

func (p *Reports) stateVersion() uint32 { return reportsStateVersion }

// encodeState writes the time zone first: months counted in another zone
// are refused on load and rebuilt.
func (p *Reports) encodeState(e *snapEncoder) eventstore.Position {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e.u64(uint64(p.pos))
	e.uuid(p.last)
	e.str(p.loc.String())
	e.uvarint(uint64(len(p.members)))
	for id, d := range p.members {
		e.uuid(id)
		e.str(d.discipline)
		e.str(d.province)
	}
	e.check()
	e.uvarint(uint64(len(p.matches)))
	for id, m := range p.matches {
		e.uuid(id)
		e.str(m.dims.discipline)
		e.str(m.dims.province)
		e.time(m.requestedAt)
		e.str(string(m.status))
		e.check()
	}
	e.uvarint(uint64(len(p.sessions)))
	for id, s := range p.sessions {
		e.uuid(id)
		encodeReportKey(e, s.key)
		e.varint(int64(s.minutes))
		e.check()
	}
	e.uvarint(uint64(len(p.cells)))
	for k, c := range p.cells {
		encodeReportKey(e, k)
		for _, n := range []int{c.requested, c.made, c.declined, c.cancelled, c.ended, c.sessions, c.minutes} {
			e.varint(int64(n))
		}
		encodeCounts(e, c.declinedBy)
		encodeCounts(e, c.endedBy)
		e.uvarint(uint64(len(c.answers)))
		for _, a := range c.answers {
			e.varint(a)
		}
		e.check()
	}
	return p.pos
}

func encodeReportKey(e *snapEncoder, k reportKey) {
	e.varint(int64(k.month))
	e.str(k.discipline)
	e.str(k.province)
}

func decodeReportKey(d *snapDecoder) reportKey {
	return reportKey{month: d.int(), discipline: d.str(), province: d.str()}
}

func encodeCounts(e *snapEncoder, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.varint(int64(m[k]))
	}
}

func decodeCounts(d *snapDecoder) map[string]int {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]int, n)
	for range n {
		k := d.str()
		m[k] = d.int()
	}
	return m
}

func (p *Reports) decodeState(d *snapDecoder, pos eventstore.Position, last uuid.UUID) error {
	if zone := d.str(); d.err == nil && zone != p.loc.String() {
		return fmt.Errorf("months counted in time zone %s, not %s", zone, p.loc)
	}
	members := map[uuid.UUID]reportDims{}
	for range d.count() {
		id := d.uuid()
		members[id] = reportDims{d.str(), d.str()}
	}
	matches := map[uuid.UUID]*reportMatch{}
	for range d.count() {
		id := d.uuid()
		m := &reportMatch{dims: reportDims{d.str(), d.str()}}
		m.requestedAt = d.time()
		m.status = domain.MatchStatus(d.str())
		matches[id] = m
	}
	sessions := map[uuid.UUID]reportSession{}
	for range d.count() {
		id := d.uuid()
		k := decodeReportKey(d)
		sessions[id] = reportSession{k, d.int()}
	}
	cells := map[reportKey]*reportCell{}
	for range d.count() {
		k := decodeReportKey(d)
		c := &reportCell{}
		for _, n := range []*int{&c.requested, &c.made, &c.declined, &c.cancelled, &c.ended, &c.sessions, &c.minutes} {
			*n = d.int()
		}
		c.declinedBy = decodeCounts(d)
		c.endedBy = decodeCounts(d)
		if n := d.count(); n > 0 {
			c.answers = make([]int64, n)
			for i := range c.answers {
				c.answers[i] = d.varint()
			}
		}
		if d.err != nil {
			break
		}
		cells[k] = c
	}
	if err := d.done(); err != nil {
		return err
	}
	// A month index outside the years a Date holds is damage the checksum
	// missed.
	for k := range cells {
		if k.month < 0 || k.month > 10000*12 {
			return fmt.Errorf("cell of month %d", k.month)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.members, p.matches, p.sessions, p.cells = members, matches, sessions, cells
	p.pos, p.last = pos, last
	return nil
}
