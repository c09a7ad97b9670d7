package projections

import (
	"maps"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Saving a read model must not stop its events for as long as encoding and
// writing its whole state takes (most of a second for a large program),
// since every mutation's read-your-writes wait would wait as long. A save
// therefore freezes the state under the lock, briefly, and encodes the
// frozen state without it:
//
//   - Records edited in place (member views, matches, sessions, postings
//     of the search index) are captured as pointers. From then until the
//     save releases its capture, an event copies a record before its
//     first edit and puts the copy in the live maps, so that the captured
//     one never changes. Each freeze starts the count of copies afresh,
//     which keeps the captures of saves that overlap as they were too.
//   - Lists that only grow (a member's matches, an author's sessions, the
//     reports' discipline and province pairs) are captured as slices of
//     their current length: appends write past it.
//   - What is small, or cheap to copy whole, is copied: the resources,
//     the index's term names, its sets of every and of open mentors, and
//     the reports' counters.

// membersCOW is the members' copy-on-write state.
type membersCOW struct {
	// saves counts the captures not yet released; nothing is copied
	// while it is zero.
	saves int
	// views holds the members whose view is the live model's own since
	// the last freeze: copied, or registered since.
	views map[uuid.UUID]struct{}
	// terms is how many terms the index had at the last freeze, and
	// posts the term numbers below it whose postings were copied since.
	terms int
	posts map[uint32]struct{}
}

// writable returns the view of a member that events may edit, copying it
// first when a save captured it.
func (p *Members) writable(m *MemberView) *MemberView {
	if _, ok := p.cow.views[m.ID]; ok {
		return m
	}
	c := m.clone()
	p.members[m.ID] = c
	if n, ok := p.index.num[m.ID]; ok {
		p.index.docs[n] = c
	}
	p.cow.views[m.ID] = struct{}{}
	return c
}

// copyPostings copies, while a save holds a capture, the postings of a
// profile's terms that the capture holds, before the index edits them:
// the index adds a mentor to, or removes it from, only the postings of
// its old and new profiles' terms (and the sets of every and of open
// mentors, which a capture holds copies of).
func (p *Members) copyPostings(pr *domain.Profile) {
	if p.cow.saves == 0 {
		return
	}
	ix := p.index
	for _, t := range ix.termNumbers(pr, false) {
		if int(t) >= p.cow.terms {
			continue
		}
		if _, ok := p.cow.posts[t]; ok {
			continue
		}
		ix.posts[t] = ix.posts[t].Clone()
		p.cow.posts[t] = struct{}{}
	}
}

// frozenMembers is the members' state as a save captured it.
type frozenMembers struct {
	p     *Members
	pos   eventstore.Position
	last  uuid.UUID
	views []*MemberView
	index frozenIndex
}

// frozenIndex is the search index as a save captured it.
type frozenIndex struct {
	docs  []uuid.UUID       // mentors by number
	names []string          // terms by number
	posts []*roaring.Bitmap // by term number
	all   *roaring.Bitmap
	open  *roaring.Bitmap
}

func (p *Members) freeze() frozenState {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := &frozenMembers{p: p, pos: p.pos, last: p.last, views: make([]*MemberView, 0, len(p.members))}
	for _, m := range p.members {
		f.views = append(f.views, m)
	}
	ix := p.index
	f.index.docs = make([]uuid.UUID, len(ix.docs))
	for i, m := range ix.docs {
		f.index.docs[i] = m.ID
	}
	f.index.names = make([]string, len(ix.posts))
	for term, t := range ix.terms {
		f.index.names[t] = term
	}
	f.index.posts = slices.Clone(ix.posts)
	f.index.all, f.index.open = ix.all.Clone(), ix.open.Clone()
	p.cow.saves++
	p.cow.views = map[uuid.UUID]struct{}{}
	p.cow.terms, p.cow.posts = len(ix.posts), map[uint32]struct{}{}
	return f
}

func (f *frozenMembers) position() eventstore.Position { return f.pos }

func (f *frozenMembers) release() {
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	f.p.cow.saves--
	if f.p.cow.saves == 0 {
		f.p.cow = membersCOW{}
	}
}

// matchesCOW is the matches' copy-on-write state.
type matchesCOW struct {
	// saves counts the captures not yet released; nothing is copied
	// while it is zero.
	saves int
	// matches and sessions hold the records that are the live model's
	// own since the last freeze: copied, or added since.
	matches  map[uuid.UUID]struct{}
	sessions map[uuid.UUID]struct{}
}

// writableMatch returns the match events may edit, copying it first when
// a save captured it.
func (p *Matches) writableMatch(m *MatchView) *MatchView {
	if _, ok := p.cow.matches[m.ID]; ok {
		return m
	}
	c := m.clone()
	p.matches[m.ID] = c
	p.cow.matches[m.ID] = struct{}{}
	return c
}

// writableSession returns the meeting log events may edit, copying it
// first when a save captured it.
func (p *Matches) writableSession(s *SessionView) *SessionView {
	if _, ok := p.cow.sessions[s.ID]; ok {
		return s
	}
	c := *s
	p.sessions[s.ID] = &c
	p.cow.sessions[s.ID] = struct{}{}
	return &c
}

// frozenMatches is the matches' state as a save captured it.
type frozenMatches struct {
	p         *Matches
	pos       eventstore.Position
	last      uuid.UUID
	matches   []*MatchView
	byMember  []frozenList
	sessions  []*SessionView
	byAuthor  []frozenList
	resources []ResourceView
}

// frozenList is one list of IDs as captured: its length then.
type frozenList struct {
	key uuid.UUID
	ids []uuid.UUID
}

func freezeLists(lists map[uuid.UUID][]uuid.UUID) []frozenList {
	out := make([]frozenList, 0, len(lists))
	for k, l := range lists {
		out = append(out, frozenList{k, l[:len(l):len(l)]})
	}
	return out
}

func (p *Matches) freeze() frozenState {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := &frozenMatches{p: p, pos: p.pos, last: p.last,
		matches: make([]*MatchView, 0, len(p.matches)), sessions: make([]*SessionView, 0, len(p.sessions)),
		resources: make([]ResourceView, 0, len(p.resources))}
	for _, m := range p.matches {
		f.matches = append(f.matches, m)
	}
	for _, s := range p.sessions {
		f.sessions = append(f.sessions, s)
	}
	// Resources are few, and retiring one edits it in place.
	for _, r := range p.resources {
		f.resources = append(f.resources, *r)
	}
	f.byMember, f.byAuthor = freezeLists(p.byMember), freezeLists(p.byAuthor)
	p.cow.saves++
	p.cow.matches, p.cow.sessions = map[uuid.UUID]struct{}{}, map[uuid.UUID]struct{}{}
	return f
}

func (f *frozenMatches) position() eventstore.Position { return f.pos }

func (f *frozenMatches) release() {
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	f.p.cow.saves--
	if f.p.cow.saves == 0 {
		f.p.cow = matchesCOW{}
	}
}

// frozenReports is the reports' state as a save captured it: copied, since
// its records are a few bytes each, kept by value in maps.
type frozenReports struct {
	pos      eventstore.Position
	last     uuid.UUID
	zone     string
	dims     []reportDims
	members  map[uuid.UUID]uint32
	matches  map[uuid.UUID]reportMatch
	sessions map[uuid.UUID]reportSession
	cells    map[reportKey]*reportCell
}

func (p *Reports) freeze() frozenState {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := &frozenReports{pos: p.pos, last: p.last, zone: p.loc.String(), dims: p.dims[:len(p.dims):len(p.dims)],
		members: maps.Clone(p.members), matches: maps.Clone(p.matches), sessions: maps.Clone(p.sessions),
		cells: make(map[reportKey]*reportCell, len(p.cells))}
	for k, c := range p.cells {
		cc := *c
		cc.declinedBy, cc.endedBy = maps.Clone(c.declinedBy), maps.Clone(c.endedBy)
		// Answers are only ever appended.
		cc.answers = c.answers[:len(c.answers):len(c.answers)]
		f.cells[k] = &cc
	}
	return f
}

func (f *frozenReports) position() eventstore.Position { return f.pos }

func (f *frozenReports) release() {}
