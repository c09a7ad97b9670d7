// Package blob stores the bytes of shared documents through gocloud.dev/blob:
// a folder of the data directory by default (file://), or an S3-compatible
// bucket such as MinIO (s3://) by configuration. Bytes are addressed by
// their SHA-256, so the same file uploaded twice is stored once.
package blob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets
	"gocloud.dev/gcerrors"
)

// Errors of an upload that is refused; nothing is kept of it.
var (
	ErrTooLarge   = errors.New("the file is larger than the limit")
	ErrNotAllowed = errors.New("this kind of file is not accepted")
	ErrEmpty      = errors.New("the file is empty")
	ErrNotFound   = errors.New("no such file")
)

// Store keeps document bytes in a bucket.
type Store struct {
	bucket  *blob.Bucket
	allowed map[string]bool
	maxSize int64
}

// DefaultURL is the bucket of a data directory: its blobs folder.
func DefaultURL(dataDir string) string {
	abs, err := filepath.Abs(filepath.Join(dataDir, "blobs"))
	if err != nil {
		abs = filepath.Join(dataDir, "blobs")
	}
	return "file://" + filepath.ToSlash(abs) + "?create_dir=true&no_tmp_dir=true"
}

// Open opens the bucket at url, accepting files of the allowed media types
// up to maxSize bytes.
func Open(ctx context.Context, bucketURL string, allowed []string, maxSize int64) (*Store, error) {
	if _, err := url.Parse(bucketURL); err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	s := &Store{bucket: b, allowed: map[string]bool{}, maxSize: maxSize}
	for _, t := range allowed {
		s.allowed[t] = true
	}
	return s, nil
}

// Close closes the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// Stored is what Put learned of a file.
type Stored struct {
	// SHA256 is the hex digest, which is also the file's key.
	SHA256 string
	Size   int64
	// ContentType is the media type sniffed from the bytes, never the one
	// the client claimed.
	ContentType string
	// Created is false when the same bytes were already stored, for
	// another document; a failed upload then leaves them alone.
	Created bool
}

func key(sum string) string { return "sha256/" + sum[:2] + "/" + sum }

// Put reads a whole file, refusing it when it is too large or of a kind not
// allowed, and stores it under its digest. The bytes are durable in the
// bucket when Put returns, before any event points at them. A refused or
// failed upload leaves nothing behind.
func (s *Store) Put(ctx context.Context, r io.Reader, name string) (Stored, error) {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	tmp := "tmp/" + hex.EncodeToString(rnd[:])
	w, err := s.bucket.NewWriter(ctx, tmp, nil)
	if err != nil {
		return Stored{}, fmt.Errorf("blob put: %w", err)
	}
	h := sha256.New()
	head := &headBuffer{max: 3072}
	n, err := io.Copy(io.MultiWriter(w, h, head), io.LimitReader(r, s.maxSize+1))
	if err == nil && n > s.maxSize {
		err = fmt.Errorf("%w of %d bytes", ErrTooLarge, s.maxSize)
	}
	if err == nil && n == 0 {
		err = ErrEmpty
	}
	var mt string
	if err == nil {
		mt = sniff(head.b, name)
		if !s.allowed[mt] {
			err = fmt.Errorf("%w (%s)", ErrNotAllowed, mt)
		}
	}
	if err != nil {
		_ = w.Close()
		_ = s.bucket.Delete(context.WithoutCancel(ctx), tmp)
		return Stored{}, err
	}
	if err := w.Close(); err != nil {
		_ = s.bucket.Delete(context.WithoutCancel(ctx), tmp)
		return Stored{}, fmt.Errorf("blob put: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	defer func() { _ = s.bucket.Delete(context.WithoutCancel(ctx), tmp) }()
	exists, err := s.bucket.Exists(ctx, key(sum))
	if err != nil {
		return Stored{}, fmt.Errorf("blob put: %w", err)
	}
	if !exists {
		if err := s.bucket.Copy(ctx, key(sum), tmp, nil); err != nil {
			return Stored{}, fmt.Errorf("blob put: %w", err)
		}
	}
	return Stored{SHA256: sum, Size: n, ContentType: mt, Created: !exists}, nil
}

// sniff names a file's media type from its first bytes. Office documents
// are zip or OLE files underneath; mimetype tells them apart.
func sniff(head []byte, name string) string {
	t, _, _ := strings.Cut(mimetype.Detect(head).String(), ";")
	if t == "text/plain" && strings.EqualFold(filepath.Ext(name), ".md") {
		return "text/markdown"
	}
	return t
}

// headBuffer keeps the first bytes written to it, for sniffing.
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// Open returns a reader of the file with the digest sum.
func (s *Store) Open(ctx context.Context, sum string) (io.ReadCloser, error) {
	if len(sum) != 64 {
		return nil, ErrNotFound
	}
	r, err := s.bucket.NewReader(ctx, key(sum), nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blob open: %w", err)
	}
	return r, nil
}

// Delete removes the file with the digest sum; a missing file is no error.
func (s *Store) Delete(ctx context.Context, sum string) error {
	if len(sum) != 64 {
		return nil
	}
	err := s.bucket.Delete(ctx, key(sum))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return err
}

// Leftovers lists temporary files of interrupted uploads, for cleaning.
func (s *Store) Leftovers(ctx context.Context) ([]string, error) {
	var out []string
	it := s.bucket.List(&blob.ListOptions{Prefix: "tmp/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, obj.Key)
	}
}

// CleanLeftovers deletes the temporary files of uploads a crash cut short.
func (s *Store) CleanLeftovers(ctx context.Context) (int, error) {
	keys, err := s.Leftovers(ctx)
	n := 0
	for _, k := range keys {
		if s.bucket.Delete(ctx, k) == nil {
			n++
		}
	}
	return n, err
}
