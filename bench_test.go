package ets_test

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/etsgo/ets"
)

// Benchmarks are named Benchmark<Kind>_<Op>/<param>=<value>. Compare runs
// with benchstat; on a noisy machine only ratios within one run mean much.
//
//	go test -run '^$' -bench 'Set_' -benchmem -count 6 -cpu 1,2 . | tee new.txt

var benchSizes = []int{1_000, 1_000_000}

// intKeys returns n distinct int64 keys in a random order.
func intKeys(n int) []int64 {
	ks := make([]int64, n)
	for i := range ks {
		ks[i] = int64(uint64(i) * 0x9E3779B97F4A7C15 >> 1)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	return ks
}

// stringKeys returns n distinct 16-byte string keys in a random order.
func stringKeys(n int) []string {
	ks := make([]string, n)
	for i, k := range intKeys(n) {
		ks[i] = fmt.Sprintf("%016x", uint64(k))
	}
	return ks
}

func sizeName(n int) string {
	switch n {
	case 1_000:
		return "1e3"
	case 1_000_000:
		return "1e6"
	case 10_000_000:
		return "1e7"
	}
	return fmt.Sprint(n)
}

// rng is a per-goroutine xorshift generator: the hot loops never share a
// random source.
type rng uint64

var rngSeeds atomic.Uint64

func newRNG() rng { return rng(rngSeeds.Add(0x9E3779B97F4A7C15) | 1) }

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*r = rng(x)
	return x
}

// forKeyTypes runs body for int64 and string keys at every size.
func forKeyTypes(b *testing.B, body func(b *testing.B, size int, mk keyMaker)) {
	for _, kt := range []keyMaker{intKeyMaker{}, stringKeyMaker{}} {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("key=%s/size=%s", kt.name(), sizeName(size)), func(b *testing.B) {
				body(b, size, kt)
			})
		}
	}
}

// keyMaker builds a benchmark table of its key type and hands out closures
// over it, so each benchmark is written once for both key types.
type keyMaker interface {
	name() string
	// table returns a Set of universe keys (of which the first size are
	// inserted) and the operations on key i of the universe.
	table(b *testing.B, size, universe int, opts ...ets.Option) setOps
	// ordered is table for an OrderedSet (see orderedset_bench_test.go).
	ordered(b *testing.B, size, universe int) orderedOps
}

type setOps struct {
	lookup, member, insert, insertNew, del, update, counter func(i int)
}

type intKeyMaker struct{}

func (intKeyMaker) name() string { return "int" }
func (intKeyMaker) table(b *testing.B, size, universe int, opts ...ets.Option) setOps {
	return opsFor(b, intKeys(universe), size, opts...)
}

type stringKeyMaker struct{}

func (stringKeyMaker) name() string { return "string" }
func (stringKeyMaker) table(b *testing.B, size, universe int, opts ...ets.Option) setOps {
	return opsFor(b, stringKeys(universe), size, opts...)
}

func opsFor[K comparable](b *testing.B, keys []K, size int, opts ...ets.Option) setOps {
	s, err := ets.NewSet[K, int64](opts...)
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]ets.Entry[K, int64], 0, 4096)
	for i, k := range keys[:size] {
		batch = append(batch, ets.Entry[K, int64]{Key: k, Value: int64(i)})
		if len(batch) == cap(batch) {
			_ = s.InsertMany(batch...)
			batch = batch[:0]
		}
	}
	_ = s.InsertMany(batch...)
	b.Cleanup(func() { _ = s.Drop() })
	inc := func(old int64, ok bool) (int64, ets.Op) { return old + 1, ets.Store }
	return setOps{
		lookup:    func(i int) { s.Lookup(keys[i]) },
		member:    func(i int) { s.Member(keys[i]) },
		insert:    func(i int) { _ = s.Insert(keys[i], int64(i)) },
		insertNew: func(i int) { _, _ = s.InsertNew(keys[i], int64(i)) },
		del:       func(i int) { _ = s.Delete(keys[i]) },
		update:    func(i int) { _, _, _ = s.Update(keys[i], inc) },
		counter:   func(i int) { _, _ = ets.UpdateCounter(s, keys[i], 1, ets.WithDefault[int64](0)) },
	}
}

// runOp benchmarks op on random keys of [0, n), serially and in parallel.
func runOp(b *testing.B, n int, op func(i int)) {
	b.Run("mode=serial", func(b *testing.B) {
		r := newRNG()
		b.ReportAllocs()
		for b.Loop() {
			op(int(r.next() % uint64(n)))
		}
	})
	b.Run("mode=parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := newRNG()
			for pb.Next() {
				op(int(r.next() % uint64(n)))
			}
		})
	})
}

func BenchmarkSet_Lookup(b *testing.B) {
	forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
		runOp(b, size, mk.table(b, size, size).lookup)
	})
}

func BenchmarkSet_Member(b *testing.B) {
	forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
		runOp(b, size, mk.table(b, size, size).member)
	})
}

// BenchmarkSet_Insert overwrites keys that are present.
func BenchmarkSet_Insert(b *testing.B) {
	forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
		runOp(b, size, mk.table(b, size, size).insert)
	})
}

// BenchmarkSet_InsertDelete inserts a new key and deletes it again.
func BenchmarkSet_InsertDelete(b *testing.B) {
	forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
		ops := mk.table(b, size, 2*size)
		runOp(b, size, func(i int) { ops.insert(size + i); ops.del(size + i) })
	})
}

func BenchmarkSet_Update(b *testing.B) {
	forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
		runOp(b, size, mk.table(b, size, size).update)
	})
}

func BenchmarkSet_UpdateCounter(b *testing.B) {
	forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
		runOp(b, size, mk.table(b, size, size).counter)
	})
}

// BenchmarkSet_HotCounters increments 64 hot counters from every goroutine.
func BenchmarkSet_HotCounters(b *testing.B) {
	ops := intKeyMaker{}.table(b, 64, 64)
	runOp(b, 64, ops.counter)
}

// BenchmarkSet_Mix runs ETS's throughput mixes (insert/delete/lookup
// percentages) in parallel over a universe of 2*size keys, half present.
func BenchmarkSet_Mix(b *testing.B) {
	mixes := []struct {
		name                   string
		insert, delete, lookup int
	}{
		{"0-0-100", 0, 0, 100},
		{"1-1-98", 1, 1, 98},
		{"10-10-80", 10, 10, 80},
		{"50-50-0", 50, 50, 0},
	}
	for _, mix := range mixes {
		b.Run("mix="+mix.name, func(b *testing.B) {
			forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
				ops := mk.table(b, size, 2*size)
				runMix(b, mix.insert, mix.delete, 2*size, ops.insert, ops.del, ops.lookup)
			})
		})
	}
}

// runMix runs a throughput mix in parallel on random keys of [0, universe):
// insertPct percent inserts, deletePct percent deletes, the rest reads.
func runMix(b *testing.B, insertPct, deletePct, universe int, insert, del, read func(i int)) {
	b.ReportAllocs()
	b.ResetTimer() // the table was built in this benchmark's own function
	b.RunParallel(func(pb *testing.PB) {
		r := newRNG()
		for pb.Next() {
			x := r.next()
			i := int(x>>8) % universe
			switch p := int(x & 0xff % 100); {
			case p < insertPct:
				insert(i)
			case p < insertPct+deletePct:
				del(i)
			default:
				read(i)
			}
		}
	})
}

func BenchmarkSet_All(b *testing.B) {
	for _, size := range benchSizes {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			s, _ := ets.NewSet[int64, int64]()
			for i, k := range intKeys(size) {
				_ = s.Insert(k, int64(i))
			}
			b.ReportAllocs()
			for b.Loop() {
				for range s.All() {
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size), "ns/object")
		})
	}
}

// BenchmarkSet_LookupWhileWalking is Lookup of random present keys while
// another goroutine walks the table over and over (All): walks that took
// each shard's lock stalled the lookups of the shard they were copying.
// Run it at -cpu 2 and up, so that the walker has a processor of its own.
func BenchmarkSet_LookupWhileWalking(b *testing.B) {
	for _, size := range benchSizes {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			keys := intKeys(size)
			s, _ := ets.NewSet[int64, int64]()
			for i, k := range keys {
				_ = s.Insert(k, int64(i))
			}
			stop := make(chan struct{})
			walked := make(chan int)
			go func() {
				n := 0
				for {
					select {
					case <-stop:
						walked <- n
						return
					default:
					}
					for range s.All() {
					}
					n++
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				r := newRNG()
				for pb.Next() {
					if _, ok := s.Lookup(keys[r.next()%uint64(size)]); !ok {
						panic("a present key was not found")
					}
				}
			})
			b.StopTimer()
			close(stop)
			b.ReportMetric(float64(<-walked)/b.Elapsed().Seconds(), "walks/s")
		})
	}
}

// BenchmarkSet_Select is tab2list: every object into one slice, with
// Select(nil), against a loop over All appending to a slice.
func BenchmarkSet_Select(b *testing.B) {
	for _, size := range benchSizes {
		s, _ := ets.NewSet[int64, int64]()
		for i, k := range intKeys(size) {
			_ = s.Insert(k, int64(i))
		}
		b.Run("size="+sizeName(size)+"/Select", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(s.Select(nil)) != size {
					b.Fatal("short")
				}
			}
		})
		b.Run("size="+sizeName(size)+"/All", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out []ets.Entry[int64, int64]
				for k, v := range s.All() {
					out = append(out, ets.Entry[int64, int64]{Key: k, Value: v})
				}
				if len(out) != size {
					b.Fatal("short")
				}
			}
		})
	}
}

func BenchmarkSet_SelectLimit(b *testing.B) {
	s, _ := ets.NewSet[int64, int64]()
	for i, k := range intKeys(100_000) {
		_ = s.Insert(k, int64(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		_, c := s.SelectLimit(nil, 100)
		for c != nil {
			_, c = c.Next()
		}
	}
}

// BenchmarkSet_Shards measures what the lock count (WithWriteConcurrency,
// WithShards) does to throughput: the 10/10/80 and 50/50/0 mixes and hot
// counters, in parallel, on int keys, for a table with one lock (Off), with
// 4 to 256, and under WriteConcurrencyAuto (64 at first, growing when
// writers wait on machines of more than 4 processors).
func BenchmarkSet_Shards(b *testing.B) {
	configs := []struct {
		name string
		opts []ets.Option
	}{
		{"auto", nil},
		{"off", []ets.Option{ets.WithWriteConcurrency(ets.WriteConcurrencyOff)}},
		{"4", []ets.Option{ets.WithShards(4)}},
		{"16", []ets.Option{ets.WithShards(16)}},
		{"64", []ets.Option{ets.WithShards(64)}},
		{"256", []ets.Option{ets.WithShards(256)}},
	}
	for _, cfg := range configs {
		for _, size := range benchSizes {
			keys := intKeys(2 * size)
			s, err := ets.NewSet[int64, int64](cfg.opts...)
			if err != nil {
				b.Fatal(err)
			}
			for i, k := range keys[:size] {
				_ = s.Insert(k, int64(i))
			}
			insert := func(i int) { _ = s.Insert(keys[i], int64(i)) }
			del := func(i int) { _ = s.Delete(keys[i]) }
			read := func(i int) { s.Lookup(keys[i]) }
			name := "/size=" + sizeName(size) + "/shards=" + cfg.name
			b.Run("mix=10-10-80"+name, func(b *testing.B) { runMix(b, 10, 10, 2*size, insert, del, read) })
			b.Run("mix=50-50-0"+name, func(b *testing.B) { runMix(b, 50, 50, 2*size, insert, del, read) })
			_ = s.Drop()
		}
		s, _ := ets.NewSet[int64, int64](cfg.opts...)
		b.Run("hotcounters/shards="+cfg.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := newRNG()
				for pb.Next() {
					_, _ = ets.UpdateCounter(s, int64(r.next()%64), 1, ets.WithDefault[int64](0))
				}
			})
		})
		_ = s.Drop()
	}
}
