package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
)

// GET /me/data answers "what do you hold about me?": the member's account,
// profile, matches with their history, own meeting logs with notes, and
// nothing another person wrote or keeps private.
func TestMyData(t *testing.T) {
	e := newEnv(t)
	mia, miaTok := e.user(domain.RoleMentee, "Mia Mentee")
	max, maxTok := e.user(domain.RoleMentor, "Max Mentor")
	e.ok(miaTok, `mutation { updateProfile(input: {biography: "Mia's own biography.", contact: {phone: "+1 403 555 0101", preferredMethod: PHONE}}) { userErrors { code } } }`, nil)
	e.ok(maxTok, `mutation { updateProfile(input: {biography: "Max's biography.", contact: {phone: "+1 403 555 0199", preferredMethod: PHONE}}) { userErrors { code } } }`, nil)
	ctx := context.Background()
	id, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mia}, max.ID, "Mia's request message")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: max}, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	today := e.clock.Now().Format("2006-01-02")
	for tok, notes := range map[string]string{miaTok: "Mia's private notes", maxTok: "Max's private notes"} {
		e.ok(tok, `mutation($in: AddSessionInput!) { addSession(input: $in) { userErrors { code } } }`,
			map[string]any{"in": map[string]any{"matchId": gid("Match", id), "date": today, "minutes": 30, "notes": notes}})
	}
	srv := httptest.NewServer(graph.Authenticate(e.authn, graph.MyDataHandler(e.resolver)))
	t.Cleanup(srv.Close)
	fetch := func(tok string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+graph.MyDataPath, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := fetch(miaTok)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	var doc struct {
		Account struct {
			ID         string
			LoginEmail string
		}
		Profile domain.Profile
		Matches []struct {
			Partner struct{ Name string }
			History []struct {
				Type string
				ByMe bool
			}
		}
		Sessions []struct{ Details domain.SessionDetails }
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if doc.Account.ID != mia.ID.String() || !strings.HasPrefix(doc.Account.LoginEmail, "mia-") || doc.Profile.Biography != "Mia's own biography." {
		t.Fatalf("account and profile: %s", body)
	}
	if len(doc.Matches) != 1 || doc.Matches[0].Partner.Name != "Max Mentor" || len(doc.Matches[0].History) < 2 || !doc.Matches[0].History[0].ByMe {
		t.Fatalf("matches: %s", body)
	}
	if len(doc.Sessions) != 1 || doc.Sessions[0].Details.Notes != "Mia's private notes" {
		t.Fatalf("sessions: %s", body)
	}
	for _, own := range []string{"Mia's request message", "+1 403 555 0101"} {
		if !strings.Contains(body, own) {
			t.Errorf("Mia's data lacks her own %q", own)
		}
	}
	for _, theirs := range []string{"Max's private notes", "+1 403 555 0199", "Max's biography."} {
		if strings.Contains(body, theirs) {
			t.Errorf("Mia's data holds Max's %q", theirs)
		}
	}
	// Max's data holds the match, not Mia's message or notes.
	_, body = fetch(maxTok)
	for _, theirs := range []string{"Mia's request message", "Mia's private notes", "+1 403 555 0101"} {
		if strings.Contains(body, theirs) {
			t.Errorf("Max's data holds Mia's %q", theirs)
		}
	}
	if !strings.Contains(body, "Max's private notes") {
		t.Error("Max's data lacks his own notes")
	}
	if resp, body := fetch(""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "UNAUTHENTICATED") {
		t.Fatalf("signed out: %d %s", resp.StatusCode, body)
	}
}
