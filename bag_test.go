package ets_test

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets"
	"github.com/etsgo/ets/internal/testseed"
)

// bagTable is the API Bag and DuplicateBag share, so one suite checks both.
type bagTable interface {
	sharedTable
	Lookup(int) []int
	AppendLookup([]int, int) []int
	Count(int) int
	DeleteObject(int, int) error
	Take(int) ([]int, error)
}

type bagKind struct {
	name string
	kind ets.Kind
	dup  bool // keeps every copy of an object
	make func(t testing.TB, opts ...ets.Option) bagTable
}

var bagKinds = []bagKind{
	{name: "Bag", kind: ets.KindBag, make: func(t testing.TB, opts ...ets.Option) bagTable {
		b, err := ets.NewBag[int, int](opts...)
		require.NoError(t, err)
		return b
	}},
	{name: "DuplicateBag", kind: ets.KindDuplicateBag, dup: true, make: func(t testing.TB, opts ...ets.Option) bagTable {
		b, err := ets.NewDuplicateBag[int, int](opts...)
		require.NoError(t, err)
		return b
	}},
}

// forEachBag runs f once per bag kind and engine option set.
func forEachBag(t *testing.T, f func(t *testing.T, k bagKind, newTable func() bagTable)) {
	for _, k := range bagKinds {
		for _, o := range engineOptions {
			t.Run(k.name+"/"+o.name, func(t *testing.T) {
				f(t, k, func() bagTable { return k.make(t, o.opts...) })
			})
		}
	}
}

// bagModel is the trivial model of a bag: each key's objects in insertion
// order.
type bagModel struct {
	dup bool
	m   map[int][]int
}

func newBagModel(dup bool) *bagModel { return &bagModel{dup: dup, m: map[int][]int{}} }

func (m *bagModel) insert(k, v int) {
	if !m.dup && slices.Contains(m.m[k], v) {
		return
	}
	m.m[k] = append(m.m[k], v)
}

func (m *bagModel) insertNew(k, v int) bool {
	if len(m.m[k]) > 0 {
		return false
	}
	m.insert(k, v)
	return true
}

func (m *bagModel) deleteObject(k, v int) {
	vs := slices.DeleteFunc(m.m[k], func(x int) bool { return x == v })
	if len(vs) == 0 {
		delete(m.m, k)
		return
	}
	m.m[k] = vs
}

func (m *bagModel) size() int {
	n := 0
	for _, vs := range m.m {
		n += len(vs)
	}
	return n
}

// filter returns the objects pred returns true for, grouped by key.
func (m *bagModel) filter(pred func(k, v int) bool) map[int][]int {
	out := map[int][]int{}
	for k, vs := range m.m {
		for _, v := range vs {
			if pred(k, v) {
				out[k] = append(out[k], v)
			}
		}
	}
	return out
}

// grouped gathers entries by key, keeping their order within a key.
func grouped(es []ets.Entry[int, int]) map[int][]int {
	out := map[int][]int{}
	for _, e := range es {
		out[e.Key] = append(out[e.Key], e.Value)
	}
	return out
}

// bagContents returns every key's objects; on the kinds with one value per
// key, a slice of one.
func bagContents(tab sharedTable) map[int][]int {
	out := map[int][]int{}
	for k, v := range tab.All() {
		out[k] = append(out[k], v)
	}
	return out
}

// bagWalk collects every object of a SelectLimit walk, checking the page
// sizes the contract promises.
func bagWalk(t *testing.T, tab bagTable, pred func(int, int) bool, limit int) []ets.Entry[int, int] {
	page, cur := tab.SelectLimit(pred, limit)
	all := slices.Clone(page)
	for cur != nil {
		require.Len(t, page, limit, "every page but the last is full")
		page, cur = cur.Next()
		all = append(all, page...)
	}
	require.LessOrEqual(t, len(page), limit)
	return all
}

func TestBag_Basics(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		tab := newTable()
		require.Nil(t, tab.Lookup(1))
		require.Zero(t, tab.Count(1))
		require.NoError(t, tab.Insert(1, 10))
		require.NoError(t, tab.Insert(1, 20))
		require.NoError(t, tab.Insert(1, 10))
		require.NoError(t, tab.Insert(2, 30))
		if k.dup {
			require.Equal(t, []int{10, 20, 10}, tab.Lookup(1))
			require.Equal(t, 4, tab.Size())
		} else {
			require.Equal(t, []int{10, 20}, tab.Lookup(1), "an equal object is not added again")
			require.Equal(t, 3, tab.Size())
		}
		require.True(t, tab.Member(1))
		require.False(t, tab.Member(3))

		require.NoError(t, tab.DeleteObject(1, 10), "removes every copy")
		require.Equal(t, []int{20}, tab.Lookup(1))
		require.Equal(t, 1, tab.Count(1))
		require.NoError(t, tab.DeleteObject(1, 99), "an absent object is not an error")
		require.NoError(t, tab.DeleteObject(9, 99), "an absent key is not an error")
		require.NoError(t, tab.DeleteObject(1, 20))
		require.False(t, tab.Member(1), "a key without objects is gone")
		require.Equal(t, 1, tab.Size())

		vs, err := tab.Take(2)
		require.NoError(t, err)
		require.Equal(t, []int{30}, vs)
		vs, err = tab.Take(2)
		require.NoError(t, err)
		require.Empty(t, vs, "taking a missing key: empty, no error")
		require.Zero(t, tab.Size())

		require.NoError(t, tab.InsertMany(entries(5, 1, 5, 2, 6, 1, 5, 1)...))
		require.NoError(t, tab.Delete(5))
		require.NoError(t, tab.Delete(5), "deleting an absent key is not an error")
		require.Equal(t, map[int][]int{6: {1}}, bagContents(tab))
		require.Equal(t, 1, tab.Size())
		require.NoError(t, tab.Err())
	})
}

func TestBag_InsertNewAndInsertMany(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		tab := newTable()
		ok, err := tab.InsertNew(1, 10)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = tab.InsertNew(1, 11)
		require.NoError(t, err)
		require.False(t, ok, "the key has an object")
		ok, err = tab.InsertNew(1, 10)
		require.NoError(t, err)
		require.False(t, ok)
		require.Equal(t, []int{10}, tab.Lookup(1))

		ok, err = tab.InsertNewMany(entries(2, 20, 3, 30, 1, 99)...)
		require.NoError(t, err)
		require.False(t, ok, "one key present: nothing inserted")
		require.False(t, tab.Member(2))
		require.False(t, tab.Member(3))

		ok, err = tab.InsertNewMany(entries(2, 20, 3, 30, 2, 21, 2, 20)...)
		require.NoError(t, err)
		require.True(t, ok)
		if k.dup {
			require.Equal(t, []int{20, 21, 20}, tab.Lookup(2))
		} else {
			require.Equal(t, []int{20, 21}, tab.Lookup(2))
		}
		ok, err = tab.InsertNewMany()
		require.NoError(t, err)
		require.True(t, ok)

		require.NoError(t, tab.InsertMany(entries(4, 3, 4, 1, 4, 2, 4, 1, 1, 7)...))
		if k.dup {
			require.Equal(t, []int{3, 1, 2, 1}, tab.Lookup(4), "the list's order is kept")
		} else {
			require.Equal(t, []int{3, 1, 2}, tab.Lookup(4), "the list's order is kept")
		}
		require.Equal(t, []int{10, 7}, tab.Lookup(1))
		require.NoError(t, tab.InsertMany())
	})
}

// TestBag_LookupOrder is ETS's lookup_order test: every combination of
// inserts, delete_objects and an insert_new on one key, checking after each
// step that lookup and match_object return the objects in insertion order and
// that the size is exact.
func TestBag_LookupOrder(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		const a, b, c = 1, 2, 3
		pairs := [][2]int{{a, b}, {b, a}, {a, c}, {c, a}, {b, c}, {c, b}}
		const key = 42
		for _, d1 := range []int{a, b, c} {
			for _, d2 := range pairs {
				for _, d3 := range pairs {
					tab := newTable()
					require.NoError(t, tab.Insert(7, 7), "another key, to check Size")
					m := newBagModel(k.dup)
					check := func(step string) {
						msg := fmt.Sprintf("%s d1=%d d2=%v d3=%v", step, d1, d2, d3)
						require.Equal(t, m.m[key], tab.Lookup(key), msg)
						require.Equal(t, m.m[key], grouped(tab.Select(func(k, _ int) bool { return k == key }))[key], msg)
						require.Equal(t, len(m.m[key]), tab.Count(key), msg)
						require.Equal(t, len(m.m[key])+1, tab.Size(), msg)
					}
					insert := func(v int) {
						require.NoError(t, tab.Insert(key, v))
						m.insert(key, v)
						check(fmt.Sprint("insert ", v))
					}
					deleteObject := func(v int) {
						require.NoError(t, tab.DeleteObject(key, v))
						m.deleteObject(key, v)
						check(fmt.Sprint("delete_object ", v))
					}
					insert(a)
					insert(b)
					insert(c)
					deleteObject(d1)
					insert(d1)
					insert(d1)
					deleteObject(d2[0])
					deleteObject(d2[1])
					insert(d2[0])
					deleteObject(d3[0])
					deleteObject(d3[1])
					ok, err := tab.InsertNew(key, d3[1])
					require.NoError(t, err)
					require.Equal(t, m.insertNew(key, d3[1]), ok)
					check("insert_new")
					require.NoError(t, tab.Drop())
				}
			}
		}
	})
}

// 25,000 objects under few keys, inserted twice: a Bag keeps one copy of
// each, a DuplicateBag both.
func TestBag_DuplicateRules(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		tab := newTable()
		const n = 25_000
		for round := range 2 {
			for i := range n {
				require.NoError(t, tab.Insert(i%5, i))
			}
			want := n * (round + 1)
			if !k.dup {
				want = n
			}
			require.Equal(t, want, tab.Size())
			require.Equal(t, want, tab.SelectCount(nil))
		}
		for key := range 5 {
			vs := tab.Lookup(key)
			var want []int
			for i := key; i < n; i += 5 {
				want = append(want, i)
			}
			if k.dup {
				want = append(want, want...)
			}
			require.Equal(t, want, vs, "insertion order")
		}
		// Deleting every other object of a big key keeps the rest in order.
		for i := 0; i < n; i += 10 {
			require.NoError(t, tab.DeleteObject(0, i))
		}
		vs := tab.Lookup(0)
		copies := 1
		if k.dup {
			copies = 2
		}
		require.Len(t, vs, copies*n/10)
		require.True(t, slices.IsSorted(vs[:n/10]))
		require.NoError(t, tab.Insert(0, 0))
		require.Equal(t, 0, tab.Lookup(0)[len(vs)], "a re-inserted object goes last")
	})
}

func TestBag_LookupSliceIsTheCallers(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		tab := newTable()
		for i := range 20 {
			require.NoError(t, tab.Insert(1, i))
		}
		vs := tab.Lookup(1)
		for i := range vs {
			vs[i] = -1
		}
		_ = append(vs[:2], 99, 99, 99)
		got := tab.Lookup(1)
		require.Len(t, got, 20)
		for i, v := range got {
			require.Equal(t, i, v)
		}
		taken, err := tab.Take(1)
		require.NoError(t, err)
		taken[0] = -5
		require.NoError(t, tab.Insert(1, 0))
		require.Equal(t, []int{0}, tab.Lookup(1))

		// AppendLookup appends after the caller's elements, returns a
		// nil dst for a missing key, and grows dst as append does.
		buf := make([]int, 1, 4)
		buf[0] = 42
		got = tab.AppendLookup(buf, 1)
		require.Equal(t, []int{42, 0}, got)
		require.Same(t, &buf[0], &got[0], "dst had room: its array is used")
		require.Nil(t, tab.AppendLookup(nil, 2))
		require.Equal(t, []int{42}, tab.AppendLookup(buf, 2))
		for i := 1; i < 20; i++ {
			require.NoError(t, tab.Insert(1, i))
		}
		got = tab.AppendLookup(buf, 1)
		require.Len(t, got, 21)
		require.Equal(t, 42, got[0])
	})
}

func TestBag_ClearIteratorsAndKeys(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		tab := newTable()
		m := newBagModel(k.dup)
		for i := range 1000 {
			for j := range i % 4 {
				require.NoError(t, tab.Insert(i, j))
				m.insert(i, j)
			}
		}
		require.Equal(t, m.m, bagContents(tab))
		keys := slices.Collect(tab.Keys())
		require.Len(t, keys, len(m.m), "each key once")
		require.ElementsMatch(t, slices.Collect(maps.Keys(m.m)), keys)
		n := 0
		for range tab.All() {
			n++
			if n == 10 {
				break
			}
		}
		require.Equal(t, 10, n)
		for range tab.Keys() {
			break
		}
		require.Equal(t, m.size(), tab.Size())
		require.Equal(t, m.size(), tab.Info().Size)
		require.NoError(t, tab.Clear())
		require.Zero(t, tab.Size())
		require.Empty(t, bagContents(tab))
		require.NoError(t, tab.Insert(5, 5), "a cleared table is usable")
		require.Equal(t, 1, tab.Size())
	})
}

func TestBag_Select(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		tab := newTable()
		for i := range 100 {
			for j := range 3 {
				require.NoError(t, tab.Insert(i, j))
			}
		}
		zero := func(k, v int) bool { return v == 0 }
		require.Len(t, tab.Select(zero), 100)
		require.Len(t, tab.Select(nil), 300)
		require.Equal(t, 100, tab.SelectCount(zero))

		// Replace 1 by 2: a Bag merges the replacement into the 2 it has.
		n, err := tab.SelectReplace(func(k, v int) (int, bool) { return 2, v == 1 })
		require.NoError(t, err)
		require.Equal(t, 100, n)
		if k.dup {
			require.Equal(t, []int{0, 2, 2}, tab.Lookup(7))
			require.Equal(t, 300, tab.Size())
		} else {
			require.Equal(t, []int{0, 2}, tab.Lookup(7))
			require.Equal(t, 200, tab.Size())
		}
		n, err = tab.SelectDelete(func(k, v int) bool { return v == 2 && k%2 == 0 })
		require.NoError(t, err)
		require.Equal(t, 50*(1+btoi(k.dup)), n)
		require.Equal(t, []int{0}, tab.Lookup(8))
		n, err = tab.SelectDelete(nil)
		require.NoError(t, err)
		require.Equal(t, 150+50*btoi(k.dup), n)
		require.Zero(t, tab.Size())
		require.False(t, tab.Member(1))
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestBag_SelectPanicsLeaveTableUsable(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		tab := newTable()
		for i := range 100 {
			for j := range 12 {
				require.NoError(t, tab.Insert(i, j))
			}
		}
		boom := func(k, v int) bool {
			if k == 50 && v == 6 {
				panic("boom")
			}
			return false
		}
		require.Panics(t, func() { tab.Select(boom) })
		require.Panics(t, func() { tab.SelectCount(boom) })
		require.Panics(t, func() { _, _ = tab.SelectDelete(func(k, v int) bool { return v < 3 || boom(k, v) }) })
		require.Panics(t, func() {
			_, _ = tab.SelectReplace(func(k, v int) (int, bool) { return v + 100, v == 11 || boom(k, v) })
		})
		require.Panics(t, func() { tab.SelectLimit(boom, 10000) })
		require.Equal(t, tab.SelectCount(nil), tab.Size(), "the counters agree with the objects")
		got := tab.Lookup(50)
		require.Len(t, got, 12, "the key being swept when the predicate panicked is unchanged")
		require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, got)
		for i := range 100 {
			require.NoError(t, tab.Insert(i, 1000), "no shard may stay locked")
		}
		n, err := tab.SelectDelete(func(k, v int) bool { return v == 1000 })
		require.NoError(t, err)
		require.Equal(t, 100, n)
		require.Equal(t, tab.SelectCount(nil), tab.Size())
	})
}

func TestBag_SelectLimitPagesInsideKeys(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		tab := newTable()
		page, cur := tab.SelectLimit(nil, 10)
		require.Empty(t, page)
		require.Nil(t, cur)
		for i := range 100 {
			for j := range i % 13 {
				require.NoError(t, tab.Insert(i, j))
			}
		}
		for v := range 1000 { // a key of many objects, copied a part at a time
			require.NoError(t, tab.Insert(1000, v))
		}
		odd := func(k, v int) bool { return v%2 == 1 }
		none := func(k, v int) bool { return k == 1000 && v == 999 }
		for _, limit := range []int{1, 3, 7, 12, 100, 5000} {
			require.Equal(t, grouped(tab.Select(nil)), grouped(bagWalk(t, tab, nil, limit)), "limit %d", limit)
			require.Equal(t, grouped(tab.Select(odd)), grouped(bagWalk(t, tab, odd, limit)), "limit %d", limit)
			require.Equal(t, grouped(tab.Select(none)), grouped(bagWalk(t, tab, none, limit)), "limit %d", limit)
		}
		require.Panics(t, func() { tab.SelectLimit(nil, 0) })
	})
}

// A walk of SelectLimit's pages paused inside one key finds every object
// present throughout when, between pages, the key's list is rewritten:
// compacted (deletes of most objects before the cursor), indexed (it passes
// the few objects a key holds unindexed), or swept by a SelectReplace whose
// replacement, in a Bag, merges into an object the walk has not reached.
// The first and last were missed by the suite; the last lost an object
// (found by a review).
func TestBag_SelectLimitAcrossRewrittenKeys(t *testing.T) {
	rest := func(cur *ets.Cursor[int, int]) []int {
		var vs []int
		for cur != nil {
			var page []ets.Entry[int, int]
			page, cur = cur.Next()
			for _, e := range page {
				vs = append(vs, e.Value)
			}
		}
		return vs
	}
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		tab := newTable()
		for v := range 20 {
			require.NoError(t, tab.Insert(1, v))
		}
		_, cur := tab.SelectLimit(nil, 15)
		for v := range 11 {
			require.NoError(t, tab.DeleteObject(1, v)) // compacts the key
		}
		require.Equal(t, []int{15, 16, 17, 18, 19}, rest(cur), "after a compaction")

		tab = newTable()
		for v := range 6 {
			require.NoError(t, tab.Insert(1, v))
		}
		_, cur = tab.SelectLimit(nil, 3)
		for v := 6; v < 12; v++ {
			require.NoError(t, tab.Insert(1, v)) // indexes the key
		}
		require.Equal(t, []int{3, 4, 5, 6, 7, 8, 9, 10, 11}, rest(cur), "after the key was indexed")

		for _, n := range []int{6, 20} { // small and indexed keys
			tab = newTable()
			for v := range n {
				require.NoError(t, tab.Insert(1, v))
			}
			_, cur = tab.SelectLimit(nil, n/2)
			_, err := tab.SelectReplace(func(_, v int) (int, bool) { return n - 2, v == 1 })
			require.NoError(t, err)
			want := []int{}
			for v := n / 2; v < n; v++ {
				want = append(want, v)
			}
			require.Subset(t, rest(cur), want, "objects %d: the walk lost an object left alone", n)
			if !k.dup {
				require.NotContains(t, tab.Lookup(1), 1)
				require.Equal(t, n-1, tab.Count(1), "the replacement merged into %d", n-2)
			}
		}
	})
}

// A paged walk emits every object present throughout it at least once and
// no object more often than it was there, while between pages objects come
// and go under one or two keys, the newest often deleted so that its
// insertion number is taken again (objects.nextSeq), and sweeps replace and
// delete. For each (key, value): at least its copies present at the start
// and never deleted, at most those plus the copies added. Seeds 0-2999,
// named in a failure. (Written by a review of the reused numbers.)
func TestBag_SelectLimitWithReusedNumbers(t *testing.T) {
	for _, kd := range bagKinds {
		t.Run(kd.name, func(t *testing.T) {
			for seed := range uint64(3000) {
				r := rand.New(rand.NewPCG(seed, 7))
				tab := kd.make(t)
				type kv struct{ k, v int }
				nkeys := 1 + r.IntN(2)
				nvals := 4 + r.IntN(20)
				count := map[kv]int{}
				for range r.IntN(40) {
					k, v := r.IntN(nkeys), r.IntN(nvals)
					require.NoError(t, tab.Insert(k, v))
					if kd.dup || count[kv{k, v}] == 0 {
						count[kv{k, v}]++
					}
				}
				initial := map[kv]int{}
				for x, c := range count {
					initial[x] = c
				}
				deleted := map[kv]bool{}
				added := map[kv]int{}
				emitted := map[kv]int{}
				limit := 1 + r.IntN(4)
				page, cur := tab.SelectLimit(nil, limit)
				for {
					for _, e := range page {
						emitted[kv{e.Key, e.Value}]++
					}
					if cur == nil {
						break
					}
					for range r.IntN(6) {
						k, v := r.IntN(nkeys), r.IntN(nvals)
						switch op := r.IntN(10); {
						case op < 5:
							require.NoError(t, tab.Insert(k, v))
							if kd.dup || count[kv{k, v}] == 0 {
								count[kv{k, v}]++
								added[kv{k, v}]++
							}
						case op < 8:
							require.NoError(t, tab.DeleteObject(k, v))
							if count[kv{k, v}] > 0 {
								deleted[kv{k, v}] = true
							}
							count[kv{k, v}] = 0
						case op < 9:
							// delete the newest object of k, if any, to force reuse
							vs := tab.Lookup(k)
							if len(vs) > 0 {
								v = vs[len(vs)-1]
								require.NoError(t, tab.DeleteObject(k, v))
								deleted[kv{k, v}] = true
								count[kv{k, v}] = 0
							}
						case r.IntN(2) == 0:
							w := r.IntN(nvals)
							_, err := tab.SelectReplace(func(kk, vv int) (int, bool) { return w, kk == k && vv == v })
							require.NoError(t, err)
							if c := count[kv{k, v}]; c > 0 && w != v {
								deleted[kv{k, v}] = true
								count[kv{k, v}] = 0
								if kd.dup {
									count[kv{k, w}] += c
									added[kv{k, w}] += c
								} else if count[kv{k, w}] == 0 {
									count[kv{k, w}] = 1
									added[kv{k, w}]++
								}
							}
						default:
							_, err := tab.SelectDelete(func(kk, vv int) bool { return kk == k && vv == v })
							require.NoError(t, err)
							if count[kv{k, v}] > 0 {
								deleted[kv{k, v}] = true
							}
							count[kv{k, v}] = 0
						}
					}
					page, cur = cur.Next()
				}
				for x, c := range initial {
					lower := c
					if deleted[x] {
						lower = 0
					}
					require.GreaterOrEqual(t, emitted[x], lower, "seed %d: missed %v", seed, x)
				}
				for x, e := range emitted {
					require.LessOrEqual(t, e, initial[x]+added[x], "seed %d: %v emitted too often", seed, x)
				}
			}
		})
	}
}

func TestBag_Drop(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		tab := newTable()
		require.NoError(t, tab.InsertMany(entries(1, 1, 1, 2, 2, 2, 3, 3)...))
		page, cur := tab.SelectLimit(nil, 1)
		require.Len(t, page, 1)
		require.NotNil(t, cur)

		require.NoError(t, tab.Drop())
		require.ErrorIs(t, tab.Drop(), ets.ErrDeleted)
		require.ErrorIs(t, tab.Err(), ets.ErrDeleted)

		// Every mutation says ErrDeleted.
		require.ErrorIs(t, tab.Insert(1, 1), ets.ErrDeleted)
		require.ErrorIs(t, tab.InsertMany(entries(1, 1)...), ets.ErrDeleted)
		require.ErrorIs(t, tab.InsertMany(), ets.ErrDeleted)
		_, err := tab.InsertNew(9, 9)
		require.ErrorIs(t, err, ets.ErrDeleted)
		_, err = tab.InsertNewMany(entries(9, 9)...)
		require.ErrorIs(t, err, ets.ErrDeleted)
		require.ErrorIs(t, tab.Delete(1), ets.ErrDeleted)
		require.ErrorIs(t, tab.DeleteObject(1, 1), ets.ErrDeleted)
		vs, err := tab.Take(1)
		require.ErrorIs(t, err, ets.ErrDeleted)
		require.Nil(t, vs)
		require.ErrorIs(t, tab.Clear(), ets.ErrDeleted)
		_, err = tab.SelectDelete(nil)
		require.ErrorIs(t, err, ets.ErrDeleted)
		_, err = tab.SelectReplace(func(k, v int) (int, bool) { return v, true })
		require.ErrorIs(t, err, ets.ErrDeleted)

		// Every read is not-found.
		require.Nil(t, tab.Lookup(1))
		require.Equal(t, []int{7}, tab.AppendLookup([]int{7}, 1))
		require.Zero(t, tab.Count(1))
		require.Empty(t, bagContents(tab))
		requireDroppedReads(t, tab, cur)
	})
}

// A bag under WriteConcurrencyAuto grows as a Set does when its writers
// wait for locks (on a machine of more than 4 processors; the test sets 8),
// and its sizes, counted per range of hashes, stay exact across the grows.
func TestBag_AutoGrowsWhenWritersWait(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(8, runtime.GOMAXPROCS(0))))
	on, err := ets.NewSet[int, int](ets.WithWriteConcurrency(ets.WriteConcurrencyOn))
	require.NoError(t, err)
	most := on.Info().Shards
	for _, k := range bagKinds {
		t.Run(k.name, func(t *testing.T) {
			b := k.make(t)
			require.Equal(t, 64, b.Info().Shards)
			for key := range 1000 {
				require.NoError(t, b.Insert(key, 0))
			}
			contendUntil(t, b, most, false, func(g, i int) error {
				if g == 0 && i%16 == 0 {
					// Yield while holding a hot key's lock (a predicate
					// runs under it), so that the others wait for it even
					// on one processor, where the writes alone never met.
					_, err := b.SelectDelete(func(k, _ int) bool {
						if k < 8 {
							runtime.Gosched()
						}
						return false
					})
					return err
				}
				v := 1 + i*4 + g // one goroutine's values are not another's, nor the 0s inserted above
				if err := b.Insert(i%8, v); err != nil {
					return err
				}
				return b.DeleteObject(i%8, v)
			})
			require.Equal(t, most, b.Info().Shards)
			require.Equal(t, 1000, b.Info().Size)
			for key := range 1000 {
				require.Equal(t, []int{0}, b.Lookup(key), "key %d", key)
			}
		})
	}
}

func TestBag_NewAndInfo(t *testing.T) {
	b, err := ets.NewBag[string, int](ets.WithShards(0))
	require.ErrorIs(t, err, ets.ErrInvalidOption)
	require.Nil(t, b)
	d, err := ets.NewDuplicateBag[string, int](ets.Option{})
	require.ErrorIs(t, err, ets.ErrInvalidOption)
	require.Nil(t, d)

	set, err := ets.NewSet[string, int]()
	require.NoError(t, err)
	for _, auto := range []ets.Table{must(ets.NewBag[string, int]()), must(ets.NewDuplicateBag[string, int]())} {
		require.Equal(t, set.Info().Shards, auto.Info().Shards, "a bag under Auto starts with as many locks as a set")
	}

	b, err = ets.NewBag[string, int](ets.WithWriteConcurrency(ets.WriteConcurrencyOff))
	require.NoError(t, err)
	info := b.Info()
	require.Equal(t, ets.KindBag, info.Kind)
	require.Equal(t, "bag", info.Kind.String())
	require.Equal(t, "string", info.KeyType)
	require.Equal(t, "int", info.ValueType)
	require.Equal(t, 1, info.Shards)
	empty := info.Memory
	for i := range 1000 {
		require.NoError(t, b.Insert("k", i))
	}
	require.Greater(t, b.Info().Memory, empty+1000*8, "memory counts the objects")

	d, err = ets.NewDuplicateBag[string, int]()
	require.NoError(t, err)
	require.Equal(t, ets.KindDuplicateBag, d.Info().Kind)
	require.Equal(t, "duplicate_bag", d.Info().Kind.String())
	require.True(t, d.Info().DecentralizedCounters)
}

// A bag refuses a value not equal to itself in every write that takes a
// value: no object would ever be equal to it, so a Bag would keep every copy
// and DeleteObject could remove none. Found by a review.
func TestBag_RefusesNaNValues(t *testing.T) {
	type point struct{ X, Y float64 }
	nan := math.NaN()
	b, err := ets.NewBag[int, float64]()
	require.NoError(t, err)
	defer b.Drop()
	require.ErrorIs(t, b.Insert(1, nan), ets.ErrInvalidOption)
	require.ErrorIs(t, b.InsertMany(ets.Entry[int, float64]{Key: 1, Value: 1}, ets.Entry[int, float64]{Key: 1, Value: nan}), ets.ErrInvalidOption)
	_, err = b.InsertNew(1, nan)
	require.ErrorIs(t, err, ets.ErrInvalidOption)
	_, err = b.InsertNewMany(ets.Entry[int, float64]{Key: 2, Value: nan})
	require.ErrorIs(t, err, ets.ErrInvalidOption)
	require.ErrorIs(t, b.DeleteObject(1, nan), ets.ErrInvalidOption)
	require.Zero(t, b.Size(), "nothing of a refused batch was added")
	// +0 and -0 are equal under ==: one object.
	require.NoError(t, b.Insert(1, 0))
	require.NoError(t, b.Insert(1, math.Copysign(0, -1)))
	require.Equal(t, 1, b.Count(1))
	require.PanicsWithValue(t, "ets: SelectReplace: "+ets.ErrInvalidOption.Error()+": a value not equal to itself (a NaN) is equal to no object of a bag",
		func() { _, _ = b.SelectReplace(func(int, float64) (float64, bool) { return nan, true }) })
	require.Equal(t, []float64{0}, b.Lookup(1), "the panicking replacement changed nothing")
	n, err := b.SelectReplace(func(int, float64) (float64, bool) { return nan, false })
	require.NoError(t, err, "a value the callback does not store is not checked")
	require.Zero(t, n)
	require.Equal(t, []float64{0}, b.Lookup(1))

	d, err := ets.NewDuplicateBag[int, any]()
	require.NoError(t, err)
	defer d.Drop()
	require.ErrorIs(t, d.Insert(1, nan), ets.ErrInvalidOption)
	require.ErrorIs(t, d.Insert(1, point{1, nan}), ets.ErrInvalidOption)
	require.NoError(t, d.Insert(1, point{1, 2}))
	p, err := ets.NewBag[int, point]()
	require.NoError(t, err)
	defer p.Drop()
	require.ErrorIs(t, p.Insert(1, point{nan, 0}), ets.ErrInvalidOption)
	// A float value costs no allocation to check.
	require.NoError(t, b.Insert(2, 1.5))
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = b.Insert(2, 1.5) }))
}

func TestBag_ZeroAllocs(t *testing.T) {
	for _, k := range bagKinds {
		for _, objects := range []int{1, 4, 100} {
			t.Run(fmt.Sprintf("%s/objects=%d", k.name, objects), func(t *testing.T) {
				tab := k.make(t)
				for i := range objects {
					require.NoError(t, tab.Insert(1, i))
				}
				buf := make([]int, 0, objects)
				ops := map[string]func(){
					"Member":        func() { tab.Member(1) },
					"MemberMissing": func() { tab.Member(99) },
					"Count":         func() { tab.Count(1) },
					"LookupMissing": func() { tab.Lookup(99) },
					"AppendLookup":  func() { buf = tab.AppendLookup(buf[:0], 1) },
					"DeleteMissing": func() { _ = tab.Delete(99) },
					"DeleteObjectMissing": func() {
						_ = tab.DeleteObject(1, -1)
						_ = tab.DeleteObject(99, 1)
					},
				}
				if !k.dup {
					ops["InsertPresent"] = func() { _ = tab.Insert(1, objects-1) }
				}
				for name, op := range ops {
					require.Zero(t, testing.AllocsPerRun(200, op), name)
				}
				require.Equal(t, 1.0, testing.AllocsPerRun(200, func() { tab.Lookup(1) }), "Lookup allocates only its result")
				require.Equal(t, objects, tab.Count(1))
				require.Equal(t, tab.Lookup(1), tab.AppendLookup(buf[:0], 1))
			})
		}
	}
}

// The differential test: long random sequences of operations applied to the
// table and to a map of slices, every result compared.
func TestBag_DifferentialAgainstModel(t *testing.T) {
	forEachBag(t, func(t *testing.T, k bagKind, newTable func() bagTable) {
		seed := testseed.Seed(t)
		r := rand.New(rand.NewPCG(seed, seed))
		tab := newTable()
		m := newBagModel(k.dup)
		const keySpace, valueSpace = 40, 30
		key := func() int { return r.IntN(keySpace) }
		val := func() int { return r.IntN(valueSpace) }
		for step := range 20000 {
			msg := fmt.Sprintf("seed %d step %d", seed, step)
			switch op := r.IntN(16); op {
			case 0, 1, 2:
				kk, v := key(), val()
				require.NoError(t, tab.Insert(kk, v), msg)
				m.insert(kk, v)
			case 3:
				kk, v := key(), val()
				ok, err := tab.InsertNew(kk, v)
				require.NoError(t, err, msg)
				require.Equal(t, m.insertNew(kk, v), ok, msg)
			case 4:
				es := entries(key(), val(), key(), val(), key(), val(), key(), val())[:r.IntN(5)]
				require.NoError(t, tab.InsertMany(es...), msg)
				for _, e := range es {
					m.insert(e.Key, e.Value)
				}
			case 5:
				kk := key()
				es := entries(kk, val(), key(), val(), kk, val())[:r.IntN(4)]
				ok, err := tab.InsertNewMany(es...)
				require.NoError(t, err, msg)
				want := true
				for _, e := range es {
					if len(m.m[e.Key]) > 0 {
						want = false
					}
				}
				require.Equal(t, want, ok, msg)
				if want {
					for _, e := range es {
						m.insert(e.Key, e.Value)
					}
				}
			case 6, 7:
				kk := key()
				require.Equal(t, m.m[kk], tab.Lookup(kk), msg)
				prefix := []int{-1, -2}[:r.IntN(3)]
				require.Equal(t, append(slices.Clip(prefix), m.m[kk]...), tab.AppendLookup(prefix, kk), msg)
				require.Equal(t, len(m.m[kk]), tab.Count(kk), msg)
				require.Equal(t, len(m.m[kk]) > 0, tab.Member(kk), msg)
			case 8:
				kk := key()
				require.NoError(t, tab.Delete(kk), msg)
				delete(m.m, kk)
			case 9, 10:
				kk, v := key(), val()
				require.NoError(t, tab.DeleteObject(kk, v), msg)
				m.deleteObject(kk, v)
			case 11:
				kk := key()
				vs, err := tab.Take(kk)
				require.NoError(t, err, msg)
				require.Equal(t, m.m[kk], vs, msg)
				delete(m.m, kk)
			case 12:
				mod := r.IntN(5) + 2
				pred := func(k, v int) bool { return (k+v)%mod == 0 }
				want := m.size()
				m.m = m.filter(func(k, v int) bool { return !pred(k, v) })
				n, err := tab.SelectDelete(pred)
				require.NoError(t, err, msg)
				require.Equal(t, want-m.size(), n, msg)
			case 13:
				mod := r.IntN(5) + 2
				fn := func(k, v int) (int, bool) { return (v + 1) % valueSpace, k%mod == v%3 }
				n, err := tab.SelectReplace(fn)
				require.NoError(t, err, msg)
				require.Equal(t, m.replace(fn), n, msg)
			case 14:
				mod := r.IntN(4) + 1
				pred := func(k, v int) bool { return v%mod == 0 }
				want := m.filter(pred)
				require.Equal(t, want, grouped(tab.Select(pred)), msg)
				require.Equal(t, countObjects(want), tab.SelectCount(pred), msg)
				require.Equal(t, want, grouped(bagWalk(t, tab, pred, r.IntN(20)+1)), msg)
			case 15:
				require.Equal(t, m.size(), tab.Size(), msg)
				if r.IntN(50) == 0 {
					require.Equal(t, m.m, bagContents(tab), msg)
				}
				if r.IntN(200) == 0 {
					require.NoError(t, tab.Clear(), msg)
					clear(m.m)
				}
			}
		}
		require.Equal(t, m.m, bagContents(tab))
		require.Equal(t, m.size(), tab.Size())
	})
}

func countObjects(m map[int][]int) int {
	n := 0
	for _, vs := range m {
		n += len(vs)
	}
	return n
}

// Goroutines inserting distinct objects under one key lose none, and each
// goroutine's objects keep its order.
func TestBag_ConcurrentInsertsUnderOneKey(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		tab := newTable()
		const goroutines, perG = 4, 3000
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perG {
					v := g*perG + i
					if !assert.NoError(t, tab.Insert(0, v)) {
						return
					}
					if i%3 == 0 { // one object in three is inserted and deleted again
						assert.NoError(t, tab.Insert(0, -v-1))
						assert.NoError(t, tab.DeleteObject(0, -v-1))
					}
				}
			}()
		}
		wg.Wait()
		vs := tab.Lookup(0)
		require.Len(t, vs, goroutines*perG)
		require.Equal(t, goroutines*perG, tab.Size())
		last := make([]int, goroutines)
		for g := range last {
			last[g] = -1
		}
		for _, v := range vs {
			g := v / perG
			require.Greater(t, v, last[g], "goroutine %d's objects out of order", g)
			last[g] = v
		}
	})
}

// A reader of the keys of a batch sees none of it or all of it: batches add
// the object gen to each of keys 0..15 (and the writer then deletes the
// objects of gen-2), so a reader that sees generation g as the newest object
// of one key sees at least g on every key it reads afterwards.
func TestBag_InsertManyIsolation(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		tab := newTable()
		checkBatchIsolation(t, tab.InsertMany, func(gen int) {
			for k := range 16 {
				assert.NoError(t, tab.DeleteObject(k, gen-2))
			}
		}, func(k int) int {
			vs := tab.Lookup(k)
			if len(vs) == 0 {
				return 0
			}
			return vs[len(vs)-1]
		})
	})
}

// While writers add and remove objects under the stable keys and churn other
// keys, every traversal visits each stable object exactly once and no object
// twice. The stable keys have enough objects to be indexed, and the churn
// under them moves their objects in their slices.
func TestBag_TraversalGuaranteeUnderChurn(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		tab := newTable()
		const stableKeys, stablePerKey = 300, 10
		for i := range stableKeys {
			for j := range stablePerKey {
				require.NoError(t, tab.Insert(i, j))
			}
		}
		stop := make(chan struct{})
		var writers sync.WaitGroup
		var next atomic.Int64
		next.Store(1000)
		for g := range 2 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				r := rand.New(rand.NewPCG(uint64(g), 2))
				var mine []ets.Entry[int, int]
				for {
					select {
					case <-stop:
						return
					default:
					}
					v := int(next.Add(2)) // v and v+1 are this iteration's alone: churn objects are never equal
					switch {
					case len(mine) < 200 && r.IntN(2) == 0:
						k := r.IntN(stableKeys)
						if r.IntN(2) == 0 {
							k += stableKeys + r.IntN(stableKeys)
						}
						_ = tab.Insert(k, v)
						mine = append(mine, ets.Entry[int, int]{Key: k, Value: v})
					case len(mine) < 200:
						other := stableKeys*3 + r.IntN(100)
						_ = tab.InsertMany(entries(other, v, other, v+1)...)
						_ = tab.Delete(other)
					default:
						i := r.IntN(len(mine))
						_ = tab.DeleteObject(mine[i].Key, mine[i].Value)
						mine[i] = mine[len(mine)-1]
						mine = mine[:len(mine)-1]
					}
				}
			}()
		}
		check := func(what string, es []ets.Entry[int, int]) {
			seen := make(map[ets.Entry[int, int]]int, len(es))
			for _, e := range es {
				seen[e]++
				require.Equal(t, 1, seen[e], "%s visited %v twice", what, e)
			}
			for i := range stableKeys {
				for j := range stablePerKey {
					require.Equal(t, 1, seen[ets.Entry[int, int]{Key: i, Value: j}], "%s missed stable object (%d, %d)", what, i, j)
				}
			}
		}
		for range 10 {
			var all []ets.Entry[int, int]
			for k, v := range tab.All() {
				all = append(all, ets.Entry[int, int]{Key: k, Value: v})
			}
			check("All", all)
			check("Select", tab.Select(nil))
			check("SelectLimit", bagWalk(t, tab, nil, 97))
			keys := map[int]bool{}
			for k := range tab.Keys() {
				require.False(t, keys[k], "Keys visited %d twice", k)
				keys[k] = true
			}
			for i := range stableKeys {
				require.True(t, keys[i], "Keys missed %d", i)
			}
		}
		close(stop)
		writers.Wait()
		require.Equal(t, tab.SelectCount(nil), tab.Size())
	})
}

func TestBag_DropRacingWriters(t *testing.T) {
	forEachBag(t, func(t *testing.T, _ bagKind, newTable func() bagTable) {
		tab := newTable()
		dropWhileWriting(t, tab.Drop, func(g, i int) error {
			k := g*1_000_000 + i%100
			var err error
			switch i % 5 {
			case 0:
				err = tab.Insert(k, i)
			case 1:
				_, err = tab.InsertNew(k, i)
			case 2:
				err = tab.InsertMany(entries(k, i, k+1, i)...)
			case 3:
				err = tab.DeleteObject(k, i-3)
			case 4:
				_, err = tab.SelectDelete(func(k, v int) bool { return v%7 == 0 })
			}
			tab.Lookup(k)
			return err
		})
		require.Zero(t, tab.Size())
		require.Empty(t, bagContents(tab))
		require.ErrorIs(t, tab.Err(), ets.ErrDeleted)
	})
}

// must returns t, failing the test run if err is not nil.
func must[T any](t T, err error) T {
	if err != nil {
		panic(err)
	}
	return t
}

// A bag compares its objects, so a value whose dynamic type == panics on (a
// slice in a Bag[K, any]) is refused with ErrInvalidOption before anything
// changes, where it used to panic halfway through an insert and leave the
// key's objects and the table's size disagreeing. Comparable values of any
// dynamic type, nil among them, still work, past the few objects a key keeps
// without an index.
func TestBag_UncomparableValuesRefused(t *testing.T) {
	type holder struct{ V any }
	for _, dup := range []bool{false, true} {
		t.Run(fmt.Sprintf("duplicate=%v", dup), func(t *testing.T) {
			var ins func(k int, v any) error
			var b interface {
				InsertNew(int, any) (bool, error)
				InsertMany(...ets.Entry[int, any]) error
				InsertNewMany(...ets.Entry[int, any]) (bool, error)
				DeleteObject(int, any) error
				Lookup(int) []any
				Count(int) int
				Size() int
				SelectReplace(func(int, any) (any, bool)) (int, error)
			}
			if dup {
				d, err := ets.NewDuplicateBag[int, any]()
				require.NoError(t, err)
				ins, b = d.Insert, d
			} else {
				d, err := ets.NewBag[int, any]()
				require.NoError(t, err)
				ins, b = d.Insert, d
			}
			good := []any{nil, 1, "one", 2.5, [2]int{1, 2}, holder{3}, &struct{}{}, int8(4), "five", 6, 7}
			for _, v := range good {
				require.NoError(t, ins(1, v))
			}
			require.Equal(t, len(good), b.Count(1), "past the small-key limit: the index holds every dynamic type")
			for _, bad := range []any{[]int{1}, map[int]int{}, func() {}, holder{[]int{1}}, [1]any{[]int{1}}} {
				require.ErrorIs(t, ins(1, bad), ets.ErrInvalidOption, "%T", bad)
				require.ErrorIs(t, ins(2, bad), ets.ErrInvalidOption, "%T", bad)
				_, err := b.InsertNew(3, bad)
				require.ErrorIs(t, err, ets.ErrInvalidOption)
				require.ErrorIs(t, b.InsertMany(ets.Entry[int, any]{Key: 4, Value: 1}, ets.Entry[int, any]{Key: 4, Value: bad}), ets.ErrInvalidOption)
				_, err = b.InsertNewMany(ets.Entry[int, any]{Key: 5, Value: 1}, ets.Entry[int, any]{Key: 5, Value: bad})
				require.ErrorIs(t, err, ets.ErrInvalidOption)
				require.ErrorIs(t, b.DeleteObject(1, bad), ets.ErrInvalidOption)
			}
			require.Equal(t, len(good), b.Size(), "nothing refused was stored, not even a batch's good entries")
			require.Equal(t, good, b.Lookup(1))
			for k := 2; k <= 5; k++ {
				require.Zero(t, b.Count(k))
			}
			require.PanicsWithValue(t, fmt.Sprintf("ets: SelectReplace: ets: invalid option or argument: %s value []int cannot be compared, so a bag cannot hold it", map[bool]string{false: "bag", true: "duplicate_bag"}[dup]), func() {
				_, _ = b.SelectReplace(func(k int, v any) (any, bool) { return []int{1}, true })
			})
			require.Equal(t, good, b.Lookup(1), "the refused replacement changed nothing")
			require.NoError(t, b.DeleteObject(1, "one"))
			require.Equal(t, len(good)-1, b.Size())
		})
	}
}
