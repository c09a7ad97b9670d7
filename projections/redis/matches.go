package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/projections"
)

// Matches is the matches read model in Redis: hashes of match, session and
// resource views by ID, a list of match IDs per member in request order, a
// list of session IDs per author, and the match of every document.
type Matches struct{ base }

func (p *Matches) views() string                              { return p.key("x") }
func (p *Matches) sessions() string                           { return p.key("s") }
func (p *Matches) resources() string                          { return p.key("r") }
func (p *Matches) documents() string                          { return p.key("d") }
func (p *Matches) ofMember(id uuid.UUID) string               { return p.key("bm", id.String()) }
func (p *Matches) ofAuthor(id uuid.UUID) string               { return p.key("ba", id.String()) }
func (p *Matches) ctx() (context.Context, context.CancelFunc) { return p.rm.queryContext() }

func decode[T any](s string) *T {
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(unavailable(fmt.Errorf("stored view: %w", err)))
	}
	return &v
}

// must panics with an unavailable error when a read failed.
func must[T any](v T, err error) T {
	if err != nil && err != goredis.Nil {
		panic(unavailable(err))
	}
	return v
}

// Match returns one match.
func (p *Matches) Match(id uuid.UUID) (*projections.MatchView, bool) {
	ctx, cancel := p.ctx()
	defer cancel()
	s, err := p.rm.c.HGet(ctx, p.views(), id.String()).Result()
	if err == goredis.Nil {
		return nil, false
	}
	return decode[projections.MatchView](must(s, err)), true
}

// MatchesByID returns the given matches in order; unknown IDs give nil.
func (p *Matches) MatchesByID(ids []uuid.UUID) []*projections.MatchView {
	out := make([]*projections.MatchView, len(ids))
	if len(ids) == 0 {
		return out
	}
	ctx, cancel := p.ctx()
	defer cancel()
	for i, v := range must(p.rm.c.HMGet(ctx, p.views(), idStrings(ids)...).Result()) {
		if s, ok := v.(string); ok {
			out[i] = decode[projections.MatchView](s)
		}
	}
	return out
}

// MatchesOf returns a member's matches in a group, newest request first.
func (p *Matches) MatchesOf(member uuid.UUID, group projections.MatchGroup) []*projections.MatchView {
	ctx, cancel := p.ctx()
	defer cancel()
	ids := must(p.rm.c.LRange(ctx, p.ofMember(member), 0, -1).Result())
	if len(ids) == 0 {
		return nil
	}
	vals := must(p.rm.c.HMGet(ctx, p.views(), ids...).Result())
	var out []*projections.MatchView
	for i := len(vals) - 1; i >= 0; i-- {
		if s, ok := vals[i].(string); ok {
			if m := decode[projections.MatchView](s); group.Has(m.Status) {
				out = append(out, m)
			}
		}
	}
	return out
}

// SessionsOf returns an author's sessions, optionally of one match (nil
// for all), ordered by session date then log time.
func (p *Matches) SessionsOf(author uuid.UUID, match uuid.UUID) []projections.SessionView {
	ctx, cancel := p.ctx()
	defer cancel()
	ids := must(p.rm.c.LRange(ctx, p.ofAuthor(author), 0, -1).Result())
	if len(ids) == 0 {
		return nil
	}
	var out []projections.SessionView
	for _, v := range must(p.rm.c.HMGet(ctx, p.sessions(), ids...).Result()) {
		if s, ok := v.(string); ok {
			if sv := decode[projections.SessionView](s); match == uuid.Nil || sv.MatchID == match {
				out = append(out, *sv)
			}
		}
	}
	projections.SortSessions(out)
	return out
}

// Session returns one meeting log by ID.
func (p *Matches) Session(id uuid.UUID) (projections.SessionView, bool) {
	ctx, cancel := p.ctx()
	defer cancel()
	s, err := p.rm.c.HGet(ctx, p.sessions(), id.String()).Result()
	if err == goredis.Nil {
		return projections.SessionView{}, false
	}
	return *decode[projections.SessionView](must(s, err)), true
}

// CPDSummary sums an author's logged minutes.
func (p *Matches) CPDSummary(author uuid.UUID, from, to domain.Date) projections.CPD {
	return projections.SumCPD(p.SessionsOf(author, uuid.Nil), from, to)
}

// Resources returns the live resources for a role's audience, newest
// first.
func (p *Matches) Resources(role domain.Role) []projections.ResourceView {
	ctx, cancel := p.ctx()
	defer cancel()
	all := must(p.rm.c.HGetAll(ctx, p.resources()).Result())
	return projections.ResourcesFor(func(yield func(*projections.ResourceView) bool) {
		for _, s := range all {
			if !yield(decode[projections.ResourceView](s)) {
				return
			}
		}
	}, role)
}

// Resource returns one resource by ID, retired or not.
func (p *Matches) Resource(id uuid.UUID) (projections.ResourceView, bool) {
	ctx, cancel := p.ctx()
	defer cancel()
	s, err := p.rm.c.HGet(ctx, p.resources(), id.String()).Result()
	if err == goredis.Nil {
		return projections.ResourceView{}, false
	}
	return *decode[projections.ResourceView](must(s, err)), true
}

// Document finds a shared document by ID, with the match it belongs to.
func (p *Matches) Document(id uuid.UUID) (projections.DocumentView, *projections.MatchView, bool) {
	ctx, cancel := p.ctx()
	defer cancel()
	matchID, err := p.rm.c.HGet(ctx, p.documents(), id.String()).Result()
	if err == goredis.Nil {
		return projections.DocumentView{}, nil, false
	}
	s, err := p.rm.c.HGet(ctx, p.views(), must(matchID, err)).Result()
	if err == goredis.Nil {
		return projections.DocumentView{}, nil, false
	}
	m := decode[projections.MatchView](must(s, err))
	for _, d := range m.Documents {
		if d.ID == id {
			return d, m, true
		}
	}
	return projections.DocumentView{}, nil, false
}

// scan yields every value of a hash, reading it in pages so that a large
// program does not arrive in one reply.
func scan[T any](p *Matches, ctx context.Context, key string) iter.Seq[*T] {
	return func(yield func(*T) bool) {
		var cursor uint64
		for {
			kv, next := must2(p.rm.c.HScan(ctx, key, cursor, "*", 1000).Result())
			for i := 1; i < len(kv); i += 2 {
				if !yield(decode[T](kv[i])) {
					return
				}
			}
			if next == 0 {
				return
			}
			cursor = next
		}
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(unavailable(err))
	}
	return a, b
}

// Queue computes the staff queue at now. It reads every match: the queue
// depends on the time, so there is nothing to keep ready.
func (p *Matches) Queue(program domain.Program, now time.Time, pendingDays int) projections.StaffQueue {
	ctx, cancel := p.ctx()
	defer cancel()
	return projections.QueueOf(scan[projections.MatchView](p, ctx, p.views()), program, now, pendingDays)
}

// Dashboard computes the counters at now from every match and session.
func (p *Matches) Dashboard(program domain.Program, now time.Time) projections.Dashboard {
	ctx, cancel := p.ctx()
	defer cancel()
	pos, _, err := p.checkpoint(ctx)
	if err != nil {
		panic(unavailable(err))
	}
	return projections.DashboardOf(scan[projections.MatchView](p, ctx, p.views()), scan[projections.SessionView](p, ctx, p.sessions()), program, now, pos)
}

// matchBatch is the projections.MatchTable of one commit; like memberBatch
// it first runs dry to learn what to load.
type matchBatch struct {
	dry                   bool
	wantM, wantS, wantR   []uuid.UUID
	matches               rows[projections.MatchView]
	sessions              rows[projections.SessionView]
	resources             rows[projections.ResourceView]
	newMatches, newSessns []uuid.UUID
	// erase lists the members erased in the batch, whose matches and
	// logs the batch loads to blank their texts.
	erase []uuid.UUID
}

// EraseMember implements projections.MemberEraser.
func (t *matchBatch) EraseMember(id uuid.UUID) {
	if t.dry {
		t.erase = append(t.erase, id)
		return
	}
	for _, m := range t.matches.view {
		if m.MenteeID == id || m.MentorID == id {
			projections.EraseTexts(m, id)
		}
	}
	for _, s := range t.sessions.view {
		if s.AuthorID == id {
			s.Details.Notes = ""
		}
	}
}

// rows are views loaded or created in a batch, with their stored bytes.
type rows[T any] struct {
	stored map[uuid.UUID][]byte
	view   map[uuid.UUID]*T
	order  []uuid.UUID
}

func newRows[T any]() rows[T] {
	return rows[T]{stored: map[uuid.UUID][]byte{}, view: map[uuid.UUID]*T{}}
}

func (r *rows[T]) put(id uuid.UUID, v *T) {
	if _, ok := r.view[id]; !ok {
		r.order = append(r.order, id)
	}
	r.view[id] = v
}

func (t *matchBatch) Match(id uuid.UUID) *projections.MatchView {
	if t.dry {
		t.wantM = append(t.wantM, id)
		return nil
	}
	return t.matches.view[id]
}

func (t *matchBatch) InsertMatch(m *projections.MatchView) {
	if !t.dry {
		t.matches.put(m.ID, m)
		t.newMatches = append(t.newMatches, m.ID)
	}
}

func (t *matchBatch) Session(id uuid.UUID) *projections.SessionView {
	if t.dry {
		t.wantS = append(t.wantS, id)
		return nil
	}
	return t.sessions.view[id]
}

func (t *matchBatch) InsertSession(s *projections.SessionView) {
	if !t.dry {
		t.sessions.put(s.ID, s)
		t.newSessns = append(t.newSessns, s.ID)
	}
}

func (t *matchBatch) Resource(id uuid.UUID) *projections.ResourceView {
	if t.dry {
		t.wantR = append(t.wantR, id)
		return nil
	}
	return t.resources.view[id]
}

func (t *matchBatch) PutResource(r *projections.ResourceView) {
	if !t.dry {
		t.resources.put(r.ID, r)
	}
}

// load reads the rows the dry run asked for, in one round trip.
func load[T any](ctx context.Context, pipe goredis.Pipeliner, key string, ids []uuid.UUID) func(*rows[T]) {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return func(*rows[T]) {}
	}
	cmd := pipe.HMGet(ctx, key, idStrings(ids)...)
	return func(r *rows[T]) {
		for i, v := range cmd.Val() {
			if s, ok := v.(string); ok {
				r.stored[ids[i]] = []byte(s)
				r.put(ids[i], decode[T](s))
			}
		}
	}
}

// commit applies events after from and writes the result with the new
// checkpoint, if token still holds the lease.
func (p *Matches) commit(ctx context.Context, token string, from eventstore.Position, events []projections.Event) error {
	t := &matchBatch{dry: true}
	for i := range events {
		projections.EvolveMatches(t, &events[i])
	}
	t.dry = false
	t.matches, t.sessions, t.resources = newRows[projections.MatchView](), newRows[projections.SessionView](), newRows[projections.ResourceView]()
	if len(t.erase) > 0 {
		// An erased member's matches and logs are loaded too.
		pipe := p.rm.c.Pipeline()
		var lists []*goredis.StringSliceCmd
		for _, id := range t.erase {
			lists = append(lists, pipe.LRange(ctx, p.ofMember(id), 0, -1), pipe.LRange(ctx, p.ofAuthor(id), 0, -1))
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
			return fmt.Errorf("load an erased member's matches: %w", err)
		}
		for i, l := range lists {
			for _, s := range l.Val() {
				id, err := uuid.Parse(s)
				if err != nil {
					return fmt.Errorf("load an erased member's matches: %w", err)
				}
				if i%2 == 0 {
					t.wantM = append(t.wantM, id)
				} else {
					t.wantS = append(t.wantS, id)
				}
			}
		}
	}
	pipe := p.rm.c.Pipeline()
	fm := load[projections.MatchView](ctx, pipe, p.views(), t.wantM)
	fs := load[projections.SessionView](ctx, pipe, p.sessions(), t.wantS)
	fr := load[projections.ResourceView](ctx, pipe, p.resources(), t.wantR)
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("load matches: %w", err)
		}
	}
	fm(&t.matches)
	fs(&t.sessions)
	fr(&t.resources)
	for i := range events {
		projections.EvolveMatches(t, &events[i])
	}

	o := newOps(&p.base)
	for _, id := range t.newMatches {
		m := t.matches.view[id]
		o.rpush(p.ofMember(m.MenteeID), id.String())
		if m.MentorID != m.MenteeID {
			o.rpush(p.ofMember(m.MentorID), id.String())
		}
	}
	for _, id := range t.matches.order {
		m := t.matches.view[id]
		changed, err := write(o, p.views(), id, m, t.matches.stored[id])
		if err != nil {
			return err
		}
		if !changed {
			continue
		}
		var had []projections.DocumentView
		if b := t.matches.stored[id]; b != nil {
			had = decode[projections.MatchView](string(b)).Documents
		}
		for _, d := range m.Documents {
			if !slices.ContainsFunc(had, func(h projections.DocumentView) bool { return h.ID == d.ID }) {
				o.hset(p.documents(), d.ID.String(), []byte(id.String()))
			}
		}
	}
	for _, id := range t.newSessns {
		o.rpush(p.ofAuthor(t.sessions.view[id].AuthorID), id.String())
	}
	for _, id := range t.sessions.order {
		if _, err := write(o, p.sessions(), id, t.sessions.view[id], t.sessions.stored[id]); err != nil {
			return err
		}
	}
	for _, id := range t.resources.order {
		if _, err := write(o, p.resources(), id, t.resources.view[id], t.resources.stored[id]); err != nil {
			return err
		}
	}
	return o.run(ctx, &p.base, token, from, events[len(events)-1])
}

// write stores a view under its ID unless it is unchanged, and reports
// whether it wrote.
func write[T any](o *ops, key string, id uuid.UUID, v *T, stored []byte) (bool, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("encode view: %w", err)
	}
	if bytes.Equal(b, stored) {
		return false, nil
	}
	o.hset(key, id.String(), b)
	return true, nil
}
