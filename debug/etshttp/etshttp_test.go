package etshttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/etsgo/ets"
	"github.com/etsgo/ets/debug/etshttp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, h http.Handler, target, accept string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func find(t *testing.T, body []byte, id uint64) etshttp.Table {
	t.Helper()
	var tables []etshttp.Table
	require.NoError(t, json.Unmarshal(body, &tables))
	for _, tb := range tables {
		if tb.ID == id {
			return tb
		}
	}
	t.Fatalf("table %d not listed in %s", id, body)
	return etshttp.Table{}
}

func TestHTTP_JSONAndHTML(t *testing.T) {
	o := ets.NewOwner(context.Background())
	defer o.Stop(nil)
	s, err := ets.NewSet[string, int](ets.WithName("<b>http-users</b>"), ets.WithOwner(o), ets.WithShards(4),
		ets.WithWriteConcurrency(ets.WriteConcurrencyOn))
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, s.Insert(strconv.Itoa(i), i))
	}
	id := s.Info().ID

	for _, c := range []struct{ target, accept string }{
		{"/debug/ets/?format=json", ""},
		{"/debug/ets/", "application/json"},
	} {
		rec := get(t, etshttp.Handler(), c.target, c.accept)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		got := find(t, rec.Body.Bytes(), id)
		require.Equal(t, etshttp.Table{
			ID: id, Name: "<b>http-users</b>", Kind: "set", Size: 3, Memory: got.Memory,
			Owner: o.String(), Heir: "none", Access: "protected", KeyType: "string", ValueType: "int",
			WriteConcurrency: "true", Shards: 4, DecentralizedCounters: true,
		}, got)
		require.Positive(t, got.Memory)
	}

	rec := get(t, etshttp.Handler(), "/debug/ets/", "text/html")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	page := rec.Body.String()
	require.Contains(t, page, "&lt;b&gt;http-users&lt;/b&gt;", "names are escaped")
	require.NotContains(t, page, "<b>http-users")
	require.Contains(t, page, "<td>protected</td>")
	requireCountLine(t, page)

	require.NoError(t, s.Drop())
	rec = get(t, etshttp.Handler(), "/debug/ets/?format=json", "")
	require.NotContains(t, rec.Body.String(), "http-users", "dropped tables are not listed")
	requireCountLine(t, get(t, etshttp.Handler(), "/debug/ets/", "text/html").Body.String())
}

// requireCountLine checks the page's count of live tables against its
// rows, and that the noun agrees with it ("1 live table.", "2 live
// tables.").
func requireCountLine(t *testing.T, page string) {
	t.Helper()
	m := regexp.MustCompile(`<p>(\d+) live (tables?)\. `).FindStringSubmatch(page)
	require.NotNil(t, m, page)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.Equal(t, n, strings.Count(page, `<tr><td class="n">`), "one row a table")
	if n == 1 {
		require.Equal(t, "table", m[2])
	} else {
		require.Equal(t, "tables", m[2])
	}
}

func TestHTTP_RegisteredOnDefaultServeMux(t *testing.T) {
	s, err := ets.NewSet[int, int](ets.WithName("http-default-mux"))
	require.NoError(t, err)
	defer s.Drop()
	srv := httptest.NewServer(http.DefaultServeMux)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/debug/ets/?format=json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var tables []etshttp.Table
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tables))
	names := map[string]bool{}
	for _, tb := range tables {
		names[tb.Name] = true
	}
	require.True(t, names["http-default-mux"])
	srv.Client().CloseIdleConnections()
}

func TestHTTP_MethodNotAllowed(t *testing.T) {
	rec := httptest.NewRecorder()
	etshttp.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/debug/ets/", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

// The JSON field names are the wire format scripts read: decoding into
// Table itself would follow a renamed tag, so this reads plain maps.
func TestHTTP_JSONFieldNames(t *testing.T) {
	s, err := ets.NewOrderedSet[int, string](ets.WithName("http-fields"), ets.WithReadConcurrency(true))
	require.NoError(t, err)
	defer s.Drop()
	require.NoError(t, s.Insert(1, "one"))
	rec := get(t, etshttp.Handler(), "/debug/ets/?format=json", "")
	var rows []map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rows))
	for _, row := range rows {
		if row["name"] != "http-fields" {
			continue
		}
		require.Equal(t, []string{"access", "decentralized_counters", "heir", "id", "key_type", "kind", "memory",
			"name", "owner", "read_concurrency", "shards", "size", "value_type", "write_concurrency"},
			slices.Sorted(maps.Keys(row)))
		require.Equal(t, map[string]any{"kind": "ordered_set", "size": 1.0, "key_type": "int", "value_type": "string",
			"access": "public", "owner": "none", "heir": "none", "read_concurrency": true, "write_concurrency": "auto"},
			map[string]any{"kind": row["kind"], "size": row["size"], "key_type": row["key_type"], "value_type": row["value_type"],
				"access": row["access"], "owner": row["owner"], "heir": row["heir"], "read_concurrency": row["read_concurrency"],
				"write_concurrency": row["write_concurrency"]})
		require.Equal(t, float64(s.Info().ID), row["id"])
		return
	}
	t.Fatalf("table not listed in %s", rec.Body)
}

// What each request gets: the format, the status and the headers.
func TestHTTP_Negotiation(t *testing.T) {
	const html, js = "text/html; charset=utf-8", "application/json"
	for _, c := range []struct {
		method, target, accept string
		code                   int
		contentType            string
	}{
		{http.MethodGet, "/debug/ets/", "", http.StatusOK, html},
		{http.MethodHead, "/debug/ets/", "", http.StatusOK, html},
		{http.MethodHead, "/debug/ets/?format=json", "", http.StatusOK, js},
		{http.MethodGet, "/debug/ets/", "text/html, application/json;q=0.5", http.StatusOK, js},
		{http.MethodGet, "/debug/ets/", "application/json;q=0, text/html", http.StatusOK, html},
		{http.MethodGet, "/debug/ets/", "application/jsonx", http.StatusOK, html},
		{http.MethodGet, "/debug/ets/?format=html", "application/json", http.StatusOK, html},
		{http.MethodGet, "/debug/ets/?format=json", "text/html", http.StatusOK, js},
		{http.MethodGet, "/debug/ets/some/subpath", "", http.StatusOK, html},
		{http.MethodGet, "/debug/ets/?format=xml", "", http.StatusBadRequest, "text/plain; charset=utf-8"},
		{http.MethodPost, "/debug/ets/", "", http.StatusMethodNotAllowed, "text/plain; charset=utf-8"},
		{http.MethodDelete, "/debug/ets/?format=json", "", http.StatusMethodNotAllowed, "text/plain; charset=utf-8"},
	} {
		name := fmt.Sprintf("%s %s Accept %q", c.method, c.target, c.accept)
		req := httptest.NewRequest(c.method, c.target, nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		rec := httptest.NewRecorder()
		etshttp.Handler().ServeHTTP(rec, req)
		require.Equal(t, c.code, rec.Code, name)
		require.Equal(t, c.contentType, rec.Header().Get("Content-Type"), name)
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), name)
		if c.code == http.StatusOK {
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"), name)
			require.Equal(t, "Accept", rec.Header().Get("Vary"), name)
		}
		if c.code == http.StatusMethodNotAllowed {
			require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"), name)
		}
	}
}

// The HTML row of a table holds every field, each in its column.
func TestHTTP_HTMLRow(t *testing.T) {
	o, heir := ets.NewOwner(context.Background()), ets.NewOwner(context.Background())
	defer o.Stop(nil)
	defer heir.Stop(nil)
	s, err := ets.NewBag[string, int](ets.WithName("http-row"), ets.WithOwner(o), ets.WithHeir(heir, nil),
		ets.WithAccess(ets.Private), ets.WithShards(8), ets.WithReadConcurrency(true))
	require.NoError(t, err)
	require.NoError(t, s.Insert("a", 1))
	require.NoError(t, s.Insert("a", 2))
	in := s.Info()
	rec := get(t, etshttp.Handler(), "/debug/ets/", "")
	row := regexp.MustCompile(`<tr><td class="n">` + strconv.FormatUint(in.ID, 10) + `</td>.*</tr>`).FindString(rec.Body.String())
	require.NotEmpty(t, row, rec.Body.String())
	var cells []string
	for _, m := range regexp.MustCompile(`<td[^>]*>([^<]*)</td>`).FindAllStringSubmatch(row, -1) {
		cells = append(cells, m[1])
	}
	require.Equal(t, []string{strconv.FormatUint(in.ID, 10), "http-row", "bag", "2", strconv.Itoa(in.Memory),
		o.String(), heir.String(), "private", "string", "int", "true", "auto", "8", "true"}, cells,
		"a private table's size is shown, as ETS's info/1 shows it")
}
