package graph_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

// nodeClients returns the folder of the Node client tests with its
// packages installed (npm ci on first use), or stops the test: it fails
// in CI, where .ci/run installs Node, and skips elsewhere.
func nodeClients(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	missing := func(what string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: the client tests need Node.js and npm", what)
		}
		t.Skipf("%s: the client tests need Node.js and npm", what)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("no node")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@apollo", "client")); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			missing("no npm")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	return dir
}

// Apollo Client 4 with graphql-ws, as a React app uses them, against the
// server: pushed subscription results update cached queries without any
// type policies (the dashboard by its fixed id, a match by its id from
// matchEvents), and a bad token reads as a GraphQL error with its code.
func TestRealClientsUpdateTheirCaches(t *testing.T) {
	dir := nodeClients(t)
	e := newEnv(t)
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "apollo.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "API_URL="+e.url, "STAFF="+staffTok, "MENTEE="+menteeTok, "MENTOR="+mentorTok,
		"MENTOR_ID="+model.GlobalID(model.KindMember, mentor.ID))
	raw, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node: %v\n%s\n%s", err, raw, stderr)
	}
	var got struct {
		Error           string
		DashboardBefore struct {
			ID      string
			Pending int
		}
		DashboardAfter struct {
			ID      string
			Pending int
		}
		DashboardMs  int
		MatchBefore  string
		MatchAfter   string
		MatchMs      int
		AcceptErrors []any
		BadToken     json.RawMessage
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if got.Error != "" {
		t.Fatalf("the client failed: %s", got.Error)
	}
	if got.DashboardBefore.ID != "dashboard" || got.DashboardAfter.Pending != got.DashboardBefore.Pending+1 {
		t.Errorf("the dashboard: %+v then %+v", got.DashboardBefore, got.DashboardAfter)
	}
	if got.MatchBefore != "PENDING" || got.MatchAfter != "ACTIVE" || len(got.AcceptErrors) != 0 {
		t.Errorf("the match: %s then %s (%v)", got.MatchBefore, got.MatchAfter, got.AcceptErrors)
	}
	var bad struct{ Code, Message string }
	if err := json.Unmarshal(got.BadToken, &bad); err != nil || bad.Code != "UNAUTHENTICATED" {
		t.Errorf("a bad token: %s", got.BadToken)
	}
	t.Logf("pushed dashboard in the watched query after %d ms, pushed match after %d ms", got.DashboardMs, got.MatchMs)
}
