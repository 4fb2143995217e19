// Command redis reproduces the seed article's headline, "ETS is about 25
// times faster than Redis, reads and writes at a median of 2µs", for ets:
// the same GET and SET on the same keys against a local redis-server
// (through github.com/redis/go-redis/v9) and on an ets.Set[string, string],
// printed side by side with the ratio.
//
// Latency is timed per operation from one goroutine (median and p99);
// throughput is operations per second from -clients goroutines for
// -duration. ets latencies include one clock read per operation (printed as
// "clock"), which is most of an ets operation's cost; the throughput rows
// have no clock in the loop.
//
//	go run ./redis -addr 127.0.0.1:6379      (redis/run.sh starts a server)
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/etsgo/ets"
	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "redis-server address (loopback only)")
	keys := flag.Int("keys", 100_000, "keys preloaded in both stores")
	samples := flag.Int("n", 50_000, "timed operations per latency figure")
	clients := flag.Int("clients", 4, "goroutines of the throughput runs")
	duration := flag.Duration("duration", 2*time.Second, "length of each throughput run")
	flag.Parse()
	log.SetFlags(0)

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: *addr, PoolSize: *clients})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		log.Fatalf("redis: cannot reach redis-server at %s: %v", *addr, err)
	}
	set, err := ets.NewSet[string, string]()
	if err != nil {
		log.Fatal(err)
	}
	defer set.Drop()

	ks := make([]string, *keys)
	for i := range ks {
		ks[i] = fmt.Sprintf("key:%012d", i) // 16 bytes
	}
	value := "v-0123456789abcdef0123456789abcd" // 32 bytes
	if err := preload(ctx, rdb, set, ks, value); err != nil {
		log.Fatal(err)
	}

	stores := []store{
		{"redis", func(k string) error {
			err := rdb.Get(ctx, k).Err()
			if err == redis.Nil {
				return fmt.Errorf("redis: %s missing", k)
			}
			return err
		}, func(k string) error { return rdb.Set(ctx, k, value, 0).Err() }},
		{"ets", func(k string) error {
			if _, ok := set.Lookup(k); !ok {
				return fmt.Errorf("ets: %s missing", k)
			}
			return nil
		}, func(k string) error { return set.Insert(k, value) }},
	}

	type result struct {
		median, p99 time.Duration
		opsPerSec   float64
	}
	results := map[string]result{}
	for _, op := range []string{"GET", "SET"} {
		for _, s := range stores {
			f := s.get
			if op == "SET" {
				f = s.set
			}
			med, p99, err := latency(f, ks, *samples)
			if err != nil {
				log.Fatal(err)
			}
			tput, err := throughput(f, ks, *clients, *duration)
			if err != nil {
				log.Fatal(err)
			}
			results[op+"/"+s.name] = result{med, p99, tput}
		}
	}

	fmt.Printf("%d keys of 16 bytes, 32-byte values; latency: %d operations from 1 goroutine; throughput: %d goroutines for %v\n",
		*keys, *samples, *clients, *duration)
	fmt.Printf("clock read (time.Now pair, median): %v, included in the ets latencies\n\n", clockCost())
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tredis median\tets median\tratio\tredis p99\tets p99\tratio\tredis ops/s\tets ops/s\tratio\t")
	for _, op := range []string{"GET", "SET"} {
		r, e := results[op+"/redis"], results[op+"/ets"]
		fmt.Fprintf(tw, "%s\t%v\t%v\t%.0fx\t%v\t%v\t%.0fx\t%.0f\t%.0f\t%.0fx\t\n", op,
			r.median, e.median, ratio(r.median, e.median),
			r.p99, e.p99, ratio(r.p99, e.p99),
			r.opsPerSec, e.opsPerSec, e.opsPerSec/r.opsPerSec)
	}
	tw.Flush()
}

type store struct {
	name     string
	get, set func(k string) error
}

func preload(ctx context.Context, rdb *redis.Client, set *ets.Set[string, string], ks []string, value string) error {
	for i := 0; i < len(ks); i += 1000 {
		pipe := rdb.Pipeline()
		for _, k := range ks[i:min(i+1000, len(ks))] {
			pipe.Set(ctx, k, value, 0)
			if err := set.Insert(k, value); err != nil {
				return err
			}
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// latency times n operations on random keys, one at a time, and returns the
// median and 99th percentile.
func latency(f func(string) error, ks []string, n int) (median, p99 time.Duration, err error) {
	r := rand.New(rand.NewPCG(1, 2))
	for range n / 10 { // warm up connections, caches and the branch predictor
		if err := f(ks[r.IntN(len(ks))]); err != nil {
			return 0, 0, err
		}
	}
	ds := make([]time.Duration, n)
	for i := range ds {
		k := ks[r.IntN(len(ks))]
		t := time.Now()
		err := f(k)
		ds[i] = time.Since(t)
		if err != nil {
			return 0, 0, err
		}
	}
	slices.Sort(ds)
	return ds[n/2], ds[n*99/100], nil
}

// throughput runs f on random keys from clients goroutines for d and returns
// operations per second.
func throughput(f func(string) error, ks []string, clients int, d time.Duration) (float64, error) {
	var (
		ops     atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 7))
			n := int64(0)
			for !stop.Load() {
				for range 64 {
					if err := f(ks[r.IntN(len(ks))]); err != nil {
						errOnce.Do(func() { first = err })
						stop.Store(true)
						break
					}
				}
				n += 64
			}
			ops.Add(n)
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return float64(ops.Load()) / time.Since(start).Seconds(), first
}

// clockCost is the median cost of the clock reads around one timed
// operation.
func clockCost() time.Duration {
	ds := make([]time.Duration, 10_001)
	for i := range ds {
		t := time.Now()
		ds[i] = time.Since(t)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
