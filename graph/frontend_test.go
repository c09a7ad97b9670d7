package graph_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/domain"
)

// What a frontend's HTTP client meets at the edges: every refusal is
// GraphQL-shaped with an extensions.code, in the media type the client
// accepts, so that Apollo Client and urql read it as a GraphQL error.
func TestRefusalsAreGraphQLErrorsWithCodes(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	const gqlJSON = "application/graphql-response+json"
	post := func(accept, token, body string, header map[string]string) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: not JSON: %s", body, raw)
		}
		return resp, out
	}
	code := func(out map[string]any) string {
		errs, _ := out["errors"].([]any)
		if len(errs) == 0 {
			return ""
		}
		ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
		c, _ := ext["code"].(string)
		return c
	}
	// Apollo Client 4 sends this Accept header.
	const apollo = "application/graphql-response+json,application/json;q=0.9"
	resp, out := post(apollo, "not-a-token", `{"query":"{ viewer { id } }"}`, nil)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != gqlJSON || code(out) != "UNAUTHENTICATED" {
		t.Fatalf("a bad token: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
	// A client that accepts only JSON gets JSON, with the same code.
	resp, out = post("application/json", "not-a-token", `{"query":"{ viewer { id } }"}`, nil)
	if resp.Header.Get("Content-Type") != "application/json" || code(out) != "UNAUTHENTICATED" {
		t.Fatalf("a bad token, JSON: %s %v", resp.Header.Get("Content-Type"), out)
	}
	// A body over the limit.
	resp, out = post(apollo, tok, `{"query":"{ viewer { id } }","variables":{"x":"`+strings.Repeat("x", 2<<20)+`"}}`, nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != gqlJSON || code(out) == "" {
		t.Fatalf("too large: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
	// A successful answer in the accepted media type.
	resp, out = post(apollo, tok, `{"query":"{ viewer { role } }"}`, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != gqlJSON || out["data"] == nil {
		t.Fatalf("an answer: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
	if got := resp.Header.Get("Cache-Control"); got != "private, no-store" {
		t.Fatalf("a signed-in answer may be cached: Cache-Control %q", got)
	}
	// A mutation over GET.
	req, _ := http.NewRequest(http.MethodGet, e.url+"?query="+strings.ReplaceAll("mutation { logout { ok } }", " ", "%20"), nil)
	req.Header.Set("Accept", apollo)
	req.Header.Set("Authorization", "Bearer "+tok)
	getResp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(getResp.Body)
	getResp.Body.Close()
	var got map[string]any
	_ = json.Unmarshal(raw, &got)
	if getResp.StatusCode != http.StatusNotAcceptable || getResp.Header.Get("Content-Type") != gqlJSON || code(got) == "" {
		t.Fatalf("a mutation over GET: %d %s %s", getResp.StatusCode, getResp.Header.Get("Content-Type"), raw)
	}
	// A bad node ID says so, without the parser's positions.
	_, out = post(apollo, tok, `{"query":"{ node(id: \"garbage\") { id } }"}`, nil)
	errs, _ := out["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["message"] != `invalid ID: "garbage"` || code(out) != "BAD_USER_INPUT" {
		t.Fatalf("a bad node ID: %v", out)
	}
	_, out = post(apollo, tok, `{"query":"{ node(id: \"TWVtYmVyOm5vdC1hLXV1aWQ\") { id } }"}`, nil)
	if errs, _ := out["errors"].([]any); len(errs) != 1 || !strings.HasPrefix(errs[0].(map[string]any)["message"].(string), "invalid ID: ") || strings.Contains(errs[0].(map[string]any)["message"].(string), "input:") {
		t.Fatalf("a node ID of a bad UUID: %v", out)
	}
}
