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
// access, key and value types and concurrency options: every field of
// ets.Info. JSON is served for ?format=json, or when the request's Accept
// header asks for application/json: an array of Table objects. The handler
// answers the same list on whatever path it is mounted, subpaths included.
//
// Like pprof, the endpoint reveals internals; expose it only where that is
// acceptable. It shows every table's ets.Info (ets.Tables): the size of a
// private table too, as ETS's info/1 and Observer do. It shows no keys or
// values, and it never writes a table.
package etshttp

import (
	"encoding/json"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/etsgo/ets"
)

func init() {
	http.Handle("/debug/ets/", Handler())
}

// Table is one table as the JSON output describes it: an ets.Info with its
// enumerations spelled as strings. The JSON field names are part of the
// package's API and do not change.
type Table struct {
	ID                    uint64 `json:"id"`                     // ets.Info.ID
	Name                  string `json:"name"`                   // "" for an unnamed table; bytes that are not UTF-8 come out as U+FFFD in JSON (ets.I quotes such names)
	Kind                  string `json:"kind"`                   // "set", "ordered_set", "bag" or "duplicate_bag"
	Size                  int    `json:"size"`                   // objects
	Memory                int    `json:"memory"`                 // approximate bytes of storage
	Owner                 string `json:"owner"`                  // "owner#N", or "none"
	Heir                  string `json:"heir"`                   // "owner#N", or "none"
	Access                string `json:"access"`                 // "public", "protected" or "private"
	KeyType               string `json:"key_type"`               // the key type, as Go prints it
	ValueType             string `json:"value_type"`             // the value type, as Go prints it
	ReadConcurrency       bool   `json:"read_concurrency"`       // ets.WithReadConcurrency
	WriteConcurrency      string `json:"write_concurrency"`      // "false", "true" or "auto"
	Shards                int    `json:"shards"`                 // locks the writers spread over now
	DecentralizedCounters bool   `json:"decentralized_counters"` // ets.WithDecentralizedCounters
}

// Tables returns the live tables (ets.Tables) in the form Handler serves, in
// ID order. It costs O(tables × shards), is not a snapshot while tables are
// made, dropped and written, and is safe for concurrent use.
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
// JSON for ?format=json or an Accept header that accepts application/json
// (with a q above 0); ?format=html asks for HTML whatever Accept says, and
// another format is 400 Bad Request. It answers GET and HEAD; other methods
// get 405 Method Not Allowed. Responses are marked not to be cached, and to
// vary with Accept. The handler is safe for concurrent use: it gathers the
// whole list (Tables) before it writes a byte, so a slow client delays no
// table.
func Handler() http.Handler { return http.HandlerFunc(serve) }

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var asJSON bool
	switch f := r.URL.Query().Get("format"); f {
	case "json":
		asJSON = true
	case "html":
	case "":
		asJSON = acceptsJSON(r.Header.Values("Accept"))
	default:
		http.Error(w, fmt.Sprintf("unknown format %q: json or html", f), http.StatusBadRequest)
		return
	}
	tables := Tables()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept")
	if asJSON {
		h.Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(tables)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, tables)
}

// acceptsJSON reports whether Accept headers name application/json with a
// quality above 0.
func acceptsJSON(accept []string) bool {
	for _, line := range accept {
		for part := range strings.SplitSeq(line, ",") {
			typ, params, err := mime.ParseMediaType(part)
			if err != nil || typ != "application/json" {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
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
<p>{{len .}} live table{{if ne (len .) 1}}s{{end}}. <a href="?format=json">JSON</a></p>
<table>
<tr><th>ID</th><th>Name</th><th>Kind</th><th>Size</th><th>Memory</th><th>Owner</th><th>Heir</th><th>Access</th><th>Key</th><th>Value</th><th>Read concurrency</th><th>Write concurrency</th><th>Shards</th><th>Decentralized counters</th></tr>
{{range .}}<tr><td class="n">{{.ID}}</td><td>{{.Name}}</td><td>{{.Kind}}</td><td class="n">{{.Size}}</td><td class="n">{{.Memory}}</td><td>{{.Owner}}</td><td>{{.Heir}}</td><td>{{.Access}}</td><td>{{.KeyType}}</td><td>{{.ValueType}}</td><td>{{.ReadConcurrency}}</td><td>{{.WriteConcurrency}}</td><td class="n">{{.Shards}}</td><td>{{.DecentralizedCounters}}</td></tr>
{{end}}</table>
</body>
</html>
`))
