package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mentorship/mentorship/domain"
)

// cpuTime returns the CPU time the process has used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanOut returns a document of n fragments, each spreading the next one
// twice: under 1 KB of text that executes 2^n times the last fragment.
func fanOut(n int, on, last, root string) string {
	var b strings.Builder
	b.WriteString(root)
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on %s { ...F%d ...F%d }", i, on, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on %s { %s }", n, on, last)
	return b.String()
}

// hostileDocuments are documents built to cost the server far more than
// they cost to send, each with the code it must be refused with.
func hostileDocuments() []struct{ name, query, code string } {
	nested := "id"
	for range 40 {
		nested = "mySessions { match { " + nested + " } }"
	}
	var aliases strings.Builder
	for i := range 500 {
		fmt.Fprintf(&aliases, " a%d: __typename", i)
	}
	var spreads strings.Builder
	var frags strings.Builder
	for i := range 25 {
		fmt.Fprintf(&spreads, " ...V%d", i)
		fmt.Fprintf(&frags, " fragment V%d on Viewer {%s }", i, strings.Repeat(" id", 190))
	}
	var pages strings.Builder
	for i := range 20 {
		fmt.Fprintf(&pages, " p%d: searchMentors(first: 100) { edges { node { id name biography skills { skill rating } } } }", i)
	}
	return []struct{ name, query, code string }{
		{"fragment fan-out of 2^25 __typename", fanOut(24, "Query", "__typename", "query { ...F0 }"), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"fragment fan-out of 2^60", fanOut(60, "Query", "__typename", "query { ...F0 }"), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"fragment fan-out inside a list", fanOut(20, "Member", "id name", "{ searchMentors(first: 100) { edges { node { ...F0 } } } }"), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"an unused fragment that fans out", fanOut(30, "Query", "__typename", "{ __typename }"), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"25 fragments of 190 fields in one set", "{ viewer {" + spreads.String() + " } }" + frags.String(), "BAD_USER_INPUT"},
		{"a fragment cycle", "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", "GRAPHQL_VALIDATION_FAILED"},
		{"a fragment that spreads itself", "{ ...A } fragment A on Query { __typename ...A }", "GRAPHQL_VALIDATION_FAILED"},
		{"field multiplication through pages", "{" + pages.String() + " }", "COMPLEXITY_LIMIT_EXCEEDED"},
		{"a page far over the most", "{ searchMentors(first: 1000000) { edges { node { id } } } }", "COMPLEXITY_LIMIT_EXCEEDED"},
		{"an alias flood", "{" + aliases.String() + " }", "BAD_USER_INPUT"},
		{"deep nesting", `{ match(id: "x") { ` + nested + ` } }`, "BAD_USER_INPUT"},
		{"ten thousand repeats of one field", "{ viewer {" + strings.Repeat(" id", 10000) + " } }", "BAD_USER_INPUT"},
		{"100,000 tokens", `{ searchMentors(input: {languages: [` + strings.Repeat(`"x" `, 100000) + `]}) { totalCount } }`, "BAD_USER_INPUT"},
		{"a 900 KB name", `mutation { updateProfile(input: {name: "` + strings.Repeat("a", 900_000) + `"}) { userErrors { code } } }`, "INVALID_INPUT"},
		{"a list of 20,000 languages in a variable", `mutation($l: [String!]) { updateProfile(input: {name: "Mia", languages: $l}) { userErrors { code } } }`, "INVALID_INPUT"},
		{"a body over 1 MiB", `{ searchMentors(input: {words: "` + strings.Repeat("a", 2<<20) + `"}) { totalCount } }`, "BAD_USER_INPUT"},
		{"a NUL byte in the document", "{ viewer { id \x00 } }", "GRAPHQL_PARSE_FAILED"},
		{"an unterminated document", strings.Repeat("{ viewer ", 3000), "BAD_USER_INPUT"},
		{"introspection fanned out", fanOut(24, "__Schema", "queryType { name }", "{ __schema { ...F0 } }"), "COMPLEXITY_LIMIT_EXCEEDED"},
	}
}

// Every hostile document is refused with a code, writes nothing, and costs
// the server little CPU: the cost is measured on the operation as executed
// before the validator or any resolver sees it.
func TestHostileDocumentsAreRefusedCheaply(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	budget := 50 * time.Millisecond
	if raceEnabled {
		// The race detector slows every memory access several times over.
		budget *= 10
	}
	before := e.head()
	var slowest time.Duration
	var slowestName string
	languages := make([]string, 20000)
	for i := range languages {
		languages[i] = "English"
	}
	for _, tc := range hostileDocuments() {
		var vars map[string]any
		if strings.Contains(tc.query, "$l") {
			vars = map[string]any{"l": languages}
		}
		// The body is encoded before the clock starts, so that what is
		// timed is the server's work (and the client's reading).
		body, _ := json.Marshal(map[string]any{"query": tc.query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		started := cpuTime(t)
		r := e.send(req, tok, true)
		spent := cpuTime(t) - started
		if code := refusedWith(r); code != tc.code {
			t.Errorf("%s: want %s, got %d %s", tc.name, tc.code, r.Status, truncate(r.raw))
		}
		if spent > budget {
			t.Errorf("%s: refused after %v of CPU, the budget is %v", tc.name, spent, budget)
		}
		t.Logf("| %s | %s | %.1f ms |", tc.name, tc.code, float64(spent.Microseconds())/1000)
		if spent > slowest {
			slowest, slowestName = spent, tc.name
		}
	}
	t.Logf("slowest refusal: %s, %v of CPU", slowestName, slowest)
	if e.head() != before {
		t.Fatal("a hostile document wrote events")
	}
}

// Bodies no GraphQL document should come in: invalid UTF-8 (which a JSON
// decoder would silently turn into U+FFFD), a mutation over GET.
func TestHostileBodiesAreRefused(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	before := e.head()
	raw := func(method, body, contentType string) response {
		req, _ := http.NewRequest(method, e.url, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return e.send(req, tok, false)
	}
	cases := []struct {
		name   string
		r      response
		status int
	}{
		{"invalid UTF-8 in a string", raw(http.MethodPost, "{\"query\": \"mutation { updateProfile(input: {name: \\\"Mia \xff\xfe\\\"}) { userErrors { code } } }\"}", "application/json"), http.StatusBadRequest},
		{"invalid UTF-8 in a variable", raw(http.MethodPost, "{\"query\": \"mutation($n: String!) { updateProfile(input: {name: $n}) { userErrors { code } } }\", \"variables\": {\"n\": \"\xc3\x28\"}}", "application/json"), http.StatusBadRequest},
	}
	for _, tc := range cases {
		if tc.r.Status != tc.status || tc.r.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: %d %s", tc.name, tc.r.Status, truncate(tc.r.raw))
		}
	}
	if e.head() != before {
		t.Fatal("a hostile body wrote events")
	}
}

// refusedWith returns the code a response refused with: its first error's, or
// its payload's first user error's.
func refusedWith(r response) string {
	if c := r.code(); c != "" {
		return c
	}
	for _, v := range r.Data {
		p, _ := v.(map[string]any)
		ue, _ := p["userErrors"].([]any)
		if len(ue) > 0 {
			c, _ := ue[0].(map[string]any)["code"].(string)
			return c
		}
	}
	return ""
}

// Measuring is linear in the document: a fan-out of 2^60 fields is priced
// (and refused) as fast as one of 2^6, and a document that passes once is
// not measured again.
func TestCostIsLinearInTheDocument(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	for _, n := range []int{6, 60, 200} {
		q := fanOut(n, "Query", "__typename", "query { ...F0 }")
		started := time.Now()
		r := e.do(tok, q, nil)
		took := time.Since(started)
		if n == 6 {
			// 2^6 __typename fields, within every limit.
			if len(r.Errors) > 0 {
				t.Fatalf("a fan-out of 2^10: %s", truncate(r.raw))
			}
			continue
		}
		if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || r.Errors[0].Extensions["limit"] != "fields" {
			t.Fatalf("a fan-out of 2^%d: %s", n, truncate(r.raw))
		}
		if took > time.Second {
			t.Errorf("a fan-out of 2^%d took %v", n, took)
		}
	}
}
