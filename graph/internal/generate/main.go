// Command generate regenerates the GraphQL executor and models from
// gqlgen.yml, as `gqlgen generate` does, then routes the executor's lists
// of objects through graph/internal/lists.
//
// gqlgen marshals every list of objects with a goroutine per element and
// has no option to do otherwise. This command rewrites each generated call
// of graphql.MarshalSliceConcurrently into a call of lists.Marshal, which
// marshals in the calling goroutine the lists whose selected fields cannot
// wait, and writes beside the executor the table lists.Marshal decides
// with: the fields gqlgen resolves concurrently, taken from gqlgen's own
// model of the schema. It also has every object build its group of
// deferred fields only when one of its fields is deferred
// (lists.NewDeferredGroup), and write its objects through lists.Object.
// It fails when the generated code no longer has the shape it rewrites,
// so that a gqlgen upgrade cannot quietly drop it.
//
// Run it from the module's root: `go generate ./...` does (see
// graph/resolver.go).
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

func main() {
	if err := run("gqlgen.yml"); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run(configFile string) error {
	cfg, err := config.LoadConfig(configFile)
	if err != nil {
		return err
	}
	p := &concurrentFields{}
	if err := api.Generate(cfg, api.AddPlugin(p)); err != nil {
		return err
	}
	if p.table == nil {
		return fmt.Errorf("gqlgen did not hand over its model of the schema")
	}
	exec := cfg.Exec.Filename
	src, err := os.ReadFile(exec)
	if err != nil {
		return err
	}
	out, err := rewrite(src)
	if err != nil {
		return fmt.Errorf("%s: %w", exec, err)
	}
	if err := os.WriteFile(exec, out, 0o644); err != nil {
		return err
	}
	table, err := tableFile(cfg.Exec.Package, p.table)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(filepath.Dir(exec), "lists.go"), table, 0o644)
}

// concurrentFields is a gqlgen plugin that records, by type, the fields
// gqlgen resolves concurrently.
type concurrentFields struct {
	table map[string][]string
}

func (*concurrentFields) Name() string { return "concurrentfields" }

// GenerateCode records the table from gqlgen's model of the schema, the
// same model its templates decide with (Field.IsConcurrent).
func (p *concurrentFields) GenerateCode(data *codegen.Data) error {
	p.table = map[string][]string{}
	for _, o := range data.Objects {
		fields := []string{}
		for _, f := range o.Fields {
			if f.IsConcurrent() {
				fields = append(fields, f.Name)
			}
		}
		p.table[o.Name] = fields
	}
	// A field selected on an interface is resolved by the object behind
	// it: it may wait when it may in any of them.
	for name, i := range data.Interfaces {
		fields := []string{}
		for _, impl := range i.Implementors {
			fields = append(fields, p.table[impl.Name]...)
		}
		slices.Sort(fields)
		p.table[name] = slices.Compact(fields)
	}
	return nil
}

// call is the generated call rewritten, as gqlgen v0.17 writes it in every
// marshaller of a list of objects, enums or interfaces; deferredGroup is
// how it starts the group of deferred fields of every object, and
// objectAnswer how it ends every object.
const (
	call        = "graphql.MarshalSliceConcurrently(ctx, len(v), "
	replacement = "lists.Marshal(ctx, sel, concurrentFields, len(v), "
	listsImport = `"github.com/mentorship/mentorship/graph/internal/lists"`

	deferredGroup            = "out := graphql.NewFieldSet(fields)\n\tdeferred := graphql.NewDeferredGroup(ctx)\n"
	deferredGroupReplacement = "out := graphql.NewFieldSet(fields)\n\tdeferred := lists.NewDeferredGroup(ctx, fields)\n"

	objectAnswer            = "\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn out\n}\n"
	objectAnswerReplacement = "\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn lists.Object(fields, out.Values)\n}\n"
)

// rewrite routes the executor's list marshalling through lists.Marshal.
func rewrite(src []byte) ([]byte, error) {
	n := bytes.Count(src, []byte("graphql.MarshalSliceConcurrently("))
	if n == 0 {
		return nil, fmt.Errorf("no call of graphql.MarshalSliceConcurrently to rewrite: has gqlgen changed how it marshals lists?")
	}
	if m := bytes.Count(src, []byte(call)); m != n {
		return nil, fmt.Errorf("%d of the %d calls of graphql.MarshalSliceConcurrently are not of the form %q: has gqlgen changed how it marshals lists?", n-m, n, call)
	}
	out := bytes.ReplaceAll(src, []byte(call), []byte(replacement))
	// Every object builds a group for its deferred fields; lists.NewDeferredGroup
	// builds it only when one of the fields is deferred.
	groups := bytes.Count(out, []byte("graphql.NewDeferredGroup("))
	if m := bytes.Count(out, []byte(deferredGroup)); m != groups || m == 0 {
		return nil, fmt.Errorf("%d of the %d calls of graphql.NewDeferredGroup follow the fields they are for as %q: has gqlgen changed how it marshals objects?", m, groups, deferredGroup)
	}
	out = bytes.ReplaceAll(out, []byte(deferredGroup), []byte(deferredGroupReplacement))
	// Every object answers its field set; lists.Object writes the same
	// JSON without the allocations of gqlgen's FieldSet.MarshalGQL.
	if m := bytes.Count(out, []byte(objectAnswer)); m != groups {
		return nil, fmt.Errorf("%d of the %d objects end as %q: has gqlgen changed how it marshals objects?", m, groups, objectAnswer)
	}
	out = bytes.ReplaceAll(out, []byte(objectAnswer), []byte(objectAnswerReplacement))
	const anchor = "\n\t\"github.com/99designs/gqlgen/graphql\"\n"
	if !bytes.Contains(out, []byte(anchor)) {
		return nil, fmt.Errorf("no import of gqlgen's graphql package to add the lists import beside")
	}
	out = bytes.Replace(out, []byte(anchor), []byte(anchor+"\t"+listsImport+"\n"), 1)
	return format.Source(out)
}

// tableFile writes the table of concurrent fields as Go.
func tableFile(pkg string, table map[string][]string) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "// Code generated by graph/internal/generate, DO NOT EDIT.\n\npackage %s\n\n", pkg)
	b.WriteString("import \"github.com/mentorship/mentorship/graph/internal/lists\"\n\n")
	b.WriteString("// concurrentFields names, by type, the fields gqlgen resolves concurrently:\n")
	b.WriteString("// lists.Marshal keeps a goroutine per element for a list that selects one.\n")
	b.WriteString("var concurrentFields = lists.Concurrent{\n")
	names := make([]string, 0, len(table))
	for name := range table {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, "\t%s: {", strconv.Quote(name))
		fields := slices.Sorted(slices.Values(table[name]))
		for i, f := range fields {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: true", strconv.Quote(f))
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return format.Source([]byte(b.String()))
}
