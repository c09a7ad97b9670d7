// Package dashboard serves the staff dashboard: a page of plain JavaScript
// modules, CSS and hand-drawn SVG charts embedded in the binary, so that it
// works offline and needs no build step. The page signs in through the
// GraphQL API and follows the program live over its WebSocket.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Path is where the page is served; its assets are under Path+"/assets/".
const Path = "/dashboard"

// ContentSecurityPolicy lets the page load and connect to its own origin
// only: no inline script or style, no other site, no framing. Member
// names and other text reach the page as data and are written with
// textContent, so a name cannot become markup either.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the page at Path and its assets below it.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}
	files := http.StripPrefix(Path+"/assets/", http.FileServerFS(sub))
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	secure := func(h http.Header) {
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
	}
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, _ *http.Request) {
		secure(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
	mux.HandleFunc("GET "+Path+"/assets/", func(w http.ResponseWriter, r *http.Request) {
		secure(w.Header())
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	return mux
}
