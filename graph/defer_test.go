package graph_test

import (
	"bufio"
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
	for _, p := range payloads[1:] {
		if !strings.Contains(p, `"path":["searchMentors","edges",`) {
			t.Errorf("a later payload is not at an element of the list: %s", p)
		}
	}
}
