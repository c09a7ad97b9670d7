package kurrent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mentorship/mentorship/eventstore"
)

// Options tune the engine. The zero value is usable.
type Options struct {
	// MaxEventSize caps one event's data and metadata in bytes
	// (eventstore.DefaultMaxEventSize when 0). KurrentDB refuses appends
	// over its own limit (1 MiB for all events of one append by default),
	// so keep the two in step.
	MaxEventSize int
	// Namespace, when set, is put in front of every stream name on the
	// server, and ReadAll, SubscribeAll, Head and Verify see only streams
	// under it. Several deployments, or test runs, can then share one
	// database. It must be a valid stream name itself.
	Namespace string
	// ReadBatch is ReadAll's default limit and the largest page the engine
	// asks the server for (1024 when 0).
	ReadBatch int
	// RetryWindow is how many of a stream's newest events an append with
	// an Any or StreamExists expectation searches for its own event IDs
	// before writing, to recognise a retry (64 when 0).
	RetryWindow int
	// Timeout bounds each attempt of an append or a read, and each attempt
	// to start a subscription (10 s when 0).
	Timeout time.Duration
	// Attempts is how often an append or a read is tried when the server
	// times out or is unavailable (3 when 0). A retried append sends the
	// same event IDs at the same expected revision, so the server stores
	// it once.
	Attempts int
	// ContentionAttempts is how often an append with an Any or
	// StreamExists expectation starts over when another writer extended
	// the stream between reading its end and writing (16 when 0).
	ContentionAttempts int
	// Resubscribes is how many drops in a row a subscription survives
	// without receiving an event before it ends with the error (20 when
	// 0). It waits longer after each drop, up to five seconds.
	Resubscribes int
	// Logger receives the client library's log lines; nil discards them.
	Logger esdb.LoggingFunc
}

func (o *Options) setDefaults() {
	if o.MaxEventSize <= 0 {
		o.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	if o.ReadBatch <= 0 {
		o.ReadBatch = 1024
	}
	if o.RetryWindow <= 0 {
		o.RetryWindow = eventstore.DefaultRetryWindow
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.ContentionAttempts <= 0 {
		o.ContentionAttempts = 16
	}
	if o.Resubscribes <= 0 {
		o.Resubscribes = 20
	}
	if o.Logger == nil {
		o.Logger = esdb.NoopLogging()
	}
}

// Store is the KurrentDB engine. It keeps no state of its own beyond the
// connection: every decision is taken against what the server reports.
type Store struct {
	opts   Options
	config *esdb.Configuration

	mu   sync.Mutex
	conn *conn // the current client; replaced when it gives up

	closed    atomic.Bool
	closeOnce sync.Once
	quit      context.Context // cancelled by Close
	stop      context.CancelFunc
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the KurrentDB server or cluster that connString names,
// in the client's connection string format, such as
// "esdb://localhost:2113?tls=false" or "esdb+discover://cluster:2113"; the
// "kurrentdb" and "kurrent" schemes of KurrentDB's newer clients are read
// as "esdb". It reads the last record of the log once, so that an
// unreachable server or refused credentials fail here rather than at the
// first append.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	opts.setDefaults()
	if opts.Namespace != "" {
		if err := eventstore.ValidateStreamName(opts.Namespace); err != nil {
			return nil, fmt.Errorf("open kurrentdb: namespace: %w", err)
		}
	}
	config, err := esdb.ParseConnectionString(esdbScheme(connString))
	if err != nil {
		return nil, fmt.Errorf("open kurrentdb: %w", err)
	}
	config.Logger = opts.Logger
	client, err := esdb.NewClient(config)
	if err != nil {
		return nil, fmt.Errorf("open kurrentdb: %w", err)
	}
	quit, stop := context.WithCancel(context.Background())
	s := &Store{opts: opts, config: config, conn: &conn{client: client}, quit: quit, stop: stop}
	_, _, err = do(s, ctx, func(ctx context.Context, c *esdb.Client) ([]*esdb.RecordedEvent, error) {
		return readServerAll(ctx, c, esdb.Backwards, esdb.End{}, 1)
	})
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open kurrentdb: %w", err)
	}
	return s, nil
}

// esdbScheme rewrites the connection string schemes of KurrentDB's newer
// clients to the ones this client parses; the rest of the format is the
// same.
func esdbScheme(connString string) string {
	for _, scheme := range []string{"kurrentdb", "kurrent"} {
		for _, sep := range []string{"+discover://", "://"} {
			if rest, ok := strings.CutPrefix(connString, scheme+sep); ok {
				return "esdb" + sep + rest
			}
		}
	}
	return connString
}

// Close ends the calls in progress and closes the connection once they
// have left it. Subscriptions end with eventstore.ErrClosed and calls after
// Close return it too.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed.Store(true)
		c := s.conn
		s.mu.Unlock()
		s.stop()
		c.retire()
	})
	return nil
}

// serverName is a stream's name on the server.
func (s *Store) serverName(stream string) string { return s.opts.Namespace + stream }

// ownStream returns the contract name of a server stream and whether the
// stream is one of the application's: under the store's namespace, and
// neither the server's nor the key store's.
func (s *Store) ownStream(serverStream, eventType string) (string, bool) {
	if isSystem(serverStream, eventType) || !strings.HasPrefix(serverStream, s.opts.Namespace) {
		return "", false
	}
	stream := serverStream[len(s.opts.Namespace):]
	if strings.HasPrefix(stream, KeyStreamPrefix) {
		return "", false // the key store's
	}
	return stream, true
}

// do runs one operation against the server with a deadline per attempt,
// and tries again when the server timed out or was unavailable. Closing
// the store ends the attempt in progress. It also returns how many
// attempts it made.
func do[T any](s *Store, ctx context.Context, op func(ctx context.Context, c *esdb.Client) (T, error)) (T, int, error) {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		stop := context.AfterFunc(s.quit, cancel)
		v, err := call(s, actx, op)
		stop()
		cancel()
		switch {
		case err == nil:
			return v, attempt, nil
		case s.closed.Load():
			return v, attempt, eventstore.ErrClosed
		case ctx.Err() != nil:
			return v, attempt, ctx.Err()
		case !transient(err), attempt >= s.opts.Attempts:
			return v, attempt, err
		}
		if err := sleep(ctx, backoff(attempt, 20*time.Millisecond, time.Second)); err != nil {
			return v, attempt, err
		}
	}
}

// code returns the client library's error code of err, or
// esdb.ErrorCodeUnknown.
func code(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return esdb.ErrorCodeUnknown
}

// transient reports whether an operation that failed with err may succeed
// when tried again unchanged.
func transient(err error) bool {
	switch code(err) {
	case esdb.ErrorCodeDeadlineExceeded, esdb.ErrorUnavailable, esdb.ErrorCodeNotLeader, esdb.ErrorCodeConnectionClosed, esdb.ErrorAborted:
		return true
	}
	switch status.Code(err) {
	case codes.DeadlineExceeded, codes.Unavailable, codes.Aborted:
		return true
	}
	// A call abandoned inside the library reports its context's deadline.
	return errors.Is(err, context.DeadlineExceeded)
}

// backoff is the wait before attempt+1: exponential from base, capped, with
// jitter so that writers that collided do not collide again.
func backoff(attempt int, base, ceiling time.Duration) time.Duration {
	d := base << min(attempt-1, 20)
	if d <= 0 || d > ceiling {
		d = ceiling
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
