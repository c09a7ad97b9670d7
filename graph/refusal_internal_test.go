package graph

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/refusal"
)

// refusalCodes reads every refusal code the refusers declare: the
// constants of type refusal.Code in the packages under dirs (refusal.Code
// is Code in the refusal package itself), so that a code added anywhere
// there is checked without a list to keep.
func refusalCodes(t *testing.T, dirs ...string) map[refusal.Code]string {
	t.Helper()
	codes := map[refusal.Code]string{}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				gen, ok := decl.(*ast.GenDecl)
				if !ok || gen.Tok != token.CONST {
					continue
				}
				for _, spec := range gen.Specs {
					vs := spec.(*ast.ValueSpec)
					if !isRefusalCode(vs.Type, f.Name.Name) {
						continue
					}
					for i, name := range vs.Names {
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							t.Fatalf("%s: refusal code %s is not a string literal", path, name.Name)
						}
						v, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						if other, dup := codes[refusal.Code(v)]; dup {
							t.Errorf("%s: %s repeats the code %q of %s", path, name.Name, v, other)
						}
						codes[refusal.Code(v)] = f.Name.Name + "." + name.Name
					}
				}
			}
		}
	}
	return codes
}

func isRefusalCode(typ ast.Expr, pkg string) bool {
	switch x := typ.(type) {
	case *ast.Ident:
		return pkg == "refusal" && x.Name == "Code"
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		return ok && id.Name == "refusal" && x.Sel.Name == "Code"
	}
	return false
}

// Every refusal code, whoever declares it, maps to a GraphQL code: raised
// as an error it answers UNAUTHENTICATED (a refused token) or
// BAD_USER_INPUT with its message and field, and in a payload it becomes a
// userError with its own code, field and message, as clients have always
// seen them.
func TestEveryRefusalCodeMapsToAGraphQLCode(t *testing.T) {
	codes := refusalCodes(t, filepath.Join("..", "refusal"), filepath.Join("..", "domain"), filepath.Join("..", "auth"), filepath.Join("..", "documents"))
	for _, known := range []refusal.Code{"INVALID_INPUT", "MATCH_NOT_FOUND", "MEMBER_ERASED", "WEAK_PASSWORD", "TOKEN_EXPIRED"} {
		if _, ok := codes[known]; !ok {
			t.Fatalf("the code %s was not found among %d codes: the source is not read as it should be", known, len(codes))
		}
	}
	unauthenticated := map[refusal.Code]bool{"TOKEN_INVALID": true, "TOKEN_EXPIRED": true, "TOKEN_REVOKED": true}
	present := ErrorPresenter(zerolog.Nop())
	for code, name := range codes {
		ref := &refusal.Error{Code: code, Field: "someField", Message: "a message for " + string(code)}
		want := CodeBadUserInput
		if unauthenticated[code] {
			want = CodeUnauthenticated
		}
		gerr := present(context.Background(), fmt.Errorf("some operation: %w", ref))
		if gerr.Extensions["code"] != want || gerr.Message != ref.Message || gerr.Extensions["field"] != ref.Field {
			t.Errorf("%s raised: code %v, message %q, field %v; want %s, %q, %q", name, gerr.Extensions["code"], gerr.Message, gerr.Extensions["field"], want, ref.Message, ref.Field)
		}
		ue, err := userErrors(fmt.Errorf("some operation: %w", ref))
		if unauthenticated[code] {
			var api *apiError
			if !errors.As(err, &api) || api.code != CodeUnauthenticated || api.msg != ref.Message || ue != nil {
				t.Errorf("%s in a payload: %v, %v; want UNAUTHENTICATED raised with its message", name, ue, err)
			}
			continue
		}
		if err != nil || len(ue) != 1 || ue[0].Code != string(code) || ue[0].Message != ref.Message || ue[0].Field == nil || *ue[0].Field != ref.Field {
			t.Errorf("%s in a payload: %+v, %v", name, ue, err)
		}
	}
	if ue, err := userErrors(refusal.New(refusal.CodeInvalidInput, "no field")); err != nil || ue[0].Field != nil {
		t.Errorf("a refusal without a field: %+v, %v; want no field", ue, err)
	}
	if ue, err := userErrors(nil); err != nil || ue == nil || len(ue) != 0 {
		t.Errorf("no refusal: %v, %v; want an empty list", ue, err)
	}
	plain := errors.New("disk full")
	if _, err := userErrors(plain); err != plain {
		t.Errorf("a failure that is no refusal: %v; want it raised as it is", err)
	}
}
