package graph

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// oneAnswerKey marks a request whose transport sends one answer only: a
// POST of JSON or of a multipart form, or a GET.
type oneAnswerKey struct{}

func withOneAnswer(ctx context.Context) context.Context {
	return context.WithValue(ctx, oneAnswerKey{}, true)
}

// inlineDefer resolves @defer fragments in place for the transports that send
// one answer. gqlgen would otherwise answer such a request with the first
// payload alone: the deferred fields null, "hasNext": true, and the rest
// never sent, so a client would take null for what the member's data
// holds. Deferring is a hint a server may decline (GraphQL's incremental
// delivery), so the operation is run as if the fragments were not
// deferred and the one answer is whole. Over SSE and WebSocket the
// fragments are still deferred.
type inlineDefer struct{}

var _ graphql.OperationContextMutator = inlineDefer{}

func (inlineDefer) ExtensionName() string                   { return "InlineDefer" }
func (inlineDefer) Validate(graphql.ExecutableSchema) error { return nil }

func (inlineDefer) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !strings.Contains(oc.RawQuery, "defer") || ctx.Value(oneAnswerKey{}) == nil {
		return nil
	}
	// The parsed document is shared with other requests through the
	// query cache: what changes is copied.
	set, changed := undeferred(oc.Operation.SelectionSet)
	if changed {
		op := *oc.Operation
		op.SelectionSet = set
		oc.Operation = &op
	}
	var frags ast.FragmentDefinitionList
	for i, f := range oc.Doc.Fragments {
		set, ch := undeferred(f.SelectionSet)
		if !ch {
			continue
		}
		if frags == nil {
			frags = slices.Clone(oc.Doc.Fragments)
		}
		c := *f
		c.SelectionSet = set
		frags[i] = &c
	}
	if frags != nil {
		doc := *oc.Doc
		doc.Fragments = frags
		oc.Doc = &doc
	}
	return nil
}

// undeferred returns set without @defer at any depth, copying only what
// changes, and whether anything did.
func undeferred(set ast.SelectionSet) (ast.SelectionSet, bool) {
	var out ast.SelectionSet
	for i, sel := range set {
		var n ast.Selection
		switch s := sel.(type) {
		case *ast.Field:
			if sub, ch := undeferred(s.SelectionSet); ch {
				c := *s
				c.SelectionSet = sub
				n = &c
			}
		case *ast.InlineFragment:
			sub, ch := undeferred(s.SelectionSet)
			dirs, dch := withoutDefer(s.Directives)
			if ch || dch {
				c := *s
				c.SelectionSet, c.Directives = sub, dirs
				n = &c
			}
		case *ast.FragmentSpread:
			if dirs, dch := withoutDefer(s.Directives); dch {
				c := *s
				c.Directives = dirs
				n = &c
			}
		}
		if n != nil && out == nil {
			out = slices.Clone(set)
		}
		if n != nil {
			out[i] = n
		}
	}
	if out == nil {
		return set, false
	}
	return out, true
}

func withoutDefer(dirs ast.DirectiveList) (ast.DirectiveList, bool) {
	if dirs.ForName("defer") == nil {
		return dirs, false
	}
	return slices.DeleteFunc(slices.Clone(dirs), func(d *ast.Directive) bool { return d.Name == "defer" }), true
}
