package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/notify"
)

// dropScript deletes an entry unless it changed since it was read: KEYS[1]
// entries, KEYS[2] due, KEYS[3] claims, KEYS[4] the match set; ARGV[1] the
// ID, ARGV[2] the JSON as read. It returns 0 when the entry changed.
var dropScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
`)

// replaceScript replaces an entry unless it changed since it was read:
// KEYS[1] entries; ARGV[1] the ID, ARGV[2] the JSON as read, ARGV[3] the
// new JSON. It returns 0 when the entry changed.
var replaceScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

// markErasedScript records, under the lease, that the notifier read the
// erasure of the members in ARGV[2..]: KEYS[2] the erased set.
var markErasedScript = lease.NewScript(`
for i = 2, #ARGV do
  redis.call('SADD', KEYS[2], ARGV[i])
end
return 1
`)

// EraseMember removes the emails to an erased member and blanks the
// subject and bodies of the emails about the member's matches. Any
// instance may call it, with or without the lease: each change is a
// compare-and-set of the entry, and a conflict with the holder's update
// makes it read the entries again.
func (o *Outbox) EraseMember(member uuid.UUID, matches []uuid.UUID) error {
	c, cancel := context.WithTimeout(context.Background(), 4*Timeout)
	defer cancel()
	for range casAttempts {
		done, err := o.eraseOnce(c, member, matches)
		if err != nil {
			return fmt.Errorf("outbox: erase member: %w", err)
		}
		if done {
			return nil
		}
	}
	return fmt.Errorf("outbox: erase member: the entries changed %d times while erasing", casAttempts)
}

// EraseMembers erases each member, for the notifier that read their
// erasures, and records under the lease that it did (see Erased).
func (o *Outbox) EraseMembers(members []uuid.UUID) error {
	for _, id := range members {
		if err := o.EraseMember(id, nil); err != nil {
			return err
		}
	}
	if len(members) == 0 {
		return nil
	}
	args := make([]any, len(members))
	for i, id := range members {
		args[i] = id.String()
	}
	c, cancel := ctx()
	defer cancel()
	if _, err := o.fenced(c, markErasedScript, []string{o.erased()}, args...); err != nil {
		return fmt.Errorf("outbox: erase members: %w", err)
	}
	return nil
}

// Erased reports whether the notifier has read a member's erasure: its
// saved directory no longer holds the member, and nothing it composes
// from then on is addressed to them.
func (o *Outbox) Erased(member uuid.UUID) (bool, error) {
	c, cancel := ctx()
	defer cancel()
	ok, err := o.c.SIsMember(c, o.erased(), member.String()).Result()
	if err != nil {
		return false, fmt.Errorf("outbox: erased: %w", err)
	}
	return ok, nil
}

// eraseOnce reads every entry and erases what concerns member; it reports
// false when an entry changed under it, so that it runs again.
func (o *Outbox) eraseOnce(c context.Context, member uuid.UUID, given []uuid.UUID) (bool, error) {
	type stored struct {
		e   notify.Entry
		raw string
	}
	var all []stored
	var cursor uint64
	for {
		kv, next, err := o.c.HScan(c, o.entries(), cursor, "*", 512).Result()
		if err != nil {
			return false, err
		}
		for i := 0; i+1 < len(kv); i += 2 {
			var e notify.Entry
			if err := json.Unmarshal([]byte(kv[i+1]), &e); err != nil {
				return false, fmt.Errorf("entry %s: %w", kv[i], err)
			}
			all = append(all, stored{e: e, raw: kv[i+1]})
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	matches := slices.Clone(given)
	for _, s := range all {
		if s.e.RecipientID == member && s.e.MatchID != uuid.Nil && !slices.Contains(matches, s.e.MatchID) {
			matches = append(matches, s.e.MatchID)
		}
	}
	for _, s := range all {
		var n int64
		var err error
		switch {
		case s.e.RecipientID == member:
			n, err = dropScript.Run(c, o.c, []string{o.entries(), o.due(), o.claims(), o.match(s.e.MatchID)}, s.e.ID, s.raw).Int64()
		case slices.Contains(matches, s.e.MatchID) && (s.e.Subject != "" || s.e.Text != "" || s.e.HTML != ""):
			e := s.e
			e.Subject, e.Text, e.HTML = "", "", ""
			data, jerr := json.Marshal(e)
			if jerr != nil {
				return false, jerr
			}
			n, err = replaceScript.Run(c, o.c, []string{o.entries()}, s.e.ID, s.raw, data).Int64()
		default:
			continue
		}
		if err != nil && !errors.Is(err, goredis.Nil) {
			return false, err
		}
		if n == 0 {
			return false, nil
		}
	}
	return true, nil
}
