package graph

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
)

// The most items one page of a list may hold. The schema gives each list a
// smaller default for an omitted first; an explicit null asks for the most,
// and the complexity counts a page at that size.
const (
	maxPage        = 100 // searchMentors, myMatches, mySessions, resources
	maxHistoryPage = 400 // matchHistory: its edges and nodes cost 1 each, so a full page fits the default complexity limit
)

// Limits bound what one operation may ask for, measured on the operation
// as it executes (fragments expanded), so that no document is expensive by
// construction however it is written.
type Limits struct {
	// MaxDepth caps how deeply selections nest (12 when 0).
	MaxDepth int
	// MaxAliases caps the aliased fields of an operation (30 when 0).
	MaxAliases int
	// MaxTokens caps the lexical tokens of a query (5000 when 0).
	MaxTokens int
	// MaxSelections caps the fields one selection set holds once its
	// fragments are expanded (200 when 0). The validator compares the
	// fields of a set pairwise, so a few thousand repeats of one field
	// would cost seconds before any other limit is looked at.
	MaxSelections int
	// MaxComplexity caps the complexity score (1000 when 0): every object
	// costs 1 and leaves nothing, and a list's items count once for each
	// item of the page it may return.
	MaxComplexity int
	// MaxFields caps every field the operation resolves, leaves included,
	// times the items of the lists above them (10000 when 0): a full page
	// of 400 history events with every field is about 5000.
	MaxFields int
	// ListItems is how many items a list without a page size counts for
	// (10 when 0).
	ListItems int
	// MaxDuration caps how long a query may run before its resolvers are
	// stopped (10s when 0). Mutations are not cut short, so that a change
	// once made is always answered; subscriptions run until they end.
	MaxDuration time.Duration
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxDepth, 12)
	def(&l.MaxAliases, 30)
	def(&l.MaxTokens, 5000)
	def(&l.MaxSelections, 200)
	def(&l.MaxComplexity, 1000)
	def(&l.MaxFields, 10000)
	def(&l.ListItems, 10)
	if l.MaxDuration <= 0 {
		l.MaxDuration = 10 * time.Second
	}
	return l
}

// CodeTooComplex is the code of an operation refused for what it would
// cost to execute.
const CodeTooComplex = "COMPLEXITY_LIMIT_EXCEEDED"

// limiter measures every operation before gqlgen parses and validates it,
// since the validator's own walk over fragments is what an exponential
// document makes expensive. Documents that passed are remembered, so a
// client's repeated operations are measured once.
type limiter struct {
	Limits
	schema     *ast.Schema
	production bool
	// passed holds the digests of documents that passed, not the
	// documents, so that large ones cannot fill memory.
	passed *lru.Cache[[sha256.Size]byte, struct{}]
}

func newLimiter(l Limits, schema *ast.Schema, production bool) *limiter {
	passed, err := lru.New[[sha256.Size]byte, struct{}](1000)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &limiter{Limits: l, schema: schema, production: production, passed: passed}
}

var (
	_ graphql.HandlerExtension          = (*limiter)(nil)
	_ graphql.OperationParameterMutator = (*limiter)(nil)
	_ graphql.OperationInterceptor      = (*limiter)(nil)
	_ graphql.FieldInterceptor          = (*limiter)(nil)
)

func (*limiter) ExtensionName() string                   { return "Limits" }
func (*limiter) Validate(graphql.ExecutableSchema) error { return nil }

// limitError refuses an operation over one limit, saying which limit, what
// the operation measured and the most allowed.
func limitError(code, limit string, measured, most int, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{
		"code": code, "limit": limit, "cost": measured, "max": most,
	}}
}

// MutateOperationParameters counts the query's tokens, parses it and
// refuses it when its executed cost is over a limit, or when it reads the
// schema on a production server.
func (l *limiter) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	digest := sha256.Sum256([]byte(p.Query))
	if l.passed.Contains(digest) {
		return nil
	}
	if tooMany := l.tokensOver(p.Query); tooMany {
		return limitError(CodeBadUserInput, "tokens", l.MaxTokens+1, l.MaxTokens, "the query has more than %d tokens", l.MaxTokens)
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil // gqlgen's parser reports it
	}
	m := meter{schema: l.schema, doc: doc, variables: p.Variables, listItems: l.ListItems}
	c, cycle := m.measure()
	switch {
	case cycle != "":
		return &gqlerror.Error{Message: fmt.Sprintf("fragment %q spreads itself", cycle), Extensions: map[string]any{"code": CodeValidationFailed}}
	case c.introspection && l.production:
		zerolog.Ctx(ctx).Info().Msg("introspection refused: it is off in production")
		return &gqlerror.Error{Message: "introspection is turned off on this server", Extensions: map[string]any{"code": CodeForbidden}}
	case c.depth > l.MaxDepth:
		return limitError(CodeBadUserInput, "depth", c.depth, l.MaxDepth, "the query is nested %d deep, the limit is %d", c.depth, l.MaxDepth)
	case c.fields > l.MaxFields:
		return limitError(CodeTooComplex, "fields", c.fields, l.MaxFields, "the operation would resolve %d fields, the limit is %d", c.fields, l.MaxFields)
	case c.objects > l.MaxComplexity:
		return limitError(CodeTooComplex, "complexity", c.objects, l.MaxComplexity, "operation has complexity %d, which exceeds the limit of %d", c.objects, l.MaxComplexity)
	case c.width > l.MaxSelections:
		return limitError(CodeBadUserInput, "selections", c.width, l.MaxSelections, "a selection set holds more than %d fields (%d once its fragments are expanded)", l.MaxSelections, c.width)
	case c.aliases > l.MaxAliases:
		return limitError(CodeBadUserInput, "aliases", c.aliases, l.MaxAliases, "the query has %d aliases, the limit is %d", c.aliases, l.MaxAliases)
	}
	if !c.variable {
		l.passed.Add(digest, struct{}{})
	}
	return nil
}

// tokensOver reports whether a query has more lexical tokens than the
// limit, counted before anything else reads it.
func (l *limiter) tokensOver(query string) bool {
	lx := lexer.New(&ast.Source{Input: query})
	for n := 0; ; n++ {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return false // the parser reports a lexical error
		}
		if n >= l.MaxTokens {
			return true
		}
	}
}

// InterceptOperation gives a query its time budget: when it runs out, or
// when the client goes away, the resolvers still to run are stopped.
func (l *limiter) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return next(ctx)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, l.MaxDuration, errTimeBudget)
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		// A query with @defer answers more than once over SSE and
		// WebSocket: its deferred fields resolve after the first answer
		// under the same budget, which ends with the last answer (or at
		// its deadline, if a transport stops asking).
		if resp == nil || resp.HasNext == nil || !*resp.HasNext {
			defer cancel()
		}
		if resp == nil && errors.Is(context.Cause(ctx), errTimeBudget) {
			// The budget ran out before the first field: gqlgen answers
			// nothing for a context already done, so say why here.
			return &graphql.Response{Errors: gqlerror.List{l.overTime()}}
		}
		return resp
	}
}

// overTime refuses a query whose time budget is spent.
func (l *limiter) overTime() *gqlerror.Error {
	ms := int(l.MaxDuration / time.Millisecond)
	return limitError(CodeTooComplex, "duration", ms, ms, "the query ran for longer than %s and was stopped", l.MaxDuration)
}

// errTimeBudget is the cause of a query's context when its time is up.
var errTimeBudget = errors.New("time budget spent")

// InterceptField stops a query's resolvers once its context is done: the
// client left, or the query's time budget is spent. A mutation runs to its
// answer, so that a change once made is always reported; a subscription
// ends through its own channel.
func (l *limiter) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	if ctx.Err() != nil && graphql.GetOperationContext(ctx).Operation.Operation == ast.Query {
		if errors.Is(context.Cause(ctx), errTimeBudget) {
			return nil, l.overTime()
		}
		return nil, &apiError{CodeBadUserInput, "the request was cancelled"}
	}
	return next(ctx)
}

// readOnly refuses mutations on a server that shows a copy of the program
// for inspection, except signing in and out.
type readOnly struct{}

var (
	_ graphql.HandlerExtension        = readOnly{}
	_ graphql.OperationContextMutator = readOnly{}
)

func (readOnly) ExtensionName() string                   { return "ReadOnly" }
func (readOnly) Validate(graphql.ExecutableSchema) error { return nil }

var signInMutations = map[string]bool{
	"loginMentee": true, "loginMentor": true, "loginStaff": true, "loginAuditor": true, "logout": true,
}

// MutateOperationContext refuses a mutation that changes the program.
func (readOnly) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	for _, sel := range oc.Operation.SelectionSet {
		if f, ok := sel.(*ast.Field); !ok || !signInMutations[f.Name] {
			return &gqlerror.Error{Message: "this server is read-only: it shows the program as it was", Extensions: map[string]any{"code": CodeForbidden}}
		}
	}
	return nil
}
