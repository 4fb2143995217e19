module github.com/etsgo/ets/bench

go 1.26.0

replace github.com/etsgo/ets => ..

require (
	github.com/etsgo/ets v0.0.0-00010101000000-000000000000
	github.com/google/btree v1.1.3
	github.com/orcaman/concurrent-map/v2 v2.0.1
	github.com/puzpuzpuz/xsync/v4 v4.5.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/tidwall/btree v1.8.2
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
