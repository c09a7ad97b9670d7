package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
)

// The most items one page of a list may hold. The schema gives each list a
// smaller default for an omitted first; an explicit null asks for the most,
// and the complexity counts a page at that size.
const (
	maxPage        = 100 // searchMentors, myMatches, mySessions, resources
	maxHistoryPage = 400 // matchHistory: its edges and nodes cost 1 each, so a full page fits the default complexity limit
)

// Limits bound what one operation may ask for, so that no query is
// expensive by construction.
type Limits struct {
	// MaxDepth caps how deeply selections nest (12 when 0).
	MaxDepth int
	// MaxAliases caps the aliased fields of an operation (30 when 0).
	MaxAliases int
	// MaxTokens caps the lexical tokens of a query (5000 when 0).
	MaxTokens int
	// MaxSelections caps the fields and fragment spreads directly in one
	// selection set (200 when 0). The validator compares the fields of a
	// set pairwise, so a few thousand repeats of one field would cost
	// seconds before any other limit is looked at.
	MaxSelections int
	// MaxComplexity caps the complexity score (1000 when 0): every object
	// costs 1 and leaves nothing, and a list's items count once for each
	// item of the page it may return.
	MaxComplexity int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 12
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = 30
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = 5000
	}
	if l.MaxSelections <= 0 {
		l.MaxSelections = 200
	}
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = 1000
	}
	return l
}

// limiter enforces the token limit before parsing and the depth and alias
// limits after. Introspection does not count against the depth limit: it
// is off in production, and development tools must load the schema.
type limiter struct{ Limits }

var (
	_ graphql.HandlerExtension          = limiter{}
	_ graphql.OperationParameterMutator = limiter{}
	_ graphql.OperationContextMutator   = limiter{}
)

func (limiter) ExtensionName() string                   { return "Limits" }
func (limiter) Validate(graphql.ExecutableSchema) error { return nil }

func limitError(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": CodeBadUserInput}}
}

// MutateOperationParameters counts the query's tokens, and the selections
// directly in each selection set, before it is parsed and validated.
func (l limiter) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	lx := lexer.New(&ast.Source{Input: p.Query})
	// sets holds the selections counted so far in each open selection set;
	// braces and names inside arguments (parens) are values, not selections.
	var sets []int
	parens := 0
	for n := 0; ; n++ {
		tok, err := lx.ReadToken()
		if err != nil {
			return nil // the parser reports it
		}
		if tok.Kind == lexer.EOF {
			return nil
		}
		if n >= l.MaxTokens {
			return limitError("the query has more than %d tokens", l.MaxTokens)
		}
		switch {
		case tok.Kind == lexer.ParenL:
			parens++
		case tok.Kind == lexer.ParenR:
			parens = max(parens-1, 0)
		case parens > 0:
		case tok.Kind == lexer.BraceL:
			sets = append(sets, 0)
		case tok.Kind == lexer.BraceR:
			if len(sets) > 0 {
				sets = sets[:len(sets)-1]
			}
		case (tok.Kind == lexer.Name || tok.Kind == lexer.Spread) && len(sets) > 0:
			sets[len(sets)-1]++
			if sets[len(sets)-1] > l.MaxSelections {
				return limitError("a selection set holds more than %d fields", l.MaxSelections)
			}
		}
	}
}

// MutateOperationContext checks depth and aliases of the parsed operation.
func (l limiter) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	m := measurer{frags: oc.Doc.Fragments, seen: map[string]bool{}}
	depth := m.depth(oc.Operation.SelectionSet, 1)
	if depth > l.MaxDepth {
		return limitError("the query is nested %d deep, the limit is %d", depth, l.MaxDepth)
	}
	if m.aliases > l.MaxAliases {
		return limitError("the query has %d aliases, the limit is %d", m.aliases, l.MaxAliases)
	}
	return nil
}

// measurer walks an operation, following fragments, for its depth and its
// aliased fields.
type measurer struct {
	frags   ast.FragmentDefinitionList
	seen    map[string]bool
	aliases int
}

// depth returns the depth of a selection set, leaving out the subtrees of
// __schema and __type: GraphiQL's and codegen's introspection query nests
// 15 deep (graphql-js 16 follows ofType nine times), the validator already
// bounds how introspection's recursive types nest, and production turns
// introspection off.
func (m *measurer) depth(set ast.SelectionSet, depth int) int {
	deepest := depth - 1
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				m.aliases++
			}
			if s.Name == "__schema" || s.Name == "__type" {
				m.depth(s.SelectionSet, 2) // for its aliases
				continue
			}
			d := depth
			if len(s.SelectionSet) > 0 {
				d = m.depth(s.SelectionSet, depth+1)
			}
			deepest = max(deepest, d)
		case *ast.InlineFragment:
			deepest = max(deepest, m.depth(s.SelectionSet, depth))
		case *ast.FragmentSpread:
			if m.seen[s.Name] {
				continue
			}
			m.seen[s.Name] = true
			if f := m.frags.ForName(s.Name); f != nil {
				deepest = max(deepest, m.depth(f.SelectionSet, depth))
			}
			delete(m.seen, s.Name)
		}
	}
	return deepest
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
