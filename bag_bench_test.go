package ets_test

import (
	"fmt"
	"testing"

	"github.com/etsgo/ets"
)

// The bag benchmarks run on keys holding 1, 4 and 10,000 objects each, to
// show that Insert and DeleteObject do not grow with the objects of a key
// (Lookup copies them, so it does):
//
//	go test -run '^$' -bench 'Bag_' -benchmem -benchtime=1s -count 3 .

var bagObjects = []int{1, 4, 10_000}

// bagBenchTable is what the bag benchmarks call.
type bagBenchTable interface {
	Insert(int64, int64) error
	InsertMany(...ets.Entry[int64, int64]) error
	Lookup(int64) []int64
	DeleteObject(int64, int64) error
	Drop() error
}

// bagBench is a table of keys, each holding objects objects 0..objects-1;
// operation i works on object i/len(keys) of key i%len(keys).
type bagBench struct {
	t       bagBenchTable
	keys    []int64
	objects int
}

// newBagBench fills a table made by mk: 1,000 keys for small bags, 10 keys
// for big ones.
func newBagBench(b *testing.B, mk func() (bagBenchTable, error), objects int) bagBench {
	t, err := mk()
	if err != nil {
		b.Fatal(err)
	}
	nkeys := 1000
	if objects > 100 {
		nkeys = 10
	}
	keys := intKeys(nkeys)
	batch := make([]ets.Entry[int64, int64], 0, 4096)
	for j := range objects {
		for _, k := range keys {
			batch = append(batch, ets.Entry[int64, int64]{Key: k, Value: int64(j)})
			if len(batch) == cap(batch) {
				_ = t.InsertMany(batch...)
				batch = batch[:0]
			}
		}
	}
	_ = t.InsertMany(batch...)
	b.Cleanup(func() { _ = t.Drop() })
	return bagBench{t: t, keys: keys, objects: objects}
}

func (bb bagBench) n() int { return len(bb.keys) * bb.objects }

func (bb bagBench) at(i int) (int64, int64) {
	return bb.keys[i%len(bb.keys)], int64(i / len(bb.keys))
}

// forBagKinds runs body for Bag and DuplicateBag at every objects-per-key
// count, as Benchmark<Kind>_<op>/objects=N.
func forBagObjects(b *testing.B, dup bool, body func(b *testing.B, bb bagBench)) {
	mk := func() (bagBenchTable, error) { return ets.NewBag[int64, int64]() }
	if dup {
		mk = func() (bagBenchTable, error) { return ets.NewDuplicateBag[int64, int64]() }
	}
	for _, objects := range bagObjects {
		b.Run(fmt.Sprintf("objects=%d", objects), func(b *testing.B) {
			body(b, newBagBench(b, mk, objects))
		})
	}
}

// benchBagInsert inserts a new object under a key and deletes it again, so
// the key keeps its size: the pair is timed.
func benchBagInsert(b *testing.B, dup bool) {
	forBagObjects(b, dup, func(b *testing.B, bb bagBench) {
		runOp(b, bb.n(), func(i int) {
			k, v := bb.at(i)
			_ = bb.t.Insert(k, -1-v)
			_ = bb.t.DeleteObject(k, -1-v)
		})
	})
}

// benchBagDeleteObject deletes one of a key's objects and inserts it back
// (it goes last): the pair is timed.
func benchBagDeleteObject(b *testing.B, dup bool) {
	forBagObjects(b, dup, func(b *testing.B, bb bagBench) {
		runOp(b, bb.n(), func(i int) {
			k, v := bb.at(i)
			_ = bb.t.DeleteObject(k, v)
			_ = bb.t.Insert(k, v)
		})
	})
}

func benchBagLookup(b *testing.B, dup bool) {
	forBagObjects(b, dup, func(b *testing.B, bb bagBench) {
		runOp(b, len(bb.keys), func(i int) { bb.t.Lookup(bb.keys[i]) })
	})
}

func BenchmarkBag_Insert(b *testing.B)          { benchBagInsert(b, false) }
func BenchmarkDuplicateBag_Insert(b *testing.B) { benchBagInsert(b, true) }

// BenchmarkBag_InsertPresent inserts an object the key already has: Bag's
// duplicate check alone, which changes nothing.
func BenchmarkBag_InsertPresent(b *testing.B) {
	forBagObjects(b, false, func(b *testing.B, bb bagBench) {
		runOp(b, bb.n(), func(i int) { _ = bb.t.Insert(bb.at(i)) })
	})
}

func BenchmarkBag_DeleteObject(b *testing.B)          { benchBagDeleteObject(b, false) }
func BenchmarkDuplicateBag_DeleteObject(b *testing.B) { benchBagDeleteObject(b, true) }

func BenchmarkBag_Lookup(b *testing.B)          { benchBagLookup(b, false) }
func BenchmarkDuplicateBag_Lookup(b *testing.B) { benchBagLookup(b, true) }

// BenchmarkBag_All walks a bag of four objects a key with All; ns/object is
// the time per object.
func BenchmarkBag_All(b *testing.B) {
	for _, size := range benchSizes {
		b.Run("objects="+sizeName(size), func(b *testing.B) {
			t, err := ets.NewBag[int64, int64]()
			if err != nil {
				b.Fatal(err)
			}
			defer t.Drop()
			for i, k := range intKeys(size / 4) {
				for j := range 4 {
					_ = t.Insert(k, int64(4*i+j))
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				for range t.All() {
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size), "ns/object")
		})
	}
}

// BenchmarkBag_SelectLimit walks, page by page, a table whose objects are
// all under one key: until the fourteenth session each page copied and
// sorted the whole key again, so the walk cost O(objects²/limit).
func BenchmarkBag_SelectLimit(b *testing.B) {
	for _, objects := range []int{1_000, 20_000} {
		for _, limit := range []int{10, 1000} {
			b.Run(fmt.Sprintf("objects=%d/limit=%d", objects, limit), func(b *testing.B) {
				t, err := ets.NewBag[int64, int64]()
				if err != nil {
					b.Fatal(err)
				}
				defer t.Drop()
				for v := range objects {
					_ = t.Insert(1, int64(v))
				}
				b.ReportAllocs()
				for b.Loop() {
					n := 0
					page, cur := t.SelectLimit(nil, limit)
					for n += len(page); cur != nil; n += len(page) {
						page, cur = cur.Next()
					}
					if n != objects {
						b.Fatalf("walked %d objects of %d", n, objects)
					}
				}
			})
		}
	}
}
