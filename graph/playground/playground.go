// Package playground serves GraphiQL from assets embedded in the binary, so
// that it works without reaching any CDN.
package playground

import (
	"embed"
	"html/template"
	"net/http"
)

//go:embed assets
var assets embed.FS

var page = template.Must(template.New("graphiql").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{.Base}}assets/graphiql.min.css">
<style>body{margin:0;height:100vh}#graphiql{height:100vh}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{{.Base}}assets/react.production.min.js"></script>
<script src="{{.Base}}assets/react-dom.production.min.js"></script>
<script src="{{.Base}}assets/graphiql.min.js"></script>
<script>
  const base = location.origin;
  const ws = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + {{.Endpoint}};
  const token = localStorage.getItem('mentorship-token') || '';
  const fetcher = GraphiQL.createFetcher({
    url: base + {{.Endpoint}},
    subscriptionUrl: ws,
    headers: token ? { Authorization: 'Bearer ' + token } : {},
    wsConnectionParams: token ? { Authorization: 'Bearer ' + token } : {},
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: true,
      defaultHeaders: token ? JSON.stringify({ Authorization: 'Bearer ' + token }, null, 2) : '',
    }));
</script>
</body>
</html>
`))

// Handler serves GraphiQL for the GraphQL endpoint at endpoint, with its
// assets under base+"assets/". base must end with a slash.
func Handler(title, base, endpoint string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+base+"assets/", http.StripPrefix(base, http.FileServerFS(assets)))
	mux.HandleFunc("GET "+base+"{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = page.Execute(w, map[string]string{"Title": title, "Base": base, "Endpoint": endpoint})
	})
	return mux
}
