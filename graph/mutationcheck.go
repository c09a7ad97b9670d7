package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/mentorship/mentorship/graph/model"
)

// mutationCheck refuses, before any of it runs, a mutation operation that
// could only fail after changing something: a change once made must be
// answered, and an error in a later field would hide it (the payloads are
// non-null, so one field's error nulls the whole answer). It checks every
// argument of every field the operation would run, its payload's
// selections included, as the resolvers would (IDs that do not parse or
// name another kind of object, page sizes over their limits, cursors that
// are not cursors), and it takes one kind of mutation per operation:
// aliases of one field run the same checks, so when the first one passes
// them the others do too, while another mutation may be refused for a
// reason (the viewer's role, say) that only its resolver knows.
//
// Enum values, numbers and the shapes of inputs need no check here:
// strictVariables and gqlgen's validation refuse them before the
// operation starts.
type mutationCheck struct {
	schema *ast.Schema
}

var (
	_ graphql.HandlerExtension        = mutationCheck{}
	_ graphql.OperationContextMutator = mutationCheck{}
	_ graphql.OperationInterceptor    = mutationCheck{}
	_ graphql.FieldInterceptor        = mutationCheck{}
)

func (mutationCheck) ExtensionName() string                   { return "MutationCheck" }
func (mutationCheck) Validate(graphql.ExecutableSchema) error { return nil }

// idKinds names the kind of object an ID input or argument must name, by
// its name; IDs under other names (node's) may name any kind.
var idKinds = map[string]string{
	"matchId":     model.KindMatch,
	"sessionId":   model.KindSession,
	"documentId":  model.KindDocument,
	"resourceId":  model.KindResource,
	"memberId":    model.KindMember,
	"mentorId":    model.KindMember,
	"menteeId":    model.KindMember,
	"requestedBy": model.KindMember,
}

// keysetCursors are the lists paged by page (access.go), whose `after` is
// a key led by the letter of the list's kind (the others have cursors of
// their own, which their resolvers read).
var keysetCursors = map[string]byte{
	"matches": 'm', "myMatches": 'm', "matchHistory": 'h', "mySessions": 's', "resources": 'r',
}

// endsSessions are the mutations that revoke the account's sessions: a
// second alias of one would run signed out, fail, and null the answer
// that carries the first one's new token.
var endsSessions = map[string]bool{"changePassword": true, "resetPassword": true}

// MutateOperationContext refuses a mutation operation that combines
// different mutations or holds an argument its resolver would refuse.
func (c mutationCheck) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	w := checkWalk{schema: c.schema, oc: oc}
	roots := w.fields(oc.Operation.SelectionSet, nil)
	first := ""
	for _, f := range roots {
		if f.Name == "__typename" {
			continue
		}
		if first == "" {
			first = f.Name
			continue
		}
		if f.Name == first && endsSessions[f.Name] {
			return &gqlerror.Error{
				Message:    fmt.Sprintf("%s ends every session of the account, the one this operation runs in included, so an operation may run it once", f.Name),
				Path:       ast.Path{ast.PathName(f.Alias)},
				Extensions: map[string]any{"code": CodeBadUserInput},
			}
		}
		if f.Name != first {
			return &gqlerror.Error{
				Message:    fmt.Sprintf("one operation may run one kind of mutation (aliases of it included), and this one runs %s and %s: send them as separate operations, so that each answer shows what its change did", first, f.Name),
				Path:       ast.Path{ast.PathName(f.Alias)},
				Extensions: map[string]any{"code": CodeBadUserInput},
			}
		}
	}
	for _, f := range roots {
		if err := w.field(f, ast.Path{ast.PathName(f.Alias)}); err != nil {
			return err
		}
	}
	return nil
}

// failedKey holds a mutation operation's *string: the alias of the first
// of its root fields that failed, once one did.
type failedKey struct{}

// InterceptOperation gives a mutation operation a place to note that a
// root field failed.
func (mutationCheck) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		ctx = context.WithValue(ctx, failedKey{}, new(string))
	}
	return next(ctx)
}

// InterceptField runs no root mutation field after one has failed with an
// error: the error already nulls the answer, so a change made after it
// would be made without being answered. (The aliases that ran before it
// and made a change are the one case left where the answer hides a
// change; their errors are the store's or the server's, not the
// request's.)
func (mutationCheck) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	failed, _ := ctx.Value(failedKey{}).(*string)
	fc := graphql.GetFieldContext(ctx)
	if failed == nil || fc == nil || fc.Object != "Mutation" {
		return next(ctx)
	}
	if *failed != "" {
		// UNAVAILABLE: nothing of this field ran, so sending it again
		// is safe.
		return nil, &apiError{CodeUnavailable, fmt.Sprintf("not run: %s failed before it, and its error hides the answer of every field of the operation; send this one again", *failed)}
	}
	res, err := next(ctx)
	if err != nil {
		*failed = fc.Field.Alias
	}
	return res, err
}

// checkWalk walks the fields an operation would run.
type checkWalk struct {
	schema *ast.Schema
	oc     *graphql.OperationContext
}

// fields returns the fields of a selection set as they would run:
// fragments expanded, and fields left out by @skip or @include dropped.
func (w checkWalk) fields(set ast.SelectionSet, out []*ast.Field) []*ast.Field {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if w.included(s.Directives) {
				out = append(out, s)
			}
		case *ast.InlineFragment:
			if w.included(s.Directives) {
				out = w.fields(s.SelectionSet, out)
			}
		case *ast.FragmentSpread:
			if !w.included(s.Directives) {
				continue
			}
			if def := w.oc.Doc.Fragments.ForName(s.Name); def != nil {
				out = w.fields(def.SelectionSet, out)
			}
		}
	}
	return out
}

// included evaluates @skip and @include as execution will.
func (w checkWalk) included(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		arg := d.Arguments.ForName("if")
		if arg == nil {
			continue
		}
		v, err := arg.Value.Value(w.oc.Variables)
		if b, ok := v.(bool); ok && err == nil && b == (d.Name == "skip") {
			return false
		}
	}
	return true
}

// field checks a field's arguments and then its selections'.
func (w checkWalk) field(f *ast.Field, path ast.Path) *gqlerror.Error {
	if f.Definition != nil {
		for _, def := range f.Definition.Arguments {
			var v any
			if a := f.Arguments.ForName(def.Name); a != nil {
				var err error
				if v, err = a.Value.Value(w.oc.Variables); err != nil {
					continue // validation reported it
				}
			} else {
				continue // a default is the schema's own, and valid
			}
			if msg, where := w.argument(f, def.Name, def.Type, v); msg != "" {
				return &gqlerror.Error{Message: msg, Path: path, Extensions: map[string]any{"code": CodeBadUserInput, "argument": where}}
			}
		}
	}
	for _, sub := range w.fields(f.SelectionSet, nil) {
		p := append(append(ast.Path{}, path...), ast.PathName(sub.Alias))
		if err := w.field(sub, p); err != nil {
			return err
		}
	}
	return nil
}

// argument checks one argument's value as the field's resolver would,
// answering what is wrong with it and where (such as "input.matchId"), or
// "".
func (w checkWalk) argument(f *ast.Field, name string, typ *ast.Type, v any) (string, string) {
	switch {
	case v == nil:
		return "", ""
	case name == "first":
		n, ok := numberValue(v)
		if !ok {
			return "", ""
		}
		most := maxPage
		if f.Name == "matchHistory" {
			most = maxHistoryPage
		}
		if n < 0 || n > float64(most) {
			return fmt.Sprintf("first must be between 0 and %d", most), name
		}
		return "", ""
	case name == "after" && keysetCursors[f.Name] != 0:
		s, _ := v.(string)
		if s == "" {
			return "", ""
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || !validCursorKey(string(b)) || b[0] != keysetCursors[f.Name] {
			return "invalid cursor", name
		}
		return "", ""
	}
	return w.value(name, name, typ, v)
}

// value checks the IDs in a value of typ, found under name at where, and
// in the fields of input objects within it.
func (w checkWalk) value(name, where string, typ *ast.Type, v any) (string, string) {
	if v == nil || typ == nil {
		return "", ""
	}
	if typ.Elem != nil {
		items, _ := v.([]any)
		for i, item := range items {
			if msg, at := w.value(name, where+"."+strconv.Itoa(i), typ.Elem, item); msg != "" {
				return msg, at
			}
		}
		return "", ""
	}
	if typ.NamedType == "ID" {
		s, ok := v.(string)
		if !ok {
			return "", ""
		}
		var err error
		if kind, known := idKinds[name]; known {
			_, err = model.ParseID(s, kind)
		} else {
			_, _, err = model.ParseGlobalID(s)
		}
		if err != nil {
			return err.Error(), where
		}
		return "", ""
	}
	if msg := scalarError(typ.NamedType, v); msg != "" {
		return msg, where
	}
	def := w.schema.Types[typ.NamedType]
	if def == nil || def.Kind != ast.InputObject {
		return "", ""
	}
	obj, _ := v.(map[string]any)
	for _, fd := range def.Fields {
		if msg, at := w.value(fd.Name, where+"."+fd.Name, fd.Type, obj[fd.Name]); msg != "" {
			return msg, at
		}
	}
	return "", ""
}

// numberValue reads an Int argument as literals and variables give it,
// as a float64 so that a value too large for an int still compares.
func numberValue(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
