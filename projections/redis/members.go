package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/projections"
)

// Members is the members read model in Redis: a hash of member views by
// ID, and for the mentor search a set of mentor IDs per search term, one
// of all mentors and one of the mentors open for requests, and a hash of
// the mentors' rank cards, which the search orders candidates by.
type Members struct{ base }

func (p *Members) views() string        { return p.key("m") }
func (p *Members) all() string          { return p.key("all") }
func (p *Members) open() string         { return p.key("open") }
func (p *Members) cards() string        { return p.key("card") }
func (p *Members) term(t string) string { return p.key("t", t) }
func (p *Members) scratch() string      { return p.key("tmp", uuid.NewString()) }

// MemberView is the view as stored.
type MemberView = projections.MemberView

// Member returns one member's view.
func (p *Members) Member(id uuid.UUID) (*MemberView, bool, error) {
	return hget[MemberView](&p.base, p.views(), id.String())
}

// MembersByID returns the views of the given members in order; unknown IDs
// give nil.
func (p *Members) MembersByID(ids []uuid.UUID) ([]*MemberView, error) {
	if len(ids) == 0 {
		return make([]*MemberView, 0), nil
	}
	ctx, cancel := p.rm.queryContext()
	defer cancel()
	vals, err := p.rm.c.HMGet(ctx, p.views(), idStrings(ids)...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	return decodeAll[MemberView](vals)
}

// SearchMentors runs a Find a Mentor search: Redis intersects the term
// sets (a union first for filters with several values), and the plan
// scores, orders and pages the candidates as the in-memory search does.
func (p *Members) SearchMentors(q projections.SearchQuery) (projections.SearchResult, error) {
	pl, err := projections.PlanSearch(q)
	if err != nil {
		return projections.SearchResult{}, err
	}
	ctx, cancel := p.rm.queryContext()
	defer cancel()
	// A filter with several values is a union, stored under a scratch key
	// of the same hash slot for the intersection and deleted in the same
	// transaction.
	type union struct {
		dst  string
		keys []string
	}
	var sets []string
	var unions []union
	for _, g := range pl.PairedGroups() {
		keys := make([]string, len(g))
		for i, t := range g {
			keys[i] = p.term(t)
		}
		if len(keys) == 1 {
			sets = append(sets, keys[0])
			continue
		}
		u := union{dst: p.scratch(), keys: keys}
		unions = append(unions, u)
		sets = append(sets, u.dst)
	}
	if pl.OnlyAvailable {
		sets = append(sets, p.open())
	}
	var ids []string
	if len(sets) == 0 {
		ids, err = p.rm.c.SMembers(ctx, p.all()).Result()
	} else {
		var inter *goredis.StringSliceCmd
		_, err = p.rm.c.TxPipelined(ctx, func(tx goredis.Pipeliner) error {
			for _, u := range unions {
				tx.SUnionStore(ctx, u.dst, u.keys...)
			}
			inter = tx.SInter(ctx, sets...)
			for _, u := range unions {
				tx.Del(ctx, u.dst)
			}
			return nil
		})
		if err == nil {
			ids = inter.Val()
		}
	}
	if err != nil && err != goredis.Nil {
		return projections.SearchResult{}, unavailable(err)
	}
	if len(ids) == 0 {
		return pl.Result(nil, 0), nil
	}
	// Rank every candidate by its card (read in one round trip with the
	// viewer's view), then read the page's views whole.
	var cards *goredis.SliceCmd
	var viewerView *goredis.StringCmd
	_, err = p.rm.c.Pipelined(ctx, func(pp goredis.Pipeliner) error {
		cards = pp.HMGet(ctx, p.cards(), ids...)
		viewerView = pp.HGet(ctx, p.views(), q.Viewer.String())
		return nil
	})
	if err != nil && err != goredis.Nil {
		return projections.SearchResult{}, unavailable(err)
	}
	if err := cards.Err(); err != nil {
		return projections.SearchResult{}, unavailable(err)
	}
	var viewer *MemberView
	if s, err := viewerView.Result(); err == nil {
		if viewer, err = decode[MemberView](s); err != nil {
			return projections.SearchResult{}, unavailable(err)
		}
	} else if err != goredis.Nil {
		return projections.SearchResult{}, unavailable(err)
	}
	hits := make([]projections.SearchHit, 0, min(len(ids), 1024))
	for i, v := range cards.Val() {
		id, err := uuid.Parse(ids[i])
		if err != nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			continue
		}
		var card projections.RankCard
		if err := json.Unmarshal([]byte(s), &card); err != nil {
			return projections.SearchResult{}, unavailable(fmt.Errorf("rank card: %w", err))
		}
		if h, ok := pl.Hit(viewer, card.View(id)); ok {
			hits = append(hits, h)
		}
	}
	res := pl.Result(hits, len(ids))
	if len(res.Hits) == 0 {
		return res, nil
	}
	page := make([]uuid.UUID, len(res.Hits))
	for i, h := range res.Hits {
		page[i] = h.Mentor.ID
	}
	full, err := p.MembersByID(page)
	if err != nil {
		return projections.SearchResult{}, err
	}
	for i := range res.Hits {
		if full[i] != nil {
			res.Hits[i].Mentor = full[i]
		}
	}
	return res, nil
}

// memberRow is one member loaded for a batch: the stored bytes and the
// view the batch edits.
type memberRow struct {
	stored []byte
	view   *MemberView
}

// memberBatch is the projections.MemberTable of one commit. In its dry run
// it only records which members the events touch, so that they are loaded
// in one round trip before the real run.
type memberBatch struct {
	dry  bool
	want []uuid.UUID
	rows map[uuid.UUID]*memberRow
	ids  []uuid.UUID // in first-touch order, for deterministic writes
}

func (t *memberBatch) Get(id uuid.UUID) *MemberView {
	if t.dry {
		t.want = append(t.want, id)
		return nil
	}
	if r := t.rows[id]; r != nil {
		return r.view
	}
	return nil
}

func (t *memberBatch) Insert(m *MemberView) {
	if t.dry {
		return
	}
	r := t.rows[m.ID]
	if r == nil {
		r = &memberRow{}
		t.rows[m.ID] = r
		t.ids = append(t.ids, m.ID)
	}
	r.view = m
}

func (t *memberBatch) Reindex(*MemberView, *domain.Profile) {}

// commit applies events after from and writes the result with the new
// checkpoint, if token still holds the lease.
func (p *Members) commit(ctx context.Context, token string, from eventstore.Position, events []projections.Event) error {
	t := &memberBatch{dry: true}
	for i := range events {
		projections.EvolveMembers(t, &events[i])
	}
	t.dry, t.rows = false, map[uuid.UUID]*memberRow{}
	if ids := uniqueIDs(t.want); len(ids) > 0 {
		vals, err := p.rm.c.HMGet(ctx, p.views(), idStrings(ids)...).Result()
		if err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		for i, v := range vals {
			if s, ok := v.(string); ok {
				view, err := decode[MemberView](s)
				if err != nil {
					return damaged(err)
				}
				t.rows[ids[i]] = &memberRow{stored: []byte(s), view: view}
				t.ids = append(t.ids, ids[i])
			}
		}
	}
	for i := range events {
		projections.EvolveMembers(t, &events[i])
	}
	o := newOps(&p.base)
	for _, id := range t.ids {
		r := t.rows[id]
		changed, err := write(o, p.views(), id, r.view, r.stored)
		if err != nil {
			return err
		}
		if !changed || r.view.Role != domain.RoleMentor {
			continue
		}
		var oldTerms []string
		var oldCard []byte
		wasOpen := false
		if r.stored == nil {
			o.sadd(p.all(), id.String())
		} else {
			old, err := decode[MemberView](string(r.stored))
			if err != nil {
				return damaged(err)
			}
			oldTerms, wasOpen = termsOf(&old.Profile), old.Open()
			oldCard, _ = json.Marshal(projections.CardOf(old))
		}
		card, err := json.Marshal(projections.CardOf(r.view))
		if err != nil {
			return fmt.Errorf("encode rank card: %w", err)
		}
		if !bytes.Equal(card, oldCard) {
			o.hset(p.cards(), id.String(), card)
		}
		newTerms := termsOf(&r.view.Profile)
		for _, term := range oldTerms {
			if _, ok := slices.BinarySearch(newTerms, term); !ok {
				o.srem(p.term(term), id.String())
			}
		}
		for _, term := range newTerms {
			if _, ok := slices.BinarySearch(oldTerms, term); !ok {
				o.sadd(p.term(term), id.String())
			}
		}
		if isOpen := r.view.Open(); isOpen != wasOpen {
			if isOpen {
				o.sadd(p.open(), id.String())
			} else {
				o.srem(p.open(), id.String())
			}
		}
		if r.view.Erased() {
			// An erased mentor is found by no search.
			o.srem(p.all(), id.String())
		}
	}
	return o.run(ctx, &p.base, token, from, events[len(events)-1])
}

// termsOf lists the sets a mentor belongs to: its search terms and its
// discipline and province pair, sorted.
func termsOf(pr *domain.Profile) []string {
	terms := projections.SearchTerms(pr)
	if pair := projections.PairTermOf(pr); pair != "" {
		terms = append(terms, pair)
		slices.Sort(terms)
	}
	return terms
}

func idStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func uniqueIDs(ids []uuid.UUID) []uuid.UUID {
	seen := make(map[uuid.UUID]struct{}, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// Scan returns the members keep accepts, reading the views hash a thousand
// at a time (each batch within the query timeout), so that a long scan
// does not block Redis. HSCAN may return a field twice; each member is
// kept once.
func (p *Members) Scan(keep func(*MemberView) bool) ([]*MemberView, error) {
	var out []*MemberView
	seen := map[string]bool{}
	var cursor uint64
	for {
		ctx, cancel := p.rm.queryContext()
		kv, next, err := p.rm.c.HScan(ctx, p.views(), cursor, "", 1000).Result()
		cancel()
		if err != nil {
			return nil, unavailable(err)
		}
		for i := 1; i < len(kv); i += 2 {
			if seen[kv[i-1]] {
				continue
			}
			seen[kv[i-1]] = true
			var v MemberView
			if err := json.Unmarshal([]byte(kv[i]), &v); err != nil {
				return nil, unavailable(fmt.Errorf("stored view: %w", err))
			}
			if keep(&v) {
				out = append(out, &v)
			}
		}
		if cursor = next; cursor == 0 {
			return out, nil
		}
	}
}
