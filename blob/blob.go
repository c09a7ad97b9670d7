// Package blob stores the bytes of shared documents through gocloud.dev/blob:
// a folder of the data directory by default (file://), or an S3-compatible
// bucket such as MinIO (s3://) by configuration. Bytes are addressed by
// their SHA-256, so the same file uploaded twice is stored once.
//
// Because two documents may share bytes, an upload whose record is refused
// must not simply delete what it stored: another upload of the same bytes
// may be recording them at that moment. Every Put therefore holds its
// digest until the caller says how the upload ended, with Keep (an event
// now points at the bytes) or Discard (none will). Discard deletes only
// bytes that the uploads holding them stored (not bytes that were there
// before), once the last of them ends and none was kept. What a crash or an
// unknown outcome leaves behind, Collect removes later: bytes older than a
// grace period that no recorded document references.
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
	"sync"
	"time"

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
	// shared is set for buckets several servers may use at once (anything
	// but file://). Another server's upload of the same bytes is invisible
	// to this one's holds, so there Discard leaves the bytes to Collect.
	shared bool

	// mu orders every check-and-write of a digest's key (Put's existence
	// check and copy, Discard's and Collect's delete) against the holds.
	mu    sync.Mutex
	holds map[string]*hold
}

// hold counts the uploads of one digest that have not ended yet.
type hold struct {
	uploads int
	// created is set when one of them stored the bytes: they were not
	// there before, so no document recorded earlier points at them.
	created bool
	// kept is set once one of them was recorded, so the bytes stay.
	kept bool
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
	u, err := url.Parse(bucketURL)
	if err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	s := &Store{bucket: b, allowed: map[string]bool{}, maxSize: maxSize, shared: u.Scheme != "file", holds: map[string]*hold{}}
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
	// another document or by another upload.
	Created bool
}

func key(sum string) string { return "sha256/" + sum[:2] + "/" + sum }

// Put reads a whole file, refusing it when it is too large or of a kind not
// allowed, and stores it under its digest. The bytes are durable in the
// bucket when Put returns, before any event points at them. A refused or
// failed Put leaves nothing behind. A Put that returns no error holds the
// digest: the caller must end it with Keep or Discard.
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
	s.mu.Lock()
	defer s.mu.Unlock()
	exists, err := s.bucket.Exists(ctx, key(sum))
	if err != nil {
		return Stored{}, fmt.Errorf("blob put: %w", err)
	}
	if !exists {
		if err := s.bucket.Copy(ctx, key(sum), tmp, nil); err != nil {
			return Stored{}, fmt.Errorf("blob put: %w", err)
		}
	}
	hd := s.holds[sum]
	if hd == nil {
		hd = &hold{}
		s.holds[sum] = hd
	}
	hd.uploads++
	hd.created = hd.created || !exists
	return Stored{SHA256: sum, Size: n, ContentType: mt, Created: !exists}, nil
}

// Keep ends an upload whose record an event now holds: its bytes stay, and
// no upload of the same bytes that ends at the same time deletes them.
// Callers also keep an upload whose outcome they do not know, such as a
// record that timed out: Collect removes the bytes later if no event
// points at them.
func (s *Store) Keep(st Stored) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hd := s.release(st.SHA256); hd != nil {
		hd.kept = true
	}
}

// Discard ends an upload that no event will point at. The last upload of
// the same bytes to end deletes them, provided one of those uploads stored
// them (they were not there before) and none was kept; otherwise they stay,
// because a document points, or may soon point, at them. In a shared
// bucket it deletes nothing and leaves the bytes to Collect.
func (s *Store) Discard(ctx context.Context, st Stored) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hd := s.release(st.SHA256)
	if hd == nil || hd.uploads > 0 || !hd.created || hd.kept || s.shared {
		return nil
	}
	return s.deleteKey(ctx, st.SHA256)
}

// release ends one upload of sum, forgetting the digest after the last,
// and returns its hold as it was. Callers hold s.mu.
func (s *Store) release(sum string) *hold {
	hd := s.holds[sum]
	if hd == nil {
		return nil
	}
	hd.uploads--
	if hd.uploads <= 0 {
		delete(s.holds, sum)
	}
	return hd
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
// Only an operator's tools call it: uploads end with Keep or Discard.
func (s *Store) Delete(ctx context.Context, sum string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteKey(ctx, sum)
}

func (s *Store) deleteKey(ctx context.Context, sum string) error {
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

// Collect deletes the stored bytes that are older than before, held by no
// upload under way in this process, and not referenced: the leftovers of
// uploads a crash cut short between storing the bytes and recording the
// document, or whose outcome was unknown. The grace period (how far before
// now the caller sets before) must exceed the longest upload, so that bytes
// another server is about to record are never collected. It returns how
// many files it deleted.
func (s *Store) Collect(ctx context.Context, referenced func(sum string) bool, before time.Time) (int, error) {
	n := 0
	it := s.bucket.List(&blob.ListOptions{Prefix: "sha256/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("blob collect: %w", err)
		}
		sum := obj.Key[strings.LastIndex(obj.Key, "/")+1:]
		if len(sum) != 64 || obj.Key != key(sum) || !obj.ModTime.Before(before) || referenced(sum) {
			continue
		}
		if ok, err := s.collect(ctx, sum); err != nil {
			return n, fmt.Errorf("blob collect: %w", err)
		} else if ok {
			n++
		}
	}
}

func (s *Store) collect(ctx context.Context, sum string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds[sum] != nil {
		return false, nil
	}
	return true, s.deleteKey(ctx, sum)
}
