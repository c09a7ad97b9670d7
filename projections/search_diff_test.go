package projections

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// searchAsBefore is SearchMentors as it was before hits were scored from
// the postings: every hit scored from its view by affinity, all hits
// collected, and the page taken by Result.
func searchAsBefore(p *Members, q SearchQuery) (SearchResult, error) {
	pl, err := PlanSearch(q)
	if err != nil {
		return SearchResult{}, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	ix := p.index
	var sets []*roaring.Bitmap
	for _, g := range pl.Groups {
		set := roaring.New()
		for _, t := range g {
			if b := ix.lookup(t); b != nil {
				set.Or(b)
			}
		}
		sets = append(sets, set)
	}
	if pl.OnlyAvailable {
		sets = append(sets, ix.open)
	}
	var found *roaring.Bitmap
	switch len(sets) {
	case 0:
		found = ix.all
	case 1:
		found = sets[0]
	default:
		slices.SortFunc(sets, func(a, b *roaring.Bitmap) int { return cmp.Compare(a.GetCardinality(), b.GetCardinality()) })
		found = roaring.FastAnd(sets...)
	}
	viewer := p.members[q.Viewer]
	var hits []SearchHit
	it := found.Iterator()
	for it.HasNext() {
		if h, ok := pl.Hit(viewer, ix.docs[it.Next()]); ok {
			hits = append(hits, h)
		}
	}
	if k := pl.First + 1; len(hits) > 4*k {
		hits = smallest(hits, k)
	}
	slices.SortFunc(hits, compareHits)
	res := SearchResult{Hits: []SearchHit{}, Total: int(found.GetCardinality())}
	if len(hits) > pl.First {
		hits, res.HasNextPage = hits[:pl.First], true
	}
	for _, h := range hits {
		h.Cursor = encodeCursorAsBefore(h)
		h.Mentor = h.Mentor.clone()
		res.Hits = append(res.Hits, h)
	}
	return res, nil
}

// encodeCursorAsBefore is how a cursor was encoded, one string each.
func encodeCursorAsBefore(h SearchHit) string {
	b := binary.AppendVarint(nil, int64(h.Score))
	b = append(b, h.Mentor.ID[:]...)
	b = append(b, h.Mentor.Profile.Name...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// naiveSearch answers a search by reading every member's view: the
// matching rules of SearchQuery written out plainly, the score by
// affinity, every hit sorted. terms holds each mentor's profile terms.
func naiveSearch(p *Members, q SearchQuery, terms map[*MemberView]map[string]bool) (SearchResult, error) {
	pl, err := PlanSearch(q)
	if err != nil {
		return SearchResult{}, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	viewer := p.members[q.Viewer]
	var hits []SearchHit
	total := 0
	for _, m := range p.index.docs {
		if m.Role != domain.RoleMentor || m.Erased() {
			continue
		}
		ok := !pl.OnlyAvailable || m.Open()
		for _, g := range pl.Groups {
			ok = ok && slices.ContainsFunc(g, func(t string) bool { return terms[m][t] })
		}
		if !ok {
			continue
		}
		total++
		if h, after := pl.Hit(viewer, m); after {
			hits = append(hits, h)
		}
	}
	slices.SortFunc(hits, compareHits)
	return pl.page(hits[:min(len(hits), pl.First+1)], total), nil
}

var defaultListFactor = listFactor

// Scoring hits from the postings, and keeping only the page in a heap,
// answers every search as scoring each hit from its view and sorting them
// all did: the same hits in the same order, the same scores, totals,
// cursors and next pages, whoever searches and however profiles changed.
func TestSearchRanksAsEveryHitScored(t *testing.T) {
	focus := []string{"CAREER", "LICENSING", "LEADERSHIP", "NEWCOMER", "", "RESEARCH"}
	skills := []string{"COMMUNICATION", "DESIGN", "ETHICS", "FIELD", "", "SAFETY", "CODE"}
	words := []string{"dam", "tunnel", "soil", "rock", "design", "water", "the", "in"}
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 77))
			profile := func() domain.Profile {
				pr := domain.Profile{
					Name:       []string{"Ada", "Bo", "Chen", "Dee", "Émile", "", "ada", strings.Repeat("Zoë ", 60)}[r.IntN(8)],
					Discipline: []string{"CIVIL", "MINING", ""}[r.IntN(3)],
					Location:   domain.Location{Province: []string{"ON", "BC", "AB"}[r.IntN(3)]},
				}
				for range r.IntN(4) {
					// Focus lists may repeat an area or hold an empty one, which
					// the domain refuses but the search must still score alike.
					pr.Focus = append(pr.Focus, focus[r.IntN(len(focus))])
				}
				if r.IntN(5) > 0 {
					pr.Skills = map[string]int{}
					for range r.IntN(6) {
						pr.Skills[skills[r.IntN(len(skills))]] = r.IntN(12) - 1
					}
				}
				var bio []string
				for range r.IntN(6) {
					bio = append(bio, words[r.IntN(len(words))])
				}
				pr.Biography = strings.Join(bio, " ")
				return pr
			}
			p := NewMembers()
			var all []*MemberView
			// Small sets of mentors are combined as bitsets, larger ones
			// partly by asking the sets about each hit.
			n := 50 + r.IntN(300)
			if seed%2 == 1 {
				n = 1000 + r.IntN(3000)
			}
			for range n {
				role := domain.RoleMentor
				if r.IntN(4) == 0 {
					role = domain.RoleMentee
				}
				m := &MemberView{ID: uuid.New(), Role: role, Profile: profile(), Accepting: r.IntN(2) == 0, Capacity: r.IntN(3)}
				p.members[m.ID] = m
				all = append(all, m)
				if role == domain.RoleMentor {
					p.index.add(m)
				}
			}
			// Change some profiles, and erase some mentors, after indexing.
			for range n / 4 {
				m := all[r.IntN(len(all))]
				if m.Erased() {
					continue
				}
				if m.Role != domain.RoleMentor {
					m.Profile = profile()
					continue
				}
				old := m.Profile
				m.Profile = profile()
				if r.IntN(8) == 0 {
					// As the members projection erases a member.
					m.Profile, m.Accepting, m.ErasedAt = domain.Profile{Name: domain.ErasedName}, false, time.Unix(1, 0)
				}
				p.index.reprofile(m, &old)
				p.index.setOpen(m)
			}
			terms := map[*MemberView]map[string]bool{}
			for _, m := range p.index.docs {
				terms[m] = map[string]bool{}
				p.index.profileTerms(&m.Profile, func(term []byte) { terms[m][string(term)] = true })
			}
			// A filter of one value, or of two (a union), sometimes one no
			// mentor has.
			pick := func(l []string) []string {
				l = append(l, "NONE")
				switch r.IntN(6) {
				case 0, 1:
					return []string{l[r.IntN(len(l))]}
				case 2:
					return []string{l[r.IntN(len(l))], l[r.IntN(len(l))]}
				}
				return nil
			}
			for range 300 {
				q := SearchQuery{
					Disciplines: pick([]string{"CIVIL", "MINING"}),
					Provinces:   pick([]string{"ON", "BC", "AB"}),
					FocusAreas:  pick(focus[:4]),
				}
				switch r.IntN(6) {
				case 0, 1:
					q.Words = words[r.IntN(len(words))]
				case 2:
					q.Words = words[r.IntN(len(words))] + " " + words[r.IntN(len(words))]
				case 3:
					q.Words = "nowhere"
				}
				if r.IntN(4) == 0 {
					q.Skills = []SkillFilter{{Skill: skills[r.IntN(len(skills))], MinRating: r.IntN(6)}}
				}
				q.OnlyAvailable = r.IntN(4) == 0
				if r.IntN(6) > 0 {
					q.Viewer = all[r.IntN(len(all))].ID
				}
				q.First = []int{0, 1, 2, 5, 20, 101}[r.IntN(6)]
				for page := 0; ; page++ {
					want, werr := searchAsBefore(p, q)
					naive, nerr := naiveSearch(p, q, terms)
					// Each way of combining sets: bitsets throughout,
					// questions as soon as possible, and as chosen.
					listFactor = []int{0, 1 << 30, defaultListFactor}[r.IntN(3)]
					got, gerr := p.SearchMentors(q)
					listFactor = defaultListFactor
					if werr != nil || gerr != nil || nerr != nil {
						t.Fatalf("%+v: errors %v, %v, %v", q, werr, gerr, nerr)
					}
					// DeepEqual first: go-cmp is slow enough to be most of the
					// test's time, and is only needed to show a difference.
					if !reflect.DeepEqual(want, got) {
						t.Fatalf("%+v, page %d: results differ (-before +now):\n%s", q, page, gocmp.Diff(want, got))
					}
					if !reflect.DeepEqual(naive, got) {
						t.Fatalf("%+v, page %d: results differ (-naive +now):\n%s", q, page, gocmp.Diff(naive, got))
					}
					if !got.HasNextPage || page == 3 {
						break
					}
					q.After = got.Hits[len(got.Hits)-1].Cursor
				}
			}
		})
	}
}

// Searches running at once, while profiles change, each count their own
// scores: every hit's score is its mentor's affinity with the viewer, as
// the copy of the view handed out shows it.
func TestConcurrentSearchesScoreTheirOwnHits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	focus := []string{"CAREER", "LICENSING", "LEADERSHIP", "NEWCOMER"}
	skills := []string{"COMMUNICATION", "DESIGN", "ETHICS", "FIELD"}
	profile := func(r *rand.Rand) domain.Profile {
		pr := domain.Profile{Name: fmt.Sprint("M", r.IntN(30)), Discipline: []string{"CIVIL", "MINING"}[r.IntN(2)], Skills: map[string]int{}}
		for _, f := range focus {
			if r.IntN(2) == 0 {
				pr.Focus = append(pr.Focus, f)
			}
		}
		for _, s := range skills {
			pr.Skills[s] = 1 + r.IntN(5)
		}
		return pr
	}
	p := NewMembers()
	viewer := &MemberView{ID: uuid.New(), Role: domain.RoleMentee, Profile: profile(r)}
	p.members[viewer.ID] = viewer
	var mentors []*MemberView
	for range 3000 {
		m := &MemberView{ID: uuid.New(), Role: domain.RoleMentor, Profile: profile(r)}
		p.members[m.ID] = m
		p.index.add(m)
		mentors = append(mentors, m)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := rand.New(rand.NewPCG(4, 9))
		for range 2000 {
			m := mentors[r.IntN(len(mentors))]
			p.mu.Lock()
			old := m.Profile
			m.Profile = profile(r)
			p.index.reprofile(m, &old)
			p.mu.Unlock()
		}
	}()
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			q := SearchQuery{Viewer: viewer.ID, First: 100}
			if g%2 == 0 {
				q.Disciplines = []string{"CIVIL"}
			}
			for range 200 {
				res, err := p.SearchMentors(q)
				if err != nil {
					errs <- err
					return
				}
				for _, h := range res.Hits {
					if want := affinity(viewer, h.Mentor); h.Score != want {
						errs <- fmt.Errorf("%s scored %d, has affinity %d", h.Mentor.Profile.Name, h.Score, want)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	<-done
}
