// The registry workloads: a key (a topic) and the objects registered under
// it (its subscribers), as a process registry with duplicate keys keeps them
// in an ETS duplicate_bag (Elixir's Registry with keys: :duplicate, the
// base of pub/sub dispatch), where dispatch is a lookup of the key. ets's
// DuplicateBag against the two ways a Go program keeps a multimap:
// map[K][]V under a sync.RWMutex and xsync's Map of copy-on-write slices
// (every write copies the key's slice). Each lookup appends the key's
// objects to the goroutine's buffer, as a dispatch loop that must not hold
// the table's array does: ets through AppendLookup, the map under its read
// lock, xsync from the slice it loaded.
//
//	go test -run '^$' -bench 'Registry' -cpu 1,2 .

package bench

import (
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/etsgo/ets"
	"github.com/puzpuzpuz/xsync/v4"
)

// multiMap is what the registry workloads need from an implementation.
type multiMap interface {
	// Append appends k's objects to dst in insertion order.
	Append(dst []int64, k int64) []int64
	// Register adds v to k's objects.
	Register(k, v int64)
	// Unregister removes every copy of v from k's objects.
	Unregister(k, v int64)
	Close()
}

func multiMapImpls() []struct {
	name string
	make func() multiMap
} {
	return []struct {
		name string
		make func() multiMap
	}{
		{"ets", newEtsBag},
		{"rwmutexmap", func() multiMap { return &rwMutexMultiMap{m: map[int64][]int64{}} }},
		{"xsync", func() multiMap { return xsyncMultiMap{xsync.NewMap[int64, []int64]()} }},
	}
}

type etsBag struct {
	t *ets.DuplicateBag[int64, int64]
}

func newEtsBag() multiMap {
	t, err := ets.NewDuplicateBag[int64, int64]()
	if err != nil {
		panic(err)
	}
	return etsBag{t}
}

func (m etsBag) Append(dst []int64, k int64) []int64 { return m.t.AppendLookup(dst, k) }
func (m etsBag) Register(k, v int64)                 { _ = m.t.Insert(k, v) }
func (m etsBag) Unregister(k, v int64)               { _ = m.t.DeleteObject(k, v) }
func (m etsBag) Close()                              { _ = m.t.Drop() }

type rwMutexMultiMap struct {
	mu sync.RWMutex
	m  map[int64][]int64
}

func (m *rwMutexMultiMap) Append(dst []int64, k int64) []int64 {
	m.mu.RLock()
	dst = append(dst, m.m[k]...)
	m.mu.RUnlock()
	return dst
}
func (m *rwMutexMultiMap) Register(k, v int64) {
	m.mu.Lock()
	m.m[k] = append(m.m[k], v)
	m.mu.Unlock()
}
func (m *rwMutexMultiMap) Unregister(k, v int64) {
	m.mu.Lock()
	if vs := slices.DeleteFunc(m.m[k], func(x int64) bool { return x == v }); len(vs) > 0 {
		m.m[k] = vs
	} else {
		delete(m.m, k)
	}
	m.mu.Unlock()
}
func (m *rwMutexMultiMap) Close() {}

type xsyncMultiMap struct{ m *xsync.Map[int64, []int64] }

func (m xsyncMultiMap) Append(dst []int64, k int64) []int64 {
	vs, _ := m.m.Load(k)
	return append(dst, vs...)
}
func (m xsyncMultiMap) Register(k, v int64) {
	m.m.Compute(k, func(old []int64, _ bool) ([]int64, xsync.ComputeOp) {
		return append(slices.Clip(old), v), xsync.UpdateOp // a new array: readers hold the old one
	})
}
func (m xsyncMultiMap) Unregister(k, v int64) {
	m.m.Compute(k, func(old []int64, loaded bool) ([]int64, xsync.ComputeOp) {
		vs := slices.DeleteFunc(slices.Clone(old), func(x int64) bool { return x == v })
		if len(vs) == 0 {
			return nil, xsync.DeleteOp
		}
		return vs, xsync.UpdateOp
	})
}
func (m xsyncMultiMap) Close() {}

// registryObjects is how many objects each key holds.
const registryObjects = 4

// BenchmarkRegistryLookup looks up random keys of 1e3 (and 1e6), each
// holding registryObjects objects: dispatch.
func BenchmarkRegistryLookup(b *testing.B) { runRegistry(b, 0) }

// BenchmarkRegistryMix_10 is dispatch with churn: one operation in ten
// registers an object under a random key and unregisters it again (the pair
// is one operation), the rest are lookups.
func BenchmarkRegistryMix_10(b *testing.B) { runRegistry(b, 10) }

func runRegistry(b *testing.B, churn int) {
	for _, size := range benchSizes() {
		keys := intKeys(size)
		for _, im := range multiMapImpls() {
			b.Run("impl="+im.name+"/key=int/size="+sizeName(size), func(b *testing.B) {
				m := im.make()
				defer m.Close()
				for j := range registryObjects {
					for _, k := range keys {
						m.Register(k, int64(j))
					}
				}
				runtime.GC()
				b.ReportAllocs()
				b.ResetTimer()
				defer cpuClock(b)()
				b.RunParallel(func(pb *testing.PB) {
					r := newRNG()
					buf := make([]int64, 0, 2*registryObjects)
					for pb.Next() {
						x := r.next()
						k := keys[r.below(len(keys))]
						if int(x%100) < churn {
							m.Register(k, -1-int64(x>>8))
							m.Unregister(k, -1-int64(x>>8))
						} else if buf = m.Append(buf[:0], k); len(buf) < registryObjects {
							b.Error("a lookup missed objects")
							return
						}
					}
				})
			})
		}
	}
}
