package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/etsgo/ets"
)

// BenchmarkErlang runs the operations of ets/ets_bench.escript as the
// escript runs them against Erlang's ETS, so that ets/run.sh compares one
// workload on both sides: the escript's keys (ETS_ERLANG_KEYS of them,
// default 1e6: i*11400714819323198485 mod 2^58 for i = 1..n), tables built
// before the timer, and each goroutine reading its keys in order from its
// own sample of ETS_ERLANG_SAMPLE keys (default 2^20, a power of two) drawn
// uniformly from them beforehand, as each Erlang process reads its tuple:
// no random-number call and no random read of a key array in the timed
// loop. A goroutine's keys repeat after 2^20 operations (-benchtime decides
// how many it makes; at 200ms, about three passes over its sample), an
// Erlang process's never with the escript's defaults (1e6 operations).
// empty_loop is the loop alone, as the escript's. The walks start at a sampled key: 100 Next calls (ets:next/2's
// algorithm, which visits the 100 keys after it), or one Ascend loop from it
// stopped after 100 keys (what a Go caller writes; the sampled key is the
// first of them).
//
// It runs only when ETS_BENCH_ERLANG=1, so that the suite's -bench .
// (run.sh) leaves it out; ets/run.sh sets that and both variables, for
// both sides. Until the twentieth session the escript read samples of
// 65,536 keys (131,072 distinct keys at most of its 1e6 for two processes,
// whose tree paths stay in the cache), and the Go side ran the suite's
// Read100, Write100 and OrderedLookup, which read each key at a random
// index of the whole key array (a miss of the processor's cache an
// operation, on the array itself).
func BenchmarkErlang(b *testing.B) {
	if os.Getenv("ETS_BENCH_ERLANG") != "1" {
		b.Skip("set ETS_BENCH_ERLANG=1 (ets/run.sh does)")
	}
	n := envInt(b, "ETS_ERLANG_KEYS", 1_000_000)
	size := envInt(b, "ETS_ERLANG_SAMPLE", 1<<20)
	if size <= 0 || size&(size-1) != 0 {
		b.Fatalf("ETS_ERLANG_SAMPLE=%d: want a power of two", size)
	}
	keys := make([]int64, n)
	for i := range keys {
		keys[i] = int64(uint64(i+1) * 11400714819323198485 & (1<<58 - 1))
	}
	// One sample per goroutine RunParallel starts (GOMAXPROCS of them; 8 MB
	// each at the default size).
	samples := make([][]int64, runtime.GOMAXPROCS(0))
	for p := range samples {
		r := rand.New(rand.NewPCG(uint64(p+1), 17))
		samples[p] = make([]int64, size)
		for i := range samples[p] {
			samples[p][i] = keys[r.IntN(n)]
		}
	}
	var set *ets.Set[int64, int64]
	var ord *ets.OrderedSet[int64, int64]
	defer func() {
		if set != nil {
			_ = set.Drop()
		}
		if ord != nil {
			_ = ord.Drop()
		}
	}()
	// The builders take the sub-benchmark's b: a failure must stop the
	// goroutine that runs it.
	makeSet := func(b *testing.B) {
		if set != nil {
			return
		}
		var err error
		if set, err = ets.NewSet[int64, int64](); err != nil {
			b.Fatal(err)
		}
		for _, k := range keys {
			_ = set.Insert(k, k)
		}
	}
	makeOrdered := func(b *testing.B) {
		if ord != nil {
			return
		}
		var err error
		if ord, err = ets.NewOrderedSet[int64, int64](); err != nil {
			b.Fatal(err)
		}
		for _, k := range keys {
			_ = ord.Insert(k, k)
		}
	}
	var sink atomic.Int64 // keeps the results alive
	ops := []struct {
		name  string
		build func(b *testing.B)
		op    func(k int64) int64
	}{
		{"set_lookup", makeSet, func(k int64) int64 { v, _ := set.Lookup(k); return v }},
		{"set_insert", makeSet, func(k int64) int64 { _ = set.Insert(k, 1); return 0 }},
		{"ordered_set_lookup", makeOrdered, func(k int64) int64 { v, _ := ord.Lookup(k); return v }},
		{"ordered_set_walk100", makeOrdered, func(k int64) int64 {
			for range 100 {
				var ok bool
				if k, _, ok = ord.Next(k); !ok {
					break
				}
			}
			return k
		}},
		{"empty_loop", func(*testing.B) {}, func(k int64) int64 { return k }},
		{"ordered_set_ascend100", makeOrdered, func(k int64) int64 {
			var x int64
			i := 0
			for k := range ord.Ascend(k) {
				x += k
				if i++; i == 100 {
					break
				}
			}
			return x
		}},
	}
	for _, o := range ops {
		b.Run(fmt.Sprintf("op=%s/impl=ets/key=int/size=%s", o.name, sizeName(n)), func(b *testing.B) {
			o.build(b)
			runtime.GC()
			var goroutines atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			defer cpuClock(b)()
			b.RunParallel(func(pb *testing.PB) {
				s := samples[int(goroutines.Add(1)-1)%len(samples)]
				var x int64
				for i := 0; pb.Next(); i++ {
					x += o.op(s[i&(len(s)-1)])
				}
				sink.Add(x)
			})
		})
	}
}

// envInt returns the integer in environment variable name, or def if it is
// unset.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}
