package bench

// The hash workloads of issue 8: ets's Set against the Go peers. Names are
// Benchmark<Workload>/impl=<name>/key=<int|string>/size=<n>, so that
// `benchstat -col /impl` puts the implementations side by side. Every
// workload runs with b.RunParallel: `-cpu 1,2` sets its parallelism.

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// keyCache keeps the key slices of one run: making 2e6 string keys for
// every implementation would dominate the run.
var keyCache = map[string]any{}

func cachedKeys[K comparable](ks keySet[K], n int) []K {
	name := ks.name + "/" + sizeName(n)
	if k, ok := keyCache[name]; ok {
		return k.([]K)
	}
	k := ks.keys(n)
	keyCache[name] = k
	return k
}

// fill builds an implementation holding keys[:size].
func fill[K comparable](mk func() hashMap[K], keys []K, size int) hashMap[K] {
	m := mk()
	for i, k := range keys[:size] {
		m.Store(k, int64(i))
	}
	return m
}

// workload is a parallel mix of operations on random keys of a universe of
// universe*size keys, of which the first size are present at the start:
// insert% stores (an overwrite when the key is present), del% deletes, and
// the rest are lookups.
type workload struct {
	insert, del int
	universe    int
}

// readWrite is reads% lookups of present keys, the rest overwrites of
// present keys: the table never changes size.
func readWrite(reads int) workload { return workload{insert: 100 - reads, universe: 1} }

// mix is ETS's throughput mix of insert/delete/lookup percentages over a
// universe of 2*size keys, half of them present on average.
func mix(insert, del int) workload { return workload{insert: insert, del: del, universe: 2} }

func BenchmarkRead100(b *testing.B) { runWorkload(b, readWrite(100)) }
func BenchmarkRead90(b *testing.B)  { runWorkload(b, readWrite(90)) }
func BenchmarkRead50(b *testing.B)  { runWorkload(b, readWrite(50)) }

// BenchmarkWrite100 overwrites present keys.
func BenchmarkWrite100(b *testing.B) { runWorkload(b, readWrite(0)) }

func BenchmarkMix_1_1_98(b *testing.B)   { runWorkload(b, mix(1, 1)) }
func BenchmarkMix_10_10_80(b *testing.B) { runWorkload(b, mix(10, 10)) }
func BenchmarkMix_50_50_0(b *testing.B)  { runWorkload(b, mix(50, 50)) }

// runWorkload runs w for every implementation, key type and size. A table of
// 1e3 keys is built afresh for every run (-count), so that the median spans
// several tables and their places in memory: one table can be much slower
// than another of the same keys (in a run of 2026-11-22 one ets table and one
// map+RWMutex table of 1e3 string keys were 1.6x slower than their usual, in
// all six runs that reused them). Larger tables take seconds to build and are
// built once per sub-benchmark, then reused across its runs.
func runWorkload(b *testing.B, w workload) {
	runWorkloadKeys(b, intKeySet, w)
	runWorkloadKeys(b, stringKeySet, w)
}

func runWorkloadKeys[K comparable](b *testing.B, ks keySet[K], w workload) {
	for _, size := range benchSizes() {
		keys := cachedKeys(ks, w.universe*size)
		for _, im := range hashImpls[K]() {
			var m hashMap[K]
			b.Run("impl="+im.name+"/key="+ks.name+"/size="+sizeName(size), func(b *testing.B) {
				if m == nil || b.N == 1 && size <= 1_000 { // b.N is 1 in the first round of every run
					if m != nil {
						m.Close()
					}
					m = fill(im.make, keys, size)
					runtime.GC()
					b.ResetTimer()
				}
				b.ReportAllocs()
				defer cpuClock(b)()
				b.RunParallel(func(pb *testing.PB) { runOps(w, pb, m, keys) })
			})
			if m != nil {
				m.Close()
			}
		}
	}
}

// runOps is the hot loop of a workload: one random draw and one call per
// operation.
func runOps[K comparable](w workload, pb *testing.PB, m hashMap[K], keys []K) {
	r := newRNG()
	n := len(keys)
	for pb.Next() {
		x := r.next()
		i := r.below(n)
		switch p := int(x % 100); {
		case p < w.insert:
			m.Store(keys[i], int64(x))
		case p < w.insert+w.del:
			m.Delete(keys[i])
		default:
			m.Load(keys[i])
		}
	}
}

// BenchmarkWalk visits every entry of the table, as each implementation's
// users walk it (ets: All; xsync and sync.Map: Range; the locked maps: a
// range under the read lock, or the lock; cmap: IterCb), summing the values:
// one operation is one walk of size entries, and every goroutine walks on
// its own (ETS's tab2list and foldl). ns/op over size is the time per entry.
func BenchmarkWalk(b *testing.B) {
	runWalk(b, intKeySet)
	runWalk(b, stringKeySet)
}

func runWalk[K comparable](b *testing.B, ks keySet[K]) {
	eachFilled(b, ks, func(b *testing.B, m hashMap[K], size int) {
		defer start(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				var n, sum int64
				m.Walk(func(_ K, v int64) bool { n, sum = n+1, sum+v; return true })
				if n != int64(size) || sum != int64(size)*int64(size-1)/2 {
					panic("a walk missed entries")
				}
			}
		})
	})
}

// BenchmarkInsert inserts keys that are not in the table: each round builds
// a table of size keys and b.N fresh keys before the timer starts, and the
// goroutines take fresh keys in chunks of 64 from a shared ticket.
func BenchmarkInsert(b *testing.B) {
	runInsert(b, intKeySet)
	runInsert(b, stringKeySet)
}

var freshSeed atomic.Uint64

func runInsert[K comparable](b *testing.B, ks keySet[K]) {
	eachFilled(b, ks, func(b *testing.B, m hashMap[K], _ int) {
		fresh := ks.fresh(b.N, freshSeed.Add(1))
		var ticket atomic.Int64
		defer start(b)()
		b.RunParallel(func(pb *testing.PB) {
			var i, end int
			for pb.Next() {
				if i == end {
					end = int(ticket.Add(64))
					i = end - 64
				}
				if i < len(fresh) {
					m.Store(fresh[i], int64(i))
				}
				i++
			}
		})
	})
}

// eachFilled runs run as a sub-benchmark of b for every size and
// implementation, each run with a table of size keys built for it (and
// closed after it).
func eachFilled[K comparable](b *testing.B, ks keySet[K], run func(b *testing.B, m hashMap[K], size int)) {
	for _, size := range benchSizes() {
		keys := cachedKeys(ks, size)
		for _, im := range hashImpls[K]() {
			b.Run("impl="+im.name+"/key="+ks.name+"/size="+sizeName(size), func(b *testing.B) {
				m := fill(im.make, keys, size)
				defer m.Close()
				run(b, m, size)
			})
		}
	}
}

// start starts a sub-benchmark's clocks once its setup is done, after a
// collection, so that the setup's garbage is not collected on the clock,
// and returns the function that reports its CPU time (cpuClock).
func start(b *testing.B) (stop func()) {
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	return cpuClock(b)
}

// BenchmarkHotCounters increments 64 hot counters from every goroutine: ets
// through UpdateCounter, xsync through Compute, the locked maps under their
// lock, and "atomic" on an array of cache-line-padded atomic.Int64, the
// physical limit.
func BenchmarkHotCounters(b *testing.B) {
	const n = 64
	keys := intKeys(n)
	for _, im := range counterImpls[int64]() {
		b.Run("impl="+im.name+"/key=int/size=64", func(b *testing.B) {
			m := fill(im.make, keys, n)
			defer m.Close()
			b.ReportAllocs()
			b.ResetTimer()
			defer cpuClock(b)()
			b.RunParallel(func(pb *testing.PB) {
				r := newRNG()
				for pb.Next() {
					m.Inc(keys[r.below(n)])
				}
			})
		})
	}
	b.Run("impl=atomic/key=int/size=64", func(b *testing.B) {
		var c paddedCounters
		b.ReportAllocs()
		defer cpuClock(b)()
		b.RunParallel(func(pb *testing.PB) {
			r := newRNG()
			for pb.Next() {
				c[r.below(n)].n.Add(1)
			}
		})
	})
}

// reportBytesPerEntry calls build once per iteration and reports the live
// heap its result holds per entry (HeapAlloc after a GC, less HeapAlloc
// before building, over entries) as B/entry; ns/op is the time to build.
func reportBytesPerEntry[T interface{ Close() }](b *testing.B, entries int, build func() T) {
	var total float64
	var before, after runtime.MemStats
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		m := build()
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		total += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		runtime.KeepAlive(m)
		m.Close()
		b.StartTimer()
	}
	b.ReportMetric(total/float64(b.N)/float64(entries), "B/entry")
}

// BenchmarkMemory builds a table of 1e6 int64→int64 entries per iteration
// and reports the live heap it holds per entry (HeapAlloc after a GC, less
// HeapAlloc before building, over the entry count) as B/entry; ns/op is the
// time to build the table.
func BenchmarkMemory(b *testing.B) {
	const size = 1_000_000
	keys := cachedKeys(intKeySet, size)
	for _, im := range hashImpls[int64]() {
		b.Run("impl="+im.name+"/key=int/size=1e6", func(b *testing.B) {
			reportBytesPerEntry(b, size, func() hashMap[int64] { return fill(im.make, keys, size) })
		})
	}
}
