package domain_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// refusalPath is the one package of this module the domain imports: the
// refusal error type it shares with the accounts service, itself plain Go
// that imports only the standard library.
const refusalPath = "github.com/mentorship/mentorship/refusal"

// allowedImport reports whether production code of the domain may import
// path: the standard library (whose paths have no dot in their first
// element), github.com/google/uuid, the persistent collections of
// github.com/benbjohnson/immutable (plain data structures, which let states
// be shared without copying) and the refusal error type, nothing of
// infrastructure.
func allowedImport(path string) bool {
	switch path {
	case "github.com/google/uuid", "github.com/benbjohnson/immutable", refusalPath:
		return true
	}
	return standard(path)
}

// standard reports whether path is of the standard library, whose paths
// have no dot in their first element.
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") && path != "C"
}

func TestDomainImportsOnlyStandardLibraryAndUUID(t *testing.T) {
	checkImports(t, ".", allowedImport)
	checkImports(t, filepath.Join("..", "refusal"), standard)
}

// checkImports fails the test for every import of the production code in
// dir that allowed refuses.
func checkImports(t *testing.T, dir string, allowed func(string) bool) {
	t.Helper()
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if !allowed(imp) {
				t.Errorf("%s imports %q; the domain may import only the standard library, github.com/google/uuid, github.com/benbjohnson/immutable and %s, which imports only the standard library", path, imp, refusalPath)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatalf("found no Go files to check in %s", dir)
	}
}

func TestAllowedImport(t *testing.T) {
	for path, want := range map[string]bool{
		"time":                         true,
		"encoding/json":                true,
		"github.com/google/uuid":       true,
		"github.com/google/go-cmp/cmp": false,
		"github.com/mentorship/mentorship/eventstore": false,
		"github.com/redis/go-redis/v9":                false,
		"github.com/rs/zerolog":                       false,
		"go.etcd.io/bbolt":                            false,
		"golang.org/x/text":                           false,
		"C":                                           false,
	} {
		if got := allowedImport(path); got != want {
			t.Errorf("allowedImport(%q) = %v, want %v", path, got, want)
		}
	}
}
