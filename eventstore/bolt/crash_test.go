package bolt_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/eventstore/conformance"
)

// The child half of TestCrashKeepsAcknowledgedAppends: 64 writers append
// until the process is killed, printing each acknowledged event.
func init() {
	dir := os.Getenv("MENTORSHIP_CRASH_CHILD_DIR")
	if dir == "" {
		return
	}
	opts := bolt.Options{FlushAt: 64}
	if os.Getenv("MENTORSHIP_CRASH_CHILD_FLUSH") == "never" {
		opts = bolt.Options{FlushAt: 1 << 30, FlushInterval: time.Hour}
	}
	s, err := bolt.Open(dir, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := 0; ; i++ {
				ev := conformance.Event("Crash", map[string]int{"w": w, "i": i})
				res, err := s.Append(context.Background(), fmt.Sprintf("crash-%d", w), eventstore.Any(), ev)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(4)
				}
				mu.Lock()
				fmt.Fprintf(out, "%s %d\n", ev.ID, res.LastPosition)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// The child half of TestSecondProcessIsRefused: open the store another
// process holds and print what Open said.
func init() {
	dir := os.Getenv("MENTORSHIP_LOCK_CHILD_DIR")
	if dir == "" {
		return
	}
	s, err := bolt.Open(dir, bolt.Options{})
	if err == nil {
		_ = s.Close()
		fmt.Println("opened")
		os.Exit(0)
	}
	fmt.Println(err)
	if errors.Is(err, eventstore.ErrLocked) {
		os.Exit(0)
	}
	os.Exit(5)
}

// TestSecondProcessIsRefused opens the store in this process and tries
// again from another one: the second process gets ErrLocked.
func TestSecondProcessIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MENTORSHIP_LOCK_CHILD_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "locked by another process") {
		t.Fatalf("the second process said %q, want the lock error", out)
	}
}

// TestCrashKeepsAcknowledgedAppends kills a process in the middle of a
// 64-writer load and reopens its store: every acknowledged append is there,
// in order, once. One run keeps everything in the journal (so reopening
// replays it, after a torn final frame is added), the other flushes to bbolt
// all the time (so the kill lands in the middle of flushes).
func TestCrashKeepsAcknowledgedAppends(t *testing.T) {
	for _, mode := range []string{"never", "often"} {
		t.Run("flush "+mode, func(t *testing.T) { crashTest(t, mode) })
	}
}

func crashTest(t *testing.T, flush string) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MENTORSHIP_CRASH_CHILD_DIR="+dir, "MENTORSHIP_CRASH_CHILD_FLUSH="+flush)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uuid.UUID]eventstore.Position{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		pos, _ := strconv.ParseUint(f[1], 10, 64)
		acked[uuid.MustParse(f[0])] = eventstore.Position(pos)
		if len(acked) == 5000 {
			// Kill in the middle of the load, without warning.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	// Everything acknowledged before the kill landed in the pipe; read it.
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			pos, _ := strconv.ParseUint(f[1], 10, 64)
			acked[uuid.MustParse(f[0])] = eventstore.Position(pos)
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, stderr.String())
	}
	if len(acked) < 5000 {
		t.Fatalf("child acknowledged only %d appends before dying: %s", len(acked), stderr.String())
	}
	if flush == "never" {
		// A frame the crash cut short: header and half a payload.
		segs, _ := filepath.Glob(filepath.Join(dir, "journal-*.log"))
		if len(segs) == 0 {
			t.Fatal("no journal left behind")
		}
		f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write([]byte("MJF1\x00\x00\x01\x00\xde\xad\xbe\xefpartial"))
		_ = f.Close()
	}

	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	seen := map[uuid.UUID]bool{}
	from := eventstore.Start
	for {
		page, err := s.ReadAll(context.Background(), from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Position != from+1 {
				t.Fatalf("position %d follows %d", e.Position, from)
			}
			if seen[e.ID] {
				t.Fatalf("event %s stored twice", e.ID)
			}
			seen[e.ID] = true
			if want, ok := acked[e.ID]; ok && want != e.Position {
				t.Fatalf("event %s at position %d, acknowledged at %d", e.ID, e.Position, want)
			}
			from = e.Position
		}
	}
	for id, pos := range acked {
		if !seen[id] {
			t.Fatalf("acknowledged event %s (position %d) is missing after the crash", id, pos)
		}
	}
	t.Logf("%d acknowledged, %d stored after SIGKILL", len(acked), len(seen))
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = bolt.Open(dir, bolt.Options{})
	if !errors.Is(err, eventstore.ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "another") {
		t.Fatalf("the error does not say why: %v", err)
	}
}

func TestCorruptionIsDetectedAtOpen(t *testing.T) {
	cases := []struct {
		name   string
		marker string
	}{
		{"damaged newest event", "marker-newest"},
		{"damaged event inside the checked tail", "marker-middle"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := bolt.Open(dir, bolt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				body := map[string]string{"n": strconv.Itoa(i)}
				if i == 10 {
					body["m"] = "marker-middle"
				}
				if i == 19 {
					body["m"] = "marker-newest"
				}
				if _, err := s.Append(context.Background(), "c", eventstore.Any(), conformance.Event("T", body)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, bolt.FileName)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Copy-on-write leaves stale copies of pages behind, so
			// damage every copy of the record.
			n := 0
			for i := bytes.Index(raw, []byte(tc.marker)); i >= 0; i = bytes.Index(raw, []byte(tc.marker)) {
				raw[i] ^= 0x01
				n++
			}
			if n == 0 {
				t.Fatal("marker not found in the file")
			}
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = bolt.Open(dir, bolt.Options{})
			if !errors.Is(err, eventstore.ErrCorrupt) {
				t.Fatalf("open of a damaged file: got %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestGarbageFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, bolt.FileName), bytes.Repeat([]byte("not a database "), 2000), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := bolt.Open(dir, bolt.Options{})
	if !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}

// Damage to the journal that is not a torn final write is reported, never
// skipped: the events after it were acknowledged.
func TestDamagedJournalIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{FlushAt: 1 << 30, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		body := map[string]string{"n": strconv.Itoa(i)}
		if i == 3 {
			body["m"] = "marker-journal"
		}
		if _, err := s.Append(context.Background(), "j", eventstore.Any(), conformance.Event("T", body)); err != nil {
			t.Fatal(err)
		}
	}
	// Copy the journal away before Close empties it, as a crash would
	// have left it.
	segs, _ := filepath.Glob(filepath.Join(dir, "journal-*.log"))
	raw, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	crashed := t.TempDir()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A fresh store whose bbolt file holds nothing, with the journal.
	fresh, err := bolt.Open(crashed, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = fresh.Close()
	i := bytes.Index(raw, []byte("marker-journal"))
	raw[i] ^= 1
	if err := os.WriteFile(filepath.Join(crashed, filepath.Base(segs[0])), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = bolt.Open(crashed, bolt.Options{})
	if !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("open with a damaged journal: got %v, want ErrCorrupt", err)
	}
}

// A copy up to a position holds the same records, so the same positions,
// times and hash chain, and nothing after it.
func TestCopyTo(t *testing.T) {
	s, err := bolt.Open(t.TempDir(), bolt.Options{FlushAt: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 40 {
		if _, err := s.Append(ctx, fmt.Sprintf("c-%d", i%3), eventstore.Any(), conformance.Event("T", i)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	copied, err := s.CopyTo(ctx, dir, 25)
	if err != nil || copied != 25 {
		t.Fatalf("copy: %d %v", copied, err)
	}
	if _, err := s.CopyTo(ctx, dir, 25); err == nil {
		t.Fatal("copying onto a store was accepted")
	}
	c, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer c.Close()
	want, _ := s.ReadAll(ctx, eventstore.Start, 25)
	got, _ := c.ReadAll(ctx, eventstore.Start, 100)
	if len(got) != 25 {
		t.Fatalf("the copy holds %d events, want 25", len(got))
	}
	for i := range want {
		if !bytes.Equal(want[i].Hash, got[i].Hash) || want[i].ID != got[i].ID || !want[i].Metadata.RecordedAt.Equal(got[i].Metadata.RecordedAt) {
			t.Fatalf("event %d differs in the copy", i+1)
		}
	}
	if rep, err := c.Verify(ctx, nil); err != nil || !rep.OK() {
		t.Fatalf("verify the copy: %+v %v", rep, err)
	}
}
