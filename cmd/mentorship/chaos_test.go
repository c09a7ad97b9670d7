//go:build chaos

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
)

// TestChaosKill kills the real server with SIGKILL while 64 writers change
// profiles over HTTP, CHAOS_TRIALS times (100 unless set), and checks after
// each kill that every acknowledged change is in the log exactly once,
// that verify passes and that the server starts again on the directory.
// Each change carries its own request ID, which the server keeps as the
// correlation ID of the events it causes, so that the log can be searched
// for it although profiles are stored encrypted. It runs only with the
// chaos build tag (make chaos), since it takes minutes.
func TestChaosKill(t *testing.T) {
	trials := 100
	if v := os.Getenv("CHAOS_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CHAOS_TRIALS=%q is not a positive number", v)
		}
		trials = n
	}
	work := t.TempDir()
	bin := filepath.Join(work, "mentorship")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seedDir := filepath.Join(work, "seed")
	tokens := registerWriters(t, bin, seedDir, 64)

	var total chaosResult
	started := time.Now()
	for trial := range trials {
		dir := filepath.Join(work, fmt.Sprintf("trial-%03d", trial))
		copyDir(t, seedDir, dir)
		r := chaosTrial(t, bin, dir, trial, tokens)
		total.add(r)
		if r.lost+r.duplicated+r.verifyFailures+r.refusedRestarts > 0 {
			t.Errorf("trial %d: %+v", trial, r)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(started)
	fmt.Printf("\n| trials | acknowledged changes | lost | duplicated | verify failures | refused restarts | time |\n")
	fmt.Printf("|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Printf("| %d | %d | %d | %d | %d | %d | %s |\n\n", trials, total.acked, total.lost, total.duplicated, total.verifyFailures, total.refusedRestarts, took.Round(time.Second))
}

type chaosResult struct {
	acked, lost, duplicated, verifyFailures, refusedRestarts int
}

func (r *chaosResult) add(o chaosResult) {
	r.acked += o.acked
	r.lost += o.lost
	r.duplicated += o.duplicated
	r.verifyFailures += o.verifyFailures
	r.refusedRestarts += o.refusedRestarts
}

// child is the built server running as a child process.
type child struct {
	cmd *exec.Cmd
	url string
}

func startBinary(t *testing.T, bin, dir string) *child {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--demo=false",
		"--signup-limit", "off", "--log-format", "json", "--log-level", "error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	s := &child{cmd: cmd}
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "http://"); i >= 0 {
			s.url = strings.Fields(sc.Text()[i:])[0]
			break
		}
	}
	if s.url == "" {
		_ = cmd.Wait()
		t.Fatalf("the server did not start: %s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return s
}

// stop ends the server cleanly.
func (s *child) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("the server stopped with %v", err)
	}
}

// kill ends the server with SIGKILL.
func (s *child) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// registerWriters registers n mentees on a new program in dir, a few at
// a time (each password hash takes 19 MiB), and returns their tokens.
func registerWriters(t *testing.T, bin, dir string, n int) []string {
	t.Helper()
	s := startBinary(t, bin, dir)
	defer s.stop(t)
	tokens := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			q := fmt.Sprintf(`mutation { registerMentee(input: {name: "Writer %d", email: "writer%d@example.org", password: "a long and careful passphrase"}) { token } }`, i, i)
			var res struct {
				Data struct {
					RegisterMentee struct{ Token string } `json:"registerMentee"`
				} `json:"data"`
			}
			if code, err := postJSON(context.Background(), s.url, "", "", q, &res); err != nil || code != 200 || res.Data.RegisterMentee.Token == "" {
				t.Errorf("register writer %d: %d %v %+v", i, code, err, res)
				return
			}
			tokens[i] = res.Data.RegisterMentee.Token
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return tokens
}

// postJSON posts a GraphQL query with a token and a request ID, and
// decodes the answer into out.
func postJSON(ctx context.Context, url, token, requestID, query string, out any) (int, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	return res.StatusCode, json.NewDecoder(res.Body).Decode(out)
}

// chaosTrial runs one trial on dir and counts what survived the kill.
func chaosTrial(t *testing.T, bin, dir string, trial int, tokens []string) chaosResult {
	t.Helper()
	s := startBinary(t, bin, dir)
	var mu sync.Mutex
	acked := map[string]bool{}
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for w, token := range tokens {
		wg.Go(func() {
			for n := 0; !stopped.Load(); n++ {
				id := fmt.Sprintf("chaos-%d-%d-%d", trial, w, n)
				q := fmt.Sprintf(`mutation { updateProfile(input: {name: "Writer %d", yearsOfExperience: %d, biography: "change %s"}) { userErrors { code } } }`, w, n%60, id)
				var res struct {
					Data struct {
						UpdateProfile *struct {
							UserErrors []struct{ Code string } `json:"userErrors"`
						} `json:"updateProfile"`
					} `json:"data"`
					Errors []any `json:"errors"`
				}
				code, err := postJSON(context.Background(), s.url, token, id, q, &res)
				if err != nil {
					if stopped.Load() {
						return
					}
					continue
				}
				if code == 200 && len(res.Errors) == 0 && res.Data.UpdateProfile != nil && len(res.Data.UpdateProfile.UserErrors) == 0 {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			}
		})
	}
	// The kill comes at a random moment of the writes, not when
	// something is reached.
	<-time.After(time.Duration(100+rand.IntN(900)) * time.Millisecond)
	stopped.Store(true)
	s.kill()
	wg.Wait()

	r := chaosResult{acked: len(acked)}
	var out bytes.Buffer
	verify := exec.Command(bin, "verify", "--data-dir", dir)
	verify.Stdout = &out
	if err := verify.Run(); err != nil || !strings.HasPrefix(out.String(), "OK: ") {
		r.verifyFailures++
		t.Logf("trial %d: verify: %v %s", trial, err, out.String())
	}
	counts := correlations(t, dir)
	for id := range acked {
		if counts[id] == 0 {
			r.lost++
		}
	}
	for id, n := range counts {
		if n > 1 && strings.HasPrefix(id, "chaos-") {
			r.duplicated++
		}
	}
	restarted, err := startOrRefuse(bin, dir)
	if err != nil {
		r.refusedRestarts++
		t.Logf("trial %d: restart: %v", trial, err)
	} else {
		restarted.stop(t)
	}
	return r
}

// startOrRefuse starts the server on dir and returns it, or the server's
// error output when it exits instead.
func startOrRefuse(bin, dir string) (*child, error) {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--demo=false", "--log-format", "json", "--log-level", "error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "http://") {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return &child{cmd: cmd}, nil
		}
	}
	err = cmd.Wait()
	return nil, fmt.Errorf("%v: %s", err, stderr.String())
}

// correlations counts the events of the log in dir by correlation ID.
func correlations(t *testing.T, dir string) map[string]int {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	counts := map[string]int{}
	for from := eventstore.Start; ; {
		evs, err := s.ReadAll(context.Background(), from, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return counts
		}
		for _, ev := range evs {
			if ev.Type == "ProfileUpdated" {
				counts[ev.Metadata.CorrelationID]++
			}
		}
		from = evs[len(evs)-1].Position
	}
}

// copyDir copies the files of a data directory, one level of folders deep.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o750)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
