package projections

import (
	"fmt"
	"math"
	"slices"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
)

// reportsStateVersion numbers the layout of the reports' state in
// snapshots; change the layout, change the number.
const reportsStateVersion = 1

var _ snapshotter = (*Reports)(nil)

func (p *Reports) stateVersion() uint32 { return reportsStateVersion }

// encode writes the time zone first: months counted in another zone are
// refused on load and rebuilt.
func (p *frozenReports) encode(e *snapEncoder) {
	e.u64(uint64(p.pos))
	e.uuid(p.last)
	e.str(p.zone)
	e.uvarint(uint64(len(p.dims)))
	for _, d := range p.dims {
		e.str(d.discipline)
		e.str(d.province)
	}
	e.uvarint(uint64(len(p.members)))
	for id, d := range p.members {
		e.uuid(id)
		e.uvarint(uint64(d))
		e.check()
	}
	e.uvarint(uint64(len(p.matches)))
	for id, m := range p.matches {
		e.uuid(id)
		e.varint(m.requested)
		e.uvarint(uint64(m.dims))
		e.uvarint(uint64(m.stage))
		e.check()
	}
	e.uvarint(uint64(len(p.sessions)))
	for id, s := range p.sessions {
		e.uuid(id)
		e.varint(int64(s.key.month))
		e.uvarint(uint64(s.key.dims))
		e.varint(int64(s.minutes))
		e.check()
	}
	e.uvarint(uint64(len(p.cells)))
	for k, c := range p.cells {
		e.varint(int64(k.month))
		e.uvarint(uint64(k.dims))
		for _, n := range []int{c.requested, c.made, c.declined, c.cancelled, c.ended, c.sessions, c.unlengthed, c.minutes} {
			e.varint(int64(n))
		}
		encodeCounts(e, c.declinedBy)
		encodeCounts(e, c.endedBy)
		e.uvarint(uint64(len(c.answers)))
		for _, a := range c.answers {
			e.varint(int64(a))
		}
		e.check()
	}
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

// small reads a number that must fit 32 bits.
func small(d *snapDecoder, v int64) int32 {
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail(fmt.Errorf("number %d out of range", v))
		return 0
	}
	return int32(v)
}

func (p *Reports) decodeState(d *snapDecoder, pos eventstore.Position, last uuid.UUID) error {
	if zone := d.str(); d.err == nil && zone != p.loc.String() {
		return fmt.Errorf("months counted in time zone %s, not %s", zone, p.loc)
	}
	dims := make([]reportDims, d.count())
	dimsIndex := make(map[reportDims]uint32, len(dims))
	for i := range dims {
		dims[i] = reportDims{d.str(), d.str()}
		dimsIndex[dims[i]] = uint32(i)
	}
	if d.err == nil && (len(dims) == 0 || dims[0] != (reportDims{}) || len(dimsIndex) != len(dims)) {
		return fmt.Errorf("a damaged table of disciplines and provinces")
	}
	index := func() uint32 {
		i := d.uvarint()
		if i >= uint64(len(dims)) {
			d.fail(fmt.Errorf("discipline and province %d of %d", i, len(dims)))
			return 0
		}
		return uint32(i)
	}
	members := map[uuid.UUID]uint32{}
	for range d.count() {
		id := d.uuid()
		members[id] = index()
	}
	matches := map[uuid.UUID]reportMatch{}
	for range d.count() {
		id := d.uuid()
		m := reportMatch{requested: d.varint(), dims: index()}
		if st := d.uvarint(); st >= uint64(reportPending) && st <= uint64(reportClosed) {
			m.stage = uint8(st)
		} else {
			d.fail(fmt.Errorf("match stage %d", st))
		}
		matches[id] = m
	}
	sessions := map[uuid.UUID]reportSession{}
	for range d.count() {
		id := d.uuid()
		k := reportKey{small(d, d.varint()), index()}
		sessions[id] = reportSession{k, small(d, d.varint())}
	}
	cells := map[reportKey]*reportCell{}
	for range d.count() {
		k := reportKey{small(d, d.varint()), index()}
		c := &reportCell{}
		for _, n := range []*int{&c.requested, &c.made, &c.declined, &c.cancelled, &c.ended, &c.sessions, &c.unlengthed, &c.minutes} {
			*n = d.int()
		}
		c.declinedBy = decodeCounts(d)
		c.endedBy = decodeCounts(d)
		if n := d.count(); n > 0 {
			c.answers = make([]int32, n)
			for i := range c.answers {
				c.answers[i] = small(d, d.varint())
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
	for k := range cells {
		if k.month < 0 || k.month > 10000*12 {
			return fmt.Errorf("cell of month %d", k.month)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dims, p.dimsIndex, p.members, p.matches, p.sessions, p.cells = dims, dimsIndex, members, matches, sessions, cells
	p.pos, p.last = pos, last
	return nil
}
