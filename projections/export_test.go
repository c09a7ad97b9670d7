package projections

import (
	"fmt"
	"io"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// EncodeSnapshotTo writes p's snapshot to w as SaveSnapshot writes it to
// its file, but writing whenever limit bytes are buffered, so that a test
// can hold a save in the middle of its encoding by holding a write.
func EncodeSnapshotTo(w io.Writer, p Projection, limit int) (eventstore.Position, error) {
	sp, ok := p.(snapshotter)
	if !ok {
		return 0, fmt.Errorf("projection %s cannot be saved", p.Name())
	}
	e := newSnapEncoder(w)
	e.limit = limit
	pos, _ := encodeSnapshot(e, sp)
	return pos, e.err
}

// DiffState compares the whole states of two read models of the same
// kind, checkpoint included, and describes how they differ ("" when they
// do not).
func DiffState(want, got Projection) string {
	opts := cmp.Options{cmp.AllowUnexported(domain.Date{}, reportDims{}, reportKey{}, reportCell{}, reportMatch{}, reportSession{})}
	switch w := want.(type) {
	case *Members:
		g := got.(*Members)
		type state struct {
			Pos     eventstore.Position
			Last    uuid.UUID
			Members map[uuid.UUID]*MemberView
			Index   indexState
		}
		return cmp.Diff(state{w.pos, w.last, w.members, indexStateOf(w.index)}, state{g.pos, g.last, g.members, indexStateOf(g.index)}, opts)
	case *Matches:
		g := got.(*Matches)
		type state struct {
			Pos       eventstore.Position
			Last      uuid.UUID
			Matches   map[uuid.UUID]*MatchView
			ByMember  map[uuid.UUID][]uuid.UUID
			Sessions  map[uuid.UUID]*SessionView
			ByAuthor  map[uuid.UUID][]uuid.UUID
			Resources map[uuid.UUID]*ResourceView
		}
		return cmp.Diff(state{w.pos, w.last, w.matches, w.byMember, w.sessions, w.byAuthor, w.resources},
			state{g.pos, g.last, g.matches, g.byMember, g.sessions, g.byAuthor, g.resources}, opts)
	case *Reports:
		g := got.(*Reports)
		type state struct {
			Pos      eventstore.Position
			Last     uuid.UUID
			Dims     []reportDims
			Members  map[uuid.UUID]uint32
			Matches  map[uuid.UUID]reportMatch
			Sessions map[uuid.UUID]reportSession
			Cells    map[reportKey]*reportCell
		}
		return cmp.Diff(state{w.pos, w.last, w.dims, w.members, w.matches, w.sessions, w.cells},
			state{g.pos, g.last, g.dims, g.members, g.matches, g.sessions, g.cells}, opts)
	}
	return fmt.Sprintf("cannot compare read models %s", want.Name())
}

// indexState is a search index in comparable form: its mentors by number,
// the live views it holds being those of the members map, and each term
// with its postings.
type indexState struct {
	Docs       []uuid.UUID
	Posts      map[string][]uint32
	All, Open  []uint32
	TermsCount int
}

func indexStateOf(ix *searchIndex) indexState {
	s := indexState{Posts: map[string][]uint32{}, All: ix.all.ToArray(), Open: ix.open.ToArray(), TermsCount: len(ix.posts)}
	for _, m := range ix.docs {
		s.Docs = append(s.Docs, m.ID)
	}
	for term, t := range ix.terms {
		s.Posts[term] = ix.posts[t].ToArray()
	}
	return s
}

// IndexHoldsLiveViews reports whether every view the search index holds
// is the members map's own, as searches expect.
func IndexHoldsLiveViews(p *Members) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, m := range p.index.docs {
		if p.members[m.ID] != m {
			return false
		}
	}
	return true
}

// Freeze captures p's state as a save does and returns the function that
// releases the capture.
func Freeze(p Projection) (release func()) {
	return p.(snapshotter).freeze().release
}
