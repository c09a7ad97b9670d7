// Package lists marshals the GraphQL lists and objects that the generated
// executor answers, with fewer goroutines and allocations than gqlgen's
// own functions and the same answers.
//
// gqlgen marshals every list of objects with a goroutine per element, so
// that a field of one element waiting on a batch loader does not hold up
// the others: the loader batches the keys that arrive while it waits, and
// only elements resolved at the same time arrive together. An element
// whose selected fields all read what is already in memory never waits,
// yet pays a goroutine, a wait group and the scheduler all the same; a
// page of search results is such a list. Marshal answers those lists in
// the calling goroutine, one element after the other, and leaves every
// other list to gqlgen.
//
// `go generate` rewrites the generated executor's calls of
// graphql.MarshalSliceConcurrently into calls of Marshal (see
// graph/internal/generate), giving it the fields that gqlgen resolves
// concurrently, which are the only ones that may wait.
package lists

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Concurrent names, by type, the fields that gqlgen resolves concurrently:
// those with a resolver or a method that takes a context. Every object and
// interface of the schema has an entry, empty when none of its fields is
// concurrent; a field of an interface is concurrent when it is in one of
// the interface's objects. A type without an entry counts as unknown.
type Concurrent map[string]map[string]bool

// Marshal marshals a list of length elements as
// graphql.MarshalSliceConcurrently does, with the same arguments, and
// gives the same answer: the same values in the same order, an element
// that panicked reported at its path and null in place (unless
// omitPanicHandler). When no field that sel selects, at any depth, may
// wait (see Sequential), it marshals the elements one after the other in
// the calling goroutine; otherwise it calls gqlgen.
func Marshal(
	ctx context.Context,
	sel ast.SelectionSet,
	concurrent Concurrent,
	length int,
	workerLimit int64,
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	if length <= 1 || !Sequential(concurrent, sel) {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, length)
	// One field context per element, as gqlgen gives, since an error's
	// path refers to its element's index.
	fcs := make([]graphql.FieldContext, length)
	idx := make([]int, length)
	for i := range length {
		idx[i] = i
		fcs[i].Index = &idx[i]
		childCtx := graphql.WithFieldContext(ctx, &fcs[i])
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		ret[i] = marshalRecovered(childCtx, i, marshalElement)
	}
	return ret
}

// marshalRecovered marshals one element, turning a panic into the error
// and null that gqlgen gives for it.
func marshalRecovered(ctx context.Context, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}

// Sequential reports whether the elements of a list selected with sel can
// be marshalled one after the other without one element's wait holding up
// the others: no field sel selects, at any depth and through every
// fragment, is one gqlgen resolves concurrently. A deferred fragment, or a
// field of a type Concurrent does not know, answers false, which keeps
// gqlgen's goroutine per element.
func Sequential(concurrent Concurrent, sel ast.SelectionSet) bool {
	w := walker{concurrent: concurrent}
	return w.selections(sel)
}

// walker walks a selection set. It looks at each named fragment once, so
// that fragments spread many times cost no more than their text: whether
// a fragment may wait does not depend on where it is spread, as every
// field carries the type it was selected on.
type walker struct {
	concurrent Concurrent
	seen       map[string]bool
}

func (w *walker) selections(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			if s.ObjectDefinition == nil {
				return false
			}
			fields, known := w.concurrent[s.ObjectDefinition.Name]
			if !known || fields[s.Name] {
				return false
			}
			if !w.selections(s.SelectionSet) {
				return false
			}
		case *ast.InlineFragment:
			if deferred(s.Directives) || !w.selections(s.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if deferred(s.Directives) || s.Definition == nil {
				return false
			}
			if w.seen[s.Name] {
				continue
			}
			if w.seen == nil {
				w.seen = map[string]bool{}
			}
			w.seen[s.Name] = true
			if !w.selections(s.Definition.SelectionSet) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// deferred reports whether a fragment carries @defer, whose fields gqlgen
// answers apart.
func deferred(dirs ast.DirectiveList) bool {
	return dirs.ForName("defer") != nil
}

// NewDeferredGroup is graphql.NewDeferredGroup for an object whose fields
// are fields, built only when one of them is deferred. gqlgen builds the
// group for every object it marshals, which computes the object's path
// and allocates a field set and a map each time; only a field that
// IsDeferred ever touches the group (FieldSet.ResolveConcurrently), and
// the executor reads nothing else of it than the length of its Defers,
// which is 0 for the empty group as for an unused one.
func NewDeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for _, f := range fields {
		if f.IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}
