package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/mentorship/mentorship/graph/model"
)

// strictVariables holds an operation's variables to GraphQL's input
// coercion rules, which gqlparser's check of them relaxes: it takes the
// string "60" for an Int (and gqlgen then reads it as 60), an Int past 32
// bits, and an enum value in any case ("pending" for PENDING, which then
// fails inside the resolver instead), and the errors it gives for a
// number where a Boolean goes name a string. GraphQL says an Int is a
// whole number within 32 bits, a String a string, a Boolean true or
// false, and an enum value one of the names the schema gives; anything
// else is a request error naming the variable and what it holds, before
// anything runs. A whole number written with a fraction (1.0, as some
// JSON writers put a float) is the Int it stands for.
//
// It reads the variables as the client sent them, before gqlparser's
// check, and the operation's declarations from the parsed-document cache
// (a document seen for the first time is parsed here too).
type strictVariables struct {
	schema *ast.Schema
	docs   graphql.Cache[*ast.QueryDocument]
}

var _ graphql.OperationParameterMutator = strictVariables{}

func (strictVariables) ExtensionName() string                   { return "StrictVariables" }
func (strictVariables) Validate(graphql.ExecutableSchema) error { return nil }

func (s strictVariables) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if len(p.Variables) == 0 || p.Query == "" {
		return nil
	}
	doc, ok := s.docs.Get(ctx, p.Query)
	if !ok {
		var err error
		if doc, err = parser.ParseQuery(&ast.Source{Input: p.Query}); err != nil {
			return nil // gqlgen's parser reports it
		}
	}
	op := doc.Operations.ForName(p.OperationName)
	if op == nil {
		return nil // gqlgen reports it
	}
	for _, def := range op.VariableDefinitions {
		v, ok := p.Variables[def.Variable]
		if !ok || def.Type == nil {
			continue
		}
		path := ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}
		nv, msg, userInput := s.check(def.Type, v, &path)
		if msg != "" {
			err := gqlerror.ErrorPathf(path, "%s", msg)
			if userInput {
				err.Extensions = map[string]any{"code": CodeBadUserInput}
			} else {
				errcode.Set(err, errcode.ValidationFailed)
			}
			return err
		}
		p.Variables[def.Variable] = nv
	}
	return nil
}

// check returns v as it stands for a value of t, or why it is not one;
// path is extended to the part of v at fault. Lists and input objects are
// checked in place.
func (s strictVariables) check(t *ast.Type, v any, path *ast.Path) (any, string, bool) {
	if v == nil {
		return v, "", false // gqlparser refuses a null where the type says non-null
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			// A single value stands for a list of one.
			return s.check(t.Elem, v, path)
		}
		for i, e := range list {
			*path = append(*path, ast.PathIndex(i))
			ne, msg, user := s.check(t.Elem, e, path)
			if msg != "" {
				return v, msg, user
			}
			list[i] = ne
			*path = (*path)[:len(*path)-1]
		}
		return v, "", false
	}
	def := s.schema.Types[t.NamedType]
	if def == nil {
		return v, "", false // gqlparser reports an unknown type
	}
	switch def.Kind {
	case ast.Enum:
		str, ok := v.(string)
		if !ok || def.EnumValues.ForName(str) == nil {
			return v, fmt.Sprintf("%s is not a %s: expected one of %s", describe(v), def.Name, enumNames(def)), false
		}
	case ast.InputObject:
		m, ok := v.(map[string]any)
		if !ok {
			return v, "", false // gqlparser refuses it
		}
		for _, f := range def.Fields {
			fv, ok := m[f.Name]
			if !ok {
				continue
			}
			*path = append(*path, ast.PathName(f.Name))
			nv, msg, user := s.check(f.Type, fv, path)
			if msg != "" {
				return v, msg, user
			}
			m[f.Name] = nv
			*path = (*path)[:len(*path)-1]
		}
	case ast.Scalar:
		switch def.Name {
		case "Int":
			n, ok := int32Value(v)
			if !ok {
				return v, fmt.Sprintf("%s is not an Int: expected a whole number from %d to %d", describe(v), math.MinInt32, math.MaxInt32), false
			}
			return json.Number(strconv.FormatInt(n, 10)), "", false
		case "Float":
			if !isNumber(v) {
				return v, fmt.Sprintf("%s is not a Float: expected a number", describe(v)), false
			}
		case "String":
			if _, ok := v.(string); !ok {
				return v, fmt.Sprintf("%s is not a String: expected a string", describe(v)), false
			}
		case "Boolean":
			if _, ok := v.(bool); !ok {
				return v, fmt.Sprintf("%s is not a Boolean: expected true or false", describe(v)), false
			}
		case "ID":
			if _, ok := v.(string); !ok {
				n, whole := int32Value(v)
				if !whole {
					return v, fmt.Sprintf("%s is not an ID: expected a string", describe(v)), false
				}
				return json.Number(strconv.FormatInt(n, 10)), "", false
			}
		default:
			// As its resolvers answered it before this check: the
			// client's input, BAD_USER_INPUT.
			if msg := scalarError(def.Name, v); msg != "" {
				return v, fmt.Sprintf("%s is not a %s: %s", describe(v), def.Name, msg), true
			}
		}
	}
	return v, "", false
}

// int32Value reads a whole number within 32 bits, as JSON gives it.
func int32Value(v any) (int64, bool) {
	var n int64
	switch x := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			// 1.0 and 1e2 are whole numbers too.
			f, ferr := strconv.ParseFloat(string(x), 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32+1 {
				return 0, false
			}
			i = int64(f)
		}
		n = i
	case int:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32+1 {
			return 0, false
		}
		n = int64(x)
	default:
		return 0, false
	}
	return n, n >= math.MinInt32 && n <= math.MaxInt32
}

func isNumber(v any) bool {
	switch x := v.(type) {
	case json.Number:
		_, err := strconv.ParseFloat(string(x), 64)
		return err == nil
	case int, int32, int64, float32, float64:
		return true
	}
	return false
}

// describe names a JSON value in an error, without echoing a long one.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			return "a string"
		}
		return strconv.Quote(x)
	case json.Number:
		if len(x) > 40 {
			return "a number"
		}
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}

func enumNames(def *ast.Definition) string {
	names := make([]string, len(def.EnumValues))
	for i, e := range def.EnumValues {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// scalarError says why v is not a value of the schema's own scalar named
// (a Date, a Time, a Position), read as its resolvers read it, or "".
// Checked before anything runs, a malformed one refuses the operation
// whole instead of failing its field after earlier ones ran.
func scalarError(name string, v any) string {
	var err error
	switch name {
	case "Date":
		_, err = model.UnmarshalDate(v)
	case "Time":
		_, err = graphql.UnmarshalTime(v)
	case "Position":
		_, err = model.UnmarshalPosition(v)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
