package graph

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/mentorship/mentorship/graph/generated"
)

// inline returns set with every fragment spread replaced by an inline
// fragment holding the fragment's selections, recursively: the operation
// as it executes, written out. It gives up (false) past budget selections
// or on a cycle.
func inline(doc *ast.QueryDocument, set ast.SelectionSet, active map[string]bool, budget *int) (ast.SelectionSet, bool) {
	var out ast.SelectionSet
	for _, sel := range set {
		if *budget--; *budget < 0 {
			return nil, false
		}
		switch s := sel.(type) {
		case *ast.Field:
			f := *s
			sub, ok := inline(doc, s.SelectionSet, active, budget)
			if !ok {
				return nil, false
			}
			f.SelectionSet = sub
			out = append(out, &f)
		case *ast.InlineFragment:
			f := *s
			sub, ok := inline(doc, s.SelectionSet, active, budget)
			if !ok {
				return nil, false
			}
			f.SelectionSet = sub
			out = append(out, &f)
		case *ast.FragmentSpread:
			def := doc.Fragments.ForName(s.Name)
			if def == nil {
				out = append(out, s) // unknown: measured as nothing either way
				continue
			}
			if active[s.Name] {
				return nil, false
			}
			active[s.Name] = true
			sub, ok := inline(doc, def.SelectionSet, active, budget)
			delete(active, s.Name)
			if !ok {
				return nil, false
			}
			out = append(out, &ast.InlineFragment{TypeCondition: def.TypeCondition, SelectionSet: sub})
		}
	}
	return out, true
}

// The cost model measures each fragment once and reuses it; on any
// document whose expansion is small enough to write out, that gives the
// same cost as measuring the written-out operation, and on any document
// at all it finishes without a panic.
func FuzzCostModel(f *testing.F) {
	for _, seed := range []string{
		`{ viewer { id } }`,
		`query { ...F0 } fragment F0 on Query { ...F1 ...F1 } fragment F1 on Query { __typename viewer { id } }`,
		`{ searchMentors(first: 5) { edges { node { ...M } } } } fragment M on Member { id name skills { skill } }`,
		`query($n: Int) { myMatches(first: $n) { edges { node { id mentee { a: name } } } } }`,
		`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`,
		`{ node(id: "x") { ... on Match { id documents { name } } ... on Member { name } } }`,
		`{ __schema { types { ...T } } } fragment T on __Type { name fields { name type { name } } }`,
		`mutation { updateProfile(input: {name: "x"}) { member { id } userErrors { code } } }`,
	} {
		f.Add(seed)
	}
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	f.Fuzz(func(t *testing.T, query string) {
		doc, err := parser.ParseQuery(&ast.Source{Input: query})
		if err != nil {
			return
		}
		m := meter{schema: schema, doc: doc, variables: map[string]any{"n": 3}, listItems: 10}
		got, cycle := m.measure()
		if cycle != "" {
			return
		}
		for _, op := range doc.Operations {
			budget := 5000
			set, ok := inline(doc, op.SelectionSet, map[string]bool{}, &budget)
			if !ok {
				continue
			}
			one := &ast.QueryDocument{Operations: ast.OperationList{{Operation: op.Operation, SelectionSet: set}}}
			want, _ := (&meter{schema: schema, doc: one, variables: m.variables, listItems: 10}).measure()
			single := &meter{schema: schema, doc: &ast.QueryDocument{Operations: ast.OperationList{op}, Fragments: doc.Fragments}, variables: m.variables, listItems: 10}
			memo, _ := single.opCost(op)
			if memo.fields != want.fields || memo.objects != want.objects || memo.depth != want.depth || memo.aliases != want.aliases || max(memo.width, memo.flat) != want.width {
				t.Fatalf("%s\nmemoised %+v, written out %+v", strings.TrimSpace(query), memo, want)
			}
			if got.fields < memo.fields || got.objects < memo.objects {
				t.Fatalf("the document's cost %+v is below its operation's %+v", got, memo)
			}
		}
	})
}
