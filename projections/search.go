package projections

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// MaxSearchWords is the program guide's limit on biography search words.
const MaxSearchWords = 3

// ErrTooManyWords is returned for a biography search of more than
// MaxSearchWords words.
var ErrTooManyWords = fmt.Errorf("the biography search takes at most %d words", MaxSearchWords)

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
	// biography as a whole word, ignoring case and punctuation.
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

// Words splits text into the words the biography search matches: runs of
// letters and digits, lower-cased.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// searchIndex maps words and facet values to bitmaps of mentor numbers.
type searchIndex struct {
	ids   []uuid.UUID
	docs  []*MemberView
	num   map[uuid.UUID]uint32
	keys  [][]string // the postings each mentor is in, to remove on change
	posts map[string]*roaring.Bitmap
	all   *roaring.Bitmap
}

func newSearchIndex() *searchIndex {
	return &searchIndex{num: map[uuid.UUID]uint32{}, posts: map[string]*roaring.Bitmap{}, all: roaring.New()}
}

func mentorKeys(m *MemberView) []string {
	pr := &m.Profile
	keys := make([]string, 0, 32)
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, w := range Words(pr.Biography) {
		add("w:" + w)
	}
	if pr.Discipline != "" {
		add("d:" + pr.Discipline)
	}
	if pr.Industry != "" {
		add("i:" + pr.Industry)
	}
	if pr.Location.Province != "" {
		add("p:" + pr.Location.Province)
	}
	if c := strings.ToLower(strings.TrimSpace(pr.Location.City)); c != "" {
		add("c:" + c)
	}
	for _, l := range pr.Languages {
		add("l:" + l)
	}
	for _, f := range pr.Focus {
		add("f:" + f)
	}
	for _, f := range pr.Preferences.MeetingFormats {
		add("m:" + f)
	}
	for skill, rating := range pr.Skills {
		for r := 1; r <= rating; r++ {
			add(fmt.Sprintf("s:%d:%s", r, skill))
		}
	}
	if m.Open() {
		add("open")
	}
	return keys
}

// put adds or refreshes a mentor.
func (ix *searchIndex) put(m *MemberView) {
	n, ok := ix.num[m.ID]
	if !ok {
		n = uint32(len(ix.ids))
		ix.num[m.ID] = n
		ix.ids = append(ix.ids, m.ID)
		ix.docs = append(ix.docs, m)
		ix.keys = append(ix.keys, nil)
		ix.all.Add(n)
	}
	for _, k := range ix.keys[n] {
		if b := ix.posts[k]; b != nil {
			b.Remove(n)
		}
	}
	keys := mentorKeys(m)
	for _, k := range keys {
		b := ix.posts[k]
		if b == nil {
			b = roaring.New()
			ix.posts[k] = b
		}
		b.Add(n)
	}
	ix.keys[n] = keys
	ix.docs[n] = m
}

// anyOf is the union of the postings of values under a key prefix.
func (ix *searchIndex) anyOf(prefix string, values []string) *roaring.Bitmap {
	out := roaring.New()
	for _, v := range values {
		if b := ix.posts[prefix+v]; b != nil {
			out.Or(b)
		}
	}
	return out
}

func (ix *searchIndex) posting(key string) *roaring.Bitmap {
	if b := ix.posts[key]; b != nil {
		return b
	}
	return roaring.New()
}

// SearchMentors runs a Find a Mentor search.
func (p *Members) SearchMentors(q SearchQuery) (SearchResult, error) {
	words := Words(q.Words)
	if len(words) > MaxSearchWords {
		return SearchResult{}, ErrTooManyWords
	}
	after, err := decodeCursor(q.After)
	if err != nil {
		return SearchResult{}, err
	}
	if q.First <= 0 || q.First > 100 {
		q.First = 20
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	ix := p.index
	var sets []*roaring.Bitmap
	for _, w := range words {
		sets = append(sets, ix.posting("w:"+w))
	}
	lists := []struct {
		prefix string
		values []string
	}{
		{"d:", q.Disciplines}, {"i:", q.Industries}, {"p:", q.Provinces}, {"l:", q.Languages},
		{"f:", q.FocusAreas}, {"m:", q.MeetingFormats},
	}
	for _, l := range lists {
		if len(l.values) > 0 {
			sets = append(sets, ix.anyOf(l.prefix, l.values))
		}
	}
	if c := strings.ToLower(strings.TrimSpace(q.City)); c != "" {
		sets = append(sets, ix.posting("c:"+c))
	}
	for _, s := range q.Skills {
		sets = append(sets, ix.posting(fmt.Sprintf("s:%d:%s", max(1, s.MinRating), s.Skill)))
	}
	if q.OnlyAvailable {
		sets = append(sets, ix.posting("open"))
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

	var viewer *MemberView
	if v, ok := p.members[q.Viewer]; ok {
		viewer = v
	}
	hits := make([]SearchHit, 0, min(int(found.GetCardinality()), 1024))
	it := found.Iterator()
	for it.HasNext() {
		m := ix.docs[it.Next()]
		h := SearchHit{Mentor: m, Score: affinity(viewer, m)}
		if after != nil && !after.before(h) {
			continue
		}
		hits = append(hits, h)
	}
	total := int(found.GetCardinality())
	slices.SortFunc(hits, compareHits)
	res := SearchResult{Total: total}
	if len(hits) > q.First {
		hits, res.HasNextPage = hits[:q.First], true
	}
	for i := range hits {
		hits[i].Cursor = encodeCursor(hits[i])
		hits[i].Mentor = hits[i].Mentor.clone()
	}
	res.Hits = hits
	return res, nil
}

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
		if m.Profile.Skills[skill] >= 4 {
			score++
		}
	}
	return score
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

func encodeCursor(h SearchHit) string {
	b := binary.AppendVarint(nil, int64(h.Score))
	b = append(b, h.Mentor.ID[:]...)
	b = append(b, h.Mentor.Profile.Name...)
	return base64.RawURLEncoding.EncodeToString(b)
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
