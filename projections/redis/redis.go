// Package redis keeps the read models in Redis, so that several API
// instances share them. It follows the in-memory read models event for
// event: both apply events through projections.EvolveMembers and
// projections.EvolveMatches and answer queries through the same plans, and
// both pass the suite in projections/readmodeltest.
//
// Every projection keeps its keys under one hash tag, so that a commit
// (the state, its checkpoint and the fencing check) is one Lua script and
// works on Redis Cluster. One instance at a time applies events to a
// projection: the holder of the projection's lease, whose token carries a
// fencing number that every commit checks. The others only read, learn of
// new checkpoints over pub/sub, and take the lease over when it lapses.
package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/projections"
)

// Options configure the Redis read models.
type Options struct {
	// Prefix namespaces every key and channel ("mentorship" when empty).
	// Instances serving one program use the same prefix.
	Prefix string
	// Owner names this instance in lease tokens (host name and process ID
	// when empty), so that an operator can tell who projects.
	Owner string
	// LeaseTTL is how long a lease outlives its holder's last renewal
	// (5 s when 0): another instance takes over within about this long
	// after the holder dies.
	LeaseTTL time.Duration
	// Timeout bounds one query's Redis calls (2 s when 0).
	Timeout time.Duration
	// Logger receives lease changes and failures.
	Logger zerolog.Logger
}

// ErrFenced is returned by a commit whose lease was lost: another instance
// holds the projection now, and nothing was written.
var ErrFenced = errors.New("redis read model: lease lost")

// errMoved is returned by a commit whose checkpoint is not where the
// holder thought; nothing was written and the holder starts again from the
// stored checkpoint.
var errMoved = errors.New("redis read model: checkpoint moved")

var (
	_ projections.MemberReader = (*Members)(nil)
	_ projections.MatchReader  = (*Matches)(nil)
)

// ReadModels are the members and matches read models in Redis.
type ReadModels struct {
	c       goredis.UniversalClient
	opts    Options
	Members *Members
	Matches *Matches

	once sync.Once
	f    *follower
}

// New returns the read models kept under opts.Prefix in c.
func New(c goredis.UniversalClient, opts Options) *ReadModels {
	if opts.Prefix == "" {
		opts.Prefix = "mentorship"
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	rm := &ReadModels{c: c, opts: opts}
	rm.Members, rm.Matches = &Members{}, &Matches{}
	rm.Members.init(rm, "members", membersLayout)
	rm.Matches.init(rm, "matches", matchesLayout)
	return rm
}

// channel carries "<projection> <position>" after every commit.
func (rm *ReadModels) channel() string { return rm.opts.Prefix + ":positions" }

// base is what every Redis projection has: its keys' hash tag, its lease
// and its checkpoint.
type base struct {
	rm   *ReadModels
	name string
	tag  string // "{prefix:name}", the hash tag of every key
	// lease is the projection's fenced lease, under the same hash tag:
	// its key is what every commit checks the writer's token against.
	lease *lease.Lease
	// held is set while this instance holds the lease and applies events.
	held atomic.Bool
}

// The layouts of the stored views. Change what a view holds, change its
// number: the keys of the new layout start empty, so the projection is
// rebuilt from the log rather than served from views that lack the change.
// The keys of the old layout are left for the operator to delete.
const (
	membersLayout = 2 // MemberView.ProfileSaved
	matchesLayout = 3 // an erased member's documents are removed
)

func (b *base) init(rm *ReadModels, name string, layout int) {
	b.rm, b.name = rm, name
	tagName := rm.opts.Prefix + ":" + name
	if layout > 1 {
		tagName += ":v" + strconv.Itoa(layout)
	}
	b.tag = "{" + tagName + "}"
	// The name comes from the prefix, which New checks has no braces.
	b.lease, _ = lease.New(rm.c, tagName, lease.Options{Owner: rm.opts.Owner, TTL: rm.opts.LeaseTTL, Logger: rm.opts.Logger})
}

func (b *base) key(parts ...string) string {
	k := b.tag
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

func (b *base) meta() string          { return b.key("meta") }
func (b *base) holding() *atomic.Bool { return &b.held }
func (b *base) leaseOf() *lease.Lease { return b.lease }

// Name implements projections.Projection.
func (b *base) Name() string { return b.name }

// checkpoint reads the projection's stored position and, when it stopped
// on an event, why.
func (b *base) checkpoint(ctx context.Context) (eventstore.Position, string, error) {
	vals, err := b.rm.c.HMGet(ctx, b.meta(), "pos", "failed").Result()
	if err != nil {
		return 0, "", fmt.Errorf("read checkpoint of %s: %w", b.name, err)
	}
	var pos eventstore.Position
	if s, ok := vals[0].(string); ok {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, "", fmt.Errorf("checkpoint of %s: %w", b.name, err)
		}
		pos = eventstore.Position(n)
	}
	failed, _ := vals[1].(string)
	return pos, failed, nil
}

// Position is the projection's stored checkpoint. It reads Redis, and
// fails like a query when Redis does not answer.
func (b *base) Position() (eventstore.Position, error) {
	ctx, cancel := b.rm.queryContext()
	defer cancel()
	pos, _, err := b.checkpoint(ctx)
	if err != nil {
		return 0, unavailable(err)
	}
	return pos, nil
}

func (rm *ReadModels) queryContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), rm.opts.Timeout)
}

// unavailable wraps a failed read for the API: see projections.ErrUnavailable.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", projections.ErrUnavailable, err)
}

// commitScript writes one batch: it checks the lease token (fencing) and
// that the checkpoint is where the batch starts, then runs the batch's
// operations and moves the checkpoint, all or nothing. KEYS[1] is the
// lease, KEYS[2] the meta hash; ARGV[1] the token, ARGV[2] the expected
// checkpoint, ARGV[3] the new one, ARGV[4] the last event's ID, ARGV[5] the
// lease's time to live in milliseconds (a commit renews the lease, so a
// long rebuild keeps it), then the operations, each an opcode, a key
// given as an index into KEYS, a count n and n values: "h" sets fields of
// a hash (HSET, n/2 field and value pairs), "s" adds members to a set
// (SADD), "r" removes members from a set (SREM), "p" appends to a list
// (RPUSH). Each operation is one variadic command, cut into calls of at
// most 4,000 values (Lua's unpack is bounded): a rebuild adds a new
// mentor to hundreds of word sets, and one command per set and batch
// rather than per mentor and word is most of what makes it fast.
// Positions are compared as strings, since Lua numbers lose precision
// above 2^53.
var commitScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED')
end
local cp = redis.call('HGET', KEYS[2], 'pos') or '0'
if cp ~= ARGV[2] then
  return redis.error_reply('MOVED ' .. cp)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local cmds = {h = 'HSET', s = 'SADD', r = 'SREM', p = 'RPUSH'}
local i = 6
local n = #ARGV
while i <= n do
  local cmd = cmds[ARGV[i]]
  if not cmd then
    return redis.error_reply('BADOP ' .. ARGV[i])
  end
  local k = KEYS[tonumber(ARGV[i + 1])]
  local first = i + 3
  local last = first + tonumber(ARGV[i + 2]) - 1
  while first <= last do
    local upto = math.min(first + 3999, last)
    redis.call(cmd, k, unpack(ARGV, first, upto))
    first = upto + 1
  end
  i = last + 1
end
redis.call('HSET', KEYS[2], 'pos', ARGV[3], 'last', ARGV[4])
return 1
`)

// ops collects a batch's writes for commitScript, grouped by key and
// kind, so that each becomes one variadic command. Grouping keeps what
// the batch means: a hash field written twice keeps its last value (HSET
// sets fields in order), a list keeps its values in order, and a set
// member added and removed in one batch gets only the last of the two
// (see setOps).
type ops struct {
	keys  []string
	index map[string]int
	// hashes and lists are the fields and values per key index, in order;
	// sets is the last change asked for each member, per key index.
	hashes map[int][]any
	lists  map[int][]any
	sets   map[int]*setOps
	order  []group // the groups, in the order first asked for
}

// group is one key's operation of a kind.
type group struct {
	kind byte // 'h', 's' or 'p'
	key  int
}

// setOps are the members a batch adds to a set and removes from it, each
// member's last change winning: changes to different members commute, so
// the set ends as if they ran one by one in order.
type setOps struct {
	add     map[string]bool // true to add, false to remove
	members []string        // in first-change order, for deterministic writes
}

func newOps(b *base) *ops {
	o := &ops{index: map[string]int{}, hashes: map[int][]any{}, lists: map[int][]any{}, sets: map[int]*setOps{}}
	o.key(b.lease.Key("lease"))
	o.key(b.meta())
	return o
}

// key returns the 1-based index of k in KEYS, adding it when new.
func (o *ops) key(k string) int {
	i, ok := o.index[k]
	if !ok {
		o.keys = append(o.keys, k)
		i = len(o.keys)
		o.index[k] = i
	}
	return i
}

func (o *ops) hset(k, field string, value []byte) {
	i := o.key(k)
	if _, ok := o.hashes[i]; !ok {
		o.order = append(o.order, group{'h', i})
	}
	o.hashes[i] = append(o.hashes[i], field, value)
}

func (o *ops) rpush(k, value string) {
	i := o.key(k)
	if _, ok := o.lists[i]; !ok {
		o.order = append(o.order, group{'p', i})
	}
	o.lists[i] = append(o.lists[i], value)
}

func (o *ops) sadd(k, member string) { o.set(k, member, true) }
func (o *ops) srem(k, member string) { o.set(k, member, false) }

func (o *ops) set(k, member string, add bool) {
	i := o.key(k)
	s := o.sets[i]
	if s == nil {
		s = &setOps{add: map[string]bool{}}
		o.sets[i] = s
		o.order = append(o.order, group{'s', i})
	}
	if _, ok := s.add[member]; !ok {
		s.members = append(s.members, member)
	}
	s.add[member] = add
}

// args lists the operations as commitScript reads them.
func (o *ops) args() []any {
	var out []any
	op := func(code string, key int, values []any) {
		if len(values) > 0 {
			out = append(out, code, key, len(values))
			out = append(out, values...)
		}
	}
	for _, g := range o.order {
		switch g.kind {
		case 'h':
			op("h", g.key, o.hashes[g.key])
		case 'p':
			op("p", g.key, o.lists[g.key])
		case 's':
			s := o.sets[g.key]
			var add, rem []any
			for _, m := range s.members {
				if s.add[m] {
					add = append(add, m)
				} else {
					rem = append(rem, m)
				}
			}
			op("s", g.key, add)
			op("r", g.key, rem)
		}
	}
	return out
}

// run commits the operations with the checkpoint moving from from to to.
func (o *ops) run(ctx context.Context, b *base, token string, from eventstore.Position, to projections.Event) error {
	args := append([]any{token, strconv.FormatUint(uint64(from), 10), strconv.FormatUint(uint64(to.Position), 10), to.ID.String(),
		b.rm.opts.LeaseTTL.Milliseconds()}, o.args()...)
	err := commitScript.Run(ctx, b.rm.c, o.keys, args...).Err()
	switch {
	case err == nil:
		return nil
	case isReply(err, "FENCED"):
		return ErrFenced
	case isReply(err, "MOVED"):
		return fmt.Errorf("%w: %v", errMoved, err)
	default:
		return fmt.Errorf("commit %s: %w", b.name, err)
	}
}

func isReply(err error, prefix string) bool {
	var re goredis.Error
	if !errors.As(err, &re) {
		return false
	}
	// Redis 7 puts "ERR " before a script's error without a code.
	return strings.HasPrefix(strings.TrimPrefix(re.Error(), "ERR "), prefix)
}

// Register adds the read models' metrics to reg: whether this instance
// holds each projection's lease. Their position, lag and stops are the
// follower metrics every follower of the log reports (follow.Register).
func (rm *ReadModels) Register(reg prometheus.Registerer) {
	for _, p := range rm.committers() {
		held := p.holding()
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mentorship_projection_lease_held", Help: "1 while this instance holds the projection's lease and applies its events.",
			ConstLabels: prometheus.Labels{"projection": p.Name()},
		}, func() float64 {
			if held.Load() {
				return 1
			}
			return 0
		}))
	}
}

// Key returns the Redis key of a part of a projection ("members" or
// "matches") under prefix, such as its "lease" or "meta", as operators and
// tests inspecting Redis need it: the key's hash tag carries the layout.
func Key(prefix, projection string, parts ...string) string {
	if prefix == "" {
		prefix = "mentorship"
	}
	rm := &ReadModels{opts: Options{Prefix: prefix}}
	var b base
	switch projection {
	case "members":
		b.init(rm, projection, membersLayout)
	default:
		b.init(rm, projection, matchesLayout)
	}
	return b.key(parts...)
}
