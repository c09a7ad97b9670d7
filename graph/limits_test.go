package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/server"
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

// The token limit counts the query's lexical tokens before it is parsed:
// a query of exactly MaxTokens runs, one more is refused, as a query and
// as a mutation, and the refused mutation writes nothing.
func TestTokenLimit(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	// query has exactly n tokens: 16 and n-16 strings, each one token
	// whether commas separate them or not.
	query := func(n int, sep string) string {
		return `{ searchMentors(input: {languages: [` + strings.TrimSuffix(strings.Repeat(`"English"`+sep, n-16), sep) + `]}) { totalCount } }`
	}
	if r := e.do(tok, query(5000, " "), nil); len(r.Errors) > 0 || r.get("searchMentors", "totalCount") == nil {
		t.Fatalf("5000 tokens: %s", truncate(r.raw))
	}
	if r := e.do(tok, query(5000, ", "), nil); len(r.Errors) > 0 {
		t.Fatalf("5000 tokens with commas: %s", truncate(r.raw))
	}
	r := e.do(tok, query(5001, " "), nil)
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Message != "the query has more than 5000 tokens" {
		t.Fatalf("5001 tokens: %s", truncate(r.raw))
	}
	before := e.head()
	langs := strings.TrimSuffix(strings.Repeat(`"English", `, 5000), ", ")
	r = e.do(tok, `mutation { updateProfile(input: {name: "Renamed", languages: [`+langs+`]}) { userErrors { code } } }`, nil)
	if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "tokens") {
		t.Fatalf("a mutation over the token limit: %s", truncate(r.raw))
	}
	if e.head() != before {
		t.Fatal("a mutation over the token limit wrote events")
	}
	// A server may set its own limit.
	small := e.serve(graph.HandlerOptions{Limits: graph.Limits{MaxTokens: 10}})
	if r := e.doAt(small, nil, tok, `{ programOptions { termMonths __typename } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("7 tokens with MaxTokens 10: %s", truncate(r.raw))
	}
	if r := e.doAt(small, nil, tok, query(17, " "), nil); r.code() != "BAD_USER_INPUT" || r.Errors[0].Message != "the query has more than 10 tokens" {
		t.Fatalf("17 tokens with MaxTokens 10: %s", truncate(r.raw))
	}
}

// A selection set of thousands of repeated fields would cost the validator
// seconds (it compares fields pairwise); it is refused before parsing,
// while a set of 200 passes.
func TestSelectionLimit(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	fields := func(n int) string { return "{ viewer {" + strings.Repeat(" id", n) + " } }" }
	if r := e.do(tok, fields(200), nil); len(r.Errors) > 0 {
		t.Fatalf("200 fields: %s", truncate(r.raw))
	}
	started := time.Now()
	r := e.do(tok, fields(4900), nil)
	if r.code() != "BAD_USER_INPUT" || !strings.HasPrefix(r.Errors[0].Message, "a selection set holds more than 200 fields") || r.Errors[0].Extensions["limit"] != "selections" {
		t.Fatalf("4900 fields: %s", truncate(r.raw))
	}
	if took := time.Since(started); took > time.Second {
		t.Errorf("refusing 4900 fields took %v", took)
	}
	// Arguments are values, not selections.
	langs := strings.TrimSuffix(strings.Repeat(`"English", `, 400), ", ")
	if r := e.do(tok, `{ searchMentors(input: {languages: [`+langs+`]}) { totalCount } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("400 values in an argument: %s", truncate(r.raw))
	}
}

// A body over the cap is a client error, 413 with a GraphQL error body,
// however the client sends it; it runs nothing.
func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	const limit = 1 << 20
	const query = `mutation($n: String!) { updateProfile(input: {name: "Renamed", biography: $n}) { userErrors { code } } }`
	// body is a request of exactly size bytes.
	body := func(size int) []byte {
		empty, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"n": ""}})
		b, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"n": strings.Repeat("x", size-len(empty))}})
		return b
	}
	post := func(b []byte, chunked bool) response {
		var r io.Reader = bytes.NewReader(b)
		if chunked {
			r = io.MultiReader(r) // no length: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, e.url, r)
		req.Header.Set("Content-Type", "application/json")
		return e.send(req, tok, true)
	}
	before := e.head()
	for _, chunked := range []bool{false, true} {
		b := body(limit + 1)
		if len(b) != limit+1 {
			t.Fatalf("body of %d bytes", len(b))
		}
		r := post(b, chunked)
		if r.Status != http.StatusRequestEntityTooLarge || r.code() != "BAD_USER_INPUT" || r.Errors[0].Message != "the request body is larger than 1048576 bytes" {
			t.Fatalf("1 MiB + 1 (chunked %v): %d %s", chunked, r.Status, truncate(r.raw))
		}
		if e.head() != before {
			t.Fatal("a body over the cap ran its mutation")
		}
	}
	// A body of exactly the cap is read.
	if r := post(body(limit), true); r.Status != http.StatusOK || r.code() != "" {
		t.Fatalf("1 MiB: %d %s", r.Status, truncate(r.raw))
	}
	// A server may set its own cap.
	small := e.serve(graph.HandlerOptions{MaxBodyBytes: 100, RequestID: server.RequestID})
	r := e.doAt(small, nil, tok, `{ programOptions { termMonths } }`+strings.Repeat(" ", 100), nil)
	if r.Status != http.StatusRequestEntityTooLarge || r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["correlationId"] != r.Header.Get(server.RequestIDHeader) {
		t.Fatalf("over a cap of 100 bytes: %d %s", r.Status, truncate(r.raw))
	}
	if r := e.doAt(small, nil, tok, `{ programOptions { termMonths } }`, nil); r.code() != "" {
		t.Fatalf("under a cap of 100 bytes: %d %s", r.Status, truncate(r.raw))
	}
}

// A full default page of the lists stays under the complexity limit with
// every field a client typically shows; a request for far more is still
// refused.
func TestFullDefaultPagesAreAffordable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")
	if _, err := e.svc.SetMentorCapacity(ctx, command.Request{Actor: mentor}, mentor.ID, 10); err != nil {
		t.Fatal(err)
	}
	matchID, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	pageInfo := `pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount`
	member := `id role name designation discipline industry location { city province } yearsOfExperience languages biography focus skills { skill rating } contact { email phone preferredMethod } capacity acceptingRequests available`
	cases := []struct {
		name, token, query string
	}{
		{"matchHistory", auditorTok, `query($m: ID!) { matchHistory(matchId: $m) { edges { cursor node { position revision type actorId actorRole occurredAt recordedAt data } } ` + pageInfo + ` } }`},
		{"matchHistory of 100", auditorTok, `query($m: ID!) { matchHistory(matchId: $m, first: 100) { edges { cursor node { position revision type actorId actorRole occurredAt recordedAt data } } ` + pageInfo + ` } }`},
		{"myMatches", menteeTok, `{ myMatches { edges { cursor node { id status message requestedAt acceptedAt closedAt declineReason endReason daysPending responseWindowElapsed responseDeadline nudgeRequested lastNudgedAt termEndsAt position partner { ` + member + ` } mentee { id name } mentor { id name } } } ` + pageInfo + ` } }`},
		{"myMatches of 100", mentorTok, `{ myMatches(first: 100) { edges { cursor node { id status requestedAt daysPending responseWindowElapsed partner { id name discipline location { city } } } } ` + pageInfo + ` } }`},
		{"searchMentors", menteeTok, `{ searchMentors { edges { cursor node { ` + member + ` affinity } } ` + pageInfo + ` } }`},
		{"mySessions", menteeTok, `{ mySessions { edges { cursor node { id date minutes notes value loggedAt editedAt revisions match { id } } } ` + pageInfo + ` } }`},
		{"resources", menteeTok, `{ resources { edges { cursor node { id title description url text audience publishedAt retired } } ` + pageInfo + ` } }`},
	}
	for _, tc := range cases {
		r := e.do(tc.token, tc.query, usedVars(tc.query, map[string]any{"m": gid(model.KindMatch, matchID)}))
		if len(r.Errors) > 0 {
			t.Errorf("%s: %s", tc.name, truncate(r.raw))
		}
	}
	refused := []string{
		`query($m: ID!) { matchHistory(matchId: $m, first: 1000) { edges { node { type } } } }`,
		`{ myMatches(first: 100) { edges { node { mentee { skills { skill } languages focus } mentor { skills { skill } } mySessions { id notes } documents { id } } } } a: searchMentors(first: 100) { edges { node { skills { skill } } } } b: searchMentors(first: 100) { edges { node { skills { skill } } } } }`,
	}
	for _, q := range refused {
		r := e.do(auditorTok, q, usedVars(q, map[string]any{"m": gid(model.KindMatch, matchID)}))
		if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("want refused as too complex: %s\n%s", q, truncate(r.raw))
		}
	}
}
