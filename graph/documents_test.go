package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

var pdf = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

const uploadQuery = `mutation($in: UploadDocumentInput!) { uploadDocument(input: $in) { document { id name version contentType size downloadUrl } userErrors { code field message } } }`

// upload sends a GraphQL multipart request.
func (e *env) upload(token, matchID, name string, content []byte, preflight bool) response {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": uploadQuery, "variables": map[string]any{"in": map[string]any{"matchId": matchID, "file": nil}}})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"0": ["variables.in.file"]}`)
	part, _ := w.CreateFormFile("0", name)
	_, _ = part.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.url, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if preflight {
		req.Header.Set("Apollo-Require-Preflight", "true")
	}
	return e.send(req, token, false)
}

func (e *env) download(token, url string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(e.url, "/")+url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

func (e *env) blobCount() int {
	n := 0
	_ = filepath.WalkDir(e.blobDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(d.Name()) != ".attrs" {
			n++
		}
		return nil
	})
	return n
}

func TestDocuments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, otherTok := e.user(domain.RoleMentee, "Olive Other")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")
	matchID, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, matchID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	mid := gid(model.KindMatch, matchID)

	// Refused uploads store nothing and write nothing.
	before, blobsBefore := e.head(), e.blobCount()
	refused := []struct {
		name, token, file string
		content           []byte
		preflight         bool
		want              string
	}{
		{"no preflight header", menteeTok, "plan.pdf", pdf, false, "Apollo-Require-Preflight"},
		{"oversized", menteeTok, "big.pdf", append(append([]byte{}, pdf...), bytes.Repeat([]byte("x"), 20<<20)...), true, ""},
		{"wrong type", menteeTok, "run.exe", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + strings.Repeat("\x00", 100)), true, "not accepted"},
		{"traversal name", menteeTok, `..\..\windows\system.ini.pdf`, pdf, true, "INVALID_INPUT"},
		{"control characters in the name", menteeTok, "plan\x07.pdf", pdf, true, ""},
		{"another member", otherTok, "plan.pdf", pdf, true, "NOT_A_PARTNER"},
		{"staff", staffTok, "plan.pdf", pdf, true, "FORBIDDEN"},
		{"auditor", auditorTok, "plan.pdf", pdf, true, "FORBIDDEN"},
		{"anonymous", "", "plan.pdf", pdf, true, "UNAUTHENTICATED"},
	}
	for _, tc := range refused {
		r := e.upload(tc.token, mid, tc.file, tc.content, tc.preflight)
		if r.get("uploadDocument", "document") != nil || (tc.want != "" && !strings.Contains(string(r.raw), tc.want)) {
			t.Errorf("%s: %d %s", tc.name, r.Status, truncate(r.raw))
		}
		if r.Status == 200 && len(r.Errors) == 0 && r.get("uploadDocument", "userErrors", 0) == nil {
			t.Errorf("%s: accepted", tc.name)
		}
		if e.head() != before || e.blobCount() != blobsBefore {
			t.Fatalf("%s: the refused upload left events or bytes behind", tc.name)
		}
	}

	// A name with folders keeps only its last part: the multipart parser
	// drops the rest before the name reaches the API.
	r0 := e.upload(menteeTok, mid, "../../etc/notes.pdf", pdf, true)
	if r0.str("uploadDocument", "document", "name") != "notes.pdf" {
		t.Fatalf("a name with folders: %s", r0.raw)
	}
	e.ok(menteeTok, `mutation($id: ID!) { removeDocument(input: {documentId: $id}) { userErrors { code } } }`, map[string]any{"id": r0.str("uploadDocument", "document", "id")})

	// A partner uploads; the same name again is the next version.
	r := e.upload(menteeTok, mid, "plan.pdf", pdf, true)
	if r.str("uploadDocument", "document", "contentType") != "application/pdf" || r.get("uploadDocument", "document", "version") != float64(1) {
		t.Fatalf("upload: %s", r.raw)
	}
	url := r.str("uploadDocument", "document", "downloadUrl")
	docID := r.str("uploadDocument", "document", "id")
	r = e.upload(mentorTok, mid, "plan.pdf", append(append([]byte{}, pdf...), '\n'), true)
	if r.get("uploadDocument", "document", "version") != float64(2) {
		t.Fatalf("second version: %s", r.raw)
	}

	// Listing: partners and staff.
	for _, tc := range []struct {
		name, token string
		visible     bool
	}{{"mentee", menteeTok, true}, {"mentor", mentorTok, true}, {"staff", staffTok, true}, {"auditor", auditorTok, false}, {"other", otherTok, false}} {
		r := e.do(tc.token, `query($id: ID!) { match(id: $id) { documents { id } } }`, map[string]any{"id": mid})
		docs, _ := r.get("match", "documents").([]any)
		if tc.visible != (len(docs) == 2) {
			t.Errorf("list as %s: %s", tc.name, r.raw)
		}
	}
	// Download: partners and staff, as an attachment that is never sniffed.
	for _, tc := range []struct {
		name, token string
		want        int
	}{{"mentee", menteeTok, 200}, {"mentor", mentorTok, 200}, {"staff", staffTok, 200}, {"auditor", auditorTok, 404}, {"other", otherTok, 404}, {"anonymous", "", 401}} {
		code, h, body := e.download(tc.token, url)
		if code != tc.want {
			t.Errorf("download as %s: %d", tc.name, code)
		}
		if code == 200 && (!bytes.Equal(body, pdf) || h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment")) {
			t.Errorf("download as %s: headers %v", tc.name, h)
		}
	}
	// A removed document cannot be downloaded.
	e.ok(menteeTok, `mutation($id: ID!) { removeDocument(input: {documentId: $id}) { userErrors { code } } }`, map[string]any{"id": docID})
	if code, _, _ := e.download(menteeTok, url); code != 404 {
		t.Fatalf("download of a removed document: %d", code)
	}
	if code, _, _ := e.download(menteeTok, "/documents/"+gid(model.KindDocument, uuid.New())); code != 404 {
		t.Fatalf("download of an unknown document: %d", code)
	}
}
