package ets_test

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets"
	"github.com/etsgo/ets/internal/testseed"
)

func newOrdered(t testing.TB, opts ...ets.Option) *ets.OrderedSet[int, int] {
	s, err := ets.NewOrderedSet[int, int](opts...)
	require.NoError(t, err)
	return s
}

// fill inserts k -> 10*k for every k in keys.
func fill(t testing.TB, s *ets.OrderedSet[int, int], keys ...int) {
	for _, k := range keys {
		require.NoError(t, s.Insert(k, 10*k))
	}
}

func collectKeys(seq iter.Seq2[int, int]) []int {
	var ks []int
	for k := range seq {
		ks = append(ks, k)
	}
	return ks
}

func TestNewOrderedSet_InvalidOptions(t *testing.T) {
	_, err := ets.NewOrderedSetFunc[int, int](nil)
	require.ErrorIs(t, err, ets.ErrInvalidOption)
	require.EqualError(t, err, "ets: invalid option or argument: NewOrderedSetFunc: nil compare function")

	for name, opts := range map[string][]ets.Option{
		"zero Option":         {{}},
		"shards 0":            {ets.WithShards(0)},
		"bad then overridden": {ets.WithWriteConcurrency(9), ets.WithWriteConcurrency(ets.WriteConcurrencyOn)},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := ets.NewOrderedSet[int, int](opts...)
			require.ErrorIs(t, err, ets.ErrInvalidOption)
			require.Nil(t, s)
			f, err := ets.NewOrderedSetFunc[int, int](cmp.Compare[int], opts...)
			require.ErrorIs(t, err, ets.ErrInvalidOption)
			require.Nil(t, f)
		})
	}
}

func TestOrderedSet_Info(t *testing.T) {
	s, err := ets.NewOrderedSet[string, []byte](ets.WithWriteConcurrency(ets.WriteConcurrencyOn), ets.WithShards(16))
	require.NoError(t, err)
	fill2 := func(n int) {
		for i := range n {
			require.NoError(t, s.Insert(fmt.Sprint(i), nil))
		}
	}
	empty := s.Info().Memory
	fill2(1000)
	info := s.Info()
	require.Equal(t, ets.KindOrderedSet, info.Kind)
	require.Equal(t, "ordered_set", info.Kind.String())
	require.Equal(t, "string", info.KeyType)
	require.Equal(t, "[]uint8", info.ValueType)
	require.Equal(t, 1, info.Shards, "one lock today")
	require.Equal(t, ets.WriteConcurrencyOn, info.WriteConcurrency, "the option is recorded")
	require.False(t, info.DecentralizedCounters, "the tree keeps one count")
	require.Equal(t, 1000, info.Size)
	require.Greater(t, info.Memory, empty+1000*40)
	require.NoError(t, s.Clear())
	require.Less(t, s.Info().Memory, info.Memory)
}

func TestOrderedSet_FirstLastNextPrev(t *testing.T) {
	s := newOrdered(t)
	_, _, ok := s.First()
	require.False(t, ok, "empty table")
	_, _, ok = s.Last()
	require.False(t, ok)
	_, _, ok = s.Next(0)
	require.False(t, ok)
	_, _, ok = s.Prev(0)
	require.False(t, ok)

	fill(t, s, 30, 10, 20, 40)
	type kv struct {
		k, v int
		ok   bool
	}
	get := func(k, v int, ok bool) kv { return kv{k, v, ok} }
	require.Equal(t, kv{10, 100, true}, get(s.First()))
	require.Equal(t, kv{40, 400, true}, get(s.Last()))
	require.Equal(t, kv{20, 200, true}, get(s.Next(10)), "strictly after a present key")
	require.Equal(t, kv{20, 200, true}, get(s.Next(15)), "after a missing key")
	require.Equal(t, kv{10, 100, true}, get(s.Next(-100)))
	require.Equal(t, kv{0, 0, false}, get(s.Next(40)), "nothing after the last")
	require.Equal(t, kv{0, 0, false}, get(s.Next(99)))
	require.Equal(t, kv{30, 300, true}, get(s.Prev(40)), "strictly before a present key")
	require.Equal(t, kv{30, 300, true}, get(s.Prev(35)), "before a missing key")
	require.Equal(t, kv{40, 400, true}, get(s.Prev(1000)))
	require.Equal(t, kv{0, 0, false}, get(s.Prev(10)), "nothing before the first")

	// A First/Next walk visits every key in order.
	var walked []int
	for k, _, ok := s.First(); ok; k, _, ok = s.Next(k) {
		walked = append(walked, k)
	}
	require.Equal(t, []int{10, 20, 30, 40}, walked)
	walked = walked[:0]
	for k, _, ok := s.Last(); ok; k, _, ok = s.Prev(k) {
		walked = append(walked, k)
	}
	require.Equal(t, []int{40, 30, 20, 10}, walked)

	require.NoError(t, s.Drop())
	_, _, ok = s.First()
	require.False(t, ok, "a dropped table reads as empty")
	_, _, ok = s.Last()
	require.False(t, ok)
	_, _, ok = s.Next(0)
	require.False(t, ok)
	_, _, ok = s.Prev(100)
	require.False(t, ok)
	require.Empty(t, collectKeys(s.Range(0, 100)))
	require.Empty(t, collectKeys(s.Descend(100)))
}

func TestOrderedSet_RangeAscendDescend(t *testing.T) {
	s := newOrdered(t)
	fill(t, s, 1, 3, 5, 7, 9)
	cases := []struct {
		name string
		seq  iter.Seq2[int, int]
		want []int
	}{
		{"Range present bounds", s.Range(3, 7), []int{3, 5}},
		{"Range missing bounds", s.Range(2, 8), []int{3, 5, 7}},
		{"Range everything", s.Range(-10, 10), []int{1, 3, 5, 7, 9}},
		{"Range empty hi == lo", s.Range(5, 5), nil},
		{"Range empty hi < lo", s.Range(7, 3), nil},
		{"Range past the end", s.Range(10, 20), nil},
		{"Ascend present", s.Ascend(5), []int{5, 7, 9}},
		{"Ascend missing", s.Ascend(6), []int{7, 9}},
		{"Ascend past the end", s.Ascend(10), nil},
		{"Descend includes from", s.Descend(5), []int{5, 3, 1}},
		{"Descend missing", s.Descend(6), []int{5, 3, 1}},
		{"Descend before the start", s.Descend(0), nil},
		{"Descend from the top", s.Descend(100), []int{9, 7, 5, 3, 1}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, collectKeys(c.seq), c.name)
	}
	for k, v := range s.Range(0, 10) {
		require.Equal(t, 10*k, v, "values come with their keys")
	}
	// Breaking out stops the walk.
	n := 0
	for range s.Ascend(0) {
		n++
		if n == 2 {
			break
		}
	}
	require.Equal(t, 2, n)
}

// Walks longer than one batch, in both directions, from every kind of start.
func TestOrderedSet_LongWalks(t *testing.T) {
	s := newOrdered(t)
	const n = 5000
	for i := range n {
		require.NoError(t, s.Insert(2*i, i))
	}
	asc := collectKeys(s.All())
	require.Len(t, asc, n)
	require.True(t, slices.IsSorted(asc))
	require.Len(t, collectKeys(s.Range(1, 2*n-2)), n-2)
	require.Len(t, collectKeys(s.Ascend(2001)), n-1001)
	desc := collectKeys(s.Descend(2*n + 5))
	require.Len(t, desc, n)
	require.True(t, slices.IsSortedFunc(desc, func(a, b int) int { return b - a }))
	require.Len(t, collectKeys(s.Descend(4001)), 2001)
}

func TestOrderedSet_SelectRange(t *testing.T) {
	s := newOrdered(t)
	for i := range 1000 {
		require.NoError(t, s.Insert(i, i%7))
	}
	var called []int
	got := s.SelectRange(100, 200, func(k, v int) bool {
		called = append(called, k)
		return v == 0
	})
	require.Len(t, called, 100, "pred is called only for keys in range")
	require.Equal(t, 100, called[0])
	require.Equal(t, 199, called[len(called)-1])
	require.True(t, slices.IsSorted(called))
	var want []ets.Entry[int, int]
	for k := 100; k < 200; k++ {
		if k%7 == 0 {
			want = append(want, ets.Entry[int, int]{Key: k, Value: 0})
		}
	}
	require.Equal(t, want, got)
	require.Len(t, s.SelectRange(990, 2000, nil), 10, "a nil pred matches everything in range")
	require.Empty(t, s.SelectRange(500, 400, nil))
}

// ETS's ordered_set compares keys with ==, not exact match: keys the
// comparator calls equal are one key. Here, strings that differ in case.
func TestOrderedSet_ComparatorEquality(t *testing.T) {
	s, err := ets.NewOrderedSetFunc[string, int](func(a, b string) int {
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	})
	require.NoError(t, err)
	require.NoError(t, s.Insert("Alice", 1))
	require.NoError(t, s.Insert("bob", 2))
	require.NoError(t, s.Insert("ALICE", 3))
	require.Equal(t, 2, s.Size(), "ALICE replaced Alice")
	require.Equal(t, []string{"ALICE", "bob"}, slices.Collect(s.Keys()), "insert replaces the whole object, key included")

	v, ok := s.Lookup("alice")
	require.True(t, ok, "lookup by an equal key")
	require.Equal(t, 3, v)
	require.True(t, s.Member("aLiCe"))
	ok, err = s.InsertNew("Bob", 9)
	require.NoError(t, err)
	require.False(t, ok, "Bob is bob")

	// Update keeps the key the object was stored with.
	v, ok, err = s.Update("Alice", func(old int, ok bool) (int, ets.Op) { return old + 1, ets.Store })
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 4, v)
	k, _, _ := s.First()
	require.Equal(t, "ALICE", k)

	v, ok, err = s.Take("alice")
	require.NoError(t, err)
	require.True(t, ok, "take by an equal key")
	require.Equal(t, 4, v)
	require.False(t, s.Member("Alice"))
	require.Equal(t, []string{"bob"}, slices.Collect(s.Keys()))

	require.NoError(t, s.InsertMany(
		ets.Entry[string, int]{Key: "carol", Value: 1},
		ets.Entry[string, int]{Key: "CAROL", Value: 2}))
	require.Equal(t, []ets.Entry[string, int]{{Key: "bob", Value: 2}, {Key: "CAROL", Value: 2}}, s.Select(nil),
		"of two equal keys in one batch, the last wins")
}

// A comparator that panics: the panic reaches the caller, and the table is
// consistent and unlocked afterwards.
func TestOrderedSet_PanickingComparator(t *testing.T) {
	const poison = -1
	s, err := ets.NewOrderedSetFunc[int, int](func(a, b int) int {
		if a == poison || b == poison {
			panic("poison key")
		}
		return cmp.Compare(a, b)
	})
	require.NoError(t, err)
	for i := range 2000 {
		require.NoError(t, s.Insert(i, i))
	}
	ops := map[string]func(){
		"Insert":        func() { _ = s.Insert(poison, 0) },
		"InsertNew":     func() { _, _ = s.InsertNew(poison, 0) },
		"InsertMany":    func() { _ = s.InsertMany(ets.Entry[int, int]{Key: 5000, Value: 1}, ets.Entry[int, int]{Key: poison}) },
		"InsertNewMany": func() { _, _ = s.InsertNewMany(ets.Entry[int, int]{Key: poison}) },
		"Lookup":        func() { s.Lookup(poison) },
		"Member":        func() { s.Member(poison) },
		"Delete":        func() { _ = s.Delete(poison) },
		"Take":          func() { _, _, _ = s.Take(poison) },
		"Update":        func() { _, _, _ = s.Update(poison, func(int, bool) (int, ets.Op) { return 0, ets.Store }) },
		"UpdateCounter": func() { _, _ = ets.UpdateCounter(s, poison, 1, ets.WithDefault(0)) },
		"Next":          func() { s.Next(poison) },
		"Prev":          func() { s.Prev(poison) },
		"Range":         func() { collectKeys(s.Range(poison, 10)) },
		"Ascend":        func() { collectKeys(s.Ascend(poison)) },
		"Descend":       func() { collectKeys(s.Descend(poison)) },
		"SelectRange":   func() { s.SelectRange(0, poison, nil) },
	}
	for name, op := range ops {
		require.PanicsWithValue(t, "poison key", op, name)
		// Unlocked and consistent: a write and a full ordered walk work.
		require.NoError(t, s.Insert(1, 1), name)
		keys := collectKeys(s.All())
		require.Equal(t, s.Size(), len(keys), name)
		require.True(t, slices.IsSorted(keys), name)
	}
	// The InsertMany batch applied its first entry before the poison one;
	// the table is still an ordered set of the keys it holds.
	require.Equal(t, 2000+len(collectKeys(s.Ascend(5000))), s.Size())
	for i := range 2000 {
		require.True(t, s.Member(i))
	}
}

func TestOrderedSet_WriteInsideRangeLoops(t *testing.T) {
	s := newOrdered(t)
	for i := range 3000 {
		require.NoError(t, s.Insert(i, i))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := range s.Range(0, 1000) {
			assert.NoError(t, s.Delete(k))
			assert.NoError(t, s.Insert(k+10000, k))
		}
		for k := range s.Descend(2999) {
			if k < 10000 {
				_, _, _ = s.Take(k)
			}
		}
		for k := range s.Ascend(0) {
			assert.NoError(t, s.Delete(k))
		}
		_, _ = s.SelectDelete(nil)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writing from inside a range loop deadlocked")
	}
	require.Zero(t, s.Size())
}

// sortedModel is the trivial ordered map the differential test trusts.
type sortedModel struct{ es []ets.Entry[int, int] }

func (m *sortedModel) find(k int) (int, bool) {
	return slices.BinarySearchFunc(m.es, k, func(e ets.Entry[int, int], k int) int { return cmp.Compare(e.Key, k) })
}

func (m *sortedModel) put(k, v int) {
	i, ok := m.find(k)
	if ok {
		m.es[i].Value = v
		return
	}
	m.es = slices.Insert(m.es, i, ets.Entry[int, int]{Key: k, Value: v})
}

func (m *sortedModel) del(k int) {
	if i, ok := m.find(k); ok {
		m.es = slices.Delete(m.es, i, i+1)
	}
}

func (m *sortedModel) span(pred func(int) bool, desc bool) []ets.Entry[int, int] {
	var out []ets.Entry[int, int]
	for _, e := range m.es {
		if pred(e.Key) {
			out = append(out, e)
		}
	}
	if desc {
		slices.Reverse(out)
	}
	return out
}

func entriesOf(seq iter.Seq2[int, int]) []ets.Entry[int, int] {
	var out []ets.Entry[int, int]
	for k, v := range seq {
		out = append(out, ets.Entry[int, int]{Key: k, Value: v})
	}
	return out
}

// The ordered differential test: random operations, the ordered ones
// included, on the table and on a sorted slice.
func TestOrderedSet_DifferentialAgainstSortedSlice(t *testing.T) {
	seed := testseed.Seed(t)
	r := rand.New(rand.NewPCG(seed, seed))
	s := newOrdered(t)
	var m sortedModel
	const keySpace = 3000 // more than one walk batch
	key := func() int { return r.IntN(keySpace) - 100 }
	at := func(i int) (int, int, bool) {
		if i < 0 || i >= len(m.es) {
			return 0, 0, false
		}
		return m.es[i].Key, m.es[i].Value, true
	}
	for step := range 20000 {
		msg := fmt.Sprintf("seed %d step %d", seed, step)
		switch r.IntN(10) {
		case 0, 1, 2:
			k, v := key(), r.IntN(1000)
			require.NoError(t, s.Insert(k, v), msg)
			m.put(k, v)
		case 3:
			k := key()
			require.NoError(t, s.Delete(k), msg)
			m.del(k)
		case 4:
			k := key()
			got, ok := s.Lookup(k)
			i, mok := m.find(k)
			require.Equal(t, mok, ok, msg)
			if ok {
				require.Equal(t, m.es[i].Value, got, msg)
			}
		case 5:
			k := key()
			i, found := m.find(k)
			nk, nv, ok := s.Next(k)
			wk, wv, wok := at(map[bool]int{true: i + 1, false: i}[found])
			require.Equal(t, []any{wk, wv, wok}, []any{nk, nv, ok}, "Next "+msg)
			pk, pv, ok := s.Prev(k)
			wk, wv, wok = at(i - 1)
			require.Equal(t, []any{wk, wv, wok}, []any{pk, pv, ok}, "Prev "+msg)
			fk, fv, ok := s.First()
			wk, wv, wok = at(0)
			require.Equal(t, []any{wk, wv, wok}, []any{fk, fv, ok}, "First "+msg)
			lk, lv, ok := s.Last()
			wk, wv, wok = at(len(m.es) - 1)
			require.Equal(t, []any{wk, wv, wok}, []any{lk, lv, ok}, "Last "+msg)
		case 6:
			lo, hi := key(), key()
			if r.IntN(4) != 0 {
				lo, hi = min(lo, hi), max(lo, hi)
			}
			require.Equal(t, m.span(func(k int) bool { return lo <= k && k < hi }, false), entriesOf(s.Range(lo, hi)), "Range "+msg)
			require.Equal(t, m.span(func(k int) bool { return k >= lo }, false), entriesOf(s.Ascend(lo)), "Ascend "+msg)
			require.Equal(t, m.span(func(k int) bool { return k <= lo }, true), entriesOf(s.Descend(lo)), "Descend "+msg)
			odd := func(k, v int) bool { return v%2 == 1 }
			want := m.span(func(k int) bool { return lo <= k && k < hi }, false)
			want = slices.DeleteFunc(want, func(e ets.Entry[int, int]) bool { return !odd(e.Key, e.Value) })
			require.Equal(t, nilIfEmpty(want), s.SelectRange(lo, hi, odd), "SelectRange "+msg)
		case 7:
			limit := r.IntN(300) + 1
			var paged []ets.Entry[int, int]
			page, cur := s.SelectLimit(nil, limit)
			for paged = page; cur != nil; paged = append(paged, page...) {
				page, cur = cur.Next()
			}
			require.Equal(t, nilIfEmpty(m.es), nilIfEmpty(paged), "SelectLimit "+msg)
		case 8:
			d := r.IntN(5) + 2
			n, err := s.SelectDelete(func(k, v int) bool { return v%d == 0 })
			require.NoError(t, err, msg)
			before := len(m.es)
			m.es = slices.DeleteFunc(m.es, func(e ets.Entry[int, int]) bool { return e.Value%d == 0 })
			require.Equal(t, before-len(m.es), n, msg)
		case 9:
			require.Equal(t, len(m.es), s.Size(), msg)
		}
	}
	require.Equal(t, nilIfEmpty(m.es), nilIfEmpty(s.Select(nil)))
}

func nilIfEmpty[E any](s []E) []E {
	if len(s) == 0 {
		return nil
	}
	return s
}

// churn runs writers that insert and delete odd keys of [1, 2*stable+1] and
// rewrite the values of even keys, until the returned stop is called.
func churn(s *ets.OrderedSet[int, int], stable int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for {
				select {
				case <-done:
					return
				default:
				}
				odd := 2*r.IntN(stable) + 1
				switch r.IntN(4) {
				case 0:
					_ = s.Insert(odd, 1)
				case 1:
					_ = s.Delete(odd)
				case 2:
					_ = s.InsertMany(entries(odd, 2, odd+2, 2)...)
				case 3:
					_ = s.Insert(2*r.IntN(stable), r.Int()) // rewrite a stable key
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

// checkStable checks that keys are strictly ordered (ascending unless desc),
// lie in [lo, hi), and hold exactly once every stable key in that range:
// the even keys below top.
func checkStable(t *testing.T, what string, keys []int, lo, hi, top int, desc bool) {
	t.Helper()
	order := func(a, b int) int { return a - b }
	if desc {
		order = func(a, b int) int { return b - a }
	}
	for i := 1; i < len(keys); i++ {
		require.Negative(t, order(keys[i-1], keys[i]), "%s: %d then %d", what, keys[i-1], keys[i])
	}
	even := 0
	for _, k := range keys {
		require.True(t, lo <= k && k < hi, "%s: key %d out of [%d, %d)", what, k, lo, hi)
		if k%2 == 0 {
			even++
		}
	}
	want := 0
	for k := lo; k < min(hi, top); k++ {
		if k%2 == 0 {
			want++
		}
	}
	require.Equal(t, want, even, "%s: stable keys missed", what)
}

// Under churn, every ordered walk sees each stable key exactly once, in
// order. Run it with -race.
func TestOrderedSet_WalksUnderChurn(t *testing.T) {
	// The stable keys are the even keys below top; churned odd keys reach
	// 2*stable+1, so every walk stays below end.
	const stable = 3000
	const top, end = 2 * stable, 2*stable + 2
	s := newOrdered(t)
	for i := range stable {
		require.NoError(t, s.Insert(2*i, 0))
	}
	stop := churn(s, stable)
	defer stop()
	for range 10 {
		checkStable(t, "All", slices.Collect(s.Keys()), 0, end, top, false)
		checkStable(t, "Range", collectKeys(s.Range(1000, 5000)), 1000, 5000, top, false)
		checkStable(t, "Ascend", collectKeys(s.Ascend(2000)), 2000, end, top, false)
		checkStable(t, "Descend", collectKeys(s.Descend(4000)), 0, 4001, top, true)
		var sel []int
		for _, e := range s.SelectRange(100, 4100, nil) {
			sel = append(sel, e.Key)
		}
		checkStable(t, "SelectRange", sel, 100, 4100, top, false)
		var walked []int
		for k, _, ok := s.First(); ok; k, _, ok = s.Next(k) {
			walked = append(walked, k)
		}
		checkStable(t, "First/Next", walked, 0, end, top, false)
	}
}

// Cursor pages resume strictly after the last key returned: under churn,
// with writes between pages, the pages together hold each stable key once,
// in order.
func TestOrderedSet_CursorPagesUnderChurn(t *testing.T) {
	const stable = 2000
	s := newOrdered(t)
	for i := range stable {
		require.NoError(t, s.Insert(2*i, 0))
	}
	stop := churn(s, stable)
	defer stop()
	for _, limit := range []int{1, 13, 500} {
		var keys []int
		page, cur := s.SelectLimit(nil, limit)
		for {
			for _, e := range page {
				keys = append(keys, e.Key)
			}
			if cur == nil {
				break
			}
			require.Len(t, page, limit)
			// Writes between pages, right after the cursor's position.
			if last := page[len(page)-1].Key; last%2 == 0 {
				require.NoError(t, s.Insert(last+1, 0))
				require.NoError(t, s.Delete(last+1))
			}
			page, cur = cur.Next()
		}
		checkStable(t, fmt.Sprintf("pages of %d", limit), keys, 0, 2*stable+2, 2*stable, false)
	}
}

func TestOrderedSet_StringKeysZeroAllocs(t *testing.T) {
	s, err := ets.NewOrderedSet[string, int]()
	require.NoError(t, err)
	for i := range 1000 {
		require.NoError(t, s.Insert(fmt.Sprintf("key-%06d", i), i))
	}
	key := "key-000500"
	ops := map[string]func(){
		"Lookup":         func() { s.Lookup(key) },
		"LookupMissing":  func() { s.Lookup("absent") },
		"Member":         func() { s.Member(key) },
		"InsertExisting": func() { _ = s.Insert(key, 2) },
		"Update":         func() { _, _, _ = s.Update(key, func(o int, _ bool) (int, ets.Op) { return o + 1, ets.Store }) },
		"UpdateCounter":  func() { _, _ = ets.UpdateCounter(s, key, 1) },
		"DeleteMissing":  func() { _ = s.Delete("absent") },
		"DeleteInsert":   func() { _ = s.Delete(key); _ = s.Insert(key, 1) },
		"Next":           func() { s.Next(key) },
		"Prev":           func() { s.Prev(key) },
		"First":          func() { s.First() },
	}
	if !raceEnabled { // walks' pooled buffers: see raceEnabled; CI also runs without -race
		ops["Range"] = func() { drain(s.Range(key, "key-000510")) }
		ops["Descend"] = func() { drainN(s.Descend(key), 10) }
	}
	for name, op := range ops {
		require.Zero(t, testing.AllocsPerRun(200, op), name)
	}
}

// Short walks of int keys allocate nothing either: their batches are pooled
// and their bounds stay on the stack.
func TestOrderedSet_ShortWalksZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("walks reuse pooled buffers, which -race's sync.Pool drops at random; CI also runs without -race")
	}
	s, err := ets.NewOrderedSet[int, int]()
	require.NoError(t, err)
	for i := range 1000 {
		require.NoError(t, s.Insert(i, i))
	}
	ops := map[string]func(){
		"Range":   func() { drain(s.Range(500, 510)) },
		"Ascend":  func() { drainN(s.Ascend(500), 10) },
		"Descend": func() { drainN(s.Descend(500), 10) },
	}
	for name, op := range ops {
		require.Zero(t, testing.AllocsPerRun(200, op), name)
	}
}

// drain runs a walk to its end; drainN stops it after n objects.
func drain[K, V any](seq iter.Seq2[K, V]) {
	for range seq {
	}
}

func drainN[K, V any](seq iter.Seq2[K, V], n int) {
	for range seq {
		if n--; n == 0 {
			return
		}
	}
}

// A walk checks the handle's right to read before each batch, as a Set's
// checks it before each shard: once the owner of a private table gives it
// away, its handle's walk ends with the batch in hand. It used to go on to
// the end of the table.
func TestOrderedSet_WalkStopsWhenRightsGo(t *testing.T) {
	owner := ets.NewOwner(context.Background())
	defer owner.Stop(nil)
	other := ets.NewOwner(context.Background())
	defer other.Stop(nil)
	tab, err := ets.NewOrderedSet[int, int](ets.WithOwner(owner), ets.WithAccess(ets.Private))
	require.NoError(t, err)
	for k := range 5000 {
		require.NoError(t, tab.Insert(k, k))
	}
	n := 0
	for range tab.All() {
		if n == 0 {
			require.NoError(t, owner.GiveAway(tab, other, nil))
		}
		n++
	}
	require.Less(t, n, 5000, "the walk went on after the handle lost the right to read")
	require.LessOrEqual(t, n, 128, "it ends with the first batch")
	require.False(t, tab.Member(1))
}

// Update and SelectReplace with a nil function panic with a clear message,
// before taking any lock.
func TestNilFunctionsPanic(t *testing.T) {
	set, err := ets.NewSet[int, int]()
	require.NoError(t, err)
	ord, err := ets.NewOrderedSet[int, int]()
	require.NoError(t, err)
	bag, err := ets.NewBag[int, any]()
	require.NoError(t, err)
	require.PanicsWithValue(t, "ets: Update: nil function", func() { _, _, _ = set.Update(1, nil) })
	require.PanicsWithValue(t, "ets: Update: nil function", func() { _, _, _ = ord.Update(1, nil) })
	for _, f := range []func(){
		func() { _, _ = set.SelectReplace(nil) },
		func() { _, _ = ord.SelectReplace(nil) },
		func() { _, _ = bag.SelectReplace(nil) },
	} {
		require.PanicsWithValue(t, "ets: SelectReplace: nil function", f)
	}
	require.NoError(t, set.Insert(1, 1), "nothing was left locked")
	require.NoError(t, ord.Insert(1, 1))
	require.NoError(t, bag.Insert(1, 1))
}

// Keys ordered by name, ties broken by *ver: a key with a nil ver panics
// only when it ties on name with a stored key (a comparator bug of the
// kind the docs allow). One such Delete, panicking below the btree's root,
// left every key of its base node undeletable (see internal/ordered's
// TestTree_PanicInDeleteLeavesKeysDeletable).
type tiedKey struct {
	name int
	ver  *int
}

func TestOrderedSet_PanicInDeleteLeavesKeysDeletable(t *testing.T) {
	tab, err := ets.NewOrderedSetFunc[tiedKey, int](func(a, b tiedKey) int {
		if c := cmp.Compare(a.name, b.name); c != 0 {
			return c
		}
		return cmp.Compare(*a.ver, *b.ver)
	})
	require.NoError(t, err)
	defer tab.Drop()
	one := 1
	for i := 1; i <= 128; i++ {
		_ = tab.Insert(tiedKey{i, &one}, i)
	}
	_ = tab.Delete(tiedKey{128, &one})
	func() {
		defer func() { recover() }()
		_ = tab.Delete(tiedKey{5, nil}) // ties with stored key 5: nil dereference
	}()
	_ = tab.Delete(tiedKey{7, &one})
	require.False(t, tab.Member(tiedKey{7, &one}), "Delete of key 7 did nothing")
	require.Equal(t, 126, tab.Size())
}
