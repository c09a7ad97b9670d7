package graph_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// gqlgenConfig is the repository's gqlgen configuration, relative to this
// package.
const gqlgenConfig = "../gqlgen.yml"

// unspecifiedScalars lists the custom scalars that may go without
// @specifiedBy, each with the reason. @specifiedBy must point at a
// specification; a scalar whose format is the project's own has none to
// point at, so its description carries the format instead.
var unspecifiedScalars = map[string]string{
	"Position": "a global log position as a decimal string is this project's own format, with no public specification; its description states it",
}

// TestSchemaDescribed holds every schema file gqlgen generates from to the
// standard of a contract a frontend developer can read without the
// server's code: every type, field, argument, input field, enum value,
// interface, scalar and directive the files define has a description, and
// every custom scalar names its format's specification with @specifiedBy.
// The files are those gqlgen.yml lists, so a new schema file is covered as
// soon as gqlgen reads it.
func TestSchemaDescribed(t *testing.T) {
	sources := schemaSources(t)
	if _, err := gqlparser.LoadSchema(sources...); err != nil {
		t.Fatalf("the schema does not load: %v", err)
	}
	doc, err := parser.ParseSchemas(sources...)
	if err != nil {
		t.Fatalf("the schema does not parse: %v", err)
	}
	problems := undescribed(doc)
	problems = append(problems, unspecified(doc, unspecifiedScalars)...)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Logf("%d elements of the schema need a description or @specifiedBy: describe each for the frontend (what it is, units and formats, who may use it, its errors and limits)", len(problems))
	}
}

// TestSchemaDescribedCatchesEachGap checks the checks themselves: a schema
// with every element described passes, and leaving out any one
// description, or one @specifiedBy, names that element.
func TestSchemaDescribedCatchesEachGap(t *testing.T) {
	const full = `
"S." schema { query: Q }
"D." directive @d("A." a: Int) on FIELD_DEFINITION
"T." scalar T @specifiedBy(url: "https://example.org/t")
"P." scalar P
"I." interface I { "I.id." id: ID! }
"Q." type Q implements I { "Q.id." id: ID! "Q.f." f("Q.f.x." x: Int): E }
"E." enum E { "E.V." V }
"N." input N { "N.g." g: Int }
"U." union U = Q
extend type Q { "Q.h." h: Int }
`
	cases := []struct{ drop, want string }{
		{"", ""},
		{`"S." `, "schema"},
		{`"D." `, "directive @d"},
		{`"A." `, "directive @d(a)"},
		{`"T." `, "scalar T"},
		{`"I." `, "interface I"},
		{`"I.id." `, "I.id"},
		{`"Q." `, "type Q"},
		{`"Q.f." `, "Q.f"},
		{`"Q.f.x." `, "Q.f(x)"},
		{`"E." `, "enum E"},
		{`"E.V." `, "E.V"},
		{`"N." `, "input N"},
		{`"N.g." `, "N.g"},
		{`"U." `, "union U"},
		{`"Q.h." `, "Q.h"},
		{` @specifiedBy(url: "https://example.org/t")`, "scalar T has no @specifiedBy"},
	}
	for _, c := range cases {
		src := full
		if c.drop != "" {
			if strings.Count(src, c.drop) != 1 {
				t.Fatalf("%q is not once in the test schema", c.drop)
			}
			src = strings.Replace(src, c.drop, "", 1)
		}
		doc, err := parser.ParseSchema(&ast.Source{Name: "test.graphqls", Input: src})
		if err != nil {
			t.Fatalf("without %q: %v", c.drop, err)
		}
		problems := append(undescribed(doc), unspecified(doc, map[string]string{"P": "a test"})...)
		switch {
		case c.want == "" && len(problems) > 0:
			t.Errorf("a fully described schema: %q, want no problems", problems)
		case c.want != "" && (len(problems) != 1 || !strings.Contains(problems[0], c.want)):
			t.Errorf("without %q: %q, want one problem naming %s", c.drop, problems, c.want)
		}
	}

	doc, err := parser.ParseSchema(&ast.Source{Name: "test.graphqls", Input: full})
	if err != nil {
		t.Fatal(err)
	}
	if p := unspecified(doc, map[string]string{"P": "a test", "Gone": "a test"}); len(p) != 1 || !strings.Contains(p[0], "Gone") {
		t.Errorf("an allowance for a scalar the schema does not define: %q, want it named", p)
	}
	if p := unspecified(doc, map[string]string{"P": "a test", "T": "a test"}); len(p) != 1 || !strings.Contains(p[0], "scalar T") {
		t.Errorf("an allowance for a scalar that has @specifiedBy: %q, want it named", p)
	}
}

// schemaSources reads the schema files gqlgen.yml lists, expanding globs
// as gqlgen does for the patterns filepath.Glob understands.
func schemaSources(t *testing.T) []*ast.Source {
	t.Helper()
	raw, err := os.ReadFile(gqlgenConfig)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Schema any `yaml:"schema"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("%s: %v", gqlgenConfig, err)
	}
	var patterns []string
	switch s := cfg.Schema.(type) {
	case string:
		patterns = []string{s}
	case []any:
		for _, p := range s {
			str, ok := p.(string)
			if !ok {
				t.Fatalf("%s: schema entry %v is not a string", gqlgenConfig, p)
			}
			patterns = append(patterns, str)
		}
	default:
		t.Fatalf("%s: schema is %T, want a file name or a list of them", gqlgenConfig, cfg.Schema)
	}
	root := filepath.Dir(gqlgenConfig)
	var sources []*ast.Source
	for _, pattern := range patterns {
		if strings.Contains(pattern, "**") {
			t.Fatalf("%s: schema pattern %q uses **, which this test does not expand yet", gqlgenConfig, pattern)
		}
		files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: schema pattern %q matches no file (%v)", gqlgenConfig, pattern, err)
		}
		slices.Sort(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name, _ := filepath.Rel(root, f)
			sources = append(sources, &ast.Source{Name: filepath.ToSlash(name), Input: string(b)})
		}
	}
	return sources
}

// undescribed names every element doc defines that has no description.
func undescribed(doc *ast.SchemaDocument) []string {
	var out []string
	missing := func(pos *ast.Position, desc, element string) {
		if strings.TrimSpace(desc) == "" {
			out = append(out, fmt.Sprintf("%s: %s has no description", where(pos), element))
		}
	}
	for _, s := range doc.Schema {
		missing(s.Position, s.Description, "schema")
	}
	for _, d := range doc.Directives {
		missing(d.Position, d.Description, "directive @"+d.Name)
		for _, a := range d.Arguments {
			missing(a.Position, a.Description, fmt.Sprintf("directive @%s(%s)", d.Name, a.Name))
		}
	}
	check := func(def *ast.Definition, extension bool) {
		if !extension {
			missing(def.Position, def.Description, kindName(def.Kind)+" "+def.Name)
		}
		for _, f := range def.Fields {
			missing(f.Position, f.Description, def.Name+"."+f.Name)
			for _, a := range f.Arguments {
				missing(a.Position, a.Description, fmt.Sprintf("%s.%s(%s)", def.Name, f.Name, a.Name))
			}
		}
		for _, v := range def.EnumValues {
			missing(v.Position, v.Description, def.Name+"."+v.Name)
		}
	}
	for _, def := range doc.Definitions {
		check(def, false)
	}
	// A type extension has no description of its own in GraphQL, but the
	// fields and values it adds do.
	for _, def := range doc.Extensions {
		check(def, true)
	}
	return out
}

// unspecified names every custom scalar doc defines without a
// @specifiedBy URL, but those allowed, and every allowance that no longer
// fits.
func unspecified(doc *ast.SchemaDocument, allowed map[string]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, def := range doc.Definitions {
		if def.Kind != ast.Scalar {
			continue
		}
		seen[def.Name] = true
		d := def.Directives.ForName("specifiedBy")
		url := ""
		if d != nil {
			if arg := d.Arguments.ForName("url"); arg != nil && arg.Value != nil {
				url = strings.TrimSpace(arg.Value.Raw)
			}
		}
		_, allow := allowed[def.Name]
		switch {
		case url == "" && !allow:
			out = append(out, fmt.Sprintf("%s: scalar %s has no @specifiedBy(url:) naming its format's specification", where(def.Position), def.Name))
		case url != "" && allow:
			out = append(out, fmt.Sprintf("%s: scalar %s has @specifiedBy but is allowed to go without; drop the allowance", where(def.Position), def.Name))
		}
	}
	var stale []string
	for name := range allowed {
		if !seen[name] {
			stale = append(stale, fmt.Sprintf("scalar %s is allowed to go without @specifiedBy but the schema does not define it; drop the allowance", name))
		}
	}
	slices.Sort(stale)
	return append(out, stale...)
}

func kindName(k ast.DefinitionKind) string {
	switch k {
	case ast.Object:
		return "type"
	case ast.InputObject:
		return "input"
	}
	return strings.ToLower(string(k))
}

func where(pos *ast.Position) string {
	if pos == nil || pos.Src == nil {
		return "?"
	}
	return fmt.Sprintf("%s:%d", pos.Src.Name, pos.Line)
}
