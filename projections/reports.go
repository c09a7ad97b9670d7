package projections

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// The program reports count what happened to matches and meeting logs per
// calendar month, discipline and province. Each match is counted under its
// mentee's discipline and province as they stood when the request was made,
// so that a member editing a profile later never rewrites past months; a
// meeting log is counted under its match's, in the month of the meeting's
// date. Answers (an acceptance or a decline) are counted in the month they
// were given, with the time the mentor took. Months are calendar months in
// the program's time zone.

// Month is a calendar month.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf is the month of t in loc.
func MonthOf(t time.Time, loc *time.Location) Month {
	t = t.In(loc)
	return Month{t.Year(), t.Month()}
}

// ParseMonth reads a month written as YYYY-MM.
func ParseMonth(s string) (Month, error) {
	y, m, ok := strings.Cut(s, "-")
	year, err1 := strconv.Atoi(y)
	month, err2 := strconv.Atoi(m)
	if !ok || len(y) != 4 || len(m) != 2 || err1 != nil || err2 != nil || year < 1 || month < 1 || month > 12 {
		return Month{}, fmt.Errorf("%q is not a month written as YYYY-MM", s)
	}
	return Month{year, time.Month(month)}, nil
}

// String writes the month as YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// index numbers months in order, one apart.
func (m Month) index() int { return m.Year*12 + int(m.Month) - 1 }

func monthAt(i int) Month { return Month{i / 12, time.Month(i%12 + 1)} }

// Next is the month after m.
func (m Month) Next() Month { return monthAt(m.index() + 1) }

// reportKey is one cell of the reports: a month and a pair of discipline
// and province (an index into Reports.dims).
type reportKey struct {
	month int32
	dims  uint32
}

// reportCell holds the counts of one cell.
type reportCell struct {
	requested, made, declined, cancelled, ended int
	declinedBy, endedBy                         map[string]int
	// answers are the seconds each answer given in the month took.
	answers []int32
	// sessions counts meeting logs, unlengthed those without a length,
	// whose minutes are unknown.
	sessions, unlengthed, minutes int
}

func (c *reportCell) empty() bool {
	return c.requested == 0 && c.made == 0 && c.declined == 0 && c.cancelled == 0 && c.ended == 0 &&
		len(c.answers) == 0 && c.sessions == 0 && c.unlengthed == 0 && c.minutes == 0
}

// reportDims are the discipline and province a match is counted under.
type reportDims struct{ discipline, province string }

// The stages of a match the reports tell apart.
const (
	reportPending uint8 = iota + 1
	reportActive
	reportClosed
)

// reportMatch is what the reports keep of a match to count its next
// event: kept small, since there is one per match.
type reportMatch struct {
	requested int64 // Unix seconds
	dims      uint32
	stage     uint8
}

// reportSession is where a meeting log is counted, to move it when edited.
type reportSession struct {
	key     reportKey
	minutes int32
}

// Reports is the read model of the program reports. Discipline and
// province pairs are kept once, in dims, and named by their index
// elsewhere, so that a match or a meeting log costs a few bytes.
type Reports struct {
	checkpoint
	loc       *time.Location
	dims      []reportDims
	dimsIndex map[reportDims]uint32
	members   map[uuid.UUID]uint32
	matches   map[uuid.UUID]reportMatch
	sessions  map[uuid.UUID]reportSession
	cells     map[reportKey]*reportCell
}

var _ Projection = (*Reports)(nil)

// NewReports returns an empty reports read model that counts months in
// loc, the program's time zone.
func NewReports(loc *time.Location) *Reports {
	if loc == nil {
		loc = time.UTC
	}
	return &Reports{loc: loc, dims: []reportDims{{}}, dimsIndex: map[reportDims]uint32{{}: 0},
		members: map[uuid.UUID]uint32{}, matches: map[uuid.UUID]reportMatch{},
		sessions: map[uuid.UUID]reportSession{}, cells: map[reportKey]*reportCell{}}
}

// Name implements Projection.
func (p *Reports) Name() string { return "reports" }

// Apply implements Projection.
func (p *Reports) Apply(events []Event) error {
	p.applyEach(events, p.evolve)
	return nil
}

// intern returns the index of a discipline and province pair.
func (p *Reports) intern(d reportDims) uint32 {
	i, ok := p.dimsIndex[d]
	if !ok {
		i = uint32(len(p.dims))
		p.dims = append(p.dims, d)
		p.dimsIndex[d] = i
	}
	return i
}

func (p *Reports) cell(k reportKey) *reportCell {
	c := p.cells[k]
	if c == nil {
		c = &reportCell{}
		p.cells[k] = c
	}
	return c
}

func (p *Reports) at(t time.Time, dims uint32) *reportCell {
	return p.cell(reportKey{int32(MonthOf(t, p.loc).index()), dims})
}

// answered closes a pending match's request; it reports whether the match
// was pending.
func (p *Reports) answered(id uuid.UUID, at time.Time, to uint8, answer bool) (*reportCell, bool) {
	m, ok := p.matches[id]
	if !ok || m.stage != reportPending {
		return nil, false
	}
	m.stage = to
	p.matches[id] = m
	c := p.at(at, m.dims)
	if answer {
		c.answers = append(c.answers, int32(at.Unix()-m.requested))
	}
	return c, true
}

func count(m *map[string]int, k string) {
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[k]++
}

func (p *Reports) evolve(ev *Event) {
	switch e := ev.Data.(type) {
	case domain.ProfileUpdated:
		p.members[e.MemberID] = p.intern(reportDims{e.Profile.Discipline, e.Profile.Location.Province})
	case domain.MatchRequested:
		if _, ok := p.matches[e.MatchID]; ok {
			return
		}
		m := reportMatch{requested: e.At.Unix(), dims: p.members[e.MenteeID], stage: reportPending}
		p.matches[e.MatchID] = m
		p.at(e.At, m.dims).requested++
	case domain.MatchAccepted:
		if c, ok := p.answered(e.MatchID, e.At, reportActive, true); ok {
			c.made++
		}
	case domain.MatchDeclined:
		if c, ok := p.answered(e.MatchID, e.At, reportClosed, true); ok {
			c.declined++
			count(&c.declinedBy, e.Reason)
		}
	case domain.MatchCancelled:
		if c, ok := p.answered(e.MatchID, e.At, reportClosed, false); ok {
			c.cancelled++
		}
	case domain.MatchEnded:
		m, ok := p.matches[e.MatchID]
		if !ok || m.stage != reportActive {
			return
		}
		m.stage = reportClosed
		p.matches[e.MatchID] = m
		c := p.at(e.At, m.dims)
		c.ended++
		count(&c.endedBy, e.Reason)
	case domain.SessionLogged:
		if _, ok := p.sessions[e.SessionID]; ok {
			return
		}
		p.countSession(e.SessionID, e.MatchID, e.Details)
	case domain.SessionEdited:
		s, ok := p.sessions[e.SessionID]
		if !ok {
			return
		}
		c := p.cell(s.key)
		c.sessions--
		c.minutes -= int(s.minutes)
		if s.minutes == 0 {
			c.unlengthed--
		}
		if c.empty() {
			delete(p.cells, s.key)
		}
		p.countSession(e.SessionID, e.MatchID, e.Details)
	}
}

func (p *Reports) countSession(id, matchID uuid.UUID, d domain.SessionDetails) {
	k := reportKey{int32(Month{d.Date.Year(), d.Date.Month()}.index()), p.matches[matchID].dims}
	c := p.cell(k)
	c.sessions++
	c.minutes += d.Minutes
	if d.Minutes == 0 {
		c.unlengthed++
	}
	p.sessions[id] = reportSession{k, int32(d.Minutes)}
}

// ReportQuery selects the months (From to To, both included) and,
// when not empty, the disciplines and provinces a report covers. The empty
// string in either list selects the mentees who had not stated one.
type ReportQuery struct {
	From, To    Month
	Disciplines []string
	Provinces   []string
}

// MaxReportMonths is the longest span one report covers.
const MaxReportMonths = 120

// Check refuses a query whose months are out of order or span more than
// MaxReportMonths.
func (q ReportQuery) Check() error {
	if q.To.index() < q.From.index() {
		return fmt.Errorf("the report ends (%s) before it starts (%s)", q.To, q.From)
	}
	if n := q.To.index() - q.From.index() + 1; n > MaxReportMonths {
		return fmt.Errorf("a report covers at most %d months (asked for %d)", MaxReportMonths, n)
	}
	return nil
}

// ReportFigures are the counts of a report, a month of it or a group.
type ReportFigures struct {
	// Requested, Made, Declined, Cancelled and Ended count the matches
	// requested, accepted, declined, cancelled and ended.
	Requested, Made, Declined, Cancelled, Ended int
	// DeclinedBy and EndedBy count declines and ends by reason ("" when
	// the mentor gave none).
	DeclinedBy, EndedBy map[string]int
	// Answered counts acceptances and declines; MedianDaysToAnswer is the
	// median of the days they took (0 when none).
	Answered           int
	MedianDaysToAnswer float64
	// Sessions and Minutes count meeting logs and their length;
	// SessionsWithoutLength those that have none (their minutes are not
	// known, and not counted).
	Sessions, Minutes, SessionsWithoutLength int

	answers []int32
}

func (f *ReportFigures) add(c *reportCell) {
	f.Requested += c.requested
	f.Made += c.made
	f.Declined += c.declined
	f.Cancelled += c.cancelled
	f.Ended += c.ended
	f.DeclinedBy = addCounts(f.DeclinedBy, c.declinedBy)
	f.EndedBy = addCounts(f.EndedBy, c.endedBy)
	f.answers = append(f.answers, c.answers...)
	f.Sessions += c.sessions
	f.Minutes += c.minutes
	f.SessionsWithoutLength += c.unlengthed
}

func addCounts(to, from map[string]int) map[string]int {
	if to == nil {
		to = map[string]int{}
	}
	for k, v := range from {
		to[k] += v
	}
	return to
}

// finish computes the median and drops the durations.
func (f *ReportFigures) finish() {
	f.Answered = len(f.answers)
	f.MedianDaysToAnswer = MedianDays(f.answers)
	f.answers = nil
	if f.DeclinedBy == nil {
		f.DeclinedBy = map[string]int{}
	}
	if f.EndedBy == nil {
		f.EndedBy = map[string]int{}
	}
}

// MedianDays is the median of durations in seconds, in days; 0 for none.
func MedianDays(seconds []int32) float64 {
	if len(seconds) == 0 {
		return 0
	}
	s := slices.Clone(seconds)
	slices.Sort(s)
	mid := len(s) / 2
	med := float64(s[mid])
	if len(s)%2 == 0 {
		med = (float64(s[mid-1]) + float64(s[mid])) / 2
	}
	return med / 86400
}

// ReportMonth is one month of a report.
type ReportMonth struct {
	Month Month
	ReportFigures
}

// ReportGroup is one discipline or province of a report ("" for the
// mentees who had not stated one).
type ReportGroup struct {
	Name string
	ReportFigures
}

// Report is the answer to a ReportQuery.
type Report struct {
	From, To Month
	// Months lists every month of the span in order, empty ones too.
	Months []ReportMonth
	// ByDiscipline and ByProvince are the whole span's figures per
	// discipline and per province, by name ("" last).
	ByDiscipline, ByProvince []ReportGroup
	Total                    ReportFigures
	// Position is the read model's position when computed.
	Position eventstore.Position
}

// ReportReader is what the API reads of the reports.
type ReportReader interface {
	Report(q ReportQuery) (Report, error)
}

var _ ReportReader = (*Reports)(nil)

// Report computes a report.
func (p *Reports) Report(q ReportQuery) (Report, error) {
	if err := q.Check(); err != nil {
		return Report{}, err
	}
	from, to := q.From.index(), q.To.index()
	r := Report{From: q.From, To: q.To, Months: make([]ReportMonth, to-from+1)}
	for i := range r.Months {
		r.Months[i].Month = monthAt(from + i)
	}
	byDiscipline, byProvince := map[string]*ReportFigures{}, map[string]*ReportFigures{}
	group := func(m map[string]*ReportFigures, name string) *ReportFigures {
		if m[name] == nil {
			m[name] = &ReportFigures{}
		}
		return m[name]
	}
	p.mu.RLock()
	for k, c := range p.cells {
		d := p.dims[k.dims]
		if int(k.month) < from || int(k.month) > to ||
			(len(q.Disciplines) > 0 && !slices.Contains(q.Disciplines, d.discipline)) ||
			(len(q.Provinces) > 0 && !slices.Contains(q.Provinces, d.province)) {
			continue
		}
		r.Months[int(k.month)-from].add(c)
		group(byDiscipline, d.discipline).add(c)
		group(byProvince, d.province).add(c)
		r.Total.add(c)
	}
	r.Position = p.pos
	p.mu.RUnlock()
	for i := range r.Months {
		r.Months[i].finish()
	}
	r.Total.finish()
	r.ByDiscipline, r.ByProvince = groups(byDiscipline), groups(byProvince)
	return r, nil
}

// groups lists groups by name, the unnamed one last.
func groups(m map[string]*ReportFigures) []ReportGroup {
	out := make([]ReportGroup, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		f := m[name]
		f.finish()
		out = append(out, ReportGroup{Name: name, ReportFigures: *f})
	}
	slices.SortStableFunc(out, func(a, b ReportGroup) int {
		return cmp.Compare(boolInt(a.Name == ""), boolInt(b.Name == ""))
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
