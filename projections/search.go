package projections

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// MaxSearchWords is the program guide's limit on biography search words,
// counted as the member typed them: separated by spaces.
const MaxSearchWords = 3

// MaxSearchParts bounds the whole words the typed words hold once their
// punctuation splits them ("water-resource" holds two), and
// MaxSearchLength the text, so that a search's cost stays small however
// a word is joined.
const (
	MaxSearchParts  = 3 * MaxSearchWords
	MaxSearchLength = 200
)

// ErrTooManyWords is returned for a biography search of more than
// MaxSearchWords words, of more than MaxSearchParts whole words in all,
// or longer than MaxSearchLength bytes.
var ErrTooManyWords = fmt.Errorf("the biography search takes at most %d words (split on spaces), of %d whole words and %d characters in all", MaxSearchWords, MaxSearchParts, MaxSearchLength)

// ErrBadCursor is returned for a cursor this server did not hand out.
var ErrBadCursor = errors.New("invalid cursor")

// SkillFilter asks for mentors who rate a skill at least MinRating.
type SkillFilter struct {
	Skill     string
	MinRating int
}

// SearchQuery is a Find a Mentor search.
type SearchQuery struct {
	// Words is the biography search: every word must appear in the
	// biography as a whole word, ignoring case and punctuation (see
	// Words). Text holding no word at all finds nobody.
	Words string
	// Each list filter matches mentors having any of its values; the
	// filters combine with AND.
	Disciplines    []string
	Industries     []string
	Provinces      []string
	City           string
	Languages      []string
	FocusAreas     []string
	MeetingFormats []string
	Skills         []SkillFilter
	// OnlyAvailable keeps mentors who accept requests and have free
	// capacity.
	OnlyAvailable bool
	// Viewer is the searching member; mentors sharing more of the viewer's
	// focus areas and skills come first.
	Viewer uuid.UUID
	// First and After page through the results.
	First int
	After string
}

// SearchHit is one mentor found, with its place in the ordering.
type SearchHit struct {
	Mentor *MemberView
	Score  int
	Cursor string
}

// SearchResult is a page of hits.
type SearchResult struct {
	Hits []SearchHit
	// Total counts every mentor the query matches.
	Total       int
	HasNextPage bool
}

// searchIndex maps terms (biography words and facet values) to bitmaps of
// mentor numbers. Terms are numbered once, so that a mentor's postings cost
// a few bytes each and indexing a profile allocates nothing for the terms it
// has seen before. A mentor's old terms are found again from the old
// profile when it changes, rather than kept per mentor.
type searchIndex struct {
	docs  []*MemberView // by mentor number
	num   map[uuid.UUID]uint32
	terms map[string]uint32 // term -> term number
	posts []*roaring.Bitmap // by term number
	all   *roaring.Bitmap
	open  *roaring.Bitmap // mentors taking requests now

	key   []byte   // scratch for building terms
	found []uint32 // scratch for a profile's term numbers
}

func newSearchIndex() *searchIndex {
	return &searchIndex{num: map[uuid.UUID]uint32{}, terms: map[string]uint32{}, all: roaring.New(), open: roaring.New()}
}

// Term prefixes: each facet has its own, so that a city named like a word
// stays apart from the word.
const (
	termWord       = "w:"
	termDiscipline = "d:"
	termIndustry   = "i:"
	termProvince   = "p:"
	termCity       = "c:"
	termLanguage   = "l:"
	termFocus      = "f:"
	termFormat     = "m:"
	termSkill      = "s:"
	termPair       = "dp:"
)

// profileTerms calls fn with every term of a mentor's profile: the
// biography's words and the facet values, and for each skill one term per
// rating up to the mentor's, so that "at least 4" is one posting. A term
// may come more than once; fn's buffer is only valid during the call.
func (ix *searchIndex) profileTerms(pr *domain.Profile, fn func(term []byte)) {
	k := ix.key[:0]
	k = appendWords(append(k, termWord...), pr.Biography, fn)
	add := func(prefix, v string) {
		if v != "" {
			k = append(append(k[:0], prefix...), v...)
			fn(k)
		}
	}
	add(termDiscipline, pr.Discipline)
	add(termIndustry, pr.Industry)
	add(termProvince, pr.Location.Province)
	add(termCity, strings.ToLower(strings.TrimSpace(pr.Location.City)))
	for _, l := range pr.Languages {
		add(termLanguage, l)
	}
	for _, f := range pr.Focus {
		add(termFocus, f)
	}
	for _, f := range pr.Preferences.MeetingFormats {
		add(termFormat, f)
	}
	for skill, rating := range pr.Skills {
		for r := 1; r <= min(rating, 9); r++ {
			k = append(append(k[:0], termSkill...), byte('0'+r), ':')
			k = append(k, skill...)
			fn(k)
		}
	}
	ix.key = k[:0]
}

// skillTerm is the term of mentors rating a skill at least r.
func skillTerm(skill string, r int) string {
	return termSkill + strconv.Itoa(min(max(r, 1), 9)) + ":" + skill
}

// termNumbers collects the distinct term numbers of a profile, adding terms
// not seen before when create is true and skipping them otherwise.
func (ix *searchIndex) termNumbers(pr *domain.Profile, create bool) []uint32 {
	out := ix.found[:0]
	ix.profileTerms(pr, func(term []byte) {
		t, ok := ix.terms[string(term)]
		if !ok {
			if !create {
				return
			}
			t = uint32(len(ix.posts))
			ix.terms[string(term)] = t
			ix.posts = append(ix.posts, roaring.New())
		}
		out = append(out, t)
	})
	slices.Sort(out)
	out = slices.Compact(out)
	ix.found = out[:0]
	return out
}

// add indexes a new mentor.
func (ix *searchIndex) add(m *MemberView) {
	if _, ok := ix.num[m.ID]; ok || m.Erased() {
		return
	}
	n := uint32(len(ix.docs))
	ix.num[m.ID] = n
	ix.docs = append(ix.docs, m)
	ix.all.Add(n)
	for _, t := range ix.termNumbers(&m.Profile, true) {
		ix.posts[t].Add(n)
	}
	ix.setOpen(m)
}

// reprofile moves a mentor from the terms of its old profile to those of
// its current one.
func (ix *searchIndex) reprofile(m *MemberView, old *domain.Profile) {
	n, ok := ix.num[m.ID]
	if !ok {
		ix.add(m)
		return
	}
	for _, t := range ix.termNumbers(old, false) {
		ix.posts[t].Remove(n)
	}
	for _, t := range ix.termNumbers(&m.Profile, true) {
		ix.posts[t].Add(n)
	}
}

// setOpen refreshes whether a mentor takes requests now.
func (ix *searchIndex) setOpen(m *MemberView) {
	n, ok := ix.num[m.ID]
	if !ok {
		return
	}
	if m.Open() {
		ix.open.Add(n)
	} else {
		ix.open.Remove(n)
	}
	if m.Erased() {
		// An erased mentor is found by no search.
		ix.all.Remove(n)
	}
}

func (ix *searchIndex) lookup(term string) *roaring.Bitmap {
	if t, ok := ix.terms[term]; ok {
		return ix.posts[t]
	}
	return nil
}

// SearchPlan is a checked search, in terms any read-model store can
// answer: a mentor matches when it has at least one term of every group
// (and is open, when OnlyAvailable). Stores find the candidates their own
// way and leave scoring, ordering and paging to the plan.
type SearchPlan struct {
	Groups        [][]string
	OnlyAvailable bool
	// First is the page size, 20 unless asked for 1..100.
	First int
	after *cursor
}

// termNoWord is the term of the empty word, which no profile has:
// profileTerms gives only words of at least one letter or digit.
const termNoWord = termWord

// PlanSearch checks a search and turns it into a plan. The words and the
// city are single lines of visible text, as profiles hold them (see
// domain.CheckText); other text is refused with the domain's INVALID_INPUT
// *refusal.Error naming the field.
func PlanSearch(q SearchQuery) (SearchPlan, error) {
	if err := domain.CheckText("words", q.Words, domain.SingleLine); err != nil {
		return SearchPlan{}, err
	}
	if err := domain.CheckText("city", q.City, domain.SingleLine); err != nil {
		return SearchPlan{}, err
	}
	// The guide's limit counts the words the member typed, split on
	// spaces: "water-resource management dam" is three. Each typed word
	// then matches as the whole words its punctuation separates, as the
	// index splits biographies, so all four of those must be in one.
	if len(q.Words) > MaxSearchLength || len(strings.Fields(q.Words)) > MaxSearchWords {
		return SearchPlan{}, ErrTooManyWords
	}
	words := Words(q.Words)
	if len(words) > MaxSearchParts {
		return SearchPlan{}, ErrTooManyWords
	}
	after, err := decodeCursor(q.After)
	if err != nil {
		return SearchPlan{}, err
	}
	pl := SearchPlan{OnlyAvailable: q.OnlyAvailable, First: q.First, after: after}
	if pl.First <= 0 || pl.First > 100 {
		pl.First = 20
	}
	for _, w := range words {
		pl.Groups = append(pl.Groups, []string{termWord + w})
	}
	// Search text without a word in it (only punctuation, symbols or emoji,
	// such as "%" or "😀") asks for words no biography holds as words, so
	// it finds nobody; left without a group, it would ask for nothing and
	// find every mentor. Between words, such text separates them, as the
	// comma of "engineer," does.
	if len(words) == 0 && strings.TrimSpace(q.Words) != "" {
		pl.Groups = append(pl.Groups, []string{termNoWord})
	}
	lists := []struct {
		prefix string
		values []string
	}{
		{termDiscipline, q.Disciplines}, {termIndustry, q.Industries}, {termProvince, q.Provinces}, {termLanguage, q.Languages},
		{termFocus, q.FocusAreas}, {termFormat, q.MeetingFormats},
	}
	for _, l := range lists {
		if len(l.values) > 0 {
			g := make([]string, len(l.values))
			for i, v := range l.values {
				g[i] = l.prefix + v
			}
			pl.Groups = append(pl.Groups, g)
		}
	}
	if c := strings.ToLower(strings.TrimSpace(q.City)); c != "" {
		pl.Groups = append(pl.Groups, []string{termCity + c})
	}
	for _, s := range q.Skills {
		pl.Groups = append(pl.Groups, []string{skillTerm(s.Skill, s.MinRating)})
	}
	return pl, nil
}

// Hit scores a candidate for the viewer (nil for none) and reports whether
// it comes after the plan's cursor.
func (pl SearchPlan) Hit(viewer, m *MemberView) (SearchHit, bool) {
	h := SearchHit{Mentor: m, Score: affinity(viewer, m)}
	return h, pl.after == nil || pl.after.before(h)
}

// Result orders the hits, keeps the first page and gives each its cursor;
// total counts every matching mentor. The hits' views are copied, so the
// candidates may be a store's own.
func (pl SearchPlan) Result(hits []SearchHit, total int) SearchResult {
	if hits == nil {
		hits = []SearchHit{}
	}
	// Only the page and one more (for HasNextPage) are needed in order:
	// a broad search keeps those in a heap rather than sorting every hit.
	if k := pl.First + 1; len(hits) > 4*k {
		hits = smallest(hits, k)
	}
	return pl.page(hits, total)
}

// PairTerm is the term of mentors with both a discipline and a province.
// A store that intersects sets on a single thread (Redis) indexes it, so
// that the most common pair of filters is one small set rather than two
// large ones; PairedGroups uses it.
func PairTerm(discipline, province string) string {
	return termPair + discipline + "|" + province
}

// PairTermOf returns a profile's pair term, or "" without both parts.
func PairTermOf(pr *domain.Profile) string {
	if pr.Discipline == "" || pr.Location.Province == "" {
		return ""
	}
	return PairTerm(pr.Discipline, pr.Location.Province)
}

// PairedGroups returns the plan's groups, with a one-discipline group and
// a one-province group replaced by their pair term, for stores that index
// PairTerm.
func (pl SearchPlan) PairedGroups() [][]string {
	d, p := -1, -1
	for i, g := range pl.Groups {
		if len(g) != 1 {
			continue
		}
		switch {
		case strings.HasPrefix(g[0], termDiscipline):
			d = i
		case strings.HasPrefix(g[0], termProvince):
			p = i
		}
	}
	if d < 0 || p < 0 {
		return pl.Groups
	}
	out := [][]string{{PairTerm(strings.TrimPrefix(pl.Groups[d][0], termDiscipline), strings.TrimPrefix(pl.Groups[p][0], termProvince))}}
	for i, g := range pl.Groups {
		if i != d && i != p {
			out = append(out, g)
		}
	}
	return out
}

// SearchTerms lists the distinct search terms of a mentor's profile, for
// stores that keep a set of mentors per term.
func SearchTerms(pr *domain.Profile) []string {
	var ix searchIndex
	seen := map[string]struct{}{}
	ix.profileTerms(pr, func(term []byte) { seen[string(term)] = struct{}{} })
	return slices.Sorted(maps.Keys(seen))
}

// SearchMentors runs a Find a Mentor search.
//
// The search works in memory kept between searches and allocates nothing
// for its sets or scores: what a search allocates is what drives the
// collector, whose cycles slow every search that runs beside them.
func (p *Members) SearchMentors(q SearchQuery) (SearchResult, error) {
	pl, err := PlanSearch(q)
	if err != nil {
		return SearchResult{}, err
	}
	sc := rankScratchPool.Get().(*rankScratch)
	p.mu.RLock()
	defer p.mu.RUnlock()
	ix := p.index
	sc.size(len(ix.docs))
	ix.find(sc, pl)
	top := ix.best(sc, pl, p.members[q.Viewer])
	total := len(sc.ids)
	// Not deferred: a search that panics may leave scores counted, and
	// its scratch is dropped rather than handed to the next search.
	rankScratchPool.Put(sc)
	return pl.page(top, total), nil
}

// rankScratch is the memory one search works in, kept between searches.
type rankScratch struct {
	// found is a set of mentors as a dense bitset of every mentor
	// number, and set and group hold a set being read and a union being
	// built.
	found, set, group []uint64
	// ids lists the mentors the search matches, by number, in order.
	ids []uint32
	// score holds, by mentor number, the points a search has counted so
	// far; every entry is zero between searches.
	score []int32
	// levels counts the hits of each score.
	levels []int
	key    []byte // a term being looked up
	sets   []*roaring.Bitmap
	terms  []pointTerm
}

var rankScratchPool = sync.Pool{New: func() any { return new(rankScratch) }}

// size readies the scratch for an index of n mentors.
func (sc *rankScratch) size(n int) {
	words := (n + 63) / 64
	for _, b := range []*[]uint64{&sc.found, &sc.set, &sc.group} {
		if cap(*b) < words {
			*b = make([]uint64, words)
		}
		*b = (*b)[:words]
	}
	if len(sc.score) < n {
		sc.score = make([]int32, n)
	}
}

// A set is combined with the mentors found so far in one of two ways. As
// a dense bitset of every mentor number: a pass over len(docs)/64 words
// (1,563 for 100,000 mentors), after writing the set there, which costs a
// copy for its dense parts and a step per number for its sparse ones. Or
// by asking the set about each mentor found so far, a binary search or
// two each. The second is cheaper once a few dozen mentors are left, which
// the smallest two or three sets of a search usually leave; listFactor is
// the words of the bitset one question costs about as much as. (A
// variable only so that tests can take either way everywhere.)
var listFactor = 16

// dense writes the set b into dst, a bitset of every mentor number.
func dense(dst []uint64, b *roaring.Bitmap) {
	clear(dst)
	// WriteDenseTo writes each of b's 2^16-number containers at its
	// place, and b holds no number beyond len(dst)*64.
	b.WriteDenseTo(dst)
}

// listed reports whether a list of n mentors is better asked about than
// combined as a bitset of words words.
func listed(n, words int) bool { return n*listFactor < words }

// find leaves in sc.ids the mentors the plan matches, in order.
func (ix *searchIndex) find(sc *rankScratch, pl SearchPlan) {
	found := sc.found
	sc.ids = sc.ids[:0]
	// Sets of one term are taken smallest first; unions of several terms
	// (lists of filter values) are built whole first.
	sets := sc.sets[:0]
	unions := false
	for _, g := range pl.Groups {
		if len(g) == 1 {
			b := ix.lookup(g[0])
			if b == nil {
				// No mentor has the term.
				clear(found)
				sc.sets = sets
				return
			}
			sets = append(sets, b)
			continue
		}
		clear(sc.group)
		for _, t := range g {
			if b := ix.lookup(t); b != nil {
				dense(sc.set, b)
				for i := range sc.group {
					sc.group[i] |= sc.set[i]
				}
			}
		}
		if !unions {
			copy(found, sc.group)
			unions = true
			continue
		}
		for i := range found {
			found[i] &= sc.group[i]
		}
	}
	if pl.OnlyAvailable {
		sets = append(sets, ix.open)
	}
	sc.sets = sets
	slices.SortFunc(sets, func(a, b *roaring.Bitmap) int { return cmp.Compare(a.GetCardinality(), b.GetCardinality()) })
	switch {
	case unions:
	case len(sets) == 0:
		sets = []*roaring.Bitmap{ix.all}
		fallthrough
	default:
		dense(found, sets[0])
		sets = sets[1:]
	}
	for len(sets) > 0 {
		n := 0
		for _, w := range found {
			n += bits.OnesCount64(w)
		}
		if listed(n, len(found)) {
			break
		}
		dense(sc.set, sets[0])
		for i := range found {
			found[i] &= sc.set[i]
		}
		sets = sets[1:]
	}
	ids := sc.ids
	for i, w := range found {
		for ; w != 0; w &= w - 1 {
			ids = append(ids, uint32(i<<6|bits.TrailingZeros64(w)))
		}
	}
	for _, b := range sets {
		kept := ids[:0]
		for _, d := range ids {
			if b.Contains(d) {
				kept = append(kept, d)
			}
		}
		ids = kept
	}
	sc.ids = ids
}

// pointTerm is a term whose mentors score points for the viewer.
type pointTerm struct {
	posts  *roaring.Bitmap
	points int32
}

// pointTerms lists the terms that make up affinity(viewer, m): three points
// for each of the viewer's focus areas the mentor has (f: terms), one for
// each of the viewer's skills the mentor rates strongSkill or more (the
// s:4: terms, which a mentor has for every rating from 4 up). It reports
// false when the postings cannot say it: an empty focus area, which no
// focus term records.
func (ix *searchIndex) pointTerms(sc *rankScratch, viewer *MemberView) bool {
	sc.terms = sc.terms[:0]
	if viewer == nil {
		return true
	}
	for _, f := range viewer.Profile.Focus {
		if f == "" {
			return false
		}
		sc.key = append(append(sc.key[:0], termFocus...), f...)
		if t, ok := ix.terms[string(sc.key)]; ok {
			sc.terms = append(sc.terms, pointTerm{ix.posts[t], 3})
		}
	}
	for skill := range viewer.Profile.Skills {
		sc.key = append(append(append(sc.key[:0], termSkill...), '0'+strongSkill, ':'), skill...)
		if t, ok := ix.terms[string(sc.key)]; ok {
			sc.terms = append(sc.terms, pointTerm{ix.posts[t], 1})
		}
	}
	return true
}

// best returns the plan's first page and one hit more, unordered: the
// hits of sc.ids after the plan's cursor that come first in the search
// order, scored for the viewer (nil for none).
//
// Scores are counted from the postings rather than from each hit's
// profile: the points of each term that gives some are added to the hits
// in its postings. A hit is then read from its view only when its score
// ties the worst hit kept so far, to compare names.
func (ix *searchIndex) best(sc *rankScratch, pl SearchPlan, viewer *MemberView) []SearchHit {
	ids := sc.ids
	byPostings := ix.pointTerms(sc, viewer)
	counted := byPostings && len(sc.terms) > 0
	switch {
	case !counted:
	case listed(len(ids), len(sc.found)):
		for _, pt := range sc.terms {
			for _, d := range ids {
				if pt.posts.Contains(d) {
					sc.score[d] += pt.points
				}
			}
		}
	default:
		// sc.found holds the hits and no more when there are this many:
		// find asks the sets about a list only when it is shorter.
		for _, pt := range sc.terms {
			dense(sc.set, pt.posts)
			for i, w := range sc.set {
				for w &= sc.found[i]; w != 0; w &= w - 1 {
					sc.score[i<<6|bits.TrailingZeros64(w)] += pt.points
				}
			}
		}
	}
	top := topHits{hits: make([]SearchHit, 0, pl.First+1), k: pl.First + 1}
	after := pl.after
	least := math.MinInt
	if counted {
		least = sc.least(ids, top.k, after)
	}
	for _, d := range ids {
		var score int
		m := ix.docs[d]
		switch {
		case counted:
			score = int(sc.score[d])
			sc.score[d] = 0
		case !byPostings:
			score = affinity(viewer, m)
		}
		if score < least || after != nil && (score > after.score || score == after.score && !after.before(SearchHit{Mentor: m, Score: score})) {
			continue
		}
		top.push(SearchHit{Mentor: m, Score: score})
	}
	return top.hits
}

// least returns the lowest score a hit among ids needs to be one of the k
// first after the cursor, from the scores counted: below the highest
// score that k hits reach. A hit of the cursor's own score may come before
// or after it, so those count for nothing here; hits of a higher score
// come before it.
func (sc *rankScratch) least(ids []uint32, k int, after *cursor) int {
	most := int32(0)
	for _, pt := range sc.terms {
		most += pt.points
	}
	levels := slices.Grow(sc.levels[:0], int(most)+1)[:most+1]
	clear(levels)
	for _, d := range ids {
		levels[sc.score[d]]++
	}
	sc.levels = levels
	n := 0
	for s := int(most); s >= 0; s-- {
		if after != nil && s >= after.score {
			continue
		}
		if n += levels[s]; n >= k {
			return s
		}
	}
	return math.MinInt
}

// page orders the hits, keeps the first page and gives each its cursor;
// hits holds at most one more hit than the page.
func (pl SearchPlan) page(hits []SearchHit, total int) SearchResult {
	if hits == nil {
		hits = []SearchHit{}
	}
	slices.SortFunc(hits, compareHits)
	res := SearchResult{Total: total}
	if len(hits) > pl.First {
		hits, res.HasNextPage = hits[:pl.First], true
	}
	encodeCursors(hits)
	for i := range hits {
		hits[i].Mentor = hits[i].Mentor.clone()
	}
	res.Hits = hits
	return res
}

// RankCard is what the search orders a mentor by: the name, the focus
// areas and the skills rated 4 or 5. A store that keeps views outside the
// process (Redis) keeps a card per mentor beside the view, so that ranking
// thousands of candidates reads a few bytes each, and only the page's
// views are read whole.
type RankCard struct {
	Name   string   `json:"n"`
	Focus  []string `json:"f,omitempty"`
	Strong []string `json:"s,omitempty"`
}

// CardOf returns a mentor's rank card.
func CardOf(m *MemberView) RankCard {
	c := RankCard{Name: m.Profile.Name, Focus: m.Profile.Focus}
	for skill, r := range m.Profile.Skills {
		if r >= strongSkill {
			c.Strong = append(c.Strong, skill)
		}
	}
	slices.Sort(c.Strong)
	return c
}

// View returns a view holding just what the card knows, which SearchPlan
// scores and orders exactly as the whole view.
func (c RankCard) View(id uuid.UUID) *MemberView {
	v := &MemberView{ID: id, Role: domain.RoleMentor, Profile: domain.Profile{Name: c.Name, Focus: c.Focus}}
	if len(c.Strong) > 0 {
		v.Profile.Skills = make(map[string]int, len(c.Strong))
		for _, s := range c.Strong {
			v.Profile.Skills[s] = strongSkill
		}
	}
	return v
}

// strongSkill is the rating from which a mentor's skill counts toward a
// searching mentee's assessed skills.
const strongSkill = 4

// affinity scores how well a mentor fits the searching mentee: three points
// per shared focus area, one per skill the mentee assessed that the mentor
// rates 4 or 5.
func affinity(viewer, m *MemberView) int {
	if viewer == nil {
		return 0
	}
	score := 0
	for _, f := range viewer.Profile.Focus {
		if slices.Contains(m.Profile.Focus, f) {
			score += 3
		}
	}
	for skill := range viewer.Profile.Skills {
		if m.Profile.Skills[skill] >= strongSkill {
			score++
		}
	}
	return score
}

// smallest returns the k first hits in the search order, unordered.
func smallest(hits []SearchHit, k int) []SearchHit {
	top := topHits{hits: make([]SearchHit, 0, k), k: k}
	for _, h := range hits {
		top.push(h)
	}
	return top.hits
}

// topHits keeps the k first hits pushed, in the search order, as a
// max-heap: the worst kept hit sits at the root and leaves when a better
// one comes. A hit of lower score than the root's is turned away without
// reading its view.
type topHits struct {
	hits []SearchHit
	k    int
}

func (t *topHits) push(h SearchHit) {
	top := t.hits
	if len(top) < t.k {
		top = append(top, h)
		for i := len(top) - 1; i > 0; {
			parent := (i - 1) / 2
			if compareHits(top[i], top[parent]) <= 0 {
				break
			}
			top[i], top[parent] = top[parent], top[i]
			i = parent
		}
		t.hits = top
		return
	}
	if h.Score < top[0].Score || compareHits(h, top[0]) >= 0 {
		return
	}
	top[0] = h
	for i, k := 0, len(top); ; {
		largest, l, r := i, 2*i+1, 2*i+2
		if l < k && compareHits(top[l], top[largest]) > 0 {
			largest = l
		}
		if r < k && compareHits(top[r], top[largest]) > 0 {
			largest = r
		}
		if largest == i {
			break
		}
		top[i], top[largest] = top[largest], top[i]
		i = largest
	}
}

// compareHits orders hits: higher score, then name, then ID.
func compareHits(a, b SearchHit) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	if c := strings.Compare(a.Mentor.Profile.Name, b.Mentor.Profile.Name); c != 0 {
		return c
	}
	return bytes.Compare(a.Mentor.ID[:], b.Mentor.ID[:])
}

// cursor is a position in the ordering: the score, name and ID of the last
// hit a page showed. The next page starts after it whatever changed since,
// so pages stay stable while profiles change.
type cursor struct {
	score int
	name  string
	id    uuid.UUID
}

func (c *cursor) before(h SearchHit) bool {
	return compareHits(SearchHit{Score: c.score, Mentor: &MemberView{ID: c.id, Profile: domain.Profile{Name: c.name}}}, h) < 0
}

// appendCursor appends the bytes of a hit's cursor, before base64.
func appendCursor(b []byte, h SearchHit) []byte {
	b = binary.AppendVarint(b, int64(h.Score))
	b = append(b, h.Mentor.ID[:]...)
	return append(b, h.Mentor.Profile.Name...)
}

// encodeCursors gives each hit its cursor, its bytes in unpadded URL
// base64, the cursors of a page sharing one string.
func encodeCursors(hits []SearchHit) {
	enc := base64.RawURLEncoding
	var raw [128]byte
	size := 0
	for _, h := range hits {
		size += enc.EncodedLen(len(appendCursor(raw[:0], h)))
	}
	var all strings.Builder
	all.Grow(size)
	var out [256]byte
	for _, h := range hits {
		all.Write(enc.AppendEncode(out[:0], appendCursor(raw[:0], h)))
	}
	s := all.String()
	for i := range hits {
		n := enc.EncodedLen(len(appendCursor(raw[:0], hits[i])))
		hits[i].Cursor, s = s[:n], s[n:]
	}
}

func decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	score, n := binary.Varint(b)
	if n <= 0 || len(b) < n+16 {
		return nil, ErrBadCursor
	}
	c := &cursor{score: int(score), name: string(b[n+16:])}
	copy(c.id[:], b[n:n+16])
	return c, nil
}
