package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/mentorship/mentorship/blob"
)

var pdf = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		// fileblob keeps each file's attributes beside it.
		if err == nil && !d.IsDir() && filepath.Ext(p) != ".attrs" {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func open(t *testing.T) (*blob.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := blob.Open(context.Background(), blob.DefaultURL(dir), []string{"application/pdf", "text/plain", "text/markdown"}, 1024)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

func TestPutIsContentAddressedAndReadable(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	a, err := s.Put(ctx, bytes.NewReader(pdf), "a.pdf")
	if err != nil || !a.Created || a.ContentType != "application/pdf" || a.Size != int64(len(pdf)) {
		t.Fatalf("first put: %+v %v", a, err)
	}
	b, err := s.Put(ctx, bytes.NewReader(pdf), "copy.pdf")
	if err != nil || b.Created || b.SHA256 != a.SHA256 {
		t.Fatalf("second put of the same bytes: %+v %v", b, err)
	}
	if n := len(files(t, dir)); n != 1 {
		t.Fatalf("%d files stored, want 1", n)
	}
	rc, err := s.Open(ctx, a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, pdf) {
		t.Fatal("read back different bytes")
	}
	md, err := s.Put(ctx, bytes.NewReader([]byte("# Notes\nplain words\n")), "notes.md")
	if err != nil || md.ContentType != "text/markdown" {
		t.Fatalf("markdown: %+v %v", md, err)
	}
	if err := s.Delete(ctx, a.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, a.SHA256); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
}

func TestRefusedPutsLeaveNothing(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"too large", append(append([]byte{}, pdf...), bytes.Repeat([]byte(" "), 2000)...), blob.ErrTooLarge},
		{"wrong type", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), blob.ErrNotAllowed},
		{"empty", nil, blob.ErrEmpty},
	}
	for _, tc := range cases {
		if _, err := s.Put(ctx, bytes.NewReader(tc.data), "f"); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if f := files(t, dir); len(f) != 0 {
		t.Fatalf("refused uploads left %v", f)
	}
}

func TestLeftoversOfInterruptedUploadsAreCleaned(t *testing.T) {
	s, dir := open(t)
	// An upload a crash cut short leaves its temporary file.
	tmp := filepath.Join(dir, "blobs", "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "abandoned"), []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := s.CleanLeftovers(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("cleaned %d, %v", n, err)
	}
	if f := files(t, dir); len(f) != 0 {
		t.Fatalf("left %v", f)
	}
}
