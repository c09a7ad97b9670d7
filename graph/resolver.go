// Package graph holds the GraphQL resolvers. They only translate between
// GraphQL and the command and query sides: rules live in domain/, reads in
// projections/. Authorization happens here, on every operation and private
// field, because it depends on who asks.
package graph

//go:generate sh -c "cd .. && go run ./graph/internal/generate"

import (
	"context"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/buildinfo"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/documents"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/projections"
)

// OutboxReader shows the emails of a match.
type OutboxReader interface {
	ForMatch(matchID uuid.UUID) ([]notify.Entry, error)
}

// Waiter waits until the read models reach a position.
type Waiter interface {
	WaitFor(ctx context.Context, pos eventstore.Position) error
}

// Resolver is the root resolver; it carries the server's dependencies.
type Resolver struct {
	// Build and Environment describe the running server.
	Build       buildinfo.Info
	Environment string

	Commands *command.Service
	// Documents uploads documents and opens their bytes; nil turns
	// uploads and downloads off.
	Documents *documents.Service
	// Accounts signs members up and in; nil turns those mutations off.
	Accounts *auth.Service
	Members  projections.MemberReader
	Matches  projections.MatchReader
	// Reports answers the program reports; nil turns them off.
	Reports projections.ReportReader
	Store   eventstore.Store
	Waiter  Waiter
	Hub     *Hub
	// Outbox shows staff the emails of a match; nil when there is none.
	Outbox OutboxReader
	Clock  clock.Clock
	Log    zerolog.Logger
	// WriteTimeout bounds how long a mutation waits for the read models to
	// apply its events (5 s when 0).
	WriteTimeout time.Duration
	// MaxSubscriptions caps the subscriptions one account holds open at
	// once (50 when 0).
	MaxSubscriptions int

	subscriptions openSubscriptions
}

func (r *Resolver) program() domain.Program { return r.Commands.Program() }

// settle waits until the read models hold a mutation's events, so the
// payload and the client's next query see them. The change is saved
// whatever the wait gives, so a wait that fails (the read models are slow
// or stopped, the client left) never turns the answer into an error: the
// response's extensions.readYourWrites says the change is saved at its
// position but was not yet shown when the answer was built.
func (r *Resolver) settle(ctx context.Context, res command.Result) {
	// The answer shows at least the state the command read, so that a
	// refused racer sees the change that refused it, even when the
	// command appended something before it was refused (an accept
	// reserves the mentor's capacity before it meets a cancelled request).
	seen := command.SeenIn(ctx)
	if res.Position == 0 {
		// Nothing was appended: a refusal, or a change made before.
		if seen != 0 {
			r.waitSeen(ctx, seen)
		}
		return
	}
	res.Position = max(res.Position, seen)
	if err := r.waitShown(ctx, res.Position); err != nil {
		r.notShown(ctx, res.Position, err)
	}
}

// waitShown waits until the read models reach pos, for at most the write
// timeout (5 s unless set).
func (r *Resolver) waitShown(ctx context.Context, pos eventstore.Position) error {
	timeout := r.WriteTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return r.Waiter.WaitFor(wait, pos)
}

// waitSeen waits, within the write timeout, until the read models reach
// what a command read. Nothing was saved, so a wait that fails is logged,
// not reported as an unshown change.
func (r *Resolver) waitSeen(ctx context.Context, pos eventstore.Position) {
	if err := r.waitShown(ctx, pos); err != nil {
		logFor(ctx, r.Log).Warn().Err(err).Uint64("position", uint64(pos)).Str("correlation_id", requestIDFrom(ctx)).Msg("a refusal was answered before the read models showed what it read")
	}
}

// notShown says in the response that the change saved at pos was not
// shown by the read models when the answer was built.
func (r *Resolver) notShown(ctx context.Context, pos eventstore.Position, err error) {
	logFor(ctx, r.Log).Warn().Err(err).Uint64("position", uint64(pos)).Str("correlation_id", requestIDFrom(ctx)).Msg("a saved change was answered before the read models showed it")
	if !graphql.HasOperationContext(ctx) {
		return
	}
	position := strconv.FormatUint(uint64(pos), 10)
	// One extension per response (gqlgen refuses a second): a later
	// change of the same response, or a read-back after a wait that
	// failed, updates it to the latest position.
	if seen, ok := graphql.GetExtension(ctx, "readYourWrites").(map[string]any); ok {
		seen["position"] = position
		return
	}
	graphql.RegisterExtension(ctx, "readYourWrites", map[string]any{"saved": true, "shown": false, "position": position})
}

// readBack reads a mutation's object back for its payload. A read model
// that cannot answer (a shared store gone) leaves the object out rather
// than turning a change saved at pos into an error, and the answer says
// so; a refusal (pos 0) just goes without it.
func (r *Resolver) readBack(ctx context.Context, pos eventstore.Position, read func() error) {
	if err := read(); err != nil && pos != 0 {
		r.notShown(ctx, pos, err)
	}
}
