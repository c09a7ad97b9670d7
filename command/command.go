// Package command runs the program's use cases: it loads a stream, lets the
// domain decide, and appends the decision with the stream's revision as the
// expected revision, reloading and deciding again when another writer got
// there first. Each decision writes one stream; a use case that touches two
// streams does so in steps whose follow-ups are idempotent, so a process
// manager (Reconcile) can finish or compensate them after a crash.
package command

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/refusal"
	"github.com/mentorship/mentorship/tracing"
)

// ErrContention is returned when a command lost the race for its stream
// more often than the retry bound allows. Trying again later may succeed.
var ErrContention = errors.New("too many concurrent changes to the same record; try again")

// Service runs commands against an event store.
type Service struct {
	store      eventstore.Store
	program    domain.Program
	clock      clock.Clock
	maxRetries int
	// states keeps recently folded streams, so that a command on a busy
	// stream (a match gathering sessions) reads only the events since.
	states *lru.Cache[string, cachedState]
	// erase holds the steps that run when a member is erased.
	erase erasers
}

// cachedState is a stream's state folded up to a revision. States are
// immutable values (the domain copies a map before changing it), so
// commands running at once may share one.
type cachedState struct {
	state any
	rev   eventstore.Revision
	// pos is the global position of the event at rev.
	pos eventstore.Position
	// marks has one entry per event of the stream.
	marks *markChunk
}

// Options tune a Service.
type Options struct {
	// MaxRetries bounds how often a command reloads and decides again
	// after losing a race for its stream (64 when 0).
	MaxRetries int
	// CachedStreams is how many folded stream states the service keeps
	// (DefaultCachedStreams when 0; negative keeps none). The cache reads
	// a stream's newer events before every use, so it is never stale,
	// even with other writers on the same store.
	CachedStreams int
}

// DefaultCachedStreams keeps the states of the streams of the last ten
// thousand or so members and matches that saw a command.
const DefaultCachedStreams = 10_000

// New returns a Service. The program settings must be valid.
func New(store eventstore.Store, program domain.Program, clk clock.Clock, opts Options) (*Service, error) {
	if err := program.Validate(); err != nil {
		return nil, fmt.Errorf("command service: %w", err)
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 64
	}
	if opts.CachedStreams == 0 {
		opts.CachedStreams = DefaultCachedStreams
	}
	s := &Service{store: store, program: program, clock: clk, maxRetries: opts.MaxRetries}
	if opts.CachedStreams > 0 {
		cache, err := lru.New[string, cachedState](opts.CachedStreams)
		if err != nil {
			return nil, fmt.Errorf("command service: %w", err)
		}
		s.states = cache
	}
	return s, nil
}

// Program returns the program settings the service decides with.
func (s *Service) Program() domain.Program { return s.program }

// Request identifies one command as it arrives: who issues it and the IDs
// that tie its events together.
type Request struct {
	Actor domain.Actor
	// CommandID names the command. Sending the same command again with the
	// same ID does not write its events twice. Empty means a fresh ID.
	CommandID string
	// CorrelationID ties together everything one request caused; the
	// command ID when empty.
	CorrelationID string
	// Input fingerprints what was asked, for a CommandID that the client
	// chose: the same CommandID sent again with the same Input is a retry
	// and is applied once, on whichever stream it wrote, however much has
	// happened on the stream since; with another Input it is refused with
	// CodeCommandIDReused. Empty leaves retries to the decisions
	// themselves, as for command IDs that only the server makes.
	Input string
	// generated is true when CommandID was made up by normalized.
	generated bool
}

// CodeCommandIDReused reports a command ID (the client's mutation ID)
// sent again with a different request than the one it first named on the
// same record. Nothing is changed: taking it as a retry would silently
// drop the new request, and applying it would break "applied once".
const CodeCommandIDReused refusal.Code = "CLIENT_MUTATION_ID_REUSED"

func (r Request) normalized() Request {
	if r.CommandID == "" {
		r.CommandID = uuid.NewString()
		r.generated = true
	}
	if r.CorrelationID == "" {
		r.CorrelationID = r.CommandID
	}
	return r
}

// Result tells where a command's events landed.
type Result struct {
	// Position is the global position of the last event the command
	// appended, or Start when it changed nothing. Waiting until read
	// models reach it gives read-your-writes.
	Position eventstore.Position
}

func (r *Result) add(p eventstore.Position) {
	if p > r.Position {
		r.Position = p
	}
}

// step names one append of a command, for deterministic event IDs and the
// causation recorded in metadata.
type step struct {
	req   Request
	name  string // which step of the command, e.g. "reserve"
	cause string // the ID of the command or event that caused this step
	// opens is true for a step that the command itself causes as its
	// first write to a stream: finding events of the same command ID but
	// another input there means the client reused its ID.
	opens bool
	// ownRetries is true for a step whose decision recognises its own
	// retries completely: it records an entity under an ID derived from
	// the command ID and, finding the entity, accepts the same contents
	// and refuses others. The step is decided again rather than taken as
	// done, so that a retry with other contents meets the decision's own
	// refusal (a document's bytes are not known before the upload).
	ownRetries bool
}

func (st step) eventID(stream string, i int) uuid.UUID {
	if st.req.Input != "" {
		return domain.EventID("command", st.req.CommandID, st.name, stream, strconv.Itoa(i), st.req.Input)
	}
	return domain.EventID("command", st.req.CommandID, st.name, stream, strconv.Itoa(i))
}

// replayed tells whether the stream already holds this step's events,
// written by an earlier run of the same command, however long ago: the
// step is then done, and deciding it again would apply it twice (an edit
// replayed after a newer edit would undo the newer one). It refuses a
// step that opens a command whose ID, with another input, already wrote
// to the stream.
func (st step) replayed(stream string, marks *markChunk) (bool, error) {
	if st.ownRetries || st.req.generated {
		// A command ID made up for this run names no earlier one.
		return false, nil
	}
	id := st.eventID(stream, 0)
	for c := marks; c != nil; c = c.prev {
		for i := range c.marks {
			if c.marks[i].id == id {
				return true, nil
			}
		}
	}
	if !st.opens || st.req.Input == "" {
		return false, nil
	}
	cause := causeHash(st.cause)
	for c := marks; c != nil; c = c.prev {
		for i := range c.marks {
			if c.marks[i].cause == cause {
				return false, &refusal.Error{Code: CodeCommandIDReused, Field: "clientMutationId",
					Message: "this clientMutationId was already used for a different request; send a new one for a new request"}
			}
		}
	}
	return false, nil
}

// mark is what a stream's event tells about the command that wrote it:
// its ID, and a hash of its causation ID (the command ID, for the events
// of a command's first step).
type mark struct {
	id    uuid.UUID
	cause uint64
}

// markChunk holds the marks of some of a stream's events, and links to
// the chunk of the events before them. Chunks are never changed once
// made, so that commands running at once may share them; a stream's
// newer events add a chunk instead of copying the marks, and a chain
// grown long is flattened into one chunk, so that extending costs the new
// events and, now and then, one copy.
type markChunk struct {
	marks []mark
	prev  *markChunk
	depth int // chunks in the chain, this one included
	total int // marks in the chain
}

// maxMarkChain is how many chunks a chain grows to before it is flattened.
const maxMarkChain = 32

// extend returns the chain c followed by fresh, which it keeps.
func (c *markChunk) extend(fresh []mark) *markChunk {
	if len(fresh) == 0 {
		return c
	}
	if c == nil {
		return &markChunk{marks: fresh, depth: 1, total: len(fresh)}
	}
	if c.depth < maxMarkChain {
		return &markChunk{marks: fresh, prev: c, depth: c.depth + 1, total: c.total + len(fresh)}
	}
	// Lookups treat the marks as a set, so the order may change.
	all := make([]mark, 0, c.total+len(fresh))
	all = append(all, fresh...)
	for ; c != nil; c = c.prev {
		all = append(all, c.marks...)
	}
	return &markChunk{marks: all, depth: 1, total: len(all)}
}

var causeSeed = maphash.MakeSeed()

// causeHash hashes a causation ID for marks. A collision of two 64-bit
// hashes within one stream is too unlikely to matter; it would refuse a
// request as a reused ID.
func causeHash(cause string) uint64 { return maphash.String(causeSeed, cause) }

// aggregate is how to rebuild one kind of stream's state.
type aggregate[S any] struct {
	evolve func(S, domain.Event) S
}

var (
	memberAgg   = aggregate[domain.Member]{evolve: domain.EvolveMember}
	matchAgg    = aggregate[domain.Match]{evolve: domain.EvolveMatch}
	resourceAgg = aggregate[domain.Resource]{evolve: domain.EvolveResource}
)

// load folds a stream into its state. A stream with no events gives the
// zero state and exists false. With a cached state it reads only the events
// after the cached revision.
func load[S any](ctx context.Context, s *Service, agg aggregate[S], stream string) (S, eventstore.Revision, bool, error) {
	l, err := loadMarked(ctx, s, agg, stream)
	return l.state, l.rev, l.exists, err
}

// loaded is a stream folded by loadMarked.
type loaded[S any] struct {
	state  S
	rev    eventstore.Revision
	pos    eventstore.Position
	exists bool
	marks  *markChunk
}

// loadMarked is load that also answers the global position of the
// stream's last event and the marks of all its events.
func loadMarked[S any](ctx context.Context, s *Service, agg aggregate[S], stream string) (loaded[S], error) {
	var state S
	var marks *markChunk
	opts := eventstore.ReadStreamOptions{}
	var rev eventstore.Revision
	var pos eventstore.Position
	cached := false
	if s.states != nil {
		if c, ok := s.states.Get(stream); ok {
			if st, ok := c.state.(S); ok {
				state, rev, pos, cached = st, c.rev, c.pos, true
				marks = c.marks
				opts.From = c.rev + 1
			}
		}
	}
	recs, err := s.store.ReadStream(ctx, stream, opts)
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound) && !cached:
		return loaded[S]{state: state}, nil
	case errors.Is(err, eventstore.ErrStreamNotFound):
		// Reading past a stream's end: nothing new since the cache.
		noteSeen(ctx, pos)
		return loaded[S]{state: state, rev: rev, pos: pos, exists: true, marks: marks}, nil
	case err != nil:
		return loaded[S]{state: state}, fmt.Errorf("load %s: %w", stream, err)
	}
	fresh := make([]mark, 0, len(recs))
	for _, rec := range recs {
		ev, err := decode(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return loaded[S]{state: state}, fmt.Errorf("load %s: revision %d: %w", stream, rec.Revision, err)
		}
		state = agg.evolve(state, ev)
		rev, pos = rec.Revision, rec.Position
		fresh = append(fresh, mark{id: rec.ID, cause: causeHash(rec.Metadata.CausationID)})
	}
	marks = marks.extend(fresh)
	if len(recs) == 0 && !cached {
		return loaded[S]{state: state}, nil
	}
	if s.states != nil && len(recs) > 0 {
		s.states.Add(stream, cachedState{state: state, rev: rev, pos: pos, marks: marks})
	}
	noteSeen(ctx, pos)
	return loaded[S]{state: state, rev: rev, pos: pos, exists: true, marks: marks}, nil
}

// decode decodes a stored event with the fast decoder the read models use,
// and with domain.Decode, the reference, for what the fast one leaves to
// it: encoding/json cost a command more than folding the events it read.
// The fast decoder is tested to read whatever it accepts exactly as the
// reference does.
func decode(typ string, schemaVersion int, data []byte) (domain.Event, error) {
	if ev, ok := follow.FastDecode(typ, schemaVersion, data); ok {
		return ev, nil
	}
	return domain.Decode(typ, schemaVersion, data)
}

// update loads a stream, decides, and appends the decision expecting the
// revision it loaded; on a lost race it reloads and decides again. It
// returns the position of the last appended event (Start when the decision
// was empty).
func update[S any](ctx context.Context, s *Service, agg aggregate[S], stream string, st step, decide func(S) ([]domain.Event, error)) (pos eventstore.Position, err error) {
	ctx, span := tracing.Tracer().Start(ctx, "command "+st.name, trace.WithAttributes(attribute.String("mentorship.stream", stream)))
	defer func() {
		if refusal := (*refusal.Error)(nil); errors.As(err, &refusal) {
			// A refusal by the program's rules is an answer, not a failure.
			span.SetAttributes(attribute.String("mentorship.refused", string(refusal.Code)))
			span.End()
			return
		}
		tracing.End(span, err)
	}()
	for attempt := 0; ; attempt++ {
		span.SetAttributes(attribute.Int("mentorship.attempts", attempt+1))
		l, err := loadMarked(ctx, s, agg, stream)
		if err != nil {
			return 0, err
		}
		if done, err := st.replayed(stream, l.marks); done || err != nil {
			// A retry answers as the first run did, with the stream as
			// it is now; nothing is decided or written again.
			if err != nil {
				return 0, err
			}
			return l.pos, nil
		}
		state, rev, exists := l.state, l.rev, l.exists
		evs, err := decide(state)
		if err != nil || len(evs) == 0 {
			return 0, err
		}
		expected := eventstore.NoStream()
		if exists {
			expected = eventstore.Exact(rev)
		}
		data, err := s.envelope(st, stream, evs)
		if err != nil {
			return 0, err
		}
		res, err := s.store.Append(ctx, stream, expected, data...)
		switch {
		case err == nil:
			return res.LastPosition, nil
		case errors.Is(err, eventstore.ErrWrongExpectedRevision) && attempt < s.maxRetries:
			continue
		case errors.Is(err, eventstore.ErrIdempotencyConflict) && attempt < s.maxRetries:
			// Another writer recorded this step first with other contents:
			// the same system rule run twice at different moments (a time
			// rule by the process manager and by a command of the same
			// rule). Decide again on what it left; a decision now empty
			// was done.
			continue
		case errors.Is(err, eventstore.ErrWrongExpectedRevision):
			return 0, fmt.Errorf("%s: %w", stream, ErrContention)
		default:
			return 0, err
		}
	}
}

// envelope turns decided events into store events with their metadata.
func (s *Service) envelope(st step, stream string, evs []domain.Event) ([]eventstore.EventData, error) {
	now := s.clock.Now()
	out := make([]eventstore.EventData, len(evs))
	for i, ev := range evs {
		enc, err := domain.Encode(ev)
		if err != nil {
			return nil, err
		}
		out[i] = eventstore.EventData{
			ID:            st.eventID(stream, i),
			Type:          enc.Type,
			SchemaVersion: enc.SchemaVersion,
			Data:          enc.Data,
			Metadata: eventstore.Metadata{
				ActorID:       st.req.Actor.MetadataID(),
				ActorRole:     string(st.req.Actor.Role),
				CorrelationID: st.req.CorrelationID,
				CausationID:   st.cause,
				OccurredAt:    now,
			},
		}
	}
	return out, nil
}

// first returns the first step of a command, caused by the command itself.
func first(req Request, name string) step {
	return step{req: req, name: name, cause: req.CommandID, opens: true}
}
