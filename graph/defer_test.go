package graph_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/domain"
)

// A field deferred inside a list of mentors is left out of the page's
// first payload, which says more is to come; whatever follows is at an
// element of the list.
func TestDeferredFieldInAList(t *testing.T) {
	e := newEnv(t)
	e.user(domain.RoleMentor, "Max Mentor")
	e.user(domain.RoleMentor, "Meg Mentor")
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	res := e.stream(tok, `{ searchMentors { edges { node { name ... @defer(label: "more") { contact { email } } } } } }`)
	defer res.Body.Close()
	var payloads []string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
			payloads = append(payloads, strings.TrimSpace(line))
		}
	}
	want := `{"data":{"searchMentors":{"edges":[{"node":{"name":"Max Mentor","contact":null}},{"node":{"name":"Meg Mentor","contact":null}}]}},"hasNext":true}`
	if len(payloads) == 0 || payloads[0] != want {
		t.Fatalf("first payload %q, want %s", payloads, want)
	}
	// One later payload per mentor, the last saying nothing more comes.
	if len(payloads) != 3 || !strings.Contains(payloads[2], `"hasNext":false`) {
		t.Fatalf("payloads %q, want the first and one per mentor, the last with hasNext false", payloads)
	}
	for _, p := range payloads[1:] {
		if !strings.Contains(p, `"path":["searchMentors","edges",`) {
			t.Errorf("a later payload is not at an element of the list: %s", p)
		}
	}
}

// A transport that sends one answer (a POST of JSON, a GET) cannot send
// what was deferred: the fragments are resolved in place, so the answer is
// whole rather than a first payload whose deferred fields read null. The
// same document over SSE, read from the same parsed-document cache, is
// still deferred.
func TestDeferIsResolvedInPlaceWhenOneAnswerIsSent(t *testing.T) {
	e := newEnv(t)
	e.user(domain.RoleMentor, "Max Mentor")
	e.user(domain.RoleMentor, "Meg Mentor")
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	queries := []string{
		`{ viewer { id ... @defer(label: "more") { member { name } } } }`,
		`{ viewer { id ...More @defer } } fragment More on Viewer { member { name } }`,
		`{ viewer { id ...More } } fragment More on Viewer { ... @defer { member { name } } }`,
		`query($d: Boolean!) { viewer { id ... @defer(if: $d) { member { name } } } }`,
	}
	for _, q := range queries {
		for _, res := range []response{
			e.do(tok, q, map[string]any{"d": true}),
			e.get(tok, q, map[string]any{"d": true}),
		} {
			if len(res.Errors) > 0 {
				t.Fatalf("%s: %+v", q, res.Errors)
			}
			if strings.Contains(string(res.raw), "hasNext") || res.str("viewer", "member", "name") != "Mia Mentee" {
				t.Fatalf("%s answered without its deferred fields: %s", q, res.raw)
			}
		}
	}
	// Over SSE the first payload still leaves the deferred fields out,
	// and later payloads bring them.
	res := e.stream(tok, `{ viewer { id ... @defer { member { name } } } }`)
	defer res.Body.Close()
	var payloads []string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
			payloads = append(payloads, strings.TrimSpace(line))
		}
	}
	if len(payloads) != 2 || strings.Contains(payloads[0], "Mia") || !strings.Contains(payloads[0], `"hasNext":true`) ||
		payloads[1] != `{"data":{"member":{"name":"Mia Mentee"}},"path":["viewer"],"hasNext":false}` {
		t.Fatalf("SSE payloads %q, want the first without the deferred member and a second with it", payloads)
	}
}

// get sends a query as a GET, signed in with token.
func (e *env) get(token, query string, vars map[string]any) response {
	e.t.Helper()
	v, _ := json.Marshal(vars)
	q := url.Values{"query": {query}, "variables": {string(v)}}
	req, _ := http.NewRequest(http.MethodGet, e.url+"?"+q.Encode(), nil)
	return e.send(req, token, true)
}
