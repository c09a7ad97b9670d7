package graph

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// costCap is where every count saturates: a document whose expanded size
// would overflow an int is far past every limit, and counting stops there
// instead of wrapping around to a small number.
const costCap = 1 << 40

func satAdd(a, b int) int { return min(a+b, costCap) }

func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a >= costCap/b {
		return costCap
	}
	return a * b
}

// cost is what an operation asks of the server, counted on the operation
// as it will execute: every fragment spread expanded where it stands, and
// the fields under a list counted once for each item the list may return.
type cost struct {
	// depth is how deeply fields nest: 1 for a set of leaves. The subtrees
	// of __schema and __type do not count (see measure).
	depth int
	// flat is how many fields the set contributes to the set it stands in,
	// once its fragments are expanded.
	flat int
	// width is the most fields any one selection set holds once its
	// fragments are expanded.
	width int
	// aliases counts the aliased fields, fragments expanded.
	aliases int
	// fields counts every field resolved, leaves included, times the items
	// of the lists above it.
	fields int
	// objects counts the fields that resolve to objects, times the items of
	// the lists above them: the complexity score.
	objects int
	// introspection tells whether the operation reads the schema.
	introspection bool
	// variable tells whether a list's size came from a variable, so that
	// the same document may cost differently with other variables.
	variable bool
}

// add counts what a spread fragment or inline fragment brings into the set
// it stands in.
func (c *cost) add(o cost) {
	c.depth = max(c.depth, o.depth)
	c.flat = satAdd(c.flat, o.flat)
	c.width = max(c.width, o.width)
	c.aliases = satAdd(c.aliases, o.aliases)
	c.fields = satAdd(c.fields, o.fields)
	c.objects = satAdd(c.objects, o.objects)
	c.introspection = c.introspection || o.introspection
	c.variable = c.variable || o.variable
}

// meter measures the operations and fragments of one document against a
// schema. Each fragment is measured once and its cost reused wherever it is
// spread, so that measuring is linear in the document however often the
// fragments multiply each other when the operation executes.
type meter struct {
	schema    *ast.Schema
	doc       *ast.QueryDocument
	variables map[string]any
	// listItems is how many items a list without a page size counts for.
	listItems int
	frags     map[string]*cost
	// active holds the fragments being measured, to find a cycle.
	active map[string]bool
	cycle  string
}

// measure returns the largest cost among the document's operations and
// fragments (an unused fragment is measured too, since the validator walks
// it before refusing it), and the name of a fragment that spreads itself,
// if any.
func (m *meter) measure() (cost, string) {
	m.frags = map[string]*cost{}
	m.active = map[string]bool{}
	var worst cost
	keep := func(c cost) {
		worst.depth = max(worst.depth, c.depth)
		worst.width = max(worst.width, c.width, c.flat)
		worst.aliases = max(worst.aliases, c.aliases)
		worst.fields = max(worst.fields, c.fields)
		worst.objects = max(worst.objects, c.objects)
		worst.introspection = worst.introspection || c.introspection
		worst.variable = worst.variable || c.variable
	}
	for _, op := range m.doc.Operations {
		c, _ := m.opCost(op)
		keep(c)
	}
	for _, f := range m.doc.Fragments {
		if c := m.fragment(f.Name); c != nil {
			keep(*c)
		}
	}
	return worst, m.cycle
}

// opCost measures one operation.
func (m *meter) opCost(op *ast.OperationDefinition) (cost, string) {
	if m.frags == nil {
		m.frags, m.active = map[string]*cost{}, map[string]bool{}
	}
	return m.set(op.SelectionSet, m.rootType(op.Operation), false), m.cycle
}

func (m *meter) rootType(op ast.Operation) *ast.Definition {
	switch op {
	case ast.Mutation:
		return m.schema.Mutation
	case ast.Subscription:
		return m.schema.Subscription
	}
	return m.schema.Query
}

// fragment returns the memoised cost of a named fragment; nil for an
// unknown fragment (the validator reports it) or one in a cycle.
func (m *meter) fragment(name string) *cost {
	if c, ok := m.frags[name]; ok {
		return c
	}
	if m.active[name] {
		if m.cycle == "" {
			m.cycle = name
		}
		return nil
	}
	def := m.doc.Fragments.ForName(name)
	if def == nil {
		return nil
	}
	m.active[name] = true
	c := m.set(def.SelectionSet, m.schema.Types[def.TypeCondition], strings.HasPrefix(def.TypeCondition, "__"))
	delete(m.active, name)
	m.frags[name] = &c
	return &c
}

// set measures a selection set whose fields belong to parent (nil when
// unknown: the validator refuses such a document, and it is still counted).
// Inside introspection lists count once: the schema bounds them.
func (m *meter) set(set ast.SelectionSet, parent *ast.Definition, introspecting bool) cost {
	var c cost
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			c.field(m.fieldCost(s, parent, introspecting))
		case *ast.InlineFragment:
			t := parent
			if s.TypeCondition != "" {
				t = m.schema.Types[s.TypeCondition]
			}
			c.add(m.set(s.SelectionSet, t, introspecting || strings.HasPrefix(s.TypeCondition, "__")))
		case *ast.FragmentSpread:
			if f := m.fragment(s.Name); f != nil {
				c.add(*f)
			}
		}
	}
	c.width = max(c.width, c.flat)
	return c
}

// field adds one field's own cost (from fieldCost) to the set it stands
// in, where the field itself is one of the set's fields.
func (c *cost) field(f cost) {
	f.flat = 1
	c.add(f)
}

// fieldCost measures one field and what it selects.
func (m *meter) fieldCost(f *ast.Field, parent *ast.Definition, introspecting bool) cost {
	var own cost
	if f.Alias != "" && f.Alias != f.Name {
		own.aliases = 1
	}
	own.fields = 1
	var def *ast.FieldDefinition
	var child *ast.Definition
	switch f.Name {
	case "__typename":
	case "__schema", "__type":
		introspecting = true
		own.introspection = true
		child = m.schema.Types[map[string]string{"__schema": "__Schema", "__type": "__Type"}[f.Name]]
	default:
		if parent != nil {
			def = parent.Fields.ForName(f.Name)
		}
		if def != nil {
			child = m.schema.Types[def.Type.Name()]
		}
	}
	if len(f.SelectionSet) == 0 {
		own.depth = 1
		return own
	}
	sub := m.set(f.SelectionSet, child, introspecting)
	items := 1
	if !introspecting {
		items = m.items(f, def, parent, &own)
	}
	own.objects = satAdd(1, satMul(sub.objects, items))
	own.fields = satAdd(1, satMul(sub.fields, items))
	own.aliases = satAdd(own.aliases, sub.aliases)
	own.width = sub.width
	own.introspection = own.introspection || sub.introspection
	own.variable = sub.variable
	// Introspection's own nesting (GraphiQL's query is 15 deep) is bounded
	// by the validator and the schema, and production turns it off.
	if introspecting {
		own.depth = 1
	} else {
		own.depth = 1 + sub.depth
	}
	return own
}

// items returns how many items a field's selections run for: the page it
// asks for when it takes `first`, the listItems estimate for another list
// of objects, and 1 for anything else. The lists of a connection count
// once, since the field that returns the connection counted its page.
func (m *meter) items(f *ast.Field, def *ast.FieldDefinition, parent *ast.Definition, c *cost) int {
	if def == nil {
		return 1
	}
	if arg := def.Arguments.ForName("first"); arg != nil {
		most := maxPage
		if def.Name == "matchHistory" {
			most = maxHistoryPage
		}
		n, fromVariable, ok := m.intArgument(f, "first", arg)
		c.variable = c.variable || fromVariable
		if !ok || n < 0 {
			return most
		}
		// A page over the most is counted as asked, so that the operation
		// is refused whole before any of it runs.
		return n
	}
	if def.Type.Elem != nil && (parent == nil || !strings.HasSuffix(parent.Name, "Connection")) {
		return m.listItems
	}
	return 1
}

// intArgument returns the value an Int argument takes when the field
// executes: its literal, its variable's value, or its default.
func (m *meter) intArgument(f *ast.Field, name string, def *ast.ArgumentDefinition) (n int, fromVariable, ok bool) {
	a := f.Arguments.ForName(name)
	if a == nil {
		if def.DefaultValue != nil {
			n, ok = intLiteral(def.DefaultValue.Raw)
		}
		return n, false, ok
	}
	switch a.Value.Kind {
	case ast.IntValue:
		n, ok = intLiteral(a.Value.Raw)
		return n, false, ok
	case ast.Variable:
		v, present := m.variables[a.Value.Raw]
		if !present {
			// An omitted variable takes its own default, if any.
			return 0, true, false
		}
		n, ok = intValue(v)
		return n, true, ok
	}
	return 0, false, false
}

func intLiteral(raw string) (int, bool) {
	n, err := strconv.Atoi(raw)
	return n, err == nil
}

// intValue reads a decoded JSON number as an int.
func intValue(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		return intLiteral(x.String())
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > costCap {
			return 0, false
		}
		return int(x), true
	case int:
		return x, true
	case int64:
		return int(x), true
	}
	return 0, false
}
