package graph_test

import (
	"strings"
	"testing"

	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
)

// introspectionQuery is getIntrospectionQuery of graphql-js 16.9 (the
// version GraphiQL bundles), as codegen tools send it (no options) and as
// GraphiQL does (input value deprecation and the schema's description).
func introspectionQuery(graphiQL bool) string {
	schemaDescription, inputDeprecation, isDeprecated, deprecationReason := "", "", "", ""
	if graphiQL {
		schemaDescription, inputDeprecation, isDeprecated, deprecationReason = "description", "(includeDeprecated: true)", "isDeprecated", "deprecationReason"
	}
	return strings.NewReplacer(
		"${schemaDescription}", schemaDescription,
		"${descriptions}", "description",
		"${directiveIsRepeatable}", "",
		"${specifiedByUrl}", "",
		"${oneOf}", "",
		"${inputDeprecation('(includeDeprecated: true)')}", inputDeprecation,
		"${inputDeprecation('isDeprecated')}", isDeprecated,
		"${inputDeprecation('deprecationReason')}", deprecationReason,
	).Replace(`
    query IntrospectionQuery {
      __schema {
        ${schemaDescription}
        queryType { name }
        mutationType { name }
        subscriptionType { name }
        types {
          ...FullType
        }
        directives {
          name
          ${descriptions}
          ${directiveIsRepeatable}
          locations
          args${inputDeprecation('(includeDeprecated: true)')} {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      ${descriptions}
      ${specifiedByUrl}
      ${oneOf}
      fields(includeDeprecated: true) {
        name
        ${descriptions}
        args${inputDeprecation('(includeDeprecated: true)')} {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields${inputDeprecation('(includeDeprecated: true)')} {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        ${descriptions}
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      ${descriptions}
      type { ...TypeRef }
      defaultValue
      ${inputDeprecation('isDeprecated')}
      ${inputDeprecation('deprecationReason')}
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                    ofType {
                      kind
                      name
                      ofType {
                        kind
                        name
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  `)
}

// GraphiQL and codegen load the schema with the standard introspection
// query, 15 deep: the depth limit leaves introspection out, while data
// queries keep the limit and introspection cannot nest without end.
func TestIntrospectionQueryPassesTheLimits(t *testing.T) {
	e := newEnv(t)
	for _, graphiQL := range []bool{false, true} {
		r := e.do("", introspectionQuery(graphiQL), nil)
		if len(r.Errors) > 0 {
			t.Fatalf("introspection (GraphiQL %v): %s", graphiQL, truncate(r.raw))
		}
		types, _ := r.get("__schema", "types").([]any)
		if len(types) < 50 || r.str("__schema", "queryType", "name") != "Query" || r.str("__schema", "subscriptionType", "name") != "Subscription" {
			t.Fatalf("introspection (GraphiQL %v): %d types: %s", graphiQL, len(types), truncate(r.raw))
		}
	}
	// __type is left out as well.
	typeRef := "name"
	for range 12 {
		typeRef = "kind ofType { " + typeRef + " }"
	}
	r := e.do("", `{ __type(name: "Match") { fields { name type { `+typeRef+` } } } }`, nil)
	if len(r.Errors) > 0 || r.str("__type", "fields", 0, "name") == "" {
		t.Fatalf("__type 16 deep: %s", truncate(r.raw))
	}
	// Introspection beside data does not lift the data's limit.
	deep := "id"
	for range 6 {
		deep = "mySessions { match { " + deep + " } }"
	}
	deep = `{ __typename match(id: "` + gid(model.KindMatch, [16]byte{1}) + `") { ` + deep + ` } __schema { queryType { name } } }`
	if r := e.do("", deep, nil); r.code() != "BAD_USER_INPUT" || r.Errors[0].Message != "the query is nested 14 deep, the limit is 12" {
		t.Fatalf("a deep data query beside introspection: %s", truncate(r.raw))
	}
	// Introspection's recursive types still cannot nest without end: the
	// validator bounds fields within fields.
	recursive := "name"
	for range 10 {
		recursive = "fields { type { " + recursive + " } }"
	}
	if r := e.do("", "{ __schema { types { "+recursive+" } } }", nil); r.code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("introspection nested 23 deep: %s", truncate(r.raw))
	}
	// In production introspection is off.
	prod := e.serve(graph.HandlerOptions{Production: true})
	if r := e.doAt(prod, nil, "", introspectionQuery(false), nil); len(r.Errors) == 0 || r.get("__schema") != nil {
		t.Fatalf("introspection in production: %s", truncate(r.raw))
	}
}
