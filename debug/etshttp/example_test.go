package etshttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/etsgo/ets"
	"github.com/etsgo/ets/debug/etshttp"
)

func ExampleHandler() {
	users, _ := ets.NewSet[string, int](ets.WithName("example-http-users"))
	defer users.Drop()
	_ = users.Insert("alice", 31)
	_ = users.Insert("bob", 45)

	// On a program's own mux (importing the package also registers the
	// handler at /debug/ets/ on http.DefaultServeMux).
	mux := http.NewServeMux()
	mux.Handle("/debug/ets/", etshttp.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/ets/?format=json", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))

	// A JSON array of every live table; IDs, memory and owners vary, and
	// other tables may be live, so pick this one by name.
	var tables []etshttp.Table
	if err := json.NewDecoder(rec.Body).Decode(&tables); err != nil {
		panic(err)
	}
	for _, t := range tables {
		if t.Name == "example-http-users" {
			fmt.Println(t.Name, t.Kind, t.Size, t.Access, t.KeyType, t.ValueType)
		}
	}
	// Output:
	// 200 application/json
	// example-http-users set 2 public string int
}
