package bench

import (
	"runtime"
	"testing"

	"github.com/etsgo/ets"
	"github.com/puzpuzpuz/xsync/v4"
)

// BenchmarkDirectRead100 is Read100 (int keys) as a program calls the two
// fastest implementations: ets's Lookup and xsync's Load on concrete types,
// from a concrete loop, with no interface and no generic wrapper between.
//
// The suite's workloads call every implementation through one interface
// and a generic wrapper (hashMap, etsSet[K]). That costs each the same
// dynamic call, but not the same static ones: xsync's wrapper inlines its
// one call to Load, while ets's cannot inline Lookup's (an inlined Lookup
// plus the wrapper exceeds the compiler's inlining budget, 95 against 80),
// so ets pays one more call a lookup there: callgrind counts 23
// instructions of wrappers around Map.Get's 94 in Read100 (int, 1e3), 15
// around xsync's Load's 64. Here each pays only its own call.
func BenchmarkDirectRead100(b *testing.B) {
	for _, size := range benchSizes() {
		keys := cachedKeys(intKeySet, size)
		var s *ets.Set[int64, int64] // built at the first run of the sub-benchmark, if it runs
		b.Run("impl=ets/key=int/size="+sizeName(size), func(b *testing.B) {
			if s == nil {
				var err error
				if s, err = ets.NewSet[int64, int64](); err != nil {
					b.Fatal(err)
				}
				for i, k := range keys {
					_ = s.Insert(k, int64(i))
				}
			}
			runDirect(b, func(pb *testing.PB, r *rng) {
				for pb.Next() {
					s.Lookup(keys[r.below(len(keys))])
				}
			})
		})
		if s != nil {
			_ = s.Drop()
		}
		var m *xsync.Map[int64, int64]
		b.Run("impl=xsync/key=int/size="+sizeName(size), func(b *testing.B) {
			if m == nil {
				m = xsync.NewMap[int64, int64]()
				for i, k := range keys {
					m.Store(k, int64(i))
				}
			}
			runDirect(b, func(pb *testing.PB, r *rng) {
				for pb.Next() {
					m.Load(keys[r.below(len(keys))])
				}
			})
		})
	}
}

// runDirect times loop, a lookup loop over a table built before it, in
// every goroutine of b.RunParallel, each with its own generator.
func runDirect(b *testing.B, loop func(pb *testing.PB, r *rng)) {
	runtime.GC()
	b.ResetTimer()
	b.ReportAllocs()
	defer cpuClock(b)()
	b.RunParallel(func(pb *testing.PB) {
		r := newRNG()
		loop(pb, &r)
	})
}
