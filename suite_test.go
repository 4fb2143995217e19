package ets_test

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets"
	"github.com/etsgo/ets/internal/shard"
	"github.com/etsgo/ets/internal/testseed"
)

// uniqueTable is the API shared by the kinds with one value per key, so one
// suite checks them all (as ETS's own interface_equality test does).
type uniqueTable[K any, V ets.Integer] interface {
	commonTable[K, V]
	Lookup(K) (V, bool)
	Take(K) (V, bool, error)
	Update(K, func(V, bool) (V, ets.Op)) (V, bool, error)
	ets.Counters[K, V]
}

// commonTable is the API every kind shares.
type commonTable[K, V any] interface {
	Insert(K, V) error
	InsertMany(...ets.Entry[K, V]) error
	InsertNew(K, V) (bool, error)
	InsertNewMany(...ets.Entry[K, V]) (bool, error)
	Member(K) bool
	Delete(K) error
	All() iter.Seq2[K, V]
	Keys() iter.Seq[K]
	Select(func(K, V) bool) []ets.Entry[K, V]
	SelectCount(func(K, V) bool) int
	SelectDelete(func(K, V) bool) (int, error)
	SelectReplace(func(K, V) (V, bool)) (int, error)
	SelectLimit(func(K, V) bool, int) ([]ets.Entry[K, V], *ets.Cursor[K, V])
	Size() int
	Clear() error
	Drop() error
	Err() error
	Info() ets.Info
}

// sharedTable is commonTable at int keys and values: the harnesses that run
// on every kind (the fuzz subjects, fault injection) take it, and each kind's
// table interface adds its own reads.
type sharedTable = commonTable[int, int]

type uniqueKind struct {
	name    string
	kind    ets.Kind
	ordered bool // All, Select and pages come in key order
	make    func(t testing.TB, opts ...ets.Option) uniqueTable[int, int]
}

// uniqueKinds lists every kind the suite runs on, each with the option sets
// that change its engine.
var uniqueKinds = []uniqueKind{
	{name: "Set", kind: ets.KindSet, make: func(t testing.TB, opts ...ets.Option) uniqueTable[int, int] {
		s, err := ets.NewSet[int, int](opts...)
		require.NoError(t, err)
		return s
	}},
	{name: "OrderedSet", kind: ets.KindOrderedSet, ordered: true, make: func(t testing.TB, opts ...ets.Option) uniqueTable[int, int] {
		s, err := ets.NewOrderedSet[int, int](opts...)
		require.NoError(t, err)
		// Many base nodes, as contention makes them, wherever the write
		// concurrency options allow them: every test runs across them.
		ets.SplitOrderedSet(s, orderedSplits...)
		return s
	}},
}

// orderedSplits are the lowest keys of the base nodes of the suite's
// OrderedSets: every key the tests use, from the linearizability checks' 0,
// 1 and 2 to the churn tests' thousands, is near a base node's bound.
var orderedSplits = []int{-1, 0, 1, 2, 3, 5, 8, 16, 33, 64, 100, 129, 256, 500, 1000, 2001, 5000}

var engineOptions = []struct {
	name string
	opts []ets.Option
}{
	{"default", nil},
	{"wc=off", []ets.Option{ets.WithWriteConcurrency(ets.WriteConcurrencyOff)}},
	{"wc=on,shards=4,central", []ets.Option{ets.WithWriteConcurrency(ets.WriteConcurrencyOn), ets.WithShards(4), ets.WithDecentralizedCounters(false)}},
	// A hash table that starts with one shard and grows at every wait for a
	// lock, up to 1024 shards: grows happen in the middle of the tests.
	{"wc=auto,grows", []ets.Option{ets.WithEngineForTest(func(c *shard.Config) {
		c.Shards, c.MaxShards, c.GrowAfter = 1, 1024, 1
	})}},
}

// forEachKind runs f once per kind and engine option set.
func forEachKind(t *testing.T, f func(t *testing.T, k uniqueKind, newTable func() uniqueTable[int, int])) {
	for _, k := range uniqueKinds {
		for _, o := range engineOptions {
			t.Run(k.name+"/"+o.name, func(t *testing.T) {
				f(t, k, func() uniqueTable[int, int] { return k.make(t, o.opts...) })
			})
		}
	}
}

func entries(kvs ...int) []ets.Entry[int, int] {
	out := make([]ets.Entry[int, int], 0, len(kvs)/2)
	for i := 0; i+1 < len(kvs); i += 2 {
		out = append(out, ets.Entry[int, int]{Key: kvs[i], Value: kvs[i+1]})
	}
	return out
}

func contents(tab uniqueTable[int, int]) map[int]int {
	m := map[int]int{}
	for k, v := range tab.All() {
		m[k] = v
	}
	return m
}

func byKey(es []ets.Entry[int, int]) []ets.Entry[int, int] {
	es = slices.Clone(es)
	slices.SortFunc(es, func(a, b ets.Entry[int, int]) int { return a.Key - b.Key })
	return es
}

func TestUnique_InsertLookupDelete(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		_, ok := tab.Lookup(1)
		require.False(t, ok)
		require.NoError(t, tab.Insert(1, 10))
		require.NoError(t, tab.Insert(2, 20))
		require.NoError(t, tab.Insert(1, 11)) // replaces
		v, ok := tab.Lookup(1)
		require.True(t, ok)
		require.Equal(t, 11, v)
		require.True(t, tab.Member(2))
		require.False(t, tab.Member(3))
		require.Equal(t, 2, tab.Size())

		require.NoError(t, tab.Delete(1))
		require.NoError(t, tab.Delete(1), "deleting an absent key is not an error")
		require.False(t, tab.Member(1))
		require.Equal(t, 1, tab.Size())

		v, ok, err := tab.Take(2)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, 20, v)
		_, ok, err = tab.Take(2)
		require.NoError(t, err)
		require.False(t, ok)
		require.Equal(t, 0, tab.Size())
		require.NoError(t, tab.Err())
	})
}

func TestUnique_InsertNew(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		ok, err := tab.InsertNew(1, 10)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = tab.InsertNew(1, 11)
		require.NoError(t, err)
		require.False(t, ok)
		v, _ := tab.Lookup(1)
		require.Equal(t, 10, v, "InsertNew must not replace")

		ok, err = tab.InsertNewMany(entries(2, 20, 3, 30, 1, 99)...)
		require.NoError(t, err)
		require.False(t, ok, "one key present: nothing inserted")
		require.False(t, tab.Member(2))
		require.False(t, tab.Member(3))

		ok, err = tab.InsertNewMany(entries(2, 20, 3, 30, 2, 21)...)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, map[int]int{1: 10, 2: 21, 3: 30}, contents(tab), "last duplicate in the list wins")

		ok, err = tab.InsertNewMany()
		require.NoError(t, err)
		require.True(t, ok)
	})
}

func TestUnique_InsertMany(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		require.NoError(t, tab.Insert(1, 1))
		require.NoError(t, tab.InsertMany(entries(1, 10, 2, 20, 3, 30, 2, 22)...))
		require.Equal(t, map[int]int{1: 10, 2: 22, 3: 30}, contents(tab))
		require.NoError(t, tab.InsertMany())
		require.Equal(t, 3, tab.Size())

		many := make([]ets.Entry[int, int], 10000)
		for i := range many {
			many[i] = ets.Entry[int, int]{Key: i, Value: -i}
		}
		require.NoError(t, tab.InsertMany(many...))
		require.Equal(t, 10000, tab.Size())
		for i := range 10000 {
			v, ok := tab.Lookup(i)
			require.True(t, ok)
			require.Equal(t, -i, v)
		}
	})
}

func TestUnique_Update(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		var sawOK bool
		v, ok, err := tab.Update(1, func(old int, ok bool) (int, ets.Op) {
			sawOK = ok
			return 5, ets.Keep
		})
		require.NoError(t, err)
		require.False(t, sawOK)
		require.False(t, ok, "Keep of an absent key leaves it absent")
		require.Equal(t, 0, v)
		require.False(t, tab.Member(1))

		v, ok, err = tab.Update(1, func(old int, ok bool) (int, ets.Op) { return 5, ets.Store })
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, 5, v)

		v, ok, err = tab.Update(1, func(old int, ok bool) (int, ets.Op) {
			require.True(t, ok)
			return old * 10, ets.Store
		})
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, 50, v)

		v, ok, err = tab.Update(1, func(old int, ok bool) (int, ets.Op) { return 7, ets.Keep })
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, 50, v, "Keep returns the value held")

		_, ok, err = tab.Update(1, func(old int, ok bool) (int, ets.Op) { return 0, ets.Delete })
		require.NoError(t, err)
		require.False(t, ok)
		require.False(t, tab.Member(1))
		_, ok, err = tab.Update(1, func(old int, ok bool) (int, ets.Op) { return 0, ets.Delete })
		require.NoError(t, err)
		require.False(t, ok)
	})
}

func TestUnique_UpdatePanicLeavesTableUsable(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		require.NoError(t, tab.Insert(1, 10))
		require.PanicsWithValue(t, "boom", func() {
			_, _, _ = tab.Update(1, func(old int, ok bool) (int, ets.Op) { panic("boom") })
		})
		require.PanicsWithValue(t, "boom", func() {
			_, _, _ = tab.Update(2, func(old int, ok bool) (int, ets.Op) { panic("boom") })
		})
		v, ok := tab.Lookup(1)
		require.True(t, ok)
		require.Equal(t, 10, v, "a panicking Update changes nothing")
		require.False(t, tab.Member(2))
		// The shard is unlocked: writes to the same keys proceed.
		require.NoError(t, tab.Insert(1, 11))
		require.NoError(t, tab.Insert(2, 20))
		require.Equal(t, map[int]int{1: 11, 2: 20}, contents(tab))
	})
}

func TestUnique_UpdateCounter(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		_, err := ets.UpdateCounter(tab, 1, 1)
		require.ErrorIs(t, err, ets.ErrNotFound, "no default: a missing key is an error")
		require.False(t, tab.Member(1))

		v, err := ets.UpdateCounter(tab, 1, 5, ets.WithDefault(10))
		require.NoError(t, err)
		require.Equal(t, 15, v, "the default object is incremented")
		v, err = ets.UpdateCounter(tab, 1, -3, ets.WithDefault(1000))
		require.NoError(t, err)
		require.Equal(t, 12, v, "a present key ignores the default")

		// ETS's wrap rule: {Pos, Incr, Threshold, SetValue}.
		v, err = ets.UpdateCounter(tab, 1, 10, ets.WithThreshold(20, 0))
		require.NoError(t, err)
		require.Equal(t, 0, v, "22 > 20: set to 0")
		v, err = ets.UpdateCounter(tab, 1, 20, ets.WithThreshold(20, 0))
		require.NoError(t, err)
		require.Equal(t, 20, v, "not past the threshold")
		v, err = ets.UpdateCounter(tab, 1, -25, ets.WithThreshold(-1, 100))
		require.NoError(t, err)
		require.Equal(t, 100, v, "-5 < -1 with a negative increment: set to 100")
		v, err = ets.UpdateCounter(tab, 1, 0, ets.WithThreshold(99, 7))
		require.NoError(t, err)
		require.Equal(t, 7, v, "an increment of 0 counts as positive")

		_, err = ets.UpdateCounter(tab, 1, 1, ets.CounterOption[int]{})
		require.ErrorIs(t, err, ets.ErrInvalidOption)
		_, err = ets.UpdateCounter(tab, 1, 1, ets.WithThreshold(100, 0), ets.WithThreshold(5, 0))
		require.ErrorIs(t, err, ets.ErrInvalidOption, "an option given twice")
		require.ErrorContains(t, err, "WithThreshold twice")
		_, err = ets.UpdateCounter(tab, 2, 1, ets.WithDefault(5), ets.WithThreshold(100, 0), ets.WithDefault(50))
		require.ErrorIs(t, err, ets.ErrInvalidOption, "an option given twice")
		require.ErrorContains(t, err, "WithDefault twice")
		got, _ := tab.Lookup(1)
		require.Equal(t, 7, got)
		_, ok := tab.Lookup(2)
		require.False(t, ok, "a refused call creates nothing")
	})
}

func TestUpdateCounter_Overflow(t *testing.T) {
	s, err := ets.NewSet[string, int8]()
	require.NoError(t, err)
	require.NoError(t, s.Insert("c", 120))
	_, err = ets.UpdateCounter(s, "c", 10)
	require.ErrorIs(t, err, ets.ErrOverflow)
	v, _ := s.Lookup("c")
	require.Equal(t, int8(120), v, "an overflowing update changes nothing")
	got, err := ets.UpdateCounter(s, "c", 10, ets.WithThreshold[int8](125, -1))
	require.NoError(t, err)
	require.Equal(t, int8(-1), got, "an overflow is past any threshold")
	require.NoError(t, s.Insert("c", -120))
	_, err = ets.UpdateCounter(s, "c", -10)
	require.ErrorIs(t, err, ets.ErrOverflow)

	u, err := ets.NewSet[string, uint8]()
	require.NoError(t, err)
	got8, err := ets.UpdateCounter(u, "c", 250, ets.WithDefault[uint8](5))
	require.NoError(t, err)
	require.Equal(t, uint8(255), got8)
	_, err = ets.UpdateCounter(u, "c", 1)
	require.ErrorIs(t, err, ets.ErrOverflow)
}

// counterLevel is a counter type whose String method reads the table it counts
// in: user code that would deadlock if UpdateCounter ran it under the lock.
type counterLevel int8

var counterLevels ets.Counters[int, counterLevel]

func (l counterLevel) String() string {
	if s, ok := counterLevels.(interface {
		Lookup(int) (counterLevel, bool)
	}); ok {
		s.Lookup(1)
	}
	return fmt.Sprintf("level %d", int8(l))
}

// TestUpdateCounter_OverflowFormatsOutsideTheLock: an overflow's message
// calls V's String method, which may call the table, only once the lock is
// released.
func TestUpdateCounter_OverflowFormatsOutsideTheLock(t *testing.T) {
	set, err := ets.NewSet[int, counterLevel]()
	require.NoError(t, err)
	ord, err := ets.NewOrderedSet[int, counterLevel]()
	require.NoError(t, err)
	for _, tab := range []interface {
		ets.Counters[int, counterLevel]
		Insert(int, counterLevel) error
	}{set, ord} {
		counterLevels = tab
		require.NoError(t, tab.Insert(1, 120))
		done := make(chan error, 1)
		go func() {
			_, err := ets.UpdateCounter[int, counterLevel](tab, 1, 10)
			done <- err
		}()
		select {
		case err := <-done:
			require.ErrorIs(t, err, ets.ErrOverflow)
			require.Contains(t, err.Error(), "level 120 + level 10")
		case <-time.After(10 * time.Second):
			t.Fatal("UpdateCounter deadlocked: it formatted the overflow under the lock")
		}
	}
}

func TestUnique_ClearAndIterators(t *testing.T) {
	forEachKind(t, func(t *testing.T, k uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		want := map[int]int{}
		for i := range 1000 {
			require.NoError(t, tab.Insert(i, i*i))
			want[i] = i * i
		}
		require.Equal(t, want, contents(tab))
		keys := slices.Collect(tab.Keys())
		require.ElementsMatch(t, slices.Collect(maps.Keys(want)), keys)
		if k.ordered {
			require.True(t, slices.IsSorted(keys))
		}
		// Breaking out of a loop stops it.
		n := 0
		for range tab.All() {
			n++
			if n == 10 {
				break
			}
		}
		require.Equal(t, 10, n)

		require.NoError(t, tab.Clear())
		require.Equal(t, 0, tab.Size())
		require.Empty(t, contents(tab))
		require.NoError(t, tab.Insert(5, 5), "a cleared table is usable")
		require.Equal(t, 1, tab.Size())
	})
}

func TestUnique_WriteInsideOwnTraversal(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		for i := range 200 {
			require.NoError(t, tab.Insert(i, i))
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for k, v := range tab.All() {
				assert.NoError(t, tab.Insert(k, v+1))
				assert.NoError(t, tab.Insert(k+1000, v))
				assert.NoError(t, tab.Delete(k+1000))
				_, _, _ = tab.Update(k, func(old int, ok bool) (int, ets.Op) { return old, ets.Keep })
			}
			for k := range tab.Keys() {
				assert.NoError(t, tab.Delete(k))
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("writing from inside a traversal deadlocked")
		}
		require.Equal(t, 0, tab.Size())
	})
}

func TestUnique_Select(t *testing.T) {
	forEachKind(t, func(t *testing.T, k uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		for i := range 100 {
			require.NoError(t, tab.Insert(i, i%10))
		}
		even := func(k, v int) bool { return k%2 == 0 }
		got := tab.Select(even)
		require.Len(t, got, 50)
		if k.ordered {
			require.True(t, slices.IsSortedFunc(got, func(a, b ets.Entry[int, int]) int { return a.Key - b.Key }))
		}
		for _, e := range got {
			require.Equal(t, 0, e.Key%2)
			require.Equal(t, e.Key%10, e.Value)
		}
		require.Len(t, tab.Select(nil), 100, "a nil predicate matches everything")
		require.Equal(t, 50, tab.SelectCount(even))
		require.Equal(t, 100, tab.SelectCount(nil))

		n, err := tab.SelectReplace(func(k, v int) (int, bool) { return v + 100, v == 3 })
		require.NoError(t, err)
		require.Equal(t, 10, n)
		require.Equal(t, 10, tab.SelectCount(func(k, v int) bool { return v == 103 }))

		n, err = tab.SelectDelete(even)
		require.NoError(t, err)
		require.Equal(t, 50, n)
		require.Equal(t, 50, tab.Size())
		require.Zero(t, tab.SelectCount(even))

		n, err = tab.SelectDelete(nil)
		require.NoError(t, err)
		require.Equal(t, 50, n)
		require.Zero(t, tab.Size())
	})
}

func TestUnique_SelectPanicsLeaveTableUsable(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		for i := range 100 {
			require.NoError(t, tab.Insert(i, i))
		}
		boom := func(k, v int) bool {
			if k == 50 {
				panic("boom")
			}
			return false
		}
		require.Panics(t, func() { tab.Select(boom) })
		require.Panics(t, func() { tab.SelectCount(boom) })
		require.Panics(t, func() { _, _ = tab.SelectDelete(boom) })
		require.Panics(t, func() {
			_, _ = tab.SelectReplace(func(k, v int) (int, bool) { return v, boom(k, v) })
		})
		require.Panics(t, func() { tab.SelectLimit(boom, 1000) })
		require.Panics(t, func() {
			for k := range tab.All() {
				boom(k, 0)
			}
		})
		require.Equal(t, 100, tab.Size())
		for i := range 100 {
			require.NoError(t, tab.Insert(i, i+1), "no shard may stay locked")
		}
		n, err := tab.SelectDelete(func(k, v int) bool { return k < 10 })
		require.NoError(t, err)
		require.Equal(t, 10, n)
		require.Equal(t, 90, tab.Size())
	})
}

// walk collects every page of a SelectLimit walk, checking the page sizes
// the contract promises.
func walk(t *testing.T, tab uniqueTable[int, int], pred func(int, int) bool, limit int) [][]ets.Entry[int, int] {
	page, cur := tab.SelectLimit(pred, limit)
	pages := [][]ets.Entry[int, int]{page}
	for cur != nil {
		require.Len(t, page, limit, "every page but the last is full")
		page, cur = cur.Next()
		pages = append(pages, page)
	}
	require.LessOrEqual(t, len(page), limit)
	return pages
}

func TestUnique_SelectLimit(t *testing.T) {
	forEachKind(t, func(t *testing.T, k uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		page, cur := tab.SelectLimit(nil, 10)
		require.Empty(t, page)
		require.Nil(t, cur, "an empty table has one, empty, page")

		for i := range 1000 {
			require.NoError(t, tab.Insert(i, i))
		}
		for _, limit := range []int{1, 7, 100, 500, 1000, 5000} {
			pages := walk(t, tab, func(k, v int) bool { return k%3 == 0 }, limit)
			var all []ets.Entry[int, int]
			for _, p := range pages {
				all = append(all, p...)
			}
			if k.ordered {
				require.True(t, slices.IsSortedFunc(all, func(a, b ets.Entry[int, int]) int { return a.Key - b.Key }))
			}
			require.Len(t, all, 334, "limit %d", limit)
			require.Equal(t, byKey(tab.Select(func(k, v int) bool { return k%3 == 0 })), byKey(all))
		}
		require.Panics(t, func() { tab.SelectLimit(nil, 0) })
		var nilCursor *ets.Cursor[int, int]
		p, c := nilCursor.Next()
		require.Nil(t, p)
		require.Nil(t, c)
	})
}

func TestUnique_Drop(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		require.NoError(t, tab.InsertMany(entries(1, 1, 2, 2, 3, 3)...))
		page, cur := tab.SelectLimit(nil, 1)
		require.Len(t, page, 1)
		require.NotNil(t, cur)

		require.NoError(t, tab.Drop())
		require.ErrorIs(t, tab.Drop(), ets.ErrDeleted)
		require.ErrorIs(t, tab.Err(), ets.ErrDeleted)

		// Every mutation says ErrDeleted.
		require.ErrorIs(t, tab.Insert(1, 1), ets.ErrDeleted)
		require.ErrorIs(t, tab.InsertMany(entries(1, 1)...), ets.ErrDeleted)
		_, err := tab.InsertNew(9, 9)
		require.ErrorIs(t, err, ets.ErrDeleted)
		_, err = tab.InsertNewMany(entries(9, 9)...)
		require.ErrorIs(t, err, ets.ErrDeleted)
		require.ErrorIs(t, tab.Delete(1), ets.ErrDeleted)
		_, _, err = tab.Take(1)
		require.ErrorIs(t, err, ets.ErrDeleted)
		called := false
		_, _, err = tab.Update(1, func(int, bool) (int, ets.Op) { called = true; return 0, ets.Store })
		require.ErrorIs(t, err, ets.ErrDeleted)
		require.False(t, called)
		_, err = ets.UpdateCounter(tab, 1, 1, ets.WithDefault(0))
		require.ErrorIs(t, err, ets.ErrDeleted)
		require.ErrorIs(t, tab.Clear(), ets.ErrDeleted)
		_, err = tab.SelectDelete(nil)
		require.ErrorIs(t, err, ets.ErrDeleted)
		_, err = tab.SelectReplace(func(k, v int) (int, bool) { return v, true })
		require.ErrorIs(t, err, ets.ErrDeleted)

		// Every read is not-found.
		_, ok := tab.Lookup(1)
		require.False(t, ok)
		require.Empty(t, contents(tab))
		requireDroppedReads(t, tab, cur)
	})
}

// sharedReads are the reads every kind has with the same signature.
type sharedReads interface {
	Member(int) bool
	Size() int
	Keys() iter.Seq[int]
	Select(func(int, int) bool) []ets.Entry[int, int]
	SelectCount(func(int, int) bool) int
	SelectLimit(func(int, int) bool, int) ([]ets.Entry[int, int], *ets.Cursor[int, int])
	Info() ets.Info
}

// requireDroppedReads checks that every shared read of a dropped table finds
// nothing, and that cur, a cursor taken before the drop, ends.
func requireDroppedReads(t *testing.T, tab sharedReads, cur *ets.Cursor[int, int]) {
	t.Helper()
	require.False(t, tab.Member(1))
	require.Zero(t, tab.Size())
	require.Empty(t, slices.Collect(tab.Keys()))
	require.Empty(t, tab.Select(nil))
	require.Zero(t, tab.SelectCount(nil))
	page, next := tab.SelectLimit(nil, 1)
	require.Empty(t, page)
	require.Nil(t, next)
	page, cur = cur.Next()
	require.Empty(t, page, "a cursor of a dropped table ends")
	require.Nil(t, cur)
	require.Zero(t, tab.Info().Size)
}

func TestUnique_DropRacingWriters(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		dropWhileWriting(t, tab.Drop, func(g, i int) error {
			k := g*1_000_000 + i
			var err error
			switch i % 6 {
			case 0:
				err = tab.Insert(k, i)
			case 1:
				_, err = tab.InsertNew(k, i)
			case 2:
				err = tab.InsertMany(entries(k, i, k+1, i)...)
			case 3:
				_, _, err = tab.Update(k-3, func(old int, ok bool) (int, ets.Op) { return old + 1, ets.Store })
			case 4:
				_, err = ets.UpdateCounter(tab, k-4, 1, ets.WithDefault(0))
			case 5:
				_, err = tab.SelectDelete(func(k, v int) bool { return v%7 == 0 })
			}
			tab.Lookup(k)
			return err
		})
		require.Zero(t, tab.Size())
		require.Empty(t, contents(tab))
		require.ErrorIs(t, tab.Err(), ets.ErrDeleted)
	})
}

// dropWhileWriting runs step(g, 0), step(g, 1)... in four goroutines g until
// a step fails, calls drop meanwhile, and checks that every step that failed
// failed with ErrDeleted.
func dropWhileWriting(t *testing.T, drop func() error, step func(g, i int) error) {
	var wg sync.WaitGroup
	var unexpected atomic.Value
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if err := step(g, i); err != nil {
					if !errors.Is(err, ets.ErrDeleted) {
						unexpected.Store(err)
					}
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, drop())
	wg.Wait()
	require.Nil(t, unexpected.Load())
}

func TestUnique_ConcurrentCountersLoseNothing(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		const goroutines, perG, keys = 8, 5000, 4
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perG {
					_, err := ets.UpdateCounter(tab, (g+i)%keys, 1, ets.WithDefault(0))
					if !assert.NoError(t, err) {
						return
					}
					if i%10 == 0 {
						_, _, err = tab.Update((g+i)%keys, func(old int, ok bool) (int, ets.Op) { return old + 1, ets.Store })
						assert.NoError(t, err)
					}
				}
			}()
		}
		wg.Wait()
		total := 0
		for _, v := range tab.All() {
			total += v
		}
		require.Equal(t, goroutines*perG+goroutines*perG/10, total)
	})
}

// A reader of the keys of a batch must see none of it or all of it: with
// batches stamping generations on keys 0..15, a reader that sees generation g
// on one key sees at least g on every key it reads afterwards.
func TestUnique_InsertManyIsolation(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		checkBatchIsolation(t, tab.InsertMany, nil, func(k int) int {
			v, _ := tab.Lookup(k)
			return v
		})
	})
}

// checkBatchIsolation runs a writer that stores generation gen on keys
// 0..15 with one insertMany per generation (then calls after(gen), if not
// nil), and two readers that read the keys' generations one at a time, in
// opposite orders: a reader must never see a generation older than one it
// saw before.
func checkBatchIsolation(t *testing.T, insertMany func(...ets.Entry[int, int]) error, after func(gen int), generation func(k int) int) {
	const keys = 16
	stop := make(chan struct{})
	var writer, readers sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		batch := make([]ets.Entry[int, int], keys)
		for gen := 1; ; gen++ {
			select {
			case <-stop:
				return
			default:
			}
			for k := range batch {
				batch[k] = ets.Entry[int, int]{Key: k, Value: gen}
			}
			if gen%2 == 0 {
				slices.Reverse(batch)
			}
			assert.NoError(t, insertMany(batch...))
			if after != nil {
				after(gen)
			}
		}
	}()
	for r := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for range 3000 {
				seen := 0
				for i := range keys {
					k := i
					if r == 1 {
						k = keys - 1 - i
					}
					v := generation(k)
					if v < seen {
						assert.Failf(t, "torn batch", "key %d at generation %d after a key at %d", k, v, seen)
						return
					}
					seen = v
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	writer.Wait()
}

// While writers churn other keys and rewrite the stable ones, every
// traversal visits each stable key exactly once and no key twice.
func TestUnique_TraversalGuaranteeUnderChurn(t *testing.T) {
	forEachKind(t, func(t *testing.T, k uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		const stable = 2000
		for i := range stable {
			require.NoError(t, tab.Insert(i, 0))
		}
		stop := make(chan struct{})
		var writers sync.WaitGroup
		for g := range 2 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				r := rand.New(rand.NewPCG(uint64(g), 1))
				for {
					select {
					case <-stop:
						return
					default:
					}
					churn := stable + r.IntN(4*stable)
					switch r.IntN(4) {
					case 0:
						_ = tab.Insert(churn, 1)
					case 1:
						_ = tab.Delete(churn)
					case 2:
						_ = tab.InsertMany(entries(churn, 2, churn+1, 2, churn+2, 2)...)
					case 3:
						_ = tab.Insert(r.IntN(stable), r.Int()) // rewrite a stable key
					}
				}
			}()
		}
		check := func(what string, keys []int) {
			seen := make(map[int]int, len(keys))
			for _, key := range keys {
				seen[key]++
				require.Equal(t, 1, seen[key], "%s visited key %d twice", what, key)
			}
			for i := range stable {
				require.Equal(t, 1, seen[i], "%s missed stable key %d", what, i)
			}
			if k.ordered {
				require.True(t, slices.IsSorted(keys), "%s out of order", what)
			}
		}
		rounds := 8
		if *long {
			rounds = 100
		}
		for range rounds {
			check("All", slices.Collect(tab.Keys()))
			var sel []int
			for _, e := range tab.Select(nil) {
				sel = append(sel, e.Key)
			}
			check("Select", sel)
			var paged []int
			for _, p := range walk(t, tab, nil, 97) {
				for _, e := range p {
					paged = append(paged, e.Key)
				}
			}
			check("SelectLimit", paged)
			require.GreaterOrEqual(t, tab.SelectCount(nil), 0)
		}
		close(stop)
		writers.Wait()
	})
}

// The differential test: long random sequences of operations applied to the
// table and to a map, every result compared.
func TestUnique_DifferentialAgainstMap(t *testing.T) {
	forEachKind(t, func(t *testing.T, k uniqueKind, newTable func() uniqueTable[int, int]) {
		seed := testseed.Seed(t)
		r := rand.New(rand.NewPCG(seed, seed))
		tab := newTable()
		model := map[int]int{}
		const keySpace = 200
		key := func() int { return r.IntN(keySpace) }
		for step := range 20000 {
			msg := fmt.Sprintf("seed %d step %d", seed, step)
			switch op := r.IntN(16); op {
			case 0, 1:
				kk, v := key(), r.IntN(1000)
				require.NoError(t, tab.Insert(kk, v), msg)
				model[kk] = v
			case 2:
				kk, v := key(), r.IntN(1000)
				ok, err := tab.InsertNew(kk, v)
				require.NoError(t, err, msg)
				_, had := model[kk]
				require.Equal(t, !had, ok, msg)
				if !had {
					model[kk] = v
				}
			case 3:
				es := entries(key(), r.IntN(1000), key(), r.IntN(1000), key(), r.IntN(1000))[:r.IntN(4)]
				require.NoError(t, tab.InsertMany(es...), msg)
				for _, e := range es {
					model[e.Key] = e.Value
				}
			case 4:
				es := entries(key(), r.IntN(1000), key(), r.IntN(1000))[:r.IntN(3)]
				ok, err := tab.InsertNewMany(es...)
				require.NoError(t, err, msg)
				want := true
				for _, e := range es {
					if _, had := model[e.Key]; had {
						want = false
					}
				}
				require.Equal(t, want, ok, msg)
				if want {
					for _, e := range es {
						model[e.Key] = e.Value
					}
				}
			case 5, 6:
				kk := key()
				v, ok := tab.Lookup(kk)
				mv, mok := model[kk]
				require.Equal(t, mok, ok, msg)
				require.Equal(t, mv, v, msg)
				require.Equal(t, mok, tab.Member(kk), msg)
			case 7:
				kk := key()
				require.NoError(t, tab.Delete(kk), msg)
				delete(model, kk)
			case 8:
				kk := key()
				v, ok, err := tab.Take(kk)
				require.NoError(t, err, msg)
				mv, mok := model[kk]
				require.Equal(t, mok, ok, msg)
				require.Equal(t, mv, v, msg)
				delete(model, kk)
			case 9:
				kk, choice := key(), ets.Op(r.IntN(3))
				v, ok, err := tab.Update(kk, func(old int, ok bool) (int, ets.Op) {
					mv, mok := model[kk]
					require.Equal(t, mok, ok, msg)
					require.Equal(t, mv, old, msg)
					return old + 1, choice
				})
				require.NoError(t, err, msg)
				mv, mok := model[kk]
				switch choice {
				case ets.Store:
					mv, mok = mv+1, true
					model[kk] = mv
				case ets.Delete:
					mv, mok = 0, false
					delete(model, kk)
				}
				require.Equal(t, mok, ok, msg)
				require.Equal(t, mv, v, msg)
			case 10:
				kk, incr := key(), r.IntN(21)-10
				var opts []ets.CounterOption[int]
				if r.IntN(2) == 0 {
					opts = append(opts, ets.WithDefault(7))
				}
				if r.IntN(2) == 0 {
					opts = append(opts, ets.WithThreshold(500, -3))
				}
				v, err := ets.UpdateCounter(tab, kk, incr, opts...)
				mv, mok := model[kk]
				if !mok && len(opts) > 0 && opts[0] == ets.WithDefault(7) {
					mv, mok = 7, true
				}
				if !mok {
					require.ErrorIs(t, err, ets.ErrNotFound, msg)
					break
				}
				require.NoError(t, err, msg)
				mv += incr
				if len(opts) > 0 && opts[len(opts)-1] == ets.WithThreshold(500, -3) &&
					((incr >= 0 && mv > 500) || (incr < 0 && mv < 500)) {
					mv = -3
				}
				model[kk] = mv
				require.Equal(t, mv, v, msg)
			case 11:
				m := r.IntN(5) + 2
				n, err := tab.SelectDelete(func(k, v int) bool { return (k+v)%m == 0 })
				require.NoError(t, err, msg)
				want := 0
				for kk, v := range model {
					if (kk+v)%m == 0 {
						delete(model, kk)
						want++
					}
				}
				require.Equal(t, want, n, msg)
			case 12:
				m := r.IntN(5) + 2
				n, err := tab.SelectReplace(func(k, v int) (int, bool) { return v * 2 % 1000, k%m == 0 })
				require.NoError(t, err, msg)
				want := 0
				for kk, v := range model {
					if kk%m == 0 {
						model[kk] = v * 2 % 1000
						want++
					}
				}
				require.Equal(t, want, n, msg)
			case 13:
				m := r.IntN(4) + 1
				pred := func(k, v int) bool { return v%m == 0 }
				var want []ets.Entry[int, int]
				for kk, v := range model {
					if pred(kk, v) {
						want = append(want, ets.Entry[int, int]{Key: kk, Value: v})
					}
				}
				got := tab.Select(pred)
				if k.ordered {
					require.Equal(t, byKey(want), got, msg)
				} else {
					require.Equal(t, byKey(want), byKey(got), msg)
				}
				require.Equal(t, len(want), tab.SelectCount(pred), msg)
				var paged []ets.Entry[int, int]
				for _, p := range walk(t, tab, pred, r.IntN(20)+1) {
					paged = append(paged, p...)
				}
				require.Equal(t, byKey(want), byKey(paged), msg)
			case 14:
				require.Equal(t, len(model), tab.Size(), msg)
				if r.IntN(50) == 0 {
					require.Equal(t, model, contents(tab), msg)
				}
			case 15:
				if r.IntN(100) == 0 {
					require.NoError(t, tab.Clear(), msg)
					clear(model)
				}
			}
		}
		require.Equal(t, model, contents(tab))
	})
}

// The hot paths allocate nothing.
func TestUnique_ZeroAllocs(t *testing.T) {
	for _, k := range uniqueKinds {
		t.Run(k.name, func(t *testing.T) {
			tab := k.make(t)
			require.NoError(t, tab.Insert(1, 1))
			require.NoError(t, tab.Insert(2, 2))
			ops := map[string]func(){
				"Lookup":          func() { tab.Lookup(1) },
				"LookupMissing":   func() { tab.Lookup(99) },
				"Member":          func() { tab.Member(1) },
				"InsertExisting":  func() { _ = tab.Insert(1, 5) },
				"Update":          func() { _, _, _ = tab.Update(1, func(o int, _ bool) (int, ets.Op) { return o + 1, ets.Store }) },
				"UpdateCounter":   func() { _, _ = ets.UpdateCounter(tab, 1, 1) },
				"UpdateCounterWD": func() { _, _ = ets.UpdateCounter(tab, 1, 1, ets.WithDefault(0), ets.WithThreshold(1<<30, 0)) },
				"DeleteMissing":   func() { _ = tab.Delete(99) },
				"DeleteInsert":    func() { _ = tab.Delete(2); _ = tab.Insert(2, 2) },
				"Take":            func() { _, _, _ = tab.Take(2); _ = tab.Insert(2, 2) },
			}
			for name, op := range ops {
				require.Zero(t, testing.AllocsPerRun(200, op), name)
			}
		})
	}
}

// TestUpdateCounter_Rights checks UpdateCounter's own rights check, which
// the Set writes out in its counter path: a handle that may not write gets
// ErrAccess and leaves the counter as it was, and a dropped table
// ErrDeleted.
func TestUpdateCounter_Rights(t *testing.T) {
	owner, other := newOwner(t), newOwner(t)
	set, err := ets.NewSet[int, int](ets.WithOwner(owner))
	require.NoError(t, err)
	ord, err := ets.NewOrderedSet[int, int](ets.WithOwner(owner))
	require.NoError(t, err)
	for _, c := range []struct {
		name          string
		tab, as, none ets.Counters[int, int]
	}{
		{"Set", set, set.As(other), set.As(nil)},
		{"OrderedSet", ord, ord.As(other), ord.As(nil)},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := ets.UpdateCounter(c.tab, 1, 5, ets.WithDefault(0))
			require.NoError(t, err)
			require.Equal(t, 5, v)
			for _, h := range []ets.Counters[int, int]{c.as, c.none} {
				_, err = ets.UpdateCounter(h, 1, 1)
				require.ErrorIs(t, err, ets.ErrAccess, "a protected table: only its owner writes")
				_, err = ets.UpdateCounter(h, 2, 1, ets.WithDefault(0))
				require.ErrorIs(t, err, ets.ErrAccess)
			}
			v, err = ets.UpdateCounter(c.tab, 1, 0)
			require.NoError(t, err)
			require.Equal(t, 5, v, "refused increments change nothing")
			_, err = ets.UpdateCounter(c.tab, 2, 0)
			require.ErrorIs(t, err, ets.ErrNotFound, "nor create keys")
			require.NoError(t, c.tab.(ets.Table).Drop())
			_, err = ets.UpdateCounter(c.tab, 1, 1)
			require.ErrorIs(t, err, ets.ErrDeleted)
		})
	}
}

// No reader sees a table half cleared (ETS's delete_all_objects is atomic
// and isolated). Keys 0..63 (one per base node of an OrderedSet, spread
// over the shards of a hash table) are inserted and nobody writes them
// again; while Clear runs, a reader scans them: once it has seen one gone,
// every later read of the scan must find its key gone. A Clear that emptied
// the shards or base nodes one at a time before taking every lock passed
// every other test (found by mutation testing in a review of the suite).
func TestClearIsAtomicForReaders(t *testing.T) {
	forEachKind(t, func(t *testing.T, k uniqueKind, newTable func() uniqueTable[int, int]) {
		splits := make([]int, 64)
		for i := range splits {
			splits[i] = i
		}
		tab := newTable()
		for i := range 1000 {
			if os, ok := tab.(*ets.OrderedSet[int, int]); ok {
				ets.SplitOrderedSet(os, splits...) // Clear leaves one base node
			}
			es := make([]ets.Entry[int, int], 64)
			for j := range es {
				es[j] = ets.Entry[int, int]{Key: j, Value: j}
			}
			require.NoError(t, tab.InsertMany(es...))
			cleared := make(chan struct{})
			go func() { assert.NoError(t, tab.Clear()); close(cleared) }()
			for done := false; !done; {
				select {
				case <-cleared:
					done = true
				default:
				}
				gone := -1
				for j := range 64 {
					key := j
					if i%2 == 1 {
						key = 63 - j
					}
					present := tab.Member(key)
					if !present && gone < 0 {
						gone = key
					} else if present && gone >= 0 {
						require.Failf(t, "Clear seen half done", "round %d: key %d gone, then key %d still there, during one Clear", i, gone, key)
					}
				}
			}
		}
	})
}

// Objects are conserved under racing InsertNew and Take of one key: every
// successful Take takes one successful InsertNew's value, once. Two
// goroutines (as many as a small CI machine runs at once) each alternate
// InsertNew and Take on the same key. A Take that read and then deleted in
// two steps, or an InsertNew that checked and then put, slipped past the
// linearizability checks whenever the machine was loaded (found by mutation
// testing in a review of the suite); this catches both on two cores.
func TestTakeConservesObjects(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		const ops = 50_000
		var inserted, taken atomic.Int64
		var wg sync.WaitGroup
		var ready atomic.Int32
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Add(1)
				for ready.Load() < 2 {
					runtime.Gosched()
				}
				for i := range ops {
					if ok, _ := tab.InsertNew(0, i); ok {
						inserted.Add(1)
					}
					if _, ok, _ := tab.Take(0); ok {
						taken.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		left := int64(tab.Size())
		require.Equal(t, inserted.Load(), taken.Load()+left, "InsertNews that succeeded against Takes that succeeded plus keys left")
	})
}

// counterEdges runs UpdateCounter's edges from several goroutines at once on
// a table of small integers: increments that reach the type's top (every
// call past it is ErrOverflow, and the successes return each value once),
// decrements that reach its bottom, and increments that wrap at a
// threshold (each value comes back as often as a sequential run gives it).
// A counter that read and wrote in two steps would lose increments or give
// a value twice.
func counterEdges[T interface {
	ets.Counters[int, int8]
	Lookup(int) (int8, bool)
	Drop() error
}](t *testing.T, tab T) {
	const goroutines, calls = 4, 250 // 1000 calls per edge
	run := func(k int, incr int8, opts ...ets.CounterOption[int8]) (got map[int8]int, overflows int) {
		var mu sync.Mutex
		got = map[int8]int{}
		var wg sync.WaitGroup
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range calls {
					v, err := ets.UpdateCounter(tab, k, incr, opts...)
					mu.Lock()
					if err != nil {
						assert.ErrorIs(t, err, ets.ErrOverflow)
						overflows++
					} else {
						got[v]++
					}
					mu.Unlock()
					if i%16 == 0 {
						runtime.Gosched()
					}
				}
			}()
		}
		wg.Wait()
		return got, overflows
	}
	ones := func(from, to int) map[int8]int {
		m := map[int8]int{}
		for v := from; v <= to; v++ {
			m[int8(v)] = 1
		}
		return m
	}

	got, overflows := run(0, 1, ets.WithDefault[int8](0))
	require.Equal(t, ones(1, 127), got, "each value up to the top once")
	require.Equal(t, goroutines*calls-127, overflows)
	v, _ := tab.Lookup(0)
	require.Equal(t, int8(127), v)

	got, overflows = run(1, -1, ets.WithDefault[int8](0))
	require.Equal(t, ones(-128, -1), got, "each value down to the bottom once")
	require.Equal(t, goroutines*calls-128, overflows)

	got, overflows = run(2, 1, ets.WithDefault[int8](0), ets.WithThreshold[int8](99, 0))
	want := map[int8]int{}
	for i := 1; i <= goroutines*calls; i++ {
		want[int8(i%100)]++ // 1..99, then past 99 wraps to 0
	}
	require.Equal(t, want, got)
	require.Zero(t, overflows)
	v, _ = tab.Lookup(2)
	require.Equal(t, int8(0), v, "1000 increments wrapping at 99")
	require.NoError(t, tab.Drop())
}

func TestUpdateCounter_EdgesUnderConcurrency(t *testing.T) {
	for _, o := range engineOptions {
		t.Run("Set/"+o.name, func(t *testing.T) {
			s, err := ets.NewSet[int, int8](o.opts...)
			require.NoError(t, err)
			counterEdges(t, s)
		})
		t.Run("OrderedSet/"+o.name, func(t *testing.T) {
			s, err := ets.NewOrderedSet[int, int8](o.opts...)
			require.NoError(t, err)
			counterEdges(t, s)
		})
	}
}
