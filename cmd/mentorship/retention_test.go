package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/graph/model"
)

// memberID returns the member ID of a signed-in client's account.
func memberID(t *testing.T, c *client) string {
	t.Helper()
	id, _ := dig(c.gql(`{ viewer { member { id } } }`, nil), "viewer", "member", "id").(string)
	if id == "" {
		t.Fatal("the viewer has no member")
	}
	return id
}

// The retention rule in the real server, restarted later with a clock
// offset, as an operator would watch it: a year after registering, the
// members who never had a match and never signed in again are erased by
// the program, with every erase step (their credentials no longer sign
// in); a member who signed in half a year later, and the partners of a
// request still pending, are not.
func TestRetentionInTheServer(t *testing.T) {
	dir := t.TempDir()
	createOperator(t, dir, "staff", "staff@example.org")
	program := filepath.Join(t.TempDir(), "program.yaml")
	if err := os.WriteFile(program, []byte("retentionYears: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	serve := func(offset time.Duration) *testServer {
		return startServerLogging(t, dir, &logs, "--program-file", program, "--clock-offset", offset.String(), "--signup-limit", "off", "--log-level", "info")
	}

	ts := serve(0)
	ada, _, grace := signUp(t, ts.URL, "Ada Lovelace", "Grace Hopper")
	bob, _, linus := signUp(t, ts.URL, "Bob Builder", "Linus Pauling")
	carl, mae, _ := pair(t, ts.URL, "Carl Sagan", "Mae Jemison")
	ids := map[string]string{
		"ada": memberID(t, ada), "grace": grace, "bob": memberID(t, bob), "linus": linus,
		"carl": memberID(t, carl), "mae": memberID(t, mae),
	}
	ts.Stop(t)

	// Half a year on, Bob signs in.
	ts = serve(183 * 24 * time.Hour)
	(&client{t: t, url: ts.URL}).login("Mentee", "bob@example.org")
	ts.Stop(t)

	// A year and a few days on, the rule has erased whom it should.
	ts = serve(370 * 24 * time.Hour)
	staff := &client{t: t, url: ts.URL}
	staff.login("Staff", "staff@example.org")
	erased := func(name string) bool {
		d := staff.gql(`query($id: ID!) { node(id: $id) { ... on Member { erased } } }`, map[string]any{"id": ids[name]})
		return dig(d, "node", "erased") == true
	}
	due := []string{"ada", "grace", "linus"}
	deadline := time.Now().Add(20 * time.Second)
	for !erased("ada") || !erased("grace") || !erased("linus") {
		if time.Now().After(deadline) {
			t.Fatal("the members due were not erased within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name := range ids {
		if got := erased(name); got != slices.Contains(due, name) {
			t.Errorf("%s erased: %v", name, got)
		}
	}
	// The erase steps ran: Ada's credentials are gone.
	code, r := postGraphQL(t, ts.URL, `mutation { loginMentee(input: {email: "ada@example.org", password: "`+storyPassword+`"}) { token userErrors { code } } }`, nil, nil)
	if code != 200 || len(r.Errors) > 0 || string(r.Data) != `{"loginMentee":{"token":null,"userErrors":[{"code":"INVALID_CREDENTIALS"}]}}` {
		t.Errorf("Ada's sign-in after the erasure: %d %s %v", code, r.Data, r.Errors)
	}
	ts.Stop(t)
	ran := 0
	for line := range strings.Lines(logs.String()) {
		var l struct{ Rule, Message string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if l.Rule == "retention" {
			if l.Message != "time rule ran" {
				t.Errorf("the rule logged %s", line)
			}
			ran++
		}
	}
	if ran != len(due) {
		t.Errorf("the rule ran %d times, want %d:\n%s", ran, len(due), logs.String())
	}

	// The log holds one MemberErased per member due, the program's.
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, gid := range ids {
		_, id, err := model.ParseGlobalID(gid)
		if err != nil {
			t.Fatal(err)
		}
		erasures := memberErasures(t, s, id)
		if !slices.Contains(due, name) {
			if len(erasures) > 0 {
				t.Errorf("%s was erased: %+v", name, erasures)
			}
			continue
		}
		if len(erasures) != 1 {
			t.Fatalf("%s: %d erasures in the log", name, len(erasures))
		}
		e := erasures[0]
		if e.ActorRole != domain.RoleSystem || e.ErasedBy != uuid.Nil || e.Reason != "retention: 1 year without a match or a sign-in" {
			t.Errorf("%s erased with %+v", name, e)
		}
	}
}

// memberErasures returns the MemberErased events of a member's stream.
func memberErasures(t *testing.T, s eventstore.Store, id uuid.UUID) []domain.MemberErased {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), domain.MemberStream(id), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.MemberErased
	for _, r := range recs {
		if r.Type != "MemberErased" {
			continue
		}
		ev, err := domain.Decode(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.(domain.MemberErased))
		if r.Metadata.ActorRole != string(domain.RoleSystem) {
			t.Errorf("member %s erased by %s", id, r.Metadata.ActorRole)
		}
	}
	return out
}
