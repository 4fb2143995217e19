package etshttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
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

	require.NoError(t, s.Drop())
	rec = get(t, etshttp.Handler(), "/debug/ets/?format=json", "")
	require.NotContains(t, rec.Body.String(), "http-users", "dropped tables are not listed")
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
