package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/etsgo/ets"
)

// BenchmarkPingPong measures the machine rather than a table: two goroutines
// take turns writing one cache line, so that an op is the line's round trip
// between the two processors, plus any time in which one of them was not
// running. run.sh records it before and after the suite, as a record of the
// machine's state during a run. (It measured 100 ns in one hour of
// 2026-11-22 and 400-800 ns in the next, while the write benchmarks at
// -cpu 2 did not change with it: it does not predict them.) It runs only
// when ETS_BENCH_MACHINE=1, so that the suite's -bench . leaves it out.
func BenchmarkPingPong(b *testing.B) {
	if os.Getenv("ETS_BENCH_MACHINE") != "1" {
		b.Skip("set ETS_BENCH_MACHINE=1")
	}
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two processors")
	}
	var line struct {
		_ [64]byte
		n atomic.Int64
		_ [64]byte
	}
	done := make(chan struct{})
	go func() { // the responder: answers every odd value with the next even one
		defer close(done)
		for {
			switch v := line.n.Load(); {
			case v < 0:
				return
			case v&1 == 1:
				line.n.Store(v + 1)
			}
		}
	}()
	for i := range int64(b.N) {
		line.n.Store(2*i + 1)
		for line.n.Load() != 2*i+2 {
		}
	}
	line.n.Store(-1)
	<-done
}

// BenchmarkMemoryLatency measures the machine's memory: an op is one load
// whose address is the value of the load before, over a random cycle
// through one word of every 64-byte line of an array of MB megabytes, so
// that no two loads overlap and the caches hold only what fits. It tells
// what one miss costs at a table's size. It runs only when
// ETS_BENCH_MACHINE=1.
func BenchmarkMemoryLatency(b *testing.B) {
	if os.Getenv("ETS_BENCH_MACHINE") != "1" {
		b.Skip("set ETS_BENCH_MACHINE=1")
	}
	for _, mb := range []int{1, 4, 16, 64, 256} {
		b.Run(fmt.Sprintf("MB=%d", mb), func(b *testing.B) {
			lines := mb << 20 / 64
			next := make([]int64, lines*8)
			perm := rand.New(rand.NewPCG(uint64(mb), 1)).Perm(lines)
			for i, l := range perm {
				next[l*8] = int64(perm[(i+1)%lines] * 8)
			}
			p := int64(0)
			for b.Loop() {
				p = next[p]
			}
			sink = p
		})
	}
}

var sink int64

// BenchmarkMissOverlap measures how much of an operation's cache miss a
// processor overlaps with the next operation's, on one goroutine and 1<<20
// int keys (a table larger than the caches). With keys=independent each
// operation's key is drawn at random, so the processor may start the next
// operation's misses while one waits; with keys=chain each key is the value
// the lookup before found, so no two misses overlap: an op is then the full
// latency of the key's load and of its group's. Writes are ets's Insert
// (a shard lock: a compare-and-swap and a store), a map's store (no lock) and
// a Mutex-guarded map's (two locked instructions). It runs only when
// ETS_BENCH_MACHINE=1.
func BenchmarkMissOverlap(b *testing.B) {
	if os.Getenv("ETS_BENCH_MACHINE") != "1" {
		b.Skip("set ETS_BENCH_MACHINE=1")
	}
	const n = 1 << 20
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]int64, n)
	for i := range keys {
		keys[i] = r.Int64()
	}
	perm := r.Perm(n)
	s, err := ets.NewSet[int64, int64]()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Drop() }()
	m := make(map[int64]int64, n)
	var mu sync.Mutex
	for i, p := range perm { // keys[p]'s value is the next index of one cycle through all keys
		v := int64(perm[(i+1)%n])
		_ = s.Insert(keys[p], v)
		m[keys[p]] = v
	}
	ops := []struct {
		name string
		op   func(i int64)
	}{
		{"ets-lookup", func(i int64) { s.Lookup(keys[i]) }},
		{"map-lookup", func(i int64) { _ = m[keys[i]] }},
		{"ets-insert", func(i int64) { _ = s.Insert(keys[i], i) }},
		{"map-store", func(i int64) { m[keys[i]] = i }},
		{"mutexmap-store", func(i int64) { mu.Lock(); m[keys[i]] = i; mu.Unlock() }},
	}
	b.Run("op=ets-lookup/keys=chain", func(b *testing.B) {
		i := int64(0)
		for b.Loop() {
			i, _ = s.Lookup(keys[i])
		}
		sink = i
	})
	for _, o := range ops { // the writes last: they break the chain
		b.Run("op="+o.name+"/keys=independent", func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			for b.Loop() {
				o.op(r.Int64N(n))
			}
		})
	}
}
