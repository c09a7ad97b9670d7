package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The README's walk-through, run as written against the demo program: each
// GraphQL block of "Five minutes in GraphiQL", in order, as the account its
// first line names, with the words in angle brackets filled in from the
// answers before it, as a reader would.
func TestREADMEWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "### Five minutes in GraphiQL")
	if start < 0 {
		t.Fatal("the README has no walk-through")
	}
	section := text[start:]
	section = section[:strings.Index(section[4:], "\n##")+4]
	blocks := regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) < 8 {
		t.Fatalf("the walk-through has %d GraphQL blocks", len(blocks))
	}
	url, _, accounts := startDemo(t)
	tokens := map[string]string{}
	fill := map[string]string{"<today>": time.Now().UTC().Format("2006-01-02")}
	var last map[string]any
	for i, b := range blocks {
		lines := strings.SplitN(strings.TrimSpace(dedent(b[1])), "\n", 2)
		who, ok := strings.CutPrefix(lines[0], "# as ")
		if !ok || len(lines) < 2 {
			t.Fatalf("block %d does not start with \"# as <who>\": %s", i+1, b[1])
		}
		query := lines[1]
		for k, v := range fill {
			query = strings.ReplaceAll(query, k, v)
		}
		if m := regexp.MustCompile(`<[^>]+>`).FindString(query); m != "" {
			t.Fatalf("block %d: nothing before it says what %s is:\n%s", i+1, m, query)
		}
		c := &client{t: t, url: url, token: tokens[who]}
		last = c.gql(query, nil)
		t.Logf("block %d as %s: %v", i+1, who, last)
		for _, login := range []string{"loginMentee", "loginMentor"} {
			if tok, _ := dig(last, login, "token").(string); tok != "" {
				tokens[who] = tok
			}
		}
		// What the next steps refer to.
		if edges, _ := dig(last, "searchMentors", "edges").([]any); len(edges) > 0 {
			fill["<id>"], _ = dig(edges[0], "node", "id").(string)
		}
		if id, _ := dig(last, "requestMatch", "match", "id").(string); id != "" {
			fill["<match id>"] = id
			name, _ := dig(last, "requestMatch", "match", "mentor", "name").(string)
			for _, a := range accounts {
				if a.role == "mentor" && a.name == name {
					fill["<the mentor's email>"] = a.email
				}
			}
		}
		if s, _ := dig(last, "acceptMatch", "match", "status").(string); strings.Contains(query, "acceptMatch") && s != "ACTIVE" {
			t.Fatalf("the accept: %v", last)
		}
	}
	if h, _ := dig(last, "cpdSummary", "totalHours").(float64); h != 1 {
		t.Fatalf("the walk-through ends with %v CPD hours, want 1", last)
	}
}

// dedent takes the README's list indentation off a block.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "   ")
	}
	return strings.Join(lines, "\n")
}

// Every command has its row in the README's table of commands, which
// starts with the command's name.
func TestREADMEDocumentsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(readme), "\n## Commands\n")
	if start < 0 {
		t.Fatal("the README has no Commands section")
	}
	section := string(readme)[start+1:]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	for _, c := range commands() {
		if !strings.Contains(section, "\n| `mentorship "+c.name+" ") && !strings.Contains(section, "\n| `mentorship "+c.name+"`") {
			t.Errorf("the README's table of commands lacks %s", c.name)
		}
	}
}
