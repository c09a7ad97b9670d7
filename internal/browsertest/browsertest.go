// Package browsertest starts headless Chromium for tests that drive a page
// through github.com/chromedp/chromedp. A test that needs a browser fails
// when none is installed under CI (CI=true), where a missing browser is a
// broken setup, and is skipped elsewhere.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// binaries are the names Chromium is installed under, in the order tried.
var binaries = []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome"}

// Binary returns the path of the browser to run: $CHROMIUM_PATH when set,
// else the first of the usual names found on PATH; "" when there is none.
func Binary() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range binaries {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Options tune the browser.
type Options struct {
	// Width and Height are the window's size in CSS pixels (1280×800 when
	// 0).
	Width, Height int
}

// New starts a headless browser and returns a context for chromedp
// actions on its first tab; the browser stops when the test ends.
func New(t testing.TB, opts Options) context.Context {
	t.Helper()
	bin := Binary()
	if bin == "" {
		const msg = "no Chromium found (install the chromium package or set CHROMIUM_PATH)"
		if strings.EqualFold(os.Getenv("CI"), "true") {
			t.Fatal(msg)
		}
		t.Skip(msg + " (set CI=true to make this a failure)")
	}
	if opts.Width == 0 {
		opts.Width, opts.Height = 1280, 800
	}
	flags := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	flags = append(flags,
		chromedp.ExecPath(bin),
		chromedp.WindowSize(opts.Width, opts.Height),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("lang", "en-CA"),
		chromedp.UserDataDir(t.TempDir()),
	)
	// Chromium refuses to start its sandbox as root, as in containers.
	if os.Geteuid() == 0 {
		flags = append(flags, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}
