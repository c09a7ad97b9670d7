package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// signUpUnderLoad registers a mentee and has it request the mentor, returning the
// error of either; it is safe to call from many goroutines.
func signUpUnderLoad(ctx context.Context, url, email, mentorID string) error {
	post := func(token, query string, vars map[string]any) (map[string]any, error) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		var out struct {
			Data   map[string]any `json:"data"`
			Errors []any          `json:"errors"`
		}
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
			return nil, fmt.Errorf("%s: %v %v", email, err, out.Errors)
		}
		return out.Data, nil
	}
	d, err := post("", `mutation($in: RegisterInput!) { registerMentee(input: $in) { token } }`,
		map[string]any{"in": map[string]any{"name": "Load Mentee", "email": email, "password": storyPassword}})
	if err != nil {
		return err
	}
	token, _ := dig(d, "registerMentee", "token").(string)
	if token == "" {
		return fmt.Errorf("%s: no token: %v", email, d)
	}
	_, err = post(token, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } } }`, map[string]any{"m": mentorID})
	return err
}

// A backup taken by the running server while clients sign up and request
// matches holds every change acknowledged before it started; verify finds
// the restored copy sound, and a server started on it signs those members
// in. With the server stopped, the command backs up from the files.
func TestBackupUnderLoadIsRestoredAndVerifies(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, "--signup-limit", "off")
	_, _, mentorID := signUpPair(t, ts.URL)

	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	var mu sync.Mutex
	var acked []string
	ackedOnce := make(chan struct{})
	var load sync.WaitGroup
	for w := range 4 {
		load.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				email := fmt.Sprintf("load-%d-%d@example.org", w, i)
				if err := signUpUnderLoad(ctx, ts.URL, email, mentorID); err != nil {
					if ctx.Err() == nil {
						t.Errorf("load: %v", err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, email)
				if len(acked) == 8 {
					close(ackedOnce)
				}
				mu.Unlock()
			}
		})
	}
	workersDone := make(chan struct{})
	go func() { load.Wait(); close(workersDone) }()
	select {
	case <-ackedOnce:
	case <-workersDone:
		t.Fatal("the load stopped before 8 sign-ups")
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	backup := filepath.Join(t.TempDir(), "backup-1")
	out, _, err := runCommand("backup", "--data-dir", dir, "--to", backup)
	if err != nil {
		t.Fatalf("backup while serving: %v", err)
	}
	if !strings.Contains(out, "by the running server") {
		t.Errorf("backup output %q: want it taken by the running server", out)
	}
	stopLoad()
	<-workersDone
	ts.Stop(t)
	if _, err := os.Stat(filepath.Join(dir, controlSocket)); err == nil {
		t.Error("the control socket outlived the server")
	}

	// Restore: the backup becomes a data directory.
	restored := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(restored, os.DirFS(backup)); err != nil {
		t.Fatal(err)
	}
	// os.CopyFS makes every file readable by all; the master key must
	// stay its owner's (cp and rsync keep the mode).
	if err := os.Chmod(filepath.Join(restored, "master.key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCommand("verify", "--data-dir", restored); err != nil {
		t.Fatalf("verify the restored backup: %v\n%s", err, out)
	}
	rs := startServer(t, restored)
	if code, body := get(t, rs.URL+"/readyz"); code != http.StatusOK {
		t.Fatalf("restored server not ready: %d %s", code, body)
	}
	for _, email := range before {
		c := &client{t: t, url: rs.URL}
		c.login("Mentee", email)
		d := c.gql(`{ myMatches(group: PENDING) { totalCount } }`, nil)
		if n, _ := dig(d, "myMatches", "totalCount").(float64); n != 1 {
			t.Errorf("%s: %v pending matches in the restored program, want 1", email, n)
		}
	}
	rs.Stop(t)

	offline := filepath.Join(t.TempDir(), "backup-2")
	out, _, err = runCommand("backup", "--data-dir", dir, "--to", offline)
	if err != nil || !strings.Contains(out, "no server was running") {
		t.Fatalf("backup of a stopped server: %v %q", err, out)
	}
	if out, _, err := runCommand("verify", "--data-dir", offline); err != nil {
		t.Fatalf("verify the offline backup: %v\n%s", err, out)
	}
}

// Bad requests for a backup are refused clearly and write nothing.
func TestBackupRefusesBadRequests(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--data-dir", dir}, "--to is required"},
		{[]string{"backup", "--data-dir", dir, "--to", full}, "not empty"},
		{[]string{"backup", "--data-dir", dir, "--to", filepath.Dir(dir)}, "not empty"},
		{[]string{"backup", "--data-dir", dir, "--to", filepath.Join(dir, "backups", "today")}, "inside the data directory"},
		{[]string{"backup", "--data-dir", dir, "--to", t.TempDir(), "--kurrentdb-url", "esdb://127.0.0.1:1?tls=false"}, "KurrentDB"},
		{[]string{"backup", "--data-dir", t.TempDir(), "--to", filepath.Join(t.TempDir(), "b")}, "no event log"},
	} {
		if _, _, err := runCommand(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	ts.Stop(t)
}
