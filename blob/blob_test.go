package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "gocloud.dev/blob/memblob" // mem:// buckets stand for shared ones

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

func exists(t *testing.T, s *blob.Store, sum string) bool {
	t.Helper()
	rc, err := s.Open(context.Background(), sum)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	return true
}

func put(t *testing.T, s *blob.Store, data []byte) blob.Stored {
	t.Helper()
	st, err := s.Put(context.Background(), bytes.NewReader(data), "f.pdf")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// An upload whose record is refused deletes its bytes only when no other
// upload of the same bytes was recorded or is under way.
func TestDiscardNeverDeletesBytesAnotherUploadNeeds(t *testing.T) {
	ctx := context.Background()
	t.Run("a lone refused upload leaves nothing", func(t *testing.T) {
		s, dir := open(t)
		a := put(t, s, pdf)
		if err := s.Discard(ctx, a); err != nil {
			t.Fatal(err)
		}
		if f := files(t, dir); len(f) != 0 {
			t.Fatalf("left %v", f)
		}
	})
	t.Run("bytes recorded before stay", func(t *testing.T) {
		s, _ := open(t)
		s.Keep(put(t, s, pdf))
		b := put(t, s, pdf)
		if err := s.Discard(ctx, b); err != nil || !exists(t, s, b.SHA256) {
			t.Fatalf("discarding a second upload deleted the first one's bytes (%v)", err)
		}
	})
	t.Run("bytes recorded meanwhile stay", func(t *testing.T) {
		s, _ := open(t)
		a, b := put(t, s, pdf), put(t, s, pdf)
		if !a.Created || b.Created {
			t.Fatalf("created: %v %v", a.Created, b.Created)
		}
		s.Keep(b)
		if err := s.Discard(ctx, a); err != nil || !exists(t, s, a.SHA256) {
			t.Fatalf("the refused upload that stored the bytes deleted them under a recorded one (%v)", err)
		}
	})
	t.Run("bytes an upload under way holds stay until it ends", func(t *testing.T) {
		s, dir := open(t)
		a, b := put(t, s, pdf), put(t, s, pdf)
		if err := s.Discard(ctx, a); err != nil || !exists(t, s, a.SHA256) {
			t.Fatalf("bytes another upload holds were deleted (%v)", err)
		}
		if err := s.Discard(ctx, b); err != nil {
			t.Fatal(err)
		}
		if f := files(t, dir); len(f) != 0 {
			t.Fatalf("two refused uploads left %v", f)
		}
	})
}

// Uploads of the same bytes ending at once, some recorded and some
// refused: the bytes stay exactly when one was recorded.
func TestRaceKeepAndDiscard(t *testing.T) {
	ctx := context.Background()
	for _, keepers := range []int{0, 1, 7} {
		s, _ := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := s.Put(ctx, bytes.NewReader(pdf), "f.pdf")
				if err != nil {
					errs <- err
					return
				}
				if i < keepers {
					s.Keep(st)
					return
				}
				if err := s.Discard(ctx, st); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdf)
		if got := exists(t, s, hex.EncodeToString(sum[:])); got != (keepers > 0) {
			t.Errorf("%d of 32 uploads recorded: bytes stored %v", keepers, got)
		}
	}
}

// Bytes no document references, such as those of an upload a crash cut
// short between storing them and recording the document, are collected
// once older than the grace period; referenced bytes and bytes an upload
// under way holds are not.
func TestCollectRemovesUnreferencedBytes(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	orphan := put(t, s, pdf)
	s.Keep(orphan) // the server stopped before recording the document
	recorded := put(t, s, []byte("%PDF-1.4\nrecorded\n%%EOF\n"))
	s.Keep(recorded)
	inFlight := put(t, s, []byte("%PDF-1.4\nin flight\n%%EOF\n"))
	referenced := func(sum string) bool { return sum == recorded.SHA256 }

	if n, err := s.Collect(ctx, referenced, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("bytes younger than the grace period: collected %d, %v", n, err)
	}
	n, err := s.Collect(ctx, referenced, time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("collected %d, %v; want the orphan only", n, err)
	}
	if exists(t, s, orphan.SHA256) || !exists(t, s, recorded.SHA256) || !exists(t, s, inFlight.SHA256) {
		t.Fatalf("after collecting: %v", files(t, dir))
	}
	s.Keep(inFlight)
	if n, err := s.Collect(ctx, referenced, time.Now().Add(time.Minute)); err != nil || n != 1 || exists(t, s, inFlight.SHA256) {
		t.Fatalf("an ended upload nobody recorded: collected %d, %v", n, err)
	}
}

// Several servers may share a bucket, and one server's holds do not see
// another's uploads, so there a refused upload leaves its bytes to Collect.
func TestSharedBucketLeavesRefusedBytesToCollect(t *testing.T) {
	ctx := context.Background()
	s, err := blob.Open(ctx, "mem://", []string{"application/pdf"}, 1024)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	a := put(t, s, pdf)
	if err := s.Discard(ctx, a); err != nil || !exists(t, s, a.SHA256) {
		t.Fatalf("a shared bucket deleted refused bytes at once (%v)", err)
	}
	if n, err := s.Collect(ctx, func(string) bool { return false }, time.Now().Add(time.Minute)); err != nil || n != 1 || exists(t, s, a.SHA256) {
		t.Fatalf("collected %d, %v", n, err)
	}
}
