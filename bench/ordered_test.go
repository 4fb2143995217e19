// The OrderedSet workloads of issue 8, against google/btree's BTreeG under a
// sync.RWMutex and tidwall/btree's BTreeG (which holds its own RWMutex).
//
//	go test -run '^$' -bench 'Ordered' -cpu 1,2 .

package bench

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/etsgo/ets"
	gbtree "github.com/google/btree"
	tbtree "github.com/tidwall/btree"
)

// orderedMap is what the ordered workloads need from an implementation.
type orderedMap[K cmp.Ordered] interface {
	Load(k K) (int64, bool)
	Store(k K, v int64)
	Delete(k K)
	// Range visits the keys in [lo, hi) in ascending order and returns how
	// many it visited.
	Range(lo, hi K) int
	// Next returns the smallest key strictly above k (ETS next/2).
	Next(k K) (K, bool)
	Close()
}

func orderedImpls[K cmp.Ordered]() []struct {
	name string
	make func() orderedMap[K]
} {
	return []struct {
		name string
		make func() orderedMap[K]
	}{
		{"ets", newEtsOrdered[K]},
		{"btreeg", newGoogleBTree[K]},
		{"tidwall", newTidwall[K]},
	}
}

type etsOrdered[K cmp.Ordered] struct{ s *ets.OrderedSet[K, int64] }

func newEtsOrdered[K cmp.Ordered]() orderedMap[K] {
	s, err := ets.NewOrderedSet[K, int64]()
	if err != nil {
		panic(err)
	}
	return etsOrdered[K]{s}
}

func (m etsOrdered[K]) Load(k K) (int64, bool) { return m.s.Lookup(k) }
func (m etsOrdered[K]) Store(k K, v int64)     { _ = m.s.Insert(k, v) }
func (m etsOrdered[K]) Delete(k K)             { _ = m.s.Delete(k) }
func (m etsOrdered[K]) Range(lo, hi K) int {
	n := 0
	for range m.s.Range(lo, hi) {
		n++
	}
	return n
}
func (m etsOrdered[K]) Next(k K) (K, bool) {
	k, _, ok := m.s.Next(k)
	return k, ok
}
func (m etsOrdered[K]) Close() { _ = m.s.Drop() }

type item[K cmp.Ordered] struct {
	k K
	v int64
}

func itemLess[K cmp.Ordered](a, b item[K]) bool { return a.k < b.k }

// googleBTree is google/btree's BTreeG (degree 32) under a sync.RWMutex.
type googleBTree[K cmp.Ordered] struct {
	mu sync.RWMutex
	t  *gbtree.BTreeG[item[K]]
}

func newGoogleBTree[K cmp.Ordered]() orderedMap[K] {
	return &googleBTree[K]{t: gbtree.NewG(32, itemLess[K])}
}

func (m *googleBTree[K]) Load(k K) (int64, bool) {
	m.mu.RLock()
	it, ok := m.t.Get(item[K]{k: k})
	m.mu.RUnlock()
	return it.v, ok
}
func (m *googleBTree[K]) Store(k K, v int64) {
	m.mu.Lock()
	m.t.ReplaceOrInsert(item[K]{k, v})
	m.mu.Unlock()
}
func (m *googleBTree[K]) Delete(k K) {
	m.mu.Lock()
	m.t.Delete(item[K]{k: k})
	m.mu.Unlock()
}
func (m *googleBTree[K]) Range(lo, hi K) int {
	n := 0
	m.mu.RLock()
	m.t.AscendRange(item[K]{k: lo}, item[K]{k: hi}, func(item[K]) bool { n++; return true })
	m.mu.RUnlock()
	return n
}
func (m *googleBTree[K]) Next(k K) (next K, ok bool) {
	m.mu.RLock()
	m.t.AscendGreaterOrEqual(item[K]{k: k}, func(it item[K]) bool {
		if it.k == k {
			return true
		}
		next, ok = it.k, true
		return false
	})
	m.mu.RUnlock()
	return next, ok
}
func (m *googleBTree[K]) Close() {}

// tidwall is tidwall/btree's BTreeG (degree 32) with its built-in RWMutex.
type tidwall[K cmp.Ordered] struct{ t *tbtree.BTreeG[item[K]] }

func newTidwall[K cmp.Ordered]() orderedMap[K] {
	return tidwall[K]{tbtree.NewBTreeG(itemLess[K])}
}

func (m tidwall[K]) Load(k K) (int64, bool) {
	it, ok := m.t.Get(item[K]{k: k})
	return it.v, ok
}
func (m tidwall[K]) Store(k K, v int64) { m.t.Set(item[K]{k, v}) }
func (m tidwall[K]) Delete(k K)         { m.t.Delete(item[K]{k: k}) }
func (m tidwall[K]) Range(lo, hi K) int {
	n := 0
	m.t.Ascend(item[K]{k: lo}, func(it item[K]) bool {
		if it.k >= hi {
			return false
		}
		n++
		return true
	})
	return n
}
func (m tidwall[K]) Next(k K) (next K, ok bool) {
	m.t.Ascend(item[K]{k: k}, func(it item[K]) bool {
		if it.k == k {
			return true
		}
		next, ok = it.k, true
		return false
	})
	return next, ok
}
func (m tidwall[K]) Close() {}

// orderedWorkload is a parallel mix over a universe of universe*size keys,
// the first size present at the start: insert% stores, del% deletes, and the
// rest are lookups, or walks of span sorted neighbours with Range when span
// is positive, or span steps of Next when next is set.
type orderedWorkload struct {
	insert, del, universe, span int
	next                        bool
}

func BenchmarkOrderedLookup(b *testing.B) {
	runOrdered(b, orderedWorkload{universe: 1})
}

// BenchmarkOrderedRange100 visits 100 consecutive keys with one Range call.
func BenchmarkOrderedRange100(b *testing.B) {
	runOrdered(b, orderedWorkload{universe: 1, span: 100})
}

// BenchmarkOrderedWalk100 walks 100 keys with 100 Next calls, as an ETS
// program walks an ordered_set with ets:next/2.
func BenchmarkOrderedWalk100(b *testing.B) {
	runOrdered(b, orderedWorkload{universe: 1, span: 100, next: true})
}

func BenchmarkOrderedMix_1_1_98(b *testing.B) {
	runOrdered(b, orderedWorkload{insert: 1, del: 1, universe: 2})
}
func BenchmarkOrderedMix_10_10_80(b *testing.B) {
	runOrdered(b, orderedWorkload{insert: 10, del: 10, universe: 2})
}
func BenchmarkOrderedMix_50_50_0(b *testing.B) {
	runOrdered(b, orderedWorkload{insert: 50, del: 50, universe: 2})
}

// BenchmarkOrderedWalkMix_10_10_80 is the 10/10/80 mix whose reads are
// 10-key ordered walks (Range over 10 neighbouring keys of the universe).
func BenchmarkOrderedWalkMix_10_10_80(b *testing.B) {
	runOrdered(b, orderedWorkload{insert: 10, del: 10, universe: 2, span: 10})
}

func runOrdered(b *testing.B, w orderedWorkload) {
	runOrderedKeys(b, intKeySet, w)
	runOrderedKeys(b, stringKeySet, w)
}

func runOrderedKeys[K cmp.Ordered](b *testing.B, ks keySet[K], w orderedWorkload) {
	for _, size := range benchSizes() {
		keys := cachedKeys(ks, w.universe*size)
		// sorted, which only walks and ranges use, is built by the first
		// sub-benchmark that runs and needs it: sorting 2e6 string keys
		// takes a second, which a run filtered to other sub-benchmarks,
		// or to lookups, should not spend.
		var sorted []K
		for _, im := range orderedImpls[K]() {
			var m orderedMap[K]
			b.Run("impl="+im.name+"/key="+ks.name+"/size="+sizeName(size), func(b *testing.B) {
				if m == nil {
					if sorted == nil && w.span > 0 {
						sorted = slices.Sorted(slices.Values(keys))
					}
					m = im.make()
					for i, k := range keys[:size] {
						m.Store(k, int64(i))
					}
					runtime.GC()
					b.ResetTimer()
				}
				b.ReportAllocs()
				defer cpuClock(b)()
				b.RunParallel(func(pb *testing.PB) { runOrderedOps(w, pb, m, keys, sorted) })
			})
			if m != nil {
				m.Close()
			}
		}
	}
}

func runOrderedOps[K cmp.Ordered](w orderedWorkload, pb *testing.PB, m orderedMap[K], keys, sorted []K) {
	r := newRNG()
	n := len(keys)
	for pb.Next() {
		x := r.next()
		switch p := int(x % 100); {
		case p < w.insert:
			m.Store(keys[r.below(n)], int64(x))
		case p < w.insert+w.del:
			m.Delete(keys[r.below(n)])
		case w.span == 0:
			m.Load(keys[r.below(n)])
		case w.next:
			k := sorted[r.below(n-w.span)]
			for range w.span {
				k, _ = m.Next(k)
			}
		default:
			i := r.below(n - w.span)
			m.Range(sorted[i], sorted[i+w.span])
		}
	}
}

// BenchmarkOrderedMemory reports the live heap per entry of 1e6 int64→int64
// entries, as BenchmarkMemory does for the hash tables.
func BenchmarkOrderedMemory(b *testing.B) {
	const size = 1_000_000
	keys := cachedKeys(intKeySet, size)
	for _, im := range orderedImpls[int64]() {
		b.Run("impl="+im.name+"/key=int/size=1e6", func(b *testing.B) {
			reportBytesPerEntry(b, size, func() orderedMap[int64] {
				m := im.make()
				for i, k := range keys {
					m.Store(k, int64(i))
				}
				return m
			})
		})
	}
}
