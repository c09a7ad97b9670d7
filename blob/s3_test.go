package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/mentorship/mentorship/blob"
)

// An s3:// bucket (MinIO and other S3-compatible servers, here an
// in-process S3 server) stores, reads and deletes documents the way the
// data directory's folder does, through the URL form the README gives.
func TestS3CompatibleBucket(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("documents"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "mentorship-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "mentorship-test-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	bucketURL := "s3://documents?region=us-east-1&use_path_style=true&endpoint=" + url.QueryEscape(srv.URL)
	ctx := context.Background()
	s, err := blob.Open(ctx, bucketURL, []string{"application/pdf"}, 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	a, err := s.Put(ctx, bytes.NewReader(pdf), "a.pdf")
	if err != nil || !a.Created || a.ContentType != "application/pdf" {
		t.Fatalf("put: %+v %v", a, err)
	}
	s.Keep(a)
	if b, err := s.Put(ctx, bytes.NewReader(pdf), "again.pdf"); err != nil || b.Created || b.SHA256 != a.SHA256 {
		t.Fatalf("second put of the same bytes: %+v %v", b, err)
	} else {
		s.Keep(b)
	}
	objects, err := backend.ListBucket("documents", nil, gofakes3.ListBucketPage{})
	if err != nil || len(objects.Contents) != 1 || objects.Contents[0].Key != "sha256/"+a.SHA256[:2]+"/"+a.SHA256 {
		t.Fatalf("the bucket holds %+v (%v), want the one content-addressed object", objects, err)
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
	if _, err := s.Put(ctx, bytes.NewReader([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")), "x.png"); !errors.Is(err, blob.ErrNotAllowed) {
		t.Fatalf("a refused type: %v", err)
	}
	if err := s.Delete(ctx, a.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, a.SHA256); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
	if objects, _ := backend.ListBucket("documents", nil, gofakes3.ListBucketPage{}); len(objects.Contents) != 0 {
		t.Fatalf("the bucket still holds %d objects", len(objects.Contents))
	}
}
