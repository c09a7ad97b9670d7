// Package redis keeps the notifier's outbox in Redis, so that every
// instance reaches it and whichever holds the notifier's lease runs the
// notifier on it.
//
// Outbox implements notify.OutboxStore. Its keys share the hash tag of the
// notifier's lease (see package lease), so that they sit in one Redis
// Cluster slot with the lease key and every script may check the lease
// in the same atomic step as its writes:
//
//	{<prefix>:notifier}:lease        the lease (package lease)
//	{<prefix>:notifier}:entries      hash: email ID -> entry as JSON
//	{<prefix>:notifier}:due          sorted set: email ID by next attempt (unix µs)
//	{<prefix>:notifier}:match:<id>   set: the email IDs about a match
//	{<prefix>:notifier}:claims       hash: email ID -> token of its unsettled claim
//	{<prefix>:notifier}:meta         hash: position -> the last event composed
//	{<prefix>:notifier}:state        the composer's saved directory
//	{<prefix>:notifier}:erased       set: members whose erasure the notifier read
//
// The notifier's writes (Add, SaveState, Claim, MarkSent, MarkFailed,
// EraseMembers) carry the token of the lease Hold was given and are
// refused, atomically and with nothing written, once another token holds
// the lease: a notifier that lost its lease can neither send (it claims
// each email before sending) nor record anything. An update of an entry
// is a compare-and-set of its stored JSON, so that an erasure, which any
// instance may make without the lease, is never undone by a holder that
// read the entry before it.
package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/notify"
)

// LeaseName returns the name of the notifier's lease under prefix, which
// is also the hash tag of the outbox's keys.
func LeaseName(prefix string) string { return prefix + ":notifier" }

// Timeout bounds the Redis calls of one method.
const Timeout = 5 * time.Second

// casAttempts bounds how often an update reads an entry again after
// another writer changed it in between.
const casAttempts = 50

// Outbox is the notifier's outbox in Redis. Reads work on every instance;
// the notifier's writes need Hold. It is safe for concurrent use.
type Outbox struct {
	c goredis.UniversalClient
	l *lease.Lease
	w *lease.Writer

	sent, givenUp atomic.Uint64
}

var _ notify.OutboxStore = (*Outbox)(nil)

// New returns the outbox whose keys share the hash tag of l, the
// notifier's lease.
func New(c goredis.UniversalClient, l *lease.Lease) *Outbox {
	return &Outbox{c: c, l: l, w: lease.NewWriter(l)}
}

// Hold makes the outbox write under tok, the token of the lease this
// instance holds ("" to stop); lost is called when a write finds the
// lease taken (nil to ignore).
func (o *Outbox) Hold(tok string, lost func()) { o.w.Hold(tok, lost) }

// fenced runs a fenced script under the held token.
func (o *Outbox) fenced(ctx context.Context, s *lease.Script, keys []string, args ...any) (any, error) {
	return o.w.Run(ctx, s, keys, args...)
}

func (o *Outbox) entries() string           { return o.l.Key("entries") }
func (o *Outbox) due() string               { return o.l.Key("due") }
func (o *Outbox) claims() string            { return o.l.Key("claims") }
func (o *Outbox) meta() string              { return o.l.Key("meta") }
func (o *Outbox) state() string             { return o.l.Key("state") }
func (o *Outbox) erased() string            { return o.l.Key("erased") }
func (o *Outbox) match(id uuid.UUID) string { return o.l.Key("match", id.String()) }

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), Timeout)
}

// score is an entry's place in the due set.
func score(at time.Time) int64 { return max(at.UnixMicro(), 0) }

// moveUp is the Lua helper that sets a hash field holding a position to
// pos when pos is greater, comparing the decimal strings without turning
// them into floating-point numbers.
const moveUp = `
local function moveUp(key, pos)
  local cur = redis.call('HGET', key, 'position')
  if cur and (#cur > #pos or (#cur == #pos and cur >= pos)) then
    return
  end
  redis.call('HSET', key, 'position', pos)
end
`

// addScript: KEYS[2] entries, KEYS[3] due, KEYS[4] meta, KEYS[5..] the
// match set of each entry; ARGV[2] the position, then ID, JSON and score
// of each entry.
var addScript = lease.NewScript(moveUp + `
local n = 0
local count = (#ARGV - 2) / 3
for i = 0, count - 1 do
  local id = ARGV[3 + i * 3]
  if redis.call('HSETNX', KEYS[2], id, ARGV[4 + i * 3]) == 1 then
    redis.call('ZADD', KEYS[3], ARGV[5 + i * 3], id)
    redis.call('SADD', KEYS[5 + i], id)
    n = n + 1
  end
end
moveUp(KEYS[4], ARGV[2])
return n
`)

// Add stores the new entries and moves the position, under the lease.
func (o *Outbox) Add(pos eventstore.Position, entries []notify.Entry) (int, error) {
	keys := []string{o.entries(), o.due(), o.meta()}
	args := []any{strconv.FormatUint(uint64(pos), 10)}
	for _, e := range entries {
		e.Status, e.Attempts, e.LastError, e.NextAttemptAt, e.SentAt = notify.StatusPending, 0, "", e.CreatedAt, time.Time{}
		data, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("outbox: add: %w", err)
		}
		keys = append(keys, o.match(e.MatchID))
		args = append(args, e.ID, data, score(e.NextAttemptAt))
	}
	c, cancel := ctx()
	defer cancel()
	v, err := o.fenced(c, addScript, keys, args...)
	if err != nil {
		return 0, fmt.Errorf("outbox: add: %w", err)
	}
	n, _ := v.(int64)
	return int(n), nil
}

// saveScript: KEYS[2] state, KEYS[3] meta; ARGV[2] the state, ARGV[3]
// the composed position.
var saveScript = lease.NewScript(moveUp + `
redis.call('SET', KEYS[2], ARGV[2])
moveUp(KEYS[3], ARGV[3])
return 1
`)

// SaveState stores the composer's state and moves the position, under
// the lease.
func (o *Outbox) SaveState(state []byte, composed eventstore.Position) error {
	c, cancel := ctx()
	defer cancel()
	if _, err := o.fenced(c, saveScript, []string{o.state(), o.meta()}, state, strconv.FormatUint(uint64(composed), 10)); err != nil {
		return fmt.Errorf("outbox: save state: %w", err)
	}
	return nil
}

// LoadState calls decode with the saved state.
func (o *Outbox) LoadState(decode func([]byte) error) (bool, error) {
	c, cancel := ctx()
	defer cancel()
	b, err := o.c.Get(c, o.state()).Bytes()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("outbox: load state: %w", err)
	}
	return true, decode(b)
}

// Position returns the last event composed.
func (o *Outbox) Position() (eventstore.Position, bool, error) {
	c, cancel := ctx()
	defer cancel()
	s, err := o.c.HGet(c, o.meta(), "position").Result()
	if errors.Is(err, goredis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("outbox: position: %w", err)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("outbox: position %q: %w", s, err)
	}
	return eventstore.Position(n), true, nil
}

// get reads entries by ID, leaving out those gone, with their stored
// JSON.
func (o *Outbox) get(c context.Context, ids []string) ([]notify.Entry, []string, error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	vals, err := o.c.HMGet(c, o.entries(), ids...).Result()
	if err != nil {
		return nil, nil, err
	}
	var out []notify.Entry
	var raw []string
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var e notify.Entry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			return nil, nil, fmt.Errorf("entry %s: %w", ids[i], err)
		}
		out = append(out, e)
		raw = append(raw, s)
	}
	return out, raw, nil
}

// Due returns the entries due at now, earliest first.
func (o *Outbox) Due(now time.Time, limit int) ([]notify.Entry, error) {
	c, cancel := ctx()
	defer cancel()
	ids, err := o.c.ZRangeArgs(c, goredis.ZRangeArgs{Key: o.due(), Start: "-inf", Stop: strconv.FormatInt(score(now), 10),
		ByScore: true, Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("outbox: due: %w", err)
	}
	es, _, err := o.get(c, ids)
	if err != nil {
		return nil, fmt.Errorf("outbox: due: %w", err)
	}
	out := es[:0]
	for _, e := range es {
		if !e.NextAttemptAt.After(now) && (e.Status == notify.StatusPending || e.Status == notify.StatusFailing) {
			out = append(out, e)
		}
	}
	return out, nil
}

// NextAttempt returns the earliest next attempt.
func (o *Outbox) NextAttempt() (time.Time, bool, error) {
	c, cancel := ctx()
	defer cancel()
	ids, err := o.c.ZRange(c, o.due(), 0, 0).Result()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("outbox: next attempt: %w", err)
	}
	es, _, err := o.get(c, ids)
	if err != nil || len(es) == 0 {
		return time.Time{}, false, err
	}
	return es[0].NextAttemptAt, true, nil
}

// claimScript: KEYS[2] entries, KEYS[3] claims; ARGV[2] the ID, ARGV[3]
// the entry's JSON as read. It returns false when the entry changed, and
// the token of an unsettled earlier claim ("" when none) otherwise.
var claimScript = lease.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then
  return false
end
local prev = redis.call('HGET', KEYS[3], ARGV[2]) or ''
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
return prev
`)

// Claim takes a pending or failing entry for one attempt under the lease,
// recording the claim's token until the attempt is settled.
func (o *Outbox) Claim(id string) (notify.Entry, bool, error) {
	c, cancel := ctx()
	defer cancel()
	tok := o.w.Token()
	for range casAttempts {
		es, raw, err := o.get(c, []string{id})
		if err != nil {
			return notify.Entry{}, false, fmt.Errorf("outbox: claim: %w", err)
		}
		if len(es) == 0 || (es[0].Status != notify.StatusPending && es[0].Status != notify.StatusFailing) {
			return notify.Entry{}, false, nil
		}
		v, err := o.fenced(c, claimScript, []string{o.entries(), o.claims()}, id, raw[0])
		if err != nil {
			return notify.Entry{}, false, fmt.Errorf("outbox: claim: %w", err)
		}
		prev, ok := v.(string)
		if !ok {
			continue // changed since read
		}
		e := es[0]
		e.InDoubt = prev != "" && prev != tok
		return e, true, nil
	}
	return notify.Entry{}, false, fmt.Errorf("outbox: claim %s: changed %d times while claiming", id, casAttempts)
}

// settleScript: KEYS[2] entries, KEYS[3] due, KEYS[4] claims; ARGV[2] the
// ID, ARGV[3] the JSON as read, ARGV[4] the new JSON, ARGV[5] the new
// score or "" when final. It returns 0 when the entry changed.
var settleScript = lease.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
if ARGV[5] == '' then
  redis.call('ZREM', KEYS[3], ARGV[2])
else
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2])
end
redis.call('HDEL', KEYS[4], ARGV[2])
return 1
`)

// settle updates a pending or failing entry with change under the lease;
// a final entry is returned unchanged.
func (o *Outbox) settle(id string, change func(*notify.Entry)) (notify.Entry, error) {
	c, cancel := ctx()
	defer cancel()
	for range casAttempts {
		es, raw, err := o.get(c, []string{id})
		if err != nil {
			return notify.Entry{}, fmt.Errorf("outbox: %w", err)
		}
		if len(es) == 0 {
			return notify.Entry{}, fmt.Errorf("outbox: no entry %s", id)
		}
		e := es[0]
		if e.Status != notify.StatusPending && e.Status != notify.StatusFailing {
			return e, nil
		}
		change(&e)
		next := ""
		if e.Status == notify.StatusSent || e.Status == notify.StatusFailed {
			e.Text, e.HTML, e.NextAttemptAt = "", "", time.Time{}
		} else {
			next = strconv.FormatInt(score(e.NextAttemptAt), 10)
		}
		data, err := json.Marshal(e)
		if err != nil {
			return notify.Entry{}, fmt.Errorf("outbox: %w", err)
		}
		v, err := o.fenced(c, settleScript, []string{o.entries(), o.due(), o.claims()}, id, raw[0], data, next)
		if err != nil {
			return notify.Entry{}, fmt.Errorf("outbox: %w", err)
		}
		if n, _ := v.(int64); n == 0 {
			continue
		}
		switch e.Status {
		case notify.StatusSent:
			o.sent.Add(1)
		case notify.StatusFailed:
			o.givenUp.Add(1)
		}
		return e, nil
	}
	return notify.Entry{}, fmt.Errorf("outbox: entry %s changed %d times while settling", id, casAttempts)
}

// MarkSent records that the relay accepted the entry.
func (o *Outbox) MarkSent(id string, at time.Time) (notify.Entry, error) {
	return o.settle(id, func(e *notify.Entry) {
		e.Status, e.SentAt = notify.StatusSent, at.UTC()
		e.Attempts++
	})
}

// MarkFailed records a failed attempt.
func (o *Outbox) MarkFailed(id string, at time.Time, cause error, next time.Time, giveUp bool) (notify.Entry, error) {
	return o.settle(id, func(e *notify.Entry) {
		e.Attempts++
		e.LastError = cause.Error()
		if giveUp {
			e.Status = notify.StatusFailed
			return
		}
		e.Status, e.NextAttemptAt = notify.StatusFailing, next.UTC()
	})
}

// ForMatch returns the emails about a match without their bodies.
func (o *Outbox) ForMatch(matchID uuid.UUID) ([]notify.Entry, error) {
	c, cancel := ctx()
	defer cancel()
	ids, err := o.c.SMembers(c, o.match(matchID)).Result()
	if err != nil {
		return nil, fmt.Errorf("outbox: match %s: %w", matchID, err)
	}
	es, _, err := o.get(c, ids)
	if err != nil {
		return nil, fmt.Errorf("outbox: match %s: %w", matchID, err)
	}
	for i := range es {
		es[i].Text, es[i].HTML = "", ""
	}
	slices.SortFunc(es, func(a, b notify.Entry) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
	})
	return es, nil
}

// Stats reads where the waiting emails stand.
func (o *Outbox) Stats() (notify.OutboxStats, error) {
	c, cancel := ctx()
	defer cancel()
	var st notify.OutboxStats
	ids, err := o.c.ZRange(c, o.due(), 0, -1).Result()
	if err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}
	for chunk := range slices.Chunk(ids, 512) {
		es, _, err := o.get(c, chunk)
		if err != nil {
			return notify.OutboxStats{}, fmt.Errorf("outbox: stats: %w", err)
		}
		for _, e := range es {
			switch e.Status {
			case notify.StatusPending:
				st.Pending++
			case notify.StatusFailing:
				st.Failing++
			default:
				continue
			}
			if st.Oldest.IsZero() || e.CreatedAt.Before(st.Oldest) {
				st.Oldest = e.CreatedAt
			}
		}
	}
	return st, nil
}

// Settled counts the emails this value sent and gave up.
func (o *Outbox) Settled() (sent, givenUp uint64) { return o.sent.Load(), o.givenUp.Load() }

// Close stops writing under the lease; the client is the caller's.
func (o *Outbox) Close() error {
	o.Hold("", nil)
	return nil
}
