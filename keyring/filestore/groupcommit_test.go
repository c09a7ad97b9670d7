package filestore

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// Creates that arrive while a frame is being written share the next frame,
// and so its sync.
func TestConcurrentCreatesShareOneFrame(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	first, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.beforeWrite = func() { once.Do(func() { close(first); <-release }) }

	ctx := context.Background()
	key := make([]byte, 93)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := s.Create(ctx, uuid.New(), key); err != nil {
			t.Error(err)
		}
	})
	<-first // the first Create is writing its frame
	const later = 31
	for range later {
		wg.Go(func() {
			if _, err := s.Create(ctx, uuid.New(), key); err != nil {
				t.Error(err)
			}
		})
	}
	for {
		s.mu.Lock()
		waiting := s.pend != nil && len(s.pend.entries) == later
		s.mu.Unlock()
		if waiting {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := frames(t, path); n != 2 {
		t.Fatalf("32 creates wrote %d frames, want 2 (the first alone, the other 31 together)", n)
	}
}

// frames counts the frames of a keys file.
func frames(t *testing.T, path string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := len(magic); off < len(raw); n++ {
		off += frameHeader + int(binary.LittleEndian.Uint32(raw[off:]))
	}
	return n
}
