package graph_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
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
	b, _ := json.Marshal(map[string]any{"query": `{ searchMentors { edges { node { name ... @defer(label: "more") { contact { email } } } } } }`})
	req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
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
