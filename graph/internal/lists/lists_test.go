package lists

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// behaviour is what one element's marshalling does.
type behaviour int

const (
	value    behaviour = iota // answers a value
	null                      // answers null, as an element whose resolver failed
	panics                    // panics
	fieldErr                  // reports an error on its path and answers a value
	behaviours
)

// newCtx is the context of a list field named edges, inside a response
// that collects errors.
func newCtx() context.Context {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(_ context.Context, v any) error { return fmt.Errorf("panicked: %v", v) })
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "edges", Name: "edges"}}})
}

// marshalled is a list's answer: its JSON and its errors, each with its
// path, in a stable order (gqlgen's goroutines report in any order).
func marshalled(ctx context.Context, a graphql.Array) (string, []string) {
	var b bytes.Buffer
	a.MarshalGQL(&b)
	var errs []string
	for _, e := range graphql.GetErrors(ctx) {
		errs = append(errs, e.Path.String()+": "+e.Message)
	}
	slices.Sort(errs)
	return b.String(), errs
}

// element marshals one element as its behaviour says; it also checks that
// the element's field context says which index it is, which error paths
// are built from.
func element(bs []behaviour) func(ctx context.Context, i int) graphql.Marshaler {
	return func(ctx context.Context, i int) graphql.Marshaler {
		fc := graphql.GetFieldContext(ctx)
		if fc.Index == nil || *fc.Index != i {
			panic(fmt.Sprintf("element %d has the field context of another", i))
		}
		fc.Result = i
		switch bs[i] {
		case null:
			return graphql.Null
		case panics:
			panic(fmt.Sprintf("element %d", i))
		case fieldErr:
			graphql.AddError(ctx, fmt.Errorf("element %d failed", i))
		}
		return graphql.MarshalInt(i * 10)
	}
}

// TestMarshalAnswersAsGqlgen compares the lists marshalled one element
// after the other with gqlgen's over many lists of elements that answer,
// answer null, panic or report errors: the same values in the same order,
// the same errors on the same paths.
func TestMarshalAnswersAsGqlgen(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 500 {
		bs := make([]behaviour, r.IntN(13))
		for i := range bs {
			bs[i] = behaviour(r.IntN(int(behaviours)))
		}
		wantCtx, gotCtx := newCtx(), newCtx()
		want, wantErrs := marshalled(wantCtx, graphql.MarshalSliceConcurrently(wantCtx, len(bs), 0, false, element(bs)))
		got, gotErrs := marshalled(gotCtx, Marshal(gotCtx, nil, Concurrent{}, len(bs), 0, false, element(bs)))
		if got != want || !slices.Equal(gotErrs, wantErrs) {
			t.Fatalf("list %d %v: got %s %q, gqlgen gives %s %q", n, bs, got, gotErrs, want, wantErrs)
		}
	}
}

// TestMarshalWithoutPanicHandler compares the answers when gqlgen is told
// to let panics through, for lists whose elements do not panic.
func TestMarshalWithoutPanicHandler(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 200 {
		bs := make([]behaviour, r.IntN(13))
		for i := range bs {
			bs[i] = []behaviour{value, null, fieldErr}[r.IntN(3)]
		}
		wantCtx, gotCtx := newCtx(), newCtx()
		want, wantErrs := marshalled(wantCtx, graphql.MarshalSliceConcurrently(wantCtx, len(bs), 0, true, element(bs)))
		got, gotErrs := marshalled(gotCtx, Marshal(gotCtx, nil, Concurrent{}, len(bs), 0, true, element(bs)))
		if got != want || !slices.Equal(gotErrs, wantErrs) {
			t.Fatalf("list %d %v: got %s %q, gqlgen gives %s %q", n, bs, got, gotErrs, want, wantErrs)
		}
	}
}

const schema = `
directive @defer(if: Boolean, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT
interface Node { id: ID! }
type Query { mentors: [Mentor!]!  nodes: [Node!]!  things: [Thing!]! }
type Mentor implements Node { id: ID!  name: String!  location: Location!  partner: Mentor  tags: [String!]! }
type Location { city: String }
type Match implements Node { id: ID!  mentor: Mentor! }
union Thing = Mentor | Location
`

// concurrent is the table gqlgen would give for the schema: a mentor's
// partner and a match's mentor are resolvers.
var concurrent = Concurrent{
	"Mentor":   {"partner": true},
	"Location": {},
	"Match":    {"mentor": true},
	"Node":     {"mentor": true, "partner": true},
	"Query":    {"mentors": true, "nodes": true, "things": true},
}

// TestSequential decides, for the elements a query selects, whether they
// may be marshalled one after the other: only when no field selected, at
// any depth, through any fragment, may wait.
func TestSequential(t *testing.T) {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	for _, c := range []struct {
		query string
		want  bool
	}{
		{`{ mentors { id name location { city } tags } }`, true},
		{`{ mentors { __typename id } }`, true},
		{`{ mentors { id partner { id } } }`, false},
		{`{ mentors { location { city } partner { name } } }`, false},
		{`{ mentors { ...F } } fragment F on Mentor { id name }`, true},
		{`{ mentors { ...F } } fragment F on Mentor { id partner { id } }`, false},
		{`{ mentors { ...F ...G ...F } } fragment F on Mentor { id ...G } fragment G on Mentor { name }`, true},
		{`{ mentors { ...F ...G } } fragment F on Mentor { id } fragment G on Mentor { ...H } fragment H on Mentor { partner { id } }`, false},
		{`{ mentors { ... on Mentor { id name } } }`, true},
		{`{ mentors { ... on Mentor { partner { id } } } }`, false},
		{`{ mentors { id ... @defer { name } } }`, false},
		{`{ mentors { id ...F @defer } } fragment F on Mentor { name }`, false},
		{`{ mentors { id @skip(if: true) name } }`, true},
		{`{ mentors { partner @skip(if: true) { id } } }`, false},
		{`{ nodes { id } }`, true},
		{`{ nodes { __typename ... on Mentor { name } } }`, true},
		{`{ nodes { ... on Match { mentor { id } } } }`, false},
		{`{ nodes { ... on Node { id } } }`, true},
		{`{ things { __typename ... on Location { city } } }`, true},
		{`{ things { ... on Mentor { partner { id } } } }`, false},
	} {
		doc, errs := gqlparser.LoadQueryWithRules(s, c.query, nil)
		if errs != nil {
			t.Fatalf("%s: %v", c.query, errs)
		}
		list := doc.Operations[0].SelectionSet[0].(*ast.Field)
		if got := Sequential(concurrent, list.SelectionSet); got != c.want {
			t.Errorf("%s: Sequential = %v, want %v", c.query, got, c.want)
		}
	}
}

// TestSequentialUnknownType keeps a goroutine per element for a field of
// a type the table does not know.
func TestSequentialUnknownType(t *testing.T) {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	doc, errs := gqlparser.LoadQueryWithRules(s, `{ mentors { id location { city } } }`, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	sel := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet
	if Sequential(Concurrent{"Mentor": {}}, sel) {
		t.Error("Sequential answered true for a field of an unknown type")
	}
	if !Sequential(Concurrent{"Mentor": {}, "Location": {}}, sel) {
		t.Error("Sequential answered false for fields that cannot wait")
	}
}

// TestMarshalWaitsTogether: the elements of a list that selects a field
// that may wait, as a batch loader's does, are all waiting at once, so
// that their keys batch together; an element's wait never holds up the
// next.
func TestMarshalWaitsTogether(t *testing.T) {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	doc, errs := gqlparser.LoadQueryWithRules(s, `{ mentors { id partner { id } } }`, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	sel := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet
	const n = 8
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	ctx := newCtx()
	res := Marshal(ctx, sel, concurrent, n, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		// A loader answers once every key of the batch has arrived.
		arrived.Done()
		select {
		case <-all:
			return graphql.MarshalInt(i)
		case <-time.After(5 * time.Second):
			return graphql.Null
		}
	})
	got, errs2 := marshalled(ctx, res)
	if got != "[0,1,2,3,4,5,6,7]" || len(errs2) != 0 {
		t.Fatalf("got %s %q: the elements did not wait together", got, errs2)
	}
}

// TestMarshalInOrder: a list whose fields cannot wait is marshalled in the
// calling goroutine, one element after the other, in order.
func TestMarshalInOrder(t *testing.T) {
	var order []int
	ctx := newCtx()
	res := Marshal(ctx, nil, Concurrent{}, 20, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		order = append(order, i) // unsynchronised: -race fails if elements run at once
		return graphql.MarshalInt(i)
	})
	if len(res) != 20 || !slices.Equal(order, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}) {
		t.Fatalf("elements ran in order %v", order)
	}
}

// TestMarshalPanicPath: an element that panics is reported at its own
// index and is null in place; the others answer.
func TestMarshalPanicPath(t *testing.T) {
	ctx := newCtx()
	got, errs := marshalled(ctx, Marshal(ctx, nil, Concurrent{}, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		if i == 1 {
			panic(errors.New("boom"))
		}
		return graphql.MarshalInt(i)
	}))
	if got != "[0,null,2]" || len(errs) != 1 || !strings.HasPrefix(errs[0], "edges[1]: panicked: boom") {
		t.Fatalf("got %s %q", got, errs)
	}
}

// TestNewDeferredGroup builds gqlgen's group when a field is deferred, and
// an empty one otherwise, whose Defers are as empty as an unused group's.
func TestNewDeferredGroup(t *testing.T) {
	ctx := newCtx()
	plain := graphql.CollectedField{Field: &ast.Field{Name: "id"}}
	deferredField := graphql.CollectedField{Field: &ast.Field{Name: "partner"}, Deferrables: []*graphql.Deferrable{{Label: "p"}}}
	undeferrable := deferredField
	undeferrable.IsNonDeferrable = true

	for _, fields := range [][]graphql.CollectedField{nil, {plain}, {plain, undeferrable}} {
		g := NewDeferredGroup(ctx, fields)
		if len(g.Defers) != len(graphql.NewDeferredGroup(ctx).Defers) || g.FieldSet != nil {
			t.Errorf("%v: got a group %+v for fields none of which is deferred", fields, g)
		}
	}
	g := NewDeferredGroup(ctx, []graphql.CollectedField{plain, deferredField})
	want := graphql.NewDeferredGroup(ctx)
	if g.FieldSet == nil || g.Defers == nil || g.Context != ctx || g.Path.String() != want.Path.String() {
		t.Errorf("got %+v for a deferred field, gqlgen gives %+v", g, want)
	}
}

// TestObjectWritesAsFieldSet compares the objects written by Object with
// those gqlgen's FieldSet writes, over many sets of fields with repeated
// aliases, aliases that need escaping, and values set after the object
// was made.
func TestObjectWritesAsFieldSet(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	aliases := []string{"id", "name", "location", "a", "b", "c", "__typename", "x\"y", "tab\there", "é", "ctl\x01"}
	values := []graphql.Marshaler{graphql.Null, graphql.MarshalInt(7), graphql.MarshalString("Ada \"the\" \n Countess"), graphql.MarshalBoolean(true), graphql.Array{graphql.MarshalInt(1), graphql.Null}}
	for n := range 3000 {
		// Up to 40 fields, so that both ways of finding repeated aliases run.
		fields := make([]graphql.CollectedField, r.IntN(41))
		for i := range fields {
			fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: aliases[r.IntN(len(aliases))]}}
			if r.IntN(4) == 0 {
				fields[i].Alias = fmt.Sprint("f", r.IntN(30))
			}
		}
		fs := graphql.NewFieldSet(fields)
		o := Object(fields, fs.Values)
		for i := range fs.Values {
			fs.Values[i] = values[r.IntN(len(values))]
		}
		var want, got bytes.Buffer
		fs.MarshalGQL(&want)
		o.MarshalGQL(&got)
		if got.String() != want.String() {
			t.Fatalf("object %d: got %s, gqlgen writes %s", n, got.String(), want.String())
		}
	}
}
