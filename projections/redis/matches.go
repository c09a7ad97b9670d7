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
	"github.com/mentorship/mentorship/follow"
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

// decode reads a stored view. A query answers a view that does not decode
// as unavailable, like any other failed read; a commit stops on it (see
// damaged).
func decode[T any](s string) (*T, error) {
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("stored view: %w", err)
	}
	return &v, nil
}

// damaged reports a stored view that a commit cannot read: the event that
// needs it cannot be applied, so the runtime commits the batch's events
// one by one and stops the projection at that exact event, rather than
// trying again for ever.
func damaged(err error) error {
	return &follow.Unappliable{Err: err}
}

// decodeAll decodes the values of an HMGET in order; a missing value
// gives nil.
func decodeAll[T any](vals []any) ([]*T, error) {
	out := make([]*T, len(vals))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		d, err := decode[T](s)
		if err != nil {
			return nil, unavailable(err)
		}
		out[i] = d
	}
	return out, nil
}

// hget reads one stored view of a hash: ok is false when there is none.
func hget[T any](p *base, key, field string) (*T, bool, error) {
	ctx, cancel := p.rm.queryContext()
	defer cancel()
	s, err := p.rm.c.HGet(ctx, key, field).Result()
	if err == goredis.Nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable(err)
	}
	v, err := decode[T](s)
	if err != nil {
		return nil, false, unavailable(err)
	}
	return v, true, nil
}

// Match returns one match.
func (p *Matches) Match(id uuid.UUID) (*projections.MatchView, bool, error) {
	return hget[projections.MatchView](&p.base, p.views(), id.String())
}

// MatchesByID returns the given matches in order; unknown IDs give nil.
func (p *Matches) MatchesByID(ids []uuid.UUID) ([]*projections.MatchView, error) {
	if len(ids) == 0 {
		return make([]*projections.MatchView, 0), nil
	}
	ctx, cancel := p.ctx()
	defer cancel()
	vals, err := p.rm.c.HMGet(ctx, p.views(), idStrings(ids)...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	return decodeAll[projections.MatchView](vals)
}

// listed reads the views of hash key whose IDs list holds, in the list's
// order, skipping IDs without a view.
func listed[T any](p *base, list, key string) ([]*T, error) {
	ctx, cancel := p.rm.queryContext()
	defer cancel()
	ids, err := p.rm.c.LRange(ctx, list, 0, -1).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	vals, err := p.rm.c.HMGet(ctx, key, ids...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	views, err := decodeAll[T](vals)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(views, func(v *T) bool { return v == nil }), nil
}

// MatchesOf returns a member's matches in a group, newest request first.
func (p *Matches) MatchesOf(member uuid.UUID, group projections.MatchGroup) ([]*projections.MatchView, error) {
	all, err := listed[projections.MatchView](&p.base, p.ofMember(member), p.views())
	if err != nil {
		return nil, err
	}
	var out []*projections.MatchView
	for i := len(all) - 1; i >= 0; i-- {
		if group.Has(all[i].Status) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// SessionsOf returns an author's sessions, optionally of one match (nil
// for all), ordered by session date then log time.
func (p *Matches) SessionsOf(author uuid.UUID, match uuid.UUID) ([]projections.SessionView, error) {
	all, err := listed[projections.SessionView](&p.base, p.ofAuthor(author), p.sessions())
	if err != nil {
		return nil, err
	}
	var out []projections.SessionView
	for _, sv := range all {
		if match == uuid.Nil || sv.MatchID == match {
			out = append(out, *sv)
		}
	}
	projections.SortSessions(out)
	return out, nil
}

// Session returns one meeting log by ID.
func (p *Matches) Session(id uuid.UUID) (projections.SessionView, bool, error) {
	s, ok, err := hget[projections.SessionView](&p.base, p.sessions(), id.String())
	if !ok {
		return projections.SessionView{}, false, err
	}
	return *s, true, nil
}

// CPDSummary sums an author's logged minutes.
func (p *Matches) CPDSummary(author uuid.UUID, from, to domain.Date) (projections.CPD, error) {
	sessions, err := p.SessionsOf(author, uuid.Nil)
	if err != nil {
		return projections.CPD{}, err
	}
	return projections.SumCPD(sessions, from, to), nil
}

// Resources returns the live resources for a role's audience, newest
// first.
func (p *Matches) Resources(role domain.Role) ([]projections.ResourceView, error) {
	ctx, cancel := p.ctx()
	defer cancel()
	all, err := p.rm.c.HGetAll(ctx, p.resources()).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	views := make([]*projections.ResourceView, 0, len(all))
	for _, s := range all {
		v, err := decode[projections.ResourceView](s)
		if err != nil {
			return nil, unavailable(err)
		}
		views = append(views, v)
	}
	return projections.ResourcesFor(slices.Values(views), role), nil
}

// Resource returns one resource by ID, retired or not.
func (p *Matches) Resource(id uuid.UUID) (projections.ResourceView, bool, error) {
	r, ok, err := hget[projections.ResourceView](&p.base, p.resources(), id.String())
	if !ok {
		return projections.ResourceView{}, false, err
	}
	return *r, true, nil
}

// Document finds a shared document by ID, with the match it belongs to.
func (p *Matches) Document(id uuid.UUID) (projections.DocumentView, *projections.MatchView, bool, error) {
	ctx, cancel := p.ctx()
	defer cancel()
	matchID, err := p.rm.c.HGet(ctx, p.documents(), id.String()).Result()
	if err == goredis.Nil {
		return projections.DocumentView{}, nil, false, nil
	}
	if err != nil {
		return projections.DocumentView{}, nil, false, unavailable(err)
	}
	m, ok, err := hget[projections.MatchView](&p.base, p.views(), matchID)
	if !ok {
		return projections.DocumentView{}, nil, false, err
	}
	for _, d := range m.Documents {
		if d.ID == id {
			return d, m, true, nil
		}
	}
	return projections.DocumentView{}, nil, false, nil
}

// scan yields every value of a hash, reading it in pages so that a large
// program does not arrive in one reply. A failed read ends the sequence
// and is kept in *failed.
func scan[T any](p *Matches, ctx context.Context, key string, failed *error) iter.Seq[*T] {
	return func(yield func(*T) bool) {
		var cursor uint64
		for *failed == nil {
			kv, next, err := p.rm.c.HScan(ctx, key, cursor, "*", 1000).Result()
			if err != nil {
				*failed = unavailable(err)
				return
			}
			for i := 1; i < len(kv); i += 2 {
				v, err := decode[T](kv[i])
				if err != nil {
					*failed = unavailable(err)
					return
				}
				if !yield(v) {
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

// Queue computes the staff queue at now. It reads every match: the queue
// depends on the time, so there is nothing to keep ready.
func (p *Matches) Queue(program domain.Program, now time.Time, pendingDays int) (projections.StaffQueue, error) {
	ctx, cancel := p.ctx()
	defer cancel()
	var err error
	q := projections.QueueOf(scan[projections.MatchView](p, ctx, p.views(), &err), program, now, pendingDays)
	if err != nil {
		return projections.StaffQueue{}, err
	}
	return q, nil
}

// Dashboard computes the counters at now from every match and session.
func (p *Matches) Dashboard(program domain.Program, now time.Time) (projections.Dashboard, error) {
	ctx, cancel := p.ctx()
	defer cancel()
	pos, _, err := p.checkpoint(ctx)
	if err != nil {
		return projections.Dashboard{}, unavailable(err)
	}
	d := projections.DashboardOf(scan[projections.MatchView](p, ctx, p.views(), &err), scan[projections.SessionView](p, ctx, p.sessions(), &err), program, now, pos)
	if err != nil {
		return projections.Dashboard{}, err
	}
	return d, nil
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
func load[T any](ctx context.Context, pipe goredis.Pipeliner, key string, ids []uuid.UUID) func(*rows[T]) error {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return func(*rows[T]) error { return nil }
	}
	cmd := pipe.HMGet(ctx, key, idStrings(ids)...)
	return func(r *rows[T]) error {
		for i, v := range cmd.Val() {
			if s, ok := v.(string); ok {
				d, err := decode[T](s)
				if err != nil {
					return damaged(err)
				}
				r.stored[ids[i]] = []byte(s)
				r.put(ids[i], d)
			}
		}
		return nil
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
	for _, err := range []error{fm(&t.matches), fs(&t.sessions), fr(&t.resources)} {
		if err != nil {
			return err
		}
	}
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
			old, err := decode[projections.MatchView](string(b))
			if err != nil {
				return damaged(err)
			}
			had = old.Documents
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
