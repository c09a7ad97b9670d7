// Package redis keeps the process manager's saved state in Redis, so that
// every instance reaches it and whichever holds the process manager's
// lease runs the manager on it.
//
// Store implements process.StateStore. Its keys share the hash tag of the
// manager's lease (see package lease), so that they sit in one Redis
// Cluster slot with the lease key:
//
//	{<prefix>:process}:lease   the lease (package lease)
//	{<prefix>:process}:state   the manager's saved state with its checkpoint
//	{<prefix>:process}:meta    hash: settled -> the settled position
//
// Writes carry the token of the lease Hold was given and are refused,
// atomically and with nothing written, once another token holds it.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/process"
)

// LeaseName returns the name of the process manager's lease under
// prefix, which is also the hash tag of the store's keys.
func LeaseName(prefix string) string { return prefix + ":process" }

// Timeout bounds the Redis calls of one method.
const Timeout = 5 * time.Second

// Store is the process manager's state in Redis. It is safe for
// concurrent use.
type Store struct {
	c goredis.UniversalClient
	l *lease.Lease
	w *lease.Writer
}

var _ process.StateStore = (*Store)(nil)

// New returns the store whose keys share the hash tag of l, the process
// manager's lease.
func New(c goredis.UniversalClient, l *lease.Lease) *Store {
	return &Store{c: c, l: l, w: lease.NewWriter(l)}
}

// moveUp sets the settled position to ARGV's when it is greater,
// comparing decimal strings, not floating-point numbers.
const moveUp = `
local function moveUp(key, pos)
  local cur = redis.call('HGET', key, 'settled')
  if cur and (#cur > #pos or (#cur == #pos and cur >= pos)) then
    return
  end
  redis.call('HSET', key, 'settled', pos)
end
`

// saveScript: KEYS[2] state, KEYS[3] meta; ARGV[2] the state, ARGV[3] the
// settled position.
var saveScript = lease.NewScript(moveUp + `
redis.call('SET', KEYS[2], ARGV[2])
moveUp(KEYS[3], ARGV[3])
return 1
`)

// settleScript: KEYS[2] meta; ARGV[2] the settled position.
var settleScript = lease.NewScript(moveUp + `
moveUp(KEYS[2], ARGV[2])
return 1
`)

// Hold makes the store write under tok, the token of the lease this
// instance holds ("" to stop); lost is called when a write finds the
// lease taken (nil to ignore).
func (s *Store) Hold(tok string, lost func()) { s.w.Hold(tok, lost) }

func (s *Store) fenced(script *lease.Script, keys []string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	_, err := s.w.Run(ctx, script, keys, args...)
	return err
}

// Settled returns the settled position.
func (s *Store) Settled() (eventstore.Position, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	v, err := s.c.HGet(ctx, s.l.Key("meta"), "settled").Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("process: settled: %w", err)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("process: settled %q: %w", v, err)
	}
	return eventstore.Position(n), nil
}

// Load calls decode with the saved state.
func (s *Store) Load(decode func([]byte) error) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	b, err := s.c.Get(ctx, s.l.Key("state")).Bytes()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("process: load state: %w", err)
	}
	return true, decode(b)
}

// Save stores the state and moves the settled position, under the lease.
func (s *Store) Save(state []byte, settled eventstore.Position) error {
	if err := s.fenced(saveScript, []string{s.l.Key("state"), s.l.Key("meta")}, state, strconv.FormatUint(uint64(settled), 10)); err != nil {
		return fmt.Errorf("process: save state: %w", err)
	}
	return nil
}

// SaveSettled moves the settled position, under the lease.
func (s *Store) SaveSettled(settled eventstore.Position) error {
	if err := s.fenced(settleScript, []string{s.l.Key("meta")}, strconv.FormatUint(uint64(settled), 10)); err != nil {
		return fmt.Errorf("process: save position: %w", err)
	}
	return nil
}

// Close stops writing under the lease; the client is the caller's.
func (s *Store) Close() error {
	s.Hold("", nil)
	return nil
}
