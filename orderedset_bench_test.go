package ets_test

import (
	"cmp"
	"slices"
	"sync"
	"testing"

	"github.com/google/btree"

	"github.com/etsgo/ets"
)

// The OrderedSet benchmarks, and beside them the same Lookup and Range of
// 100 on a raw btree.BTreeG under a sync.RWMutex (Raw*), so the cost of the
// table's wrapper shows as a ratio within one run:
//
//	go test -run '^$' -bench 'OrderedSet_' -benchmem -benchtime=1s -count 3 .

// orderedOps are the operations on key i of a benchmark universe; the walks
// start at the i-th key in key order.
type orderedOps struct {
	lookup, insert, del   func(i int)
	next10                func(i int) // ETS's nextseq: Next ten times from key i
	range100, selectRange func(i int) // Range and SelectRange over 100 keys
	rawLookup, rawRange   func(i int) // the same on a raw BTreeG under an RWMutex
}

func (intKeyMaker) ordered(b *testing.B, size, universe int) orderedOps {
	return orderedOpsFor(b, intKeys(universe), size)
}

func (stringKeyMaker) ordered(b *testing.B, size, universe int) orderedOps {
	return orderedOpsFor(b, stringKeys(universe), size)
}

// rawTree is the baseline: google/btree as a user would guard it.
type rawTree[K cmp.Ordered] struct {
	mu sync.RWMutex
	t  *btree.BTreeG[ets.Entry[K, int64]]
}

func orderedOpsFor[K cmp.Ordered](b *testing.B, keys []K, size int) orderedOps {
	s, err := ets.NewOrderedSet[K, int64]()
	if err != nil {
		b.Fatal(err)
	}
	raw := &rawTree[K]{t: btree.NewG(32, func(x, y ets.Entry[K, int64]) bool { return x.Key < y.Key })}
	batch := make([]ets.Entry[K, int64], 0, 4096)
	flush := func() {
		_ = s.InsertMany(batch...)
		for _, e := range batch {
			raw.t.ReplaceOrInsert(e)
		}
		batch = batch[:0]
	}
	for i, k := range keys[:size] {
		if batch = append(batch, ets.Entry[K, int64]{Key: k, Value: int64(i)}); len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	b.Cleanup(func() { _ = s.Drop() })
	sorted := slices.Sorted(slices.Values(keys[:size]))
	// from returns the key i-th in key order and the one 100 places later,
	// wrapping so that every walk covers 100 keys.
	from := func(i int) (K, K) {
		j := i % (len(sorted) - 100)
		return sorted[j], sorted[j+100]
	}
	even := func(_ K, v int64) bool { return v&1 == 0 }
	return orderedOps{
		lookup: func(i int) { s.Lookup(keys[i]) },
		insert: func(i int) { _ = s.Insert(keys[i], int64(i)) },
		del:    func(i int) { _ = s.Delete(keys[i]) },
		next10: func(i int) {
			k, ok := keys[i], true
			for n := 0; n < 10 && ok; n++ {
				k, _, ok = s.Next(k)
			}
		},
		range100: func(i int) {
			lo, hi := from(i)
			for range s.Range(lo, hi) {
			}
		},
		selectRange: func(i int) {
			lo, hi := from(i)
			s.SelectRange(lo, hi, even)
		},
		rawLookup: func(i int) {
			raw.mu.RLock()
			raw.t.Get(ets.Entry[K, int64]{Key: keys[i]})
			raw.mu.RUnlock()
		},
		rawRange: func(i int) {
			lo, hi := from(i)
			raw.mu.RLock()
			raw.t.AscendRange(ets.Entry[K, int64]{Key: lo}, ets.Entry[K, int64]{Key: hi}, func(ets.Entry[K, int64]) bool { return true })
			raw.mu.RUnlock()
		},
	}
}

// forOrdered runs op, picked from the ops of a table of size keys, on random
// keys of [0, size), serially and in parallel, for both key types and sizes.
func forOrdered(b *testing.B, op func(orderedOps) func(int)) {
	forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
		runOp(b, size, op(mk.ordered(b, size, size)))
	})
}

func BenchmarkOrderedSet_Lookup(b *testing.B) {
	forOrdered(b, func(o orderedOps) func(int) { return o.lookup })
}

func BenchmarkOrderedSet_RawLookup(b *testing.B) {
	forOrdered(b, func(o orderedOps) func(int) { return o.rawLookup })
}

// BenchmarkOrderedSet_Insert overwrites keys that are present.
func BenchmarkOrderedSet_Insert(b *testing.B) {
	forOrdered(b, func(o orderedOps) func(int) { return o.insert })
}

// BenchmarkOrderedSet_Delete deletes a present key and inserts it again.
func BenchmarkOrderedSet_Delete(b *testing.B) {
	forOrdered(b, func(o orderedOps) func(int) { return func(i int) { o.del(i); o.insert(i) } })
}

// BenchmarkOrderedSet_Next is a nextseq: ten Next calls from a random key.
func BenchmarkOrderedSet_Next(b *testing.B) {
	forOrdered(b, func(o orderedOps) func(int) { return o.next10 })
}

// BenchmarkOrderedSet_Range walks 100 keys from a random key.
func BenchmarkOrderedSet_Range(b *testing.B) {
	forOrdered(b, func(o orderedOps) func(int) { return o.range100 })
}

func BenchmarkOrderedSet_RawRange(b *testing.B) {
	forOrdered(b, func(o orderedOps) func(int) { return o.rawRange })
}

// BenchmarkOrderedSet_SelectRange selects the even values among 100 keys.
func BenchmarkOrderedSet_SelectRange(b *testing.B) {
	forOrdered(b, func(o orderedOps) func(int) { return o.selectRange })
}

// BenchmarkOrderedSet_Mix runs ETS's ordered_set throughput mixes
// (insert/delete/read percentages) in parallel over a universe of 2*size
// keys, half present: 1-1-98 reads with ten-key Next walks (ETS's nextseq),
// 10-10-80 with lookups.
func BenchmarkOrderedSet_Mix(b *testing.B) {
	mixes := []struct {
		name           string
		insert, delete int
		read           func(orderedOps) func(int)
	}{
		{"1-1-98nextseq", 1, 1, func(o orderedOps) func(int) { return o.next10 }},
		{"10-10-80", 10, 10, func(o orderedOps) func(int) { return o.lookup }},
	}
	for _, mix := range mixes {
		b.Run("mix="+mix.name, func(b *testing.B) {
			forKeyTypes(b, func(b *testing.B, size int, mk keyMaker) {
				ops := mk.ordered(b, size, 2*size)
				runMix(b, mix.insert, mix.delete, 2*size, ops.insert, ops.del, mix.read(ops))
			})
		})
	}
}
