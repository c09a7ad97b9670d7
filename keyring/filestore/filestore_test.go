package filestore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/filestore"
	"github.com/mentorship/mentorship/keyring/keyringtest"
)

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	dirs := map[*testing.T]string{}
	keyringtest.Run(t, func(t *testing.T) keyring.Store {
		mu.Lock()
		dir, ok := dirs[t]
		if !ok {
			dir = t.TempDir()
			dirs[t] = dir
		}
		mu.Unlock()
		return open(t, filepath.Join(dir, "keys.db"))
	})
}

func open(t *testing.T, path string) *filestore.Store {
	t.Helper()
	s, err := filestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randomKey(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 93)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// Erase rewrites the file: the erased member's wrapped key is nowhere in
// its bytes, while the other keys and a record of the erasure are.
func TestEraseRemovesTheKeyBytesFromTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	ctx := context.Background()
	gone, kept := uuid.New(), uuid.New()
	goneKey, keptKey := randomKey(t), randomKey(t)
	for m, k := range map[uuid.UUID][]byte{gone: goneKey, kept: keptKey} {
		if _, err := s.Create(ctx, m, k); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, goneKey) {
		t.Fatal("the key is not in the file before the erasure; the test would prove nothing")
	}
	if err := s.Erase(ctx, gone); err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, goneKey) {
		t.Fatal("the erased member's wrapped key is still in the file")
	}
	if !bytes.Contains(raw, keptKey) || !bytes.Contains(raw, gone[:]) {
		t.Fatal("the rewrite lost the other key or the record of the erasure")
	}
	if leftovers, _ := filepath.Glob(path + ".tmp*"); len(leftovers) > 0 {
		t.Fatalf("the rewrite left %v", leftovers)
	}
	// Appends go on after the rewrite, into the new file.
	later := randomKey(t)
	if _, err := s.Create(ctx, uuid.New(), later); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(path)
	if !bytes.Contains(raw, later) {
		t.Fatal("a key created after the rewrite is not in the file")
	}
}

// A crash during the last append leaves any prefix of its frame: every cut
// opens, keeps the earlier keys, and reports the cut; the store then
// appends where the whole frames end.
func TestTornLastFrameIsCutOff(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.db")
	s := open(t, path)
	ctx := context.Background()
	earlier := map[uuid.UUID][]byte{}
	for range 3 {
		m := uuid.New()
		earlier[m] = randomKey(t)
		if _, err := s.Create(ctx, m, earlier[m]); err != nil {
			t.Fatal(err)
		}
	}
	before := fileSize(t, path)
	last := uuid.New()
	if _, err := s.Create(ctx, last, randomKey(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for cut := before; cut < int64(len(whole)); cut++ {
		p := filepath.Join(dir, "cut", "keys.db")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, whole[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := filestore.Open(p)
		if err != nil {
			t.Fatalf("cut at %d of %d: %v", cut, len(whole), err)
		}
		if note := c.Recovered(); (cut > before) != (note != "") {
			t.Fatalf("cut at %d: recovery note %q", cut, note)
		}
		for m, k := range earlier {
			if got, err := c.Get(ctx, m); err != nil || !bytes.Equal(got, k) {
				t.Fatalf("cut at %d: earlier key: %x, %v", cut, got, err)
			}
		}
		if _, err := c.Get(ctx, last); !errors.Is(err, keyring.ErrNotFound) {
			t.Fatalf("cut at %d: the torn key reads as %v", cut, err)
		}
		again := randomKey(t)
		if _, err := c.Create(ctx, last, again); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		c = open(t, p)
		if c.Recovered() != "" {
			t.Fatalf("cut at %d: the file is still torn after recovery: %s", cut, c.Recovered())
		}
		if got, err := c.Get(ctx, last); err != nil || !bytes.Equal(got, again) {
			t.Fatalf("cut at %d: the key created after recovery: %x, %v", cut, got, err)
		}
		_ = c.Close()
	}
}

func TestZeroedTailIsCutOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	m, k := uuid.New(), randomKey(t)
	if _, err := s.Create(context.Background(), m, k); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 300)); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	s = open(t, path)
	defer s.Close()
	if s.Recovered() == "" {
		t.Fatal("a zeroed tail was not reported")
	}
	if got, err := s.Get(context.Background(), m); err != nil || !bytes.Equal(got, k) {
		t.Fatalf("get: %x, %v", got, err)
	}
}

// Damage with whole frames after it is not a crash's doing: Open refuses
// the file and names the offset.
func TestDamageInTheMiddleIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	ctx := context.Background()
	for range 3 {
		if _, err := s.Create(ctx, uuid.New(), randomKey(t)); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	raw, _ := os.ReadFile(path)
	const header = 8
	raw[header+8+20] ^= 0x01 // inside the first frame's body
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := filestore.Open(path)
	if err == nil || !strings.Contains(err.Error(), "offset 8") {
		t.Fatalf("open a file damaged in its first frame: %v; want an error naming offset 8", err)
	}
	// A length that runs past every limit, with frames after it.
	raw[header+8+20] ^= 0x01
	raw[header+3] = 0x7f
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.Open(path); err == nil || !strings.Contains(err.Error(), "offset 8") {
		t.Fatalf("open a file with a damaged length: %v; want an error naming offset 8", err)
	}
	if err := os.WriteFile(path, []byte("not a keys file at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.Open(path); err == nil {
		t.Fatal("opened a file that is not a keys file")
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	if _, err := filestore.Open(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("a second open: %v; want it refused", err)
	}
	m, k := uuid.New(), randomKey(t)
	if _, err := s.Create(context.Background(), m, k); err != nil {
		t.Fatal(err)
	}
	// The lock outlives the rewrite of the file that Erase does.
	if err := s.Erase(context.Background(), uuid.New()); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.Open(path); err == nil {
		t.Fatal("a second open after a rewrite was not refused")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	if got, err := s.Get(context.Background(), m); err != nil || !bytes.Equal(got, k) {
		t.Fatalf("get after reopening: %x, %v", got, err)
	}
}

func TestCallsAfterCloseFail(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "keys.db"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Create(ctx, uuid.New(), randomKey(t)); !errors.Is(err, filestore.ErrClosed) {
		t.Fatalf("create: %v", err)
	}
	if err := s.Erase(ctx, uuid.New()); !errors.Is(err, filestore.ErrClosed) {
		t.Fatalf("erase: %v", err)
	}
	if _, err := s.Meta(ctx, "kek"); !errors.Is(err, filestore.ErrClosed) {
		t.Fatalf("meta: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second close: %v", err)
	}
}

// Creates, erasures and reads from many goroutines, then a reopen that
// sees exactly what the calls reported.
func TestConcurrentCreatesAndErasures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	ctx := context.Background()
	members := make([]uuid.UUID, 40)
	for i := range members {
		members[i] = uuid.New()
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored = map[uuid.UUID][]byte{}
	)
	for i, m := range members {
		wg.Go(func() {
			got, err := s.Create(ctx, m, randomKey(t))
			if err != nil {
				// Every fourth member is erased at the same time.
				if i%4 != 0 || !errors.Is(err, keyring.ErrErased) {
					t.Errorf("create: %v", err)
				}
				return
			}
			mu.Lock()
			stored[m] = got
			mu.Unlock()
		})
		if i%4 == 0 {
			wg.Go(func() {
				if err := s.Erase(ctx, m); err != nil {
					t.Errorf("erase: %v", err)
				}
			})
		}
	}
	wg.Wait()
	_ = s.Close()
	s = open(t, path)
	defer s.Close()
	for i, m := range members {
		got, err := s.Get(ctx, m)
		switch {
		case i%4 == 0 && !errors.Is(err, keyring.ErrErased):
			t.Fatalf("member %d was erased, reads as %x, %v", i, got, err)
		case i%4 != 0 && (err != nil || !bytes.Equal(got, stored[m])):
			t.Fatalf("member %d: %x, %v; want %x", i, got, err, stored[m])
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}
