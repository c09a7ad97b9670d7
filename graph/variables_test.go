package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
)

// Variables are held to GraphQL's input coercion: a string is not an Int,
// an Int is within 32 bits, an enum value is one of the schema's names as
// written. Each is refused before anything runs, naming the variable.
func TestVariablesOfTheWrongTypeAreRefused(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	before := e.head()
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"a string for an Int", `query($n: Int) { myMatches(first: $n) { totalCount } }`, map[string]any{"n": "1"}, `"1" is not an Int`},
		{"an Int past 32 bits", `query($n: Int) { myMatches(first: $n) { totalCount } }`, map[string]any{"n": 2147483648}, `2147483648 is not an Int`},
		{"a fraction for an Int", `query($n: Int) { myMatches(first: $n) { totalCount } }`, map[string]any{"n": 1.5}, `Int`},
		{"a number for a Boolean", `query($b: Boolean!) { viewer { id @include(if: $b) } }`, map[string]any{"b": 1}, `is not a Boolean`},
		{"an enum value in lower case", `query($g: MatchGroup) { myMatches(group: $g) { totalCount } }`, map[string]any{"g": "pending"}, `"pending" is not a MatchGroup: expected one of`},
		{"a number for a String inside an input", `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { userErrors { code } } }`, map[string]any{"in": map[string]any{"name": 5}}, `5 is not a String`},
		{"a string for an Int inside a list", `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { userErrors { code } } }`, map[string]any{"in": map[string]any{"skills": []any{map[string]any{"skill": "x", "rating": "4"}}}}, `"4" is not an Int`},
	} {
		r := e.do(tok, c.query, c.vars)
		if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, c.want) || r.code() != graph.CodeValidationFailed || r.Data != nil {
			t.Errorf("%s: %s", c.name, r.raw)
		}
	}
	if e.head() != before {
		t.Fatal("a refused operation wrote events")
	}
	// The right types still pass.
	if r := e.do(tok, `query($n: Int, $g: MatchGroup) { myMatches(first: $n, group: $g) { totalCount } }`, map[string]any{"n": 2, "g": "PENDING"}); len(r.Errors) > 0 {
		t.Fatalf("well-typed variables refused: %s", r.raw)
	}
	// A whole number written with a fraction is the Int it stands for,
	// in a list or an input object too.
	if r := e.do(tok, `query($n: Int) { myMatches(first: $n) { totalCount } }`, map[string]any{"n": json.Number("1.0")}); len(r.Errors) > 0 {
		t.Fatalf("1.0 for an Int: %s", r.raw)
	}
	r := e.do(tok, `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { member { skills { skill rating } } userErrors { code } } }`,
		map[string]any{"in": map[string]any{"skills": []any{map[string]any{"skill": "Project management", "rating": json.Number("4e0")}}}})
	if len(r.Errors) > 0 {
		t.Fatalf("4.0 for an Int in an input's list: %s", r.raw)
	}
}
