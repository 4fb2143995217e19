// Package etshttp serves the live ets tables over HTTP, in the manner of
// net/http/pprof: the list of tables that ets.I prints (ETS i/0, Observer's
// table viewer) as an HTML page, or as JSON.
//
// Importing the package for its side effect registers the handler on
// http.DefaultServeMux at /debug/ets/:
//
//	import _ "github.com/etsgo/ets/debug/etshttp"
//
// A program that serves another mux mounts Handler itself:
//
//	mux.Handle("/debug/ets/", etshttp.Handler())
//
// The page lists each table's ID, name, kind, size, memory, owner, heir,
// access, key and value types and concurrency options. JSON is served for
// ?format=json, or when the request's Accept header asks for
// application/json: an array of Table objects. Like pprof, the endpoint
// reveals internals; expose it only where that is acceptable.
package etshttp

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"github.com/etsgo/ets"
)

func init() {
	http.Handle("/debug/ets/", Handler())
}

// Table is one table as the JSON output describes it.
type Table struct {
	ID                    uint64 `json:"id"`
	Name                  string `json:"name"`
	Kind                  string `json:"kind"`
	Size                  int    `json:"size"`
	Memory                int    `json:"memory"`
	Owner                 string `json:"owner"`
	Heir                  string `json:"heir"`
	Access                string `json:"access"`
	KeyType               string `json:"key_type"`
	ValueType             string `json:"value_type"`
	ReadConcurrency       bool   `json:"read_concurrency"`
	WriteConcurrency      string `json:"write_concurrency"`
	Shards                int    `json:"shards"`
	DecentralizedCounters bool   `json:"decentralized_counters"`
}

// Tables returns the live tables (ets.Tables) in the form Handler serves.
func Tables() []Table {
	infos := ets.Tables()
	out := make([]Table, 0, len(infos))
	for _, in := range infos {
		out = append(out, Table{
			ID:                    in.ID,
			Name:                  in.Name,
			Kind:                  in.Kind.String(),
			Size:                  in.Size,
			Memory:                in.Memory,
			Owner:                 in.Owner.String(),
			Heir:                  in.Heir.String(),
			Access:                in.Access.String(),
			KeyType:               in.KeyType,
			ValueType:             in.ValueType,
			ReadConcurrency:       in.ReadConcurrency,
			WriteConcurrency:      in.WriteConcurrency.String(),
			Shards:                in.Shards,
			DecentralizedCounters: in.DecentralizedCounters,
		})
	}
	return out
}

// Handler returns the handler that serves the table list: HTML by default,
// JSON for ?format=json or an Accept header naming application/json. It
// answers GET and HEAD; other methods get 405.
func Handler() http.Handler { return http.HandlerFunc(serve) }

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	tables := Tables()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(tables)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, tables)
}

func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "html":
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

var page = template.Must(template.New("ets").Parse(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>/debug/ets/</title>
<style>
body { font-family: sans-serif; }
table { border-collapse: collapse; }
th, td { padding: 2px 10px; text-align: left; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-family: monospace; }
</style>
</head>
<body>
<h1>ets tables</h1>
<p>{{len .}} live tables. <a href="?format=json">JSON</a></p>
<table>
<tr><th>ID</th><th>Name</th><th>Kind</th><th>Size</th><th>Memory</th><th>Owner</th><th>Heir</th><th>Access</th><th>Key</th><th>Value</th><th>Write concurrency</th><th>Shards</th></tr>
{{range .}}<tr><td class="n">{{.ID}}</td><td>{{.Name}}</td><td>{{.Kind}}</td><td class="n">{{.Size}}</td><td class="n">{{.Memory}}</td><td>{{.Owner}}</td><td>{{.Heir}}</td><td>{{.Access}}</td><td>{{.KeyType}}</td><td>{{.ValueType}}</td><td>{{.WriteConcurrency}}</td><td class="n">{{.Shards}}</td></tr>
{{end}}</table>
</body>
</html>
`))
