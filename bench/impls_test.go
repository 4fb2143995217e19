package bench

import (
	"fmt"
	"math/bits"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/etsgo/ets"
	cmap "github.com/orcaman/concurrent-map/v2"
	"github.com/puzpuzpuz/xsync/v4"
)

// hashMap is what the hash workloads need from an implementation. Every
// implementation is called through this interface, so each pays the same
// dynamic call (about 1-2 ns): ratios between implementations are slightly
// compressed towards 1, never inverted.
type hashMap[K comparable] interface {
	Load(k K) (int64, bool)
	Store(k K, v int64)
	Delete(k K)
	// Inc increments k's value by one, creating it at 1 when absent.
	Inc(k K)
	// Walk calls fn for every entry, as the implementation's users walk it,
	// until fn returns false.
	Walk(fn func(k K, v int64) bool)
	// Close releases the table (ets: Drop).
	Close()
}

// impl names an implementation and builds an empty one with room for hint
// entries where the implementation can use a hint (none of the measured
// workloads depends on it).
type impl[K comparable] struct {
	name string
	make func() hashMap[K]
}

// hashImpls are the implementations of the hash workloads, ets first.
func hashImpls[K comparable]() []impl[K] {
	return []impl[K]{
		{"ets", newEtsSet[K]},
		{"xsync", newXsync[K]},
		{"syncmap", newSyncMap[K]},
		{"rwmutexmap", newRWMutexMap[K]},
		{"mutexmap", newMutexMap[K]},
		{"cmap", newCmap[K]},
	}
}

// counterImpls are the implementations of the hot-counter workload.
func counterImpls[K comparable]() []impl[K] {
	return []impl[K]{
		{"ets", newEtsSet[K]},
		{"xsync", newXsync[K]},
		{"rwmutexmap", newRWMutexMap[K]},
		{"mutexmap", newMutexMap[K]},
	}
}

// etsSet measures the public API: Lookup, Insert, Delete, UpdateCounter.
type etsSet[K comparable] struct{ s *ets.Set[K, int64] }

func newEtsSet[K comparable]() hashMap[K] {
	s, err := ets.NewSet[K, int64]()
	if err != nil {
		panic(err)
	}
	return etsSet[K]{s}
}

func (m etsSet[K]) Load(k K) (int64, bool) { return m.s.Lookup(k) }
func (m etsSet[K]) Store(k K, v int64)     { _ = m.s.Insert(k, v) }
func (m etsSet[K]) Delete(k K)             { _ = m.s.Delete(k) }
func (m etsSet[K]) Inc(k K) {
	_, _ = ets.UpdateCounter(m.s, k, 1, ets.WithDefault[int64](0))
}
func (m etsSet[K]) Walk(fn func(K, int64) bool) {
	for k, v := range m.s.All() {
		if !fn(k, v) {
			return
		}
	}
}
func (m etsSet[K]) Close() { _ = m.s.Drop() }

type xsyncMap[K comparable] struct{ m *xsync.Map[K, int64] }

func newXsync[K comparable]() hashMap[K] { return xsyncMap[K]{xsync.NewMap[K, int64]()} }

func (m xsyncMap[K]) Load(k K) (int64, bool) { return m.m.Load(k) }
func (m xsyncMap[K]) Store(k K, v int64)     { m.m.Store(k, v) }
func (m xsyncMap[K]) Delete(k K)             { m.m.Delete(k) }
func (m xsyncMap[K]) Inc(k K)                { m.m.Compute(k, xsyncInc) }

// xsyncInc captures nothing, so Compute does not allocate a closure.
func xsyncInc(old int64, _ bool) (int64, xsync.ComputeOp) { return old + 1, xsync.UpdateOp }
func (m xsyncMap[K]) Close()                              {}
func (m xsyncMap[K]) Walk(fn func(K, int64) bool)         { m.m.Range(fn) }

// syncMap is sync.Map: values are boxed in interfaces, as its users do.
type syncMap[K comparable] struct{ m *sync.Map }

func newSyncMap[K comparable]() hashMap[K] { return syncMap[K]{new(sync.Map)} }

func (m syncMap[K]) Load(k K) (int64, bool) {
	v, ok := m.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}
func (m syncMap[K]) Store(k K, v int64) { m.m.Store(k, v) }
func (m syncMap[K]) Delete(k K)         { m.m.Delete(k) }
func (m syncMap[K]) Inc(k K) {
	for {
		old, ok := m.m.LoadOrStore(k, int64(1))
		if !ok || m.m.CompareAndSwap(k, old, old.(int64)+1) {
			return
		}
	}
}
func (m syncMap[K]) Close() {}
func (m syncMap[K]) Walk(fn func(K, int64) bool) {
	m.m.Range(func(k, v any) bool { return fn(k.(K), v.(int64)) })
}

type rwMutexMap[K comparable] struct {
	mu sync.RWMutex
	m  map[K]int64
}

func newRWMutexMap[K comparable]() hashMap[K] { return &rwMutexMap[K]{m: map[K]int64{}} }

func (m *rwMutexMap[K]) Load(k K) (int64, bool) {
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	return v, ok
}
func (m *rwMutexMap[K]) Store(k K, v int64) {
	m.mu.Lock()
	m.m[k] = v
	m.mu.Unlock()
}
func (m *rwMutexMap[K]) Delete(k K) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}
func (m *rwMutexMap[K]) Inc(k K) {
	m.mu.Lock()
	m.m[k]++
	m.mu.Unlock()
}
func (m *rwMutexMap[K]) Close() {}
func (m *rwMutexMap[K]) Walk(fn func(K, int64) bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for k, v := range m.m {
		if !fn(k, v) {
			return
		}
	}
}

type mutexMap[K comparable] struct {
	mu sync.Mutex
	m  map[K]int64
}

func newMutexMap[K comparable]() hashMap[K] { return &mutexMap[K]{m: map[K]int64{}} }

func (m *mutexMap[K]) Load(k K) (int64, bool) {
	m.mu.Lock()
	v, ok := m.m[k]
	m.mu.Unlock()
	return v, ok
}
func (m *mutexMap[K]) Store(k K, v int64) {
	m.mu.Lock()
	m.m[k] = v
	m.mu.Unlock()
}
func (m *mutexMap[K]) Delete(k K) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}
func (m *mutexMap[K]) Inc(k K) {
	m.mu.Lock()
	m.m[k]++
	m.mu.Unlock()
}
func (m *mutexMap[K]) Close() {}
func (m *mutexMap[K]) Walk(fn func(K, int64) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.m {
		if !fn(k, v) {
			return
		}
	}
}

// cmapMap is orcaman/concurrent-map: 32 shards of map+RWMutex. It needs a
// sharding function for non-string keys; string keys use its own FNV-32.
type cmapMap[K comparable] struct{ m cmap.ConcurrentMap[K, int64] }

func newCmap[K comparable]() hashMap[K] {
	var zero K
	switch any(zero).(type) {
	case string:
		return cmapMap[K]{any(cmap.New[int64]()).(cmap.ConcurrentMap[K, int64])}
	case int64:
		shard := func(k K) uint32 { return uint32(uint64(any(k).(int64)) * 0x9E3779B97F4A7C15 >> 32) }
		return cmapMap[K]{cmap.NewWithCustomShardingFunction[K, int64](shard)}
	}
	panic(fmt.Sprintf("cmap: no sharding function for %T", zero))
}

func (m cmapMap[K]) Load(k K) (int64, bool) { return m.m.Get(k) }
func (m cmapMap[K]) Store(k K, v int64)     { m.m.Set(k, v) }
func (m cmapMap[K]) Delete(k K)             { m.m.Remove(k) }
func (m cmapMap[K]) Inc(k K)                { m.m.Upsert(k, 1, cmapAdd) }

func cmapAdd(_ bool, old, incr int64) int64 { return old + incr }
func (m cmapMap[K]) Close()                 {}

// Walk uses IterCb, concurrent-map's fastest walk (Iter and IterBuffered
// copy every entry into a channel); it cannot stop early.
func (m cmapMap[K]) Walk(fn func(K, int64) bool) { m.m.IterCb(func(k K, v int64) { fn(k, v) }) }

// paddedCounters is the physical limit of the hot-counter workload: one
// atomic.Int64 per cache line (128 bytes, for adjacent-line prefetching).
type paddedCounters [64]struct {
	n atomic.Int64
	_ [120]byte
}

// Keys.

// intKeys returns n distinct int64 keys in a random order, with the top bit
// clear (fresh keys made by the insert workloads set it).
func intKeys(n int) []int64 {
	ks := make([]int64, n)
	for i := range ks {
		ks[i] = int64(mix64(uint64(i)) >> 1)
	}
	return ks
}

// stringKeys returns n distinct 16-byte string keys in a random order.
func stringKeys(n int) []string {
	return hexKeys(intKeys(n), '0')
}

// hexKeys spells each key in 16 hex digits, the first replaced by first
// when it is not '0'. The keys share one backing array, so making millions
// of them costs one allocation.
func hexKeys(ints []int64, first byte) []string {
	const digits = "0123456789abcdef"
	buf := make([]byte, 16*len(ints))
	for i, k := range ints {
		for j := 15; j >= 0; j-- {
			buf[16*i+j] = digits[k&15]
			k >>= 4
		}
		if first != '0' {
			buf[16*i] = first
		}
	}
	all := string(buf)
	ks := make([]string, len(ints))
	for i := range ks {
		ks[i] = all[16*i : 16*i+16]
	}
	return ks
}

// mix64 is a bijection (splitmix64's finaliser): distinct inputs give
// distinct keys.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// keySet hands out the keys of one key type.
type keySet[K comparable] struct {
	name string
	// keys returns n distinct keys in a random order.
	keys func(n int) []K
	// fresh returns n distinct keys disjoint from every keys(m).
	fresh func(n int, seed uint64) []K
}

var intKeySet = keySet[int64]{
	name: "int",
	keys: intKeys,
	fresh: func(n int, seed uint64) []int64 {
		ks := make([]int64, n)
		for i := range ks {
			ks[i] = int64(mix64(seed<<40+uint64(i)) | 1<<63)
		}
		return ks
	},
}

var stringKeySet = keySet[string]{
	name: "string",
	keys: stringKeys,
	fresh: func(n int, seed uint64) []string {
		// 'z' never occurs in the hex keys of stringKeys; the other 15
		// digits are distinct because the top bit of intKeys is clear
		// and mix64 is a bijection.
		return hexKeys(intKeySet.fresh(n, seed), 'z')
	},
}

// Sizes.

// benchSizes are the table sizes; 1e7 only with ETS_BENCH_1E7=1, because
// building ten million entries per implementation takes minutes.
func benchSizes() []int {
	sizes := []int{1_000, 1_000_000}
	if os.Getenv("ETS_BENCH_1E7") == "1" {
		sizes = append(sizes, 10_000_000)
	}
	return sizes
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

// Random numbers.

// rng is a per-goroutine xorshift generator: the hot loops never share a
// random source.
type rng uint64

var rngSeeds atomic.Uint64

func newRNG() rng { return rng(mix64(rngSeeds.Add(1)) | 1) }

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*r = rng(x)
	return x
}

// below returns a number in [0, n) without a division (Lemire's
// multiply-shift reduction).
func (r *rng) below(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// cpuClock reports, as the metric cpu-ns/op, the CPU time the process spent
// per operation (user+system, every thread, GC included) between its
// creation and the call of the function it returns. On a machine shared with
// other work, wall-clock ns/op grows with the time the benchmark waits for a
// core; cpu-ns/op does not, so it is the steadier figure for ratios there. It
// is not throughput: a goroutine asleep on a contended lock costs no CPU.
func cpuClock(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// cpuTime is the CPU time the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
