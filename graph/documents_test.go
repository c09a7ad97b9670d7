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
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
)

var pdf = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

const uploadQuery = `mutation($in: UploadDocumentInput!) { uploadDocument(input: $in) { document { id name version contentType size downloadUrl } userErrors { code field message } } }`

const removeQuery = `mutation($id: ID!) { removeDocument(input: {documentId: $id}) { document { id removed } userErrors { code field message } } }`

const listQuery = `query($id: ID!) { match(id: $id) { documents { id } } }`

const nodeQuery = `query($id: ID!) { node(id: $id) { id ... on Document { name removed } } }`

// upload sends a GraphQL multipart request.
func (e *env) upload(token, matchID, name string, content []byte, preflight bool) response {
	e.t.Helper()
	return e.uploadWithID(token, matchID, name, content, preflight, "")
}

// uploadWithID sends an upload with a clientMutationId, unless it is empty.
func (e *env) uploadWithID(token, matchID, name string, content []byte, preflight bool, clientMutationID string) response {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	in := map[string]any{"matchId": matchID, "file": nil}
	if clientMutationID != "" {
		in["clientMutationId"] = clientMutationID
	}
	ops, _ := json.Marshal(map[string]any{"query": uploadQuery, "variables": map[string]any{"in": in}})
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

// outcome is what a test expects of an operation: a userError code (and
// field, when one is named), or a GraphQL error code, or success.
type outcome struct {
	user, field, gql string
}

func userError(code, field string) outcome { return outcome{user: code, field: field} }
func graphqlError(code string) outcome     { return outcome{gql: code} }

// check compares a mutation's response with the expected outcome exactly.
func (o outcome) check(t *testing.T, what string, r response, payload string) {
	t.Helper()
	gotUser, _ := r.get(payload, "userErrors", 0, "code").(string)
	gotField, _ := r.get(payload, "userErrors", 0, "field").(string)
	switch {
	case o.gql != "":
		if r.code() != o.gql {
			t.Errorf("%s: want error %s, got %d %s", what, o.gql, r.Status, truncate(r.raw))
		}
	case o.user != "":
		if len(r.Errors) > 0 || gotUser != o.user || (o.field != "" && gotField != o.field) {
			t.Errorf("%s: want userError %s on %q, got %d %s", what, o.user, o.field, r.Status, truncate(r.raw))
		}
	default:
		if len(r.Errors) > 0 || gotUser != "" {
			t.Errorf("%s: want success, got %d %s", what, r.Status, truncate(r.raw))
		}
	}
}

// documentsEnv is a match between a mentee and a mentor with the members
// around it who must not touch its documents.
type documentsEnv struct {
	*env
	mentee, mentor, staff                                domain.Actor
	menteeTok, mentorTok, otherMenteeTok, otherMentorTok string
	staffTok, auditorTok                                 string
	matchID                                              uuid.UUID
	mid                                                  string
}

func newDocumentsEnv(t *testing.T, e *env) *documentsEnv {
	t.Helper()
	d := &documentsEnv{env: e}
	d.mentee, d.menteeTok = e.user(domain.RoleMentee, "Mia Mentee")
	d.mentor, d.mentorTok = e.user(domain.RoleMentor, "Max Mentor")
	_, d.otherMenteeTok = e.user(domain.RoleMentee, "Olive Other")
	_, d.otherMentorTok = e.user(domain.RoleMentor, "Oscar Other")
	d.staff, d.staffTok = e.user(domain.RoleStaff, "Sam Staff")
	_, d.auditorTok = e.user(domain.RoleAuditor, "Alex Auditor")
	ctx := context.Background()
	matchID, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: d.mentee}, d.mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: d.mentor}, matchID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	d.matchID, d.mid = matchID, gid(model.KindMatch, matchID)
	return d
}

// listed returns how many documents the match lists for token, or -1 when
// the list is null.
func (d *documentsEnv) listed(token string) int {
	d.t.Helper()
	r := d.do(token, listQuery, map[string]any{"id": d.mid})
	docs, ok := r.get("match", "documents").([]any)
	if !ok {
		return -1
	}
	return len(docs)
}

func TestDocuments(t *testing.T) {
	d := newDocumentsEnv(t, newEnv(t))
	e := d.env

	// Refused uploads store nothing and write nothing, each with its own
	// exact code.
	before, blobsBefore := e.head(), e.blobCount()
	refused := []struct {
		name, token, file string
		content           []byte
		want              outcome
	}{
		{"oversized", d.menteeTok, "big.pdf", append(append([]byte{}, pdf...), bytes.Repeat([]byte("x"), 20<<20)...), userError("INVALID_INPUT", "file")},
		{"wrong type", d.menteeTok, "run.exe", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + strings.Repeat("\x00", 100)), userError("INVALID_INPUT", "file")},
		{"traversal name", d.menteeTok, `..\..\windows\system.ini.pdf`, pdf, userError("INVALID_INPUT", "file")},
		{"a tab in the name", d.menteeTok, "plan\t.pdf", pdf, userError("INVALID_INPUT", "file")},
		{"a control character beyond ASCII in the name", d.menteeTok, "plan\u0085.pdf", pdf, userError("INVALID_INPUT", "file")},
		{"another mentee", d.otherMenteeTok, "plan.pdf", pdf, userError("NOT_A_PARTNER", "matchId")},
		{"another mentor", d.otherMentorTok, "plan.pdf", pdf, userError("NOT_A_PARTNER", "matchId")},
		{"staff", d.staffTok, "plan.pdf", pdf, graphqlError("FORBIDDEN")},
		{"auditor", d.auditorTok, "plan.pdf", pdf, graphqlError("FORBIDDEN")},
		{"anonymous", "", "plan.pdf", pdf, graphqlError("UNAUTHENTICATED")},
	}
	for _, tc := range refused {
		r := e.upload(tc.token, d.mid, tc.file, tc.content, true)
		tc.want.check(t, "upload: "+tc.name, r, "uploadDocument")
		if r.get("uploadDocument", "document") != nil {
			t.Errorf("upload: %s: a document came back: %s", tc.name, r.raw)
		}
		if e.head() != before || e.blobCount() != blobsBefore {
			t.Fatalf("upload: %s: the refused upload left events or bytes behind", tc.name)
		}
	}
	// An ASCII control character other than a tab cannot even travel in
	// the part's header: the multipart parser refuses the whole request.
	if r := e.upload(d.menteeTok, d.mid, "plan\x07.pdf", pdf, true); r.Status != http.StatusUnprocessableEntity || len(r.Errors) == 0 || r.get("uploadDocument") != nil {
		t.Errorf("upload: a bell in the name: %d %s", r.Status, r.raw)
	}
	// Without the preflight header a foreign page could post the form: the
	// request is refused before it reaches the API.
	r := e.upload(d.menteeTok, d.mid, "plan.pdf", pdf, false)
	if r.Status != http.StatusBadRequest || r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "Apollo-Require-Preflight") {
		t.Errorf("upload without preflight: %d %s", r.Status, r.raw)
	}
	if e.head() != before || e.blobCount() != blobsBefore {
		t.Fatal("an unparsed upload left events or bytes behind")
	}

	// A name with folders keeps only its last part: the multipart parser
	// drops the rest before the name reaches the API.
	r0 := e.upload(d.menteeTok, d.mid, "../../etc/notes.pdf", pdf, true)
	if r0.str("uploadDocument", "document", "name") != "notes.pdf" {
		t.Fatalf("a name with folders: %s", r0.raw)
	}
	e.ok(d.menteeTok, removeQuery, map[string]any{"id": r0.str("uploadDocument", "document", "id")})

	// A partner uploads; the same name again is the next version.
	r = e.upload(d.menteeTok, d.mid, "plan.pdf", pdf, true)
	if r.str("uploadDocument", "document", "contentType") != "application/pdf" || r.get("uploadDocument", "document", "version") != float64(1) {
		t.Fatalf("upload: %s", r.raw)
	}
	url := r.str("uploadDocument", "document", "downloadUrl")
	docID := r.str("uploadDocument", "document", "id")
	r = e.upload(d.mentorTok, d.mid, "plan.pdf", append(append([]byte{}, pdf...), '\n'), true)
	if r.get("uploadDocument", "document", "version") != float64(2) {
		t.Fatalf("second version: %s", r.raw)
	}
	mentorDocID := r.str("uploadDocument", "document", "id")

	// Listing and node(id:): partners and staff.
	viewers := []struct {
		name, token string
		visible     bool
	}{
		{"mentee", d.menteeTok, true}, {"mentor", d.mentorTok, true}, {"staff", d.staffTok, true},
		{"auditor", d.auditorTok, false}, {"other mentee", d.otherMenteeTok, false}, {"other mentor", d.otherMentorTok, false},
	}
	for _, tc := range viewers {
		if n := d.listed(tc.token); tc.visible != (n == 2) || (!tc.visible && n != -1) {
			t.Errorf("list as %s: %d documents", tc.name, n)
		}
		r := e.do(tc.token, nodeQuery, map[string]any{"id": docID})
		if len(r.Errors) > 0 || tc.visible != (r.str("node", "id") == docID) || (tc.visible && r.str("node", "name") != "plan.pdf") {
			t.Errorf("node as %s: %s", tc.name, r.raw)
		}
	}
	if r := e.do("", listQuery, map[string]any{"id": d.mid}); r.code() != "UNAUTHENTICATED" || r.get("match") != nil {
		t.Errorf("list as anonymous: %s", r.raw)
	}
	if r := e.do("", nodeQuery, map[string]any{"id": docID}); r.code() != "UNAUTHENTICATED" || r.get("node") != nil {
		t.Errorf("node as anonymous: %s", r.raw)
	}

	// Download: partners and staff, as an attachment that is never sniffed.
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"mentee", d.menteeTok, 200}, {"mentor", d.mentorTok, 200}, {"staff", d.staffTok, 200}, {"auditor", d.auditorTok, 404},
		{"other mentee", d.otherMenteeTok, 404}, {"other mentor", d.otherMentorTok, 404}, {"anonymous", "", 401},
	} {
		code, h, body := e.download(tc.token, url)
		if code != tc.want {
			t.Errorf("download as %s: %d", tc.name, code)
		}
		if code == 200 && (!bytes.Equal(body, pdf) || h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment")) {
			t.Errorf("download as %s: headers %v", tc.name, h)
		}
	}

	// Removing: only the partners; others find nothing or are refused.
	before = e.head()
	for _, tc := range []struct {
		name, token string
		want        outcome
	}{
		{"other mentee", d.otherMenteeTok, userError("DOCUMENT_NOT_FOUND", "documentId")},
		{"other mentor", d.otherMentorTok, userError("DOCUMENT_NOT_FOUND", "documentId")},
		{"staff", d.staffTok, graphqlError("FORBIDDEN")},
		{"auditor", d.auditorTok, graphqlError("FORBIDDEN")},
		{"anonymous", "", graphqlError("UNAUTHENTICATED")},
	} {
		tc.want.check(t, "remove as "+tc.name, e.do(tc.token, removeQuery, map[string]any{"id": docID}), "removeDocument")
	}
	if e.head() != before {
		t.Fatal("a refused removal wrote events")
	}
	// The partner who did not upload a version may remove it.
	r = e.ok(d.mentorTok, removeQuery, map[string]any{"id": docID})
	if r.get("removeDocument", "document", "removed") != true {
		t.Fatalf("the mentor removes the mentee's version: %s", r.raw)
	}
	// A removed document cannot be downloaded, and is no longer listed, but
	// node(id:) still finds it, marked removed.
	if code, _, _ := e.download(d.menteeTok, url); code != 404 {
		t.Fatalf("download of a removed document: %d", code)
	}
	if n := d.listed(d.menteeTok); n != 1 {
		t.Fatalf("list after a removal: %d documents", n)
	}
	if r := e.ok(d.menteeTok, nodeQuery, map[string]any{"id": docID}); r.get("node", "removed") != true {
		t.Fatalf("node of a removed document: %s", r.raw)
	}
	if code, _, _ := e.download(d.menteeTok, "/documents/"+gid(model.KindDocument, uuid.New())); code != 404 {
		t.Fatalf("download of an unknown document: %d", code)
	}
	if r := e.ok(d.menteeTok, nodeQuery, map[string]any{"id": gid(model.KindDocument, uuid.New())}); r.get("node") != nil {
		t.Fatalf("node of an unknown document: %s", r.raw)
	}
	// The uploader removes their own version.
	e.ok(d.mentorTok, removeQuery, map[string]any{"id": mentorDocID})
}

// When a match ends its documents become read-only for the partners, or
// hidden from them when the program says so; staff see them either way.
func TestDocumentsOfAnEndedMatch(t *testing.T) {
	for _, setting := range []domain.EndedMatchDocuments{domain.EndedMatchDocumentsReadOnly, domain.EndedMatchDocumentsHidden} {
		t.Run(string(setting), func(t *testing.T) {
			e := buildEnvWith(t, false, func(r *graph.Resolver) {
				p := domain.DefaultProgram()
				p.EndedMatchDocuments = setting
				svc, err := command.New(r.Store, p, r.Clock, command.Options{})
				if err != nil {
					t.Fatal(err)
				}
				r.Commands = svc
			})
			d := newDocumentsEnv(t, e)
			r := e.upload(d.menteeTok, d.mid, "plan.pdf", pdf, true)
			docID, url := r.str("uploadDocument", "document", "id"), r.str("uploadDocument", "document", "downloadUrl")
			if docID == "" {
				t.Fatalf("upload: %s", r.raw)
			}
			res, err := e.svc.EndMatch(context.Background(), command.Request{Actor: d.staff}, d.matchID, "GOALS_CONCLUDED", d.mentee.ID, "Goals met")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.runner.WaitForDefault(context.Background(), res.Position); err != nil {
				t.Fatal(err)
			}
			if r := e.ok(d.menteeTok, `{ programOptions { endedMatchDocuments } }`, nil); r.str("programOptions", "endedMatchDocuments") != string(setting) {
				t.Errorf("programOptions: %s", r.raw)
			}

			// Nobody adds or removes documents on an ended match.
			before, blobsBefore := e.head(), e.blobCount()
			r = e.upload(d.mentorTok, d.mid, "notes.pdf", append(append([]byte{}, pdf...), 'x'), true)
			userError("TERMINAL_STATE", "matchId").check(t, "upload after the end", r, "uploadDocument")
			wantRemove := userError("TERMINAL_STATE", "")
			if setting == domain.EndedMatchDocumentsHidden {
				wantRemove = userError("DOCUMENT_NOT_FOUND", "documentId")
			}
			wantRemove.check(t, "remove after the end", e.do(d.mentorTok, removeQuery, map[string]any{"id": docID}), "removeDocument")
			if e.head() != before || e.blobCount() != blobsBefore {
				t.Fatal("a refused change to an ended match's documents left events or bytes behind")
			}

			// Partners read them only when read-only; staff always do.
			partners := setting == domain.EndedMatchDocumentsReadOnly
			for _, tc := range []struct {
				name, token string
				visible     bool
			}{{"mentee", d.menteeTok, partners}, {"mentor", d.mentorTok, partners}, {"staff", d.staffTok, true}, {"other mentee", d.otherMenteeTok, false}} {
				wantList, wantCode := -1, 404
				if tc.visible {
					wantList, wantCode = 1, 200
				}
				if n := d.listed(tc.token); n != wantList {
					t.Errorf("list as %s: %d documents, want %d", tc.name, n, wantList)
				}
				if code, _, body := e.download(tc.token, url); code != wantCode || (code == 200 && !bytes.Equal(body, pdf)) {
					t.Errorf("download as %s: %d, want %d", tc.name, code, wantCode)
				}
				r := e.do(tc.token, nodeQuery, map[string]any{"id": docID})
				if len(r.Errors) > 0 || tc.visible != (r.str("node", "id") == docID) {
					t.Errorf("node as %s: %s", tc.name, r.raw)
				}
			}
		})
	}
}

// An upload whose record is refused after its bytes were stored (here the
// same clientMutationId sent again with other contents) leaves no bytes
// behind, yet never deletes bytes another document points at.
func TestRefusedUploadCleansUpOnlyItsOwnBytes(t *testing.T) {
	d := newDocumentsEnv(t, newEnv(t))
	e := d.env
	r := e.uploadWithID(d.menteeTok, d.mid, "plan.pdf", pdf, true, "u1")
	if r.str("uploadDocument", "document", "id") == "" {
		t.Fatalf("upload: %s", r.raw)
	}
	other := append(append([]byte{}, pdf...), []byte("% another\n")...)

	// New bytes under the used ID: refused, and the bytes go again.
	before, blobsBefore := e.head(), e.blobCount()
	r = e.uploadWithID(d.menteeTok, d.mid, "plan.pdf", other, true, "u1")
	userError("DOCUMENT_EXISTS", "").check(t, "other bytes under a used ID", r, "uploadDocument")
	if e.head() != before || e.blobCount() != blobsBefore {
		t.Fatalf("the refused upload left %d events and %d files", e.head()-before, e.blobCount()-blobsBefore)
	}

	// Bytes another document holds under the used ID: refused, and the
	// bytes stay for the document that holds them.
	r = e.upload(d.mentorTok, d.mid, "other.pdf", other, true)
	url := r.str("uploadDocument", "document", "downloadUrl")
	if url == "" {
		t.Fatalf("upload: %s", r.raw)
	}
	before, blobsBefore = e.head(), e.blobCount()
	r = e.uploadWithID(d.menteeTok, d.mid, "plan.pdf", other, true, "u1")
	userError("DOCUMENT_EXISTS", "").check(t, "shared bytes under a used ID", r, "uploadDocument")
	if e.head() != before || e.blobCount() != blobsBefore {
		t.Fatal("the refused upload changed events or files")
	}
	if code, _, body := e.download(d.mentorTok, url); code != 200 || !bytes.Equal(body, other) {
		t.Fatalf("the other document's bytes: %d", code)
	}
}

// An erased member's documents are gone with them (the erasure deletes
// their bytes): their partner and staff see them as removed, not as live
// versions without a name whose download fails, while the partner's own
// documents stay.
func TestDocumentsOfAnErasedMember(t *testing.T) {
	d := newDocumentsEnv(t, newEnv(t))
	e := d.env
	ctx := context.Background()
	menteeDoc := e.upload(d.menteeTok, d.mid, "my plan.pdf", pdf, true).str("uploadDocument", "document", "id")
	r := e.upload(d.mentorTok, d.mid, "notes.pdf", append(append([]byte{}, pdf...), 'x'), true)
	mentorDoc, mentorURL := r.str("uploadDocument", "document", "id"), r.str("uploadDocument", "document", "downloadUrl")
	if menteeDoc == "" || mentorDoc == "" {
		t.Fatalf("uploads: %s", r.raw)
	}
	if _, err := e.svc.EndMatch(ctx, command.Request{Actor: d.staff}, d.matchID, "GOALS_CONCLUDED", d.mentee.ID, "Goals met"); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.EraseMember(ctx, command.Request{Actor: d.staff}, d.mentee.ID, "asked to close the account")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	for who, tok := range map[string]string{"the partner": d.mentorTok, "staff": d.staffTok} {
		r := e.ok(tok, `query($id: ID!) { match(id: $id) { documents { id removed } } }`, map[string]any{"id": d.mid})
		docs, _ := r.get("match", "documents").([]any)
		if len(docs) != 1 || r.str("match", "documents", 0, "id") != mentorDoc || r.get("match", "documents", 0, "removed") != false {
			t.Errorf("%s lists: %s", who, r.raw)
		}
		r = e.ok(tok, `query($id: ID!) { node(id: $id) { ... on Document { name removed downloadUrl } } }`, map[string]any{"id": menteeDoc})
		if r.get("node", "removed") != true || r.str("node", "name") != "" {
			t.Errorf("%s sees the erased member's document as: %s", who, r.raw)
		}
		if code, _, _ := e.download(tok, r.str("node", "downloadUrl")); code != http.StatusNotFound {
			t.Errorf("%s downloads the erased member's document: %d", who, code)
		}
		if code, _, _ := e.download(tok, mentorURL); code != http.StatusOK {
			t.Errorf("%s downloads the partner's own document: %d", who, code)
		}
	}
}
