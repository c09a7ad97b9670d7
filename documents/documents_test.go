package documents_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/documents"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/refusal"
)

var pdf = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// program is an active match on a real store, with the uploads over it.
type program struct {
	store          eventstore.Store
	svc            *command.Service
	blobs          *blob.Store
	blobDir        string
	docs           *documents.Service
	match          uuid.UUID
	mentee, mentor domain.Actor
}

func newProgram(t *testing.T) *program {
	t.Helper()
	ctx := context.Background()
	store, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc, err := command.New(store, domain.DefaultProgram(), clock.NewFake(time.Date(2026, 4, 6, 15, 0, 0, 0, time.UTC)), command.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := &program{store: store, svc: svc, blobDir: t.TempDir()}
	p.blobs, err = blob.Open(ctx, blob.DefaultURL(p.blobDir), svc.Program().DocumentContentTypes, svc.Program().Limits.DocumentSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.blobs.Close() })
	p.docs = documents.New(svc, p.blobs, zerolog.Nop())
	p.mentee, p.mentor = p.member(t, domain.RoleMentee), p.member(t, domain.RoleMentor)
	if p.match, _, err = svc.RequestMatch(ctx, command.Request{Actor: p.mentee}, p.mentor.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptMatch(ctx, command.Request{Actor: p.mentor}, p.match); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *program) member(t *testing.T, role domain.Role) domain.Actor {
	t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: role}
	if _, err := p.svc.RegisterMember(context.Background(), command.Request{Actor: a}, a.ID, role, "Member", a.ID.String()[:8]+"@example.org"); err != nil {
		t.Fatal(err)
	}
	return a
}

func (p *program) head(t *testing.T) eventstore.Position {
	t.Helper()
	h, err := p.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// added reads the documents recorded in the log.
func (p *program) added(t *testing.T) []domain.DocumentAdded {
	t.Helper()
	recs, err := p.store.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.DocumentAdded
	for _, rec := range recs {
		if rec.Type != (domain.DocumentAdded{}).EventType() {
			continue
		}
		ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.(domain.DocumentAdded))
	}
	return out
}

func (p *program) files(t *testing.T) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(p.blobDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(d.Name()) != ".attrs" {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// An upload records the document on the match with the bytes' digest and
// keeps the bytes; the same command sent again records nothing new.
func TestUploadStoresThenRecords(t *testing.T) {
	p := newProgram(t)
	ctx := context.Background()
	req := command.Request{Actor: p.mentee, CommandID: "upload-1"}
	id, res, err := p.docs.Upload(ctx, req, p.match, `C:\Users\me\plan.pdf`, bytes.NewReader(pdf))
	if err != nil || id == uuid.Nil || res.Position == 0 {
		t.Fatalf("upload: %v %v %v", id, res, err)
	}
	docs := p.added(t)
	if len(docs) != 1 || docs[0].MatchID != p.match || docs[0].DocumentID != id || docs[0].Name != "plan.pdf" || docs[0].ContentType != "application/pdf" || docs[0].Size != int64(len(pdf)) {
		t.Fatalf("the documents recorded: %+v", docs)
	}
	rc, err := p.docs.Open(ctx, docs[0].SHA256)
	if err != nil {
		t.Fatalf("the recorded bytes: %v", err)
	}
	got, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("the recorded bytes read %q, %v", got, err)
	}
	head := p.head(t)
	again, _, err := p.docs.Upload(ctx, req, p.match, "plan.pdf", bytes.NewReader(pdf))
	if err != nil || again != id || p.head(t) != head || p.files(t) != 1 {
		t.Fatalf("the same upload again: %v %v, head %d of %d, %d files", again, err, p.head(t), head, p.files(t))
	}
}

// Every refusal names the input at fault, writes no event and leaves no
// bytes behind, including a refusal of the record after the bytes were
// stored.
func TestRefusedUploadsChangeNothing(t *testing.T) {
	p := newProgram(t)
	ctx := context.Background()
	first, _, err := p.docs.Upload(ctx, command.Request{Actor: p.mentee, CommandID: "first"}, p.match, "plan.pdf", bytes.NewReader(pdf))
	if err != nil {
		t.Fatal(err)
	}
	stranger := p.member(t, domain.RoleMentee)
	for _, tc := range []struct {
		name  string
		req   command.Request
		match uuid.UUID
		file  string
		body  []byte
		code  refusal.Code
		field string
	}{
		{"a stranger", command.Request{Actor: stranger}, p.match, "plan.pdf", pdf, domain.CodeNotAPartner, "matchId"},
		{"an unknown match", command.Request{Actor: p.mentee}, uuid.New(), "plan.pdf", pdf, domain.CodeMatchNotFound, "matchId"},
		{"a name that climbs folders", command.Request{Actor: p.mentee}, p.match, "../../etc/passwd", pdf, refusal.CodeInvalidInput, "file"},
		{"an empty file", command.Request{Actor: p.mentee}, p.match, "empty.pdf", nil, refusal.CodeInvalidInput, "file"},
		{"a kind not accepted", command.Request{Actor: p.mentee}, p.match, "run.pdf", []byte("\x7fELF\x02\x01\x01" + strings.Repeat("\x00", 64)), refusal.CodeInvalidInput, "file"},
		{"other bytes under a used document ID", command.Request{Actor: p.mentee, CommandID: "first"}, p.match, "plan.pdf", append(append([]byte{}, pdf...), 'x'), domain.CodeDocumentExists, ""},
	} {
		head, files := p.head(t), p.files(t)
		id, _, err := p.docs.Upload(ctx, tc.req, tc.match, tc.file, bytes.NewReader(tc.body))
		ref, ok := refusal.As(err)
		if !ok || ref.Code != tc.code || ref.Field != tc.field || ref.Message == "" {
			t.Errorf("%s: %v, want %s on %q", tc.name, err, tc.code, tc.field)
			continue
		}
		if p.head(t) != head || p.files(t) != files {
			t.Errorf("%s: head %d of %d, %d files of %d", tc.name, p.head(t), head, p.files(t), files)
		}
		if tc.code == domain.CodeDocumentExists && id != first {
			t.Errorf("%s: answered document %v, want the one holding the ID, %v", tc.name, id, first)
		}
	}
}

// Bytes a crash left between storing them and recording their document
// are collected once past the grace period; recorded documents' bytes,
// removed or not, stay.
func TestCollectBlobs(t *testing.T) {
	p := newProgram(t)
	ctx := context.Background()
	_, _, err := p.docs.Upload(ctx, command.Request{Actor: p.mentee}, p.match, "kept.pdf", bytes.NewReader(pdf))
	if err != nil {
		t.Fatal(err)
	}
	removed, _, err := p.docs.Upload(ctx, command.Request{Actor: p.mentor}, p.match, "removed.pdf", bytes.NewReader(append(append([]byte{}, pdf...), 'r')))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.RemoveDocument(ctx, command.Request{Actor: p.mentor}, p.match, removed); err != nil {
		t.Fatal(err)
	}
	orphan, err := p.blobs.Put(ctx, bytes.NewReader(append(append([]byte{}, pdf...), 'o')), "orphan.pdf")
	if err != nil {
		t.Fatal(err)
	}
	p.blobs.Keep(orphan) // the server stopped before recording the document
	if n := p.files(t); n != 3 {
		t.Fatalf("%d files stored, want 3", n)
	}
	if n, err := documents.CollectBlobs(ctx, p.store, p.blobs, time.Now().Add(-documents.BlobsGrace)); err != nil || n != 0 {
		t.Fatalf("within the grace period: collected %d, %v", n, err)
	}
	n, err := documents.CollectBlobs(ctx, p.store, p.blobs, time.Now().Add(time.Minute))
	if err != nil || n != 1 || p.files(t) != 2 {
		t.Fatalf("collected %d (%v), %d files left; want the orphan only", n, err, p.files(t))
	}
	if _, err := p.blobs.Open(ctx, orphan.SHA256); err == nil {
		t.Fatal("the orphan is still stored")
	}
}
