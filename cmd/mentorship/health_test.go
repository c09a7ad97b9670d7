package main

import (
	"bufio"
	"debug/elf"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// health exits 0 only for a 200 from /readyz, and says why otherwise.
func TestHealthCommand(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if !ready {
			http.Error(w, "not ready: read models at position 3 of 9", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	if out, _, err := runCommand("health", "--addr", addr); err != nil || !strings.Contains(out, "ok") {
		t.Errorf("ready server: %v %q", err, out)
	}
	if _, _, err := runCommand("health", "--addr", srv.URL+"/"); err != nil {
		t.Errorf("ready server by URL: %v", err)
	}
	env := func(k string) string {
		if k == "MENTORSHIP_ADDR" {
			return addr
		}
		return ""
	}
	if err := run(t.Context(), []string{"health"}, env, strings.NewReader(""), &strings.Builder{}, &strings.Builder{}); err != nil {
		t.Errorf("address from MENTORSHIP_ADDR: %v", err)
	}
	ready = false
	if _, _, err := runCommand("health", "--addr", addr); err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "position 3 of 9") {
		t.Errorf("server not ready: %v, want the 503 and its reason", err)
	}
	srv.Close()
	if _, _, err := runCommand("health", "--addr", addr); err == nil {
		t.Error("stopped server: no error")
	}
	for _, bad := range [][]string{
		{"health", "--addr", "nowhere"},
		{"health", "--addr", "ftp://host:21"},
		{"health", "--timeout", "0s"},
		{"health", "extra"},
	} {
		if _, _, err := runCommand(bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	for in, want := range map[string]string{
		"0.0.0.0:8080":               "http://127.0.0.1:8080/readyz",
		"[::]:8080":                  "http://127.0.0.1:8080/readyz",
		":8080":                      "http://127.0.0.1:8080/readyz",
		"api1:8080":                  "http://api1:8080/readyz",
		"https://api.example.org/":   "https://api.example.org/readyz",
		"http://127.0.0.1:9/x?q=1#f": "http://127.0.0.1:9/x/readyz",
	} {
		if got, err := readyURL(in); err != nil || got != want {
			t.Errorf("readyURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// The binary the container image holds is static (CGO_ENABLED=0: no
// dynamic loader, no shared library), serves, and its health command
// succeeds against it while it runs and fails once it stopped.
func TestStaticBinaryServesAndProbesItsHealth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "mentorship")
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary names a dynamic loader: it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries: %v", libs)
	}
	_ = f.Close()

	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--demo=false", "--log-format", "json")
	cmd.Env = []string{"MENTORSHIP_ENV=production", "MENTORSHIP_MASTER_KEY_URL=" + testMasterKey}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var addr string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "http://"); i >= 0 {
			addr = strings.TrimPrefix(strings.Fields(sc.Text()[i:])[0], "http://")
			break
		}
	}
	if addr == "" {
		t.Fatal("the server did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	probe := exec.Command(bin, "health", "--addr", addr)
	probe.Env = []string{}
	if out, err := probe.CombinedOutput(); err != nil {
		t.Fatalf("health against the running server: %v\n%s", err, out)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the server did not stop cleanly: %v", err)
	}
	probe = exec.Command(bin, "health", "--addr", addr)
	probe.Env = []string{}
	out, err := probe.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("health against the stopped server: %v, want exit status 1\n%s", err, out)
	}
}
