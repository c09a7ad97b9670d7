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
	maxPage        = 100  // searchMentors, myMatches, mySessions, resources
	maxHistoryPage = 1000 // matchHistory
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
	// MaxComplexity caps the complexity score (1000 when 0).
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
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = 1000
	}
	return l
}

// limiter enforces the token limit before parsing and the depth and alias
// limits after.
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

// MutateOperationParameters counts the query's tokens before it is parsed.
func (l limiter) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	lx := lexer.New(&ast.Source{Input: p.Query})
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
	}
}

// MutateOperationContext checks depth and aliases of the parsed operation.
func (l limiter) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	aliases := 0
	depth := measure(oc.Operation.SelectionSet, oc.Doc.Fragments, 1, &aliases, map[string]bool{})
	if depth > l.MaxDepth {
		return limitError("the query is nested %d deep, the limit is %d", depth, l.MaxDepth)
	}
	if aliases > l.MaxAliases {
		return limitError("the query has %d aliases, the limit is %d", aliases, l.MaxAliases)
	}
	return nil
}

// measure returns the depth of a selection set, following fragments, and
// counts aliased fields.
func measure(set ast.SelectionSet, frags ast.FragmentDefinitionList, depth int, aliases *int, seen map[string]bool) int {
	deepest := depth - 1
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				*aliases++
			}
			d := depth
			if len(s.SelectionSet) > 0 {
				d = measure(s.SelectionSet, frags, depth+1, aliases, seen)
			}
			deepest = max(deepest, d)
		case *ast.InlineFragment:
			deepest = max(deepest, measure(s.SelectionSet, frags, depth, aliases, seen))
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if f := frags.ForName(s.Name); f != nil {
				deepest = max(deepest, measure(f.SelectionSet, frags, depth, aliases, seen))
			}
			delete(seen, s.Name)
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
