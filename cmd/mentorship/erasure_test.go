package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// upload sends a document through the GraphQL multipart request.
func (c *client) upload(matchID, name string, content []byte) string {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($in: UploadDocumentInput!) { uploadDocument(input: $in) { document { id } userErrors { code message } } }`,
		"variables": map[string]any{"in": map[string]any{"matchId": matchID, "file": nil}},
	})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"0": ["variables.in.file"]}`)
	part, _ := w.CreateFormFile("0", name)
	_, _ = part.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.url+"/graphql", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Apollo-Require-Preflight", "true")
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out struct {
		Data struct {
			UploadDocument struct {
				Document *struct{ ID string }
			}
		}
	}
	_ = json.Unmarshal(b, &out)
	if out.Data.UploadDocument.Document == nil {
		c.t.Fatalf("upload: %s", b)
	}
	return out.Data.UploadDocument.Document.ID
}

// getAs fetches a path of the server with the client's token.
func (c *client) getAs(path string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// findInDir lists the files under dir that hold any of texts, as stored
// (the log, snapshots, keys, accounts, outbox, mailbox, documents).
func findInDir(t *testing.T, dir string, texts []string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range texts {
			if bytes.Contains(b, []byte(s)) {
				rel, _ := filepath.Rel(dir, path)
				hits = append(hits, rel+": "+s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// Erasing a member who had a match, sessions, a document and emails leaves
// none of their personal data in any file of the data directory, while
// verify still passes, replay rebuilds, and the partner keeps the match,
// its history and the CPD hours, with the member shown as erased.
func TestErasureLeavesNoPersonalDataInTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	createOperator(t, dir, "staff", "staff@example.org")
	ts := startServer(t, dir)

	// What identifies the member, and what they wrote: none of it may
	// stay in the clear.
	personal := []string{
		"Zephyrine", "Quillfeather", "zephyrine.q@example.org", "zq.home@example.org", "613 555 0199",
		"permafrost", "glaciology", "tundra thesis", "zephyrine-plan", "Bonjour from the north",
		"THE DOCUMENT BYTES OF ZQ",
	}
	mentee := &client{t: t, url: ts.URL}
	mentor := &client{t: t, url: ts.URL}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Zephyrine Quillfeather", email: "zephyrine.q@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	menteeID := dig(d, "registerMentee", "viewer", "id").(string)
	d = mentor.gql(`mutation { registerMentor(input: {name: "Grace Hopper", email: "grace@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	mentor.token = dig(d, "registerMentor", "token").(string)
	mentorID := dig(d, "registerMentor", "viewer", "id").(string)
	mentee.gql(`mutation { updateProfile(input: {biography: "Glaciology and permafrost hydrology.", contact: {email: "zq.home@example.org", phone: "+1 613 555 0199"}}) { userErrors { code } } }`, nil)

	d = mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "Bonjour from the north"}) { match { id } userErrors { code } } }`, map[string]any{"m": mentorID})
	matchID := dig(d, "requestMatch", "match", "id").(string)
	mentor.gql(`mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { status } userErrors { code } } }`, map[string]any{"id": matchID})
	today := time.Now().UTC().Format("2006-01-02")
	mentee.gql(`mutation($id: ID!, $d: Date!) { addSession(input: {matchId: $id, date: $d, minutes: 45, notes: "my tundra thesis worries"}) { session { id } userErrors { code } } }`, map[string]any{"id": matchID, "d": today})
	mentor.gql(`mutation($id: ID!, $d: Date!) { addSession(input: {matchId: $id, date: $d, minutes: 90, notes: "mentor's own notes"}) { session { id } userErrors { code } } }`, map[string]any{"id": matchID, "d": today})
	mentee.upload(matchID, "zephyrine-plan.txt", []byte("THE DOCUMENT BYTES OF ZQ"))
	mentee.gql(`mutation { requestAccountClosure(input: {note: "Moving to the tundra thesis lab"}) { userErrors { code } } }`, nil)

	staff := &client{t: t, url: ts.URL}
	staff.login("Staff", "staff@example.org")
	// An active match keeps the member: end it first.
	code, res := postGraphQL(t, ts.URL, `mutation($id: ID!) { eraseMember(input: {memberId: $id, reason: "asked to close the account"}) { userErrors { code } } }`,
		map[string]any{"id": menteeID}, http.Header{"Authorization": {"Bearer " + staff.token}})
	if code != 200 || !strings.Contains(string(res.Data), "MEMBER_HAS_OPEN_MATCH") {
		t.Fatalf("erasing a member with an active match: %d %s %v", code, res.Data, res.Errors)
	}
	staff.gql(`mutation($id: ID!, $by: ID!) { endMatch(input: {matchId: $id, reason: "GRACEFUL_EXIT", requestedBy: $by, note: "Zephyrine moves north"}) { userErrors { code } } }`,
		map[string]any{"id": matchID, "by": menteeID})
	// The emails of the match reach the mailbox before the erasure.
	deadline := time.Now().Add(10 * time.Second)
	for len(findInDir(t, filepath.Join(dir, "mailbox"), []string{"zephyrine.q@example.org"})) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no email to the member reached the mailbox")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if hits := findInDir(t, dir, personal); len(hits) == 0 {
		t.Fatal("before the erasure the member's data is nowhere in the clear: the test would prove nothing")
	}

	d = staff.gql(`mutation($id: ID!) { eraseMember(input: {memberId: $id, reason: "asked to close the account"}) { member { name erased } userErrors { code } } }`, map[string]any{"id": menteeID})
	if dig(d, "eraseMember", "member", "erased") != true || dig(d, "eraseMember", "member", "name") != "erased member" {
		t.Fatalf("erase: %v", d)
	}
	code, res = postGraphQL(t, ts.URL, `{ viewer { id } }`, nil, http.Header{"Authorization": {"Bearer " + mentee.token}})
	if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
		t.Fatalf("the erased member's session still works: %d %s", code, res.Data)
	}
	// The partner keeps the match, its history and the hours.
	d = mentor.gql(`query($id: ID!) { match(id: $id) { status mentee { name erased } } cpdSummary { totalHours } }`, map[string]any{"id": matchID})
	if dig(d, "match", "status") != "ENDED" || dig(d, "match", "mentee", "erased") != true || dig(d, "match", "mentee", "name") != "erased member" {
		t.Fatalf("the partner's view of the match: %v", d)
	}
	if dig(d, "cpdSummary", "totalHours") != 1.5 {
		t.Fatalf("the partner's CPD: %v", d)
	}
	status, body := mentor.getAs("/me/data")
	if status != 200 || !strings.Contains(strings.ReplaceAll(string(body), " ", ""), `"erased":true`) || !strings.Contains(string(body), "erased member") {
		t.Fatalf("the partner's own data: %d %s", status, body)
	}
	for _, s := range personal {
		if strings.Contains(string(body), s) {
			t.Errorf("the partner's own data still shows %q", s)
		}
	}
	ts.Stop(t)

	if hits := findInDir(t, dir, personal); len(hits) > 0 {
		t.Errorf("after the erasure, the data directory still holds the member's data in the clear:\n%s", strings.Join(hits, "\n"))
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"verify", "--data-dir", dir}, func(string) string { return "" }, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("verify after the erasure: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"replay", "--data-dir", dir}, func(string) string { return "" }, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("replay after the erasure: %v\n%s", err, out.String())
	}
	// The rebuilt server agrees: the member is erased, the partner keeps
	// the match and the hours.
	ts = startServer(t, dir)
	mentor.url = ts.URL
	mentor.login("Mentor", "grace@example.org")
	d = mentor.gql(`query($id: ID!) { match(id: $id) { status message mentee { name erased } } cpdSummary { totalHours } }`, map[string]any{"id": matchID})
	if dig(d, "match", "mentee", "name") != "erased member" || dig(d, "match", "message") != nil || dig(d, "cpdSummary", "totalHours") != 1.5 {
		t.Fatalf("after a restart: %v", d)
	}
}

// Production, and several instances on KurrentDB, refuse to start without
// a master key given to the server: a key generated into each data
// directory would sit beside the data, and differ between instances.
func TestMasterKeyIsRequiredInProductionAndOnKurrentDB(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--env", "production", "--demo=false"}, "production needs --master-key-url"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--kurrentdb-url", "esdb://127.0.0.1:1?tls=false", "--demo=false"}, "share one master key"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := run(ctx, tc.args, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

// A log written before personal data was sealed is not served (its new
// events would be sealed among old ones in the clear) but can still be
// read: replay and export read it as it is.
func TestALogWrittenBeforeSealingIsNotServed(t *testing.T) {
	dir := writeOldDataDir(t).dir
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--demo=false"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "mentorship migrate") {
		t.Fatalf("serving a log written before sealing: %v", err)
	}
	if out, _, err := runCommand("replay", "--data-dir", dir); err != nil {
		t.Fatalf("replay of a log written before sealing: %v\n%s", err, out)
	}
}
