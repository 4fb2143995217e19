package shard

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/etsgo/ets/internal/gate"
	"github.com/stretchr/testify/require"
)

// wide is a value that a torn read would expose: its words are all equal,
// and it is wide enough that a copy racing a store is likely to mix two.
type wide [16]int64

func wideOf(n int64) wide {
	var w wide
	for i := range w {
		w[i] = n
	}
	return w
}

func (w wide) torn() bool {
	for _, x := range w {
		if x != w[0] {
			return true
		}
	}
	return false
}

// churn runs two writers and two readers at once. Writer w calls write(w,
// i) for i = 0, 1, ... until the writers have made writes calls between
// them; each reader calls read, then yields, until then, or until read
// reports a failure (false). write should yield now and then, so that they
// interleave at every GOMAXPROCS. Where readers take the lock (-race), a
// tenth of the writes: the lock-free paths these tests are for do not run
// there, and the detector makes each write many times slower.
func churn(t *testing.T, writes int64, write func(w, i int), read func() bool) {
	t.Helper()
	if !optimisticReads {
		writes /= 10
	}
	var written atomic.Int64
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; written.Add(1) < writes; i++ {
				write(w, i)
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for written.Load() < writes && read() {
				runtime.Gosched()
			}
		}()
	}
	waitOrFail(t, &wg, 60*time.Second)
}

// Lock-free readers racing writers that overwrite, delete, reinsert and
// grow the table never see a torn value or a wrong key, and always finish.
// The test means most without -race (with -race, readers take the lock).
func TestOptimisticReadsUnderChurn(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("procs=", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			m := New[string, wide](Config{Shards: 2})
			const keys = 4096
			names := make([]string, keys)
			for i := range names {
				names[i] = fmt.Sprintf("key-%d-%s", i, string(make([]byte, i%40)))
			}
			var reads, hits atomic.Int64
			churn(t, 100_000, func(w, i int) {
				if i%8 == 0 {
					runtime.Gosched() // leave the shards unlocked for a while
				}
				k := names[(i*7+w)%keys]
				if i%2 == 0 {
					k = names[(i/2*7+w)%64] // the hot keys the readers read
				}
				if i%1000 == 4 {
					m.Purge() // shrinks, so the next inserts grow again
				} else {
					churnKey(m, k, i)
				}
			}, func() bool {
				for i := range 64 {
					k := names[(int(reads.Add(1))*7+i)%64]
					v, ok := m.Get(k, nil)
					if ok {
						hits.Add(1)
						if v.torn() {
							t.Errorf("torn value %v for %q", v, k)
							return false
						}
					}
				}
				return true
			})
			require.Positive(t, hits.Load())
			t.Logf("%d reads, %d hits", reads.Load(), hits.Load())
		})
	}
}

// A reader never reports a key that was never inserted, nor misses a key
// that no writer touches, whatever the writers do to other keys.
func TestOptimisticReadsStableKeys(t *testing.T) {
	m := New[any, int](Config{Shards: 1})
	for i := range 1000 {
		m.Put(any(i), i, nil)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := any(fmt.Sprint("churn", i%5000)) // interface keys of another type
			if i%2 == 0 {
				m.Put(k, -1, nil)
			} else {
				m.Take(k, nil)
			}
		}
	}()
	for round := range 200 {
		for i := range 1000 {
			v, ok := m.Get(any(i), nil)
			require.True(t, ok, "round %d: stable key %d missed", round, i)
			require.Equal(t, i, v)
		}
		_, ok := m.Get(any("never"), nil)
		require.False(t, ok)
	}
	close(stop)
	wg.Wait()
}

// TestShardLayout keeps a shard on exactly four cache lines, with the lock
// word and the first slots of an inline int64 group on the first: see the
// shard type's comment.
func TestShardLayout(t *testing.T) {
	// On 32-bit platforms the lines are not laid out so; indexing follows
	// the shard's size there too.
	if unsafe.Sizeof(uintptr(0)) == 8 {
		require.Equal(t, uintptr(4*cacheLine), unsafe.Sizeof(shard[int64, int64]{}))
		require.Equal(t, uintptr(4*cacheLine), unsafe.Sizeof(shard[string, []byte]{}))
		var s shard[int64, int64]
		require.Zero(t, unsafe.Offsetof(s.l))
		g := s.inlineGroup()
		require.LessOrEqual(t, uintptr(unsafe.Pointer(&g.slots[1].val))-uintptr(unsafe.Pointer(&s))+8, uintptr(cacheLine),
			"the lock word, the control word and slots 0 and 1 share the first line")
		require.Equal(t, uintptr(3*cacheLine), unsafe.Offsetof(s.grp), "what readers read, on a line writers of a key seldom write")
		require.Equal(t, uintptr(cacheLine), unsafe.Offsetof(Map[int64, int64]{}.growth), "what Get and Ref read of the Map, on one line")
	}

	// Which Maps keep their first group in line: those whose keys and
	// values hold no pointers, if a group fits.
	require.True(t, inlineFits[int64, int64]())
	require.True(t, inlineFits[int32, int64]())
	require.True(t, inlineFits[uint64, struct{ a, b int32 }]())
	require.True(t, inlineFits[int64, struct{}]())
	require.False(t, inlineFits[string, int64]())
	require.False(t, inlineFits[int64, *int]())
	require.False(t, inlineFits[int64, []byte]())
	require.False(t, inlineFits[int64, struct {
		n int
		s string
	}]())
	require.False(t, inlineFits[[2]int64, int64]()) // a group of 24-byte slots does not fit
	require.False(t, inlineFits[any, int64]())
	// The Map and the Bag, read by every operation, fill whole lines, so
	// that no object the program writes shares them (see ets's
	// TestHandlesFillLines).
	require.Zero(t, unsafe.Sizeof(Map[int64, int64]{})%cacheLine)
	require.Zero(t, unsafe.Sizeof(Map[string, []byte]{})%cacheLine)
	require.Zero(t, unsafe.Sizeof(Bag[int64, int64]{})%cacheLine)
}

// TestPlainLoads checks that shard.groups, the unsafe casts through which
// lock-free readers load a shard's grp and mask (see shard.grp; not on
// arm64), reads the fields' values: that sync/atomic's Pointer and Uint64
// keep their value at offset zero, for a Map's groups and a Bag's. (Get
// and Bag.Append spell the same casts out.)
func TestPlainLoads(t *testing.T) {
	// The value is their only field with a size, so it is at offset zero.
	require.Equal(t, unsafe.Sizeof(uint64(0)), unsafe.Sizeof(atomic.Uint64{}))
	require.Equal(t, unsafe.Sizeof(uintptr(0)), unsafe.Sizeof(atomic.Pointer[group[int64, int64]]{}))
	m := New[int64, int64](Config{Shards: 1})
	for i := range int64(100) {
		m.Put(i, i, nil)
	}
	s := m.dir().shard(0)
	require.NotNil(t, s.grp.Load())
	require.NotZero(t, s.mask.Load())
	mask, p := s.groups()
	require.Equal(t, s.mask.Load(), mask)
	require.Equal(t, s.grp.Load(), p)

	b := NewBag[string, int](Config{Shards: 1}, false)
	for i := range 100 {
		k := fmt.Sprint(i)
		b.Insert(b.m.Hash(k), k, i, nil)
	}
	bs := b.m.dir().shard(0)
	require.NotNil(t, bs.grp.Load())
	require.NotZero(t, bs.mask.Load())
	mask, bp := bs.groups()
	require.Equal(t, bs.mask.Load(), mask)
	require.Equal(t, bs.grp.Load(), bp)
}

// TestReaders checks the read gate: Get and Has answer the readers
// SetReaders admits and no one else.
func TestReaders(t *testing.T) {
	m := New[int, int](Config{Shards: 4})
	m.Put(1, 10, nil)
	a, b := new(gate.Token), new(gate.Token)
	for _, who := range []*gate.Token{nil, a, b} {
		v, ok := m.Get(1, who)
		require.True(t, ok, "a new Map answers everyone")
		require.Equal(t, 10, v)
	}
	m.SetReaders(a)
	require.True(t, m.Has(1, a))
	require.False(t, m.Has(1, b))
	v, ok := m.Get(1, nil)
	require.False(t, ok)
	require.Zero(t, v)
	m.SetReaders(gate.Nobody)
	for _, who := range []*gate.Token{nil, a, b, gate.Everyone} {
		require.False(t, m.Has(1, who), "Nobody admits no one")
	}
	m.SetReaders(gate.Everyone)
	require.True(t, m.Has(1, b))
	require.Equal(t, 1, m.Len(), "the gate hides keys, it does not remove them")
}

// TestBagReaders checks a Bag's read gate: Get, Append, Count and Has
// answer the readers SetReaders admits, and for anyone else answer as if the
// key were absent (Append returns dst itself).
func TestBagReaders(t *testing.T) {
	b := NewBag[int, int](Config{Shards: 4}, true)
	b.Insert(b.Hash(1), 1, 10, nil)
	b.Insert(b.Hash(1), 1, 11, nil)
	a, c := new(gate.Token), new(gate.Token)
	seen := func(who *gate.Token) bool {
		vs, n, has := b.Get(1, who), b.Count(b.Hash(1), 1, who), b.Has(1, who)
		buf := []int{7}
		out := b.Append(buf, 1, who)
		if vs == nil {
			require.Zero(t, n)
			require.False(t, has)
			require.Equal(t, []int{7}, out)
			require.Same(t, &buf[0], &out[0], "Append refused: dst itself")
			return false
		}
		require.Equal(t, []int{10, 11}, vs)
		require.Equal(t, 2, n)
		require.True(t, has)
		require.Equal(t, []int{7, 10, 11}, out)
		return true
	}
	for _, who := range []*gate.Token{nil, a, c} {
		require.True(t, seen(who), "a new Bag answers everyone")
	}
	b.SetReaders(a)
	require.True(t, seen(a))
	require.False(t, seen(c))
	require.False(t, seen(nil))
	b.SetReaders(gate.Nobody)
	for _, who := range []*gate.Token{nil, a, c} {
		require.False(t, seen(who), "Nobody admits no one")
	}
	b.SetReaders(gate.Everyone)
	require.True(t, seen(c))
	require.Equal(t, 2, b.Len(), "the gate hides objects, it does not remove them")
}

// TestWriters checks the write gate: every write of a Map and of a Bag
// changes nothing and says so (admitted false) when the gate does not admit
// its caller, and works as before for the callers it admits; Purge ignores
// the gate. The ets package relies on it to refuse a write that reaches its
// lock after the table changed hands.
func TestWriters(t *testing.T) {
	a, b := new(gate.Token), new(gate.Token)
	keep := func(k, v int) (int, Op) { return v + 1, Store }
	t.Run("Map", func(t *testing.T) {
		m := New[int, int](Config{Shards: 4})
		m.Put(1, 10, nil)
		m.SetWriters(a)
		for _, who := range []*gate.Token{nil, b, gate.Everyone, gate.Nobody} {
			added, admitted := m.Put(1, -1, who)
			require.False(t, added || admitted)
			require.False(t, m.WriteGate().Admits(who), "what Ref's callers ask")
			stored, admitted := m.PutNew(2, 20, who)
			require.False(t, stored || admitted)
			_, ok, admitted := m.Take(1, who)
			require.False(t, ok || admitted)
			_, ok, admitted = m.Update(1, func(old int, _ bool) (int, Op) { panic("called") }, who)
			require.False(t, ok || admitted)
			stored, admitted = m.PutBatch([]uint64{m.Hash(3)}, func(int) (int, int) { return 3, 30 }, false, who)
			require.False(t, stored || admitted)
			for _, pos := range []uint64{0, 1 << 62, 1 << 63} {
				st, del, next, more := m.Sweep(pos, keep, who)
				require.Equal(t, []any{0, 0, pos, true}, []any{st, del, next, more})
			}
			require.False(t, m.Clear(who))
			v, ok := m.Get(1, nil)
			require.True(t, ok)
			require.Equal(t, 10, v, "a refused write changes nothing")
			require.Equal(t, 1, m.Len())
		}
		require.True(t, m.WriteGate().Admits(a))
		l, p := m.Ref(1)
		*p = 11
		l.Unlock()
		stored, admitted := m.PutNew(2, 20, a)
		require.True(t, stored && admitted)
		v, ok, admitted := m.Update(2, func(old int, _ bool) (int, Op) { return old + 1, Store }, a)
		require.True(t, ok && admitted)
		require.Equal(t, 21, v)
		stored, admitted = m.PutBatch([]uint64{m.Hash(3)}, func(int) (int, int) { return 3, 30 }, false, a)
		require.True(t, stored && admitted)
		n := 0
		for pos, more := uint64(0), true; more; {
			var st int
			st, _, pos, more = m.Sweep(pos, keep, a)
			n += st
		}
		require.Equal(t, 3, n)
		v, ok, admitted = m.Take(1, a)
		require.True(t, ok && admitted)
		require.Equal(t, 12, v)
		m.SetWriters(gate.Nobody)
		require.False(t, m.Clear(a), "Nobody admits no one")
		m.Purge()
		require.Zero(t, m.Len())
		m.SetWriters(gate.Everyone)
		added, admitted := m.Put(1, 1, nil)
		require.True(t, added && admitted, "Everyone admits every caller, nil included")
		require.True(t, m.Clear(b))
		require.Zero(t, m.Len())
	})
	t.Run("Bag", func(t *testing.T) {
		bg := NewBag[int, int](Config{Shards: 4}, false)
		h := bg.Hash(1)
		_, admitted := bg.Insert(h, 1, 10, nil)
		require.True(t, admitted)
		bg.SetWriters(a)
		for _, who := range []*gate.Token{nil, b, gate.Everyone, gate.Nobody} {
			added, admitted := bg.Insert(h, 1, 11, who)
			require.False(t, added || admitted)
			added, admitted = bg.InsertNew(bg.Hash(2), 2, 20, who)
			require.False(t, added || admitted)
			added, admitted = bg.InsertBatch([]uint64{bg.Hash(3)}, func(int) (int, int) { return 3, 30 }, false, who)
			require.False(t, added || admitted)
			objs, admitted := bg.Take(h, 1, who)
			require.False(t, objs != nil || admitted)
			require.False(t, bg.Delete(h, 1, who))
			n, admitted := bg.DeleteObject(h, 1, 10, who)
			require.False(t, n != 0 || admitted)
			st, del, next, more := bg.Sweep(0, keep, who)
			require.Equal(t, []any{0, 0, uint64(0), true}, []any{st, del, next, more})
			require.False(t, bg.Clear(who))
			require.Equal(t, []int{10}, bg.Get(1, nil), "a refused write changes nothing")
			require.Equal(t, 1, bg.Len())
		}
		added, admitted := bg.Insert(h, 1, 11, a)
		require.True(t, added && admitted)
		n, admitted := bg.DeleteObject(h, 1, 10, a)
		require.True(t, admitted)
		require.Equal(t, 1, n)
		objs, admitted := bg.Take(h, 1, a)
		require.True(t, admitted)
		require.Equal(t, []int{11}, objs)
		bg.SetWriters(gate.Nobody)
		bg.Purge()
		bg.SetWriters(gate.Everyone)
		added, admitted = bg.Insert(h, 1, 1, b)
		require.True(t, added && admitted)
		require.True(t, bg.Clear(nil))
		require.Zero(t, bg.Len())
	})
}

// A shard keeps a table of one group in line when its keys and values hold
// no pointers (see shard.inl), and moves it out when it grows; a clear
// brings it back. Lock-free readers racing those moves only ever see a key's
// own values.
func TestInlineGroupUnderChurn(t *testing.T) {
	m := New[int64, int64](Config{Shards: 1})
	require.True(t, m.inline)
	s := m.dir().shard(0)
	inline := func() bool { return s.grp.Load() == s.inlineGroup() }
	for k := range int64(7) { // a group holds seven keys before it grows
		m.Put(k, k*1000, nil)
		require.True(t, inline(), "after %d keys", k+1)
	}
	m.Put(7, 7000, nil)
	require.False(t, inline(), "eight keys do not fit one group")
	for k := range int64(8) {
		v, ok := m.Get(k, gate.Everyone)
		require.True(t, ok)
		require.Equal(t, k*1000, v)
	}
	m.Purge()
	_, ok := m.Get(3, gate.Everyone)
	require.False(t, ok)
	m.Put(3, 3001, nil)
	require.True(t, inline(), "the first insert after a clear")
	v, ok := m.Get(3, gate.Everyone)
	require.True(t, ok)
	require.Equal(t, int64(3001), v)
	_, ok = m.Get(4, gate.Everyone) // still in the inline group from before the clear
	require.False(t, ok)
	require.Equal(t, 1, m.Len())
	require.False(t, New[string, int64](Config{Shards: 1}).inline)

	// The shards a grow makes keep their tables in line when one group
	// holds them.
	m = New[int64, int64](Config{Shards: 1, MaxShards: 4})
	for k := range int64(5) {
		m.Put(k, k*1000, nil)
	}
	require.True(t, m.Grow())
	require.Equal(t, 4, m.Shards())
	for i := range m.Shards() {
		if s := m.dir().shard(i); s.tab.live > 0 {
			require.True(t, s.grp.Load() == s.inlineGroup(), "shard %d", i)
		}
	}
	for k := range int64(5) {
		v, ok := m.Get(k, gate.Everyone)
		require.True(t, ok)
		require.Equal(t, k*1000, v)
	}

	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("procs=", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			m := New[int64, int64](Config{Shards: 1})
			const keys, rounds = 12, 100_000
			var done atomic.Bool
			var inlineSeen, reads atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the writer: fills the table past one group, empties it, clears it
				defer wg.Done()
				defer done.Store(true)
				s := m.dir().shard(0)
				for r := int64(0); r < rounds || reads.Load() < rounds; r++ {
					n := 1 + r%keys
					for k := range n {
						if r%3 == 0 {
							m.Put(k, k*1000+r%1000, nil)
						} else {
							l, p := m.Ref(k)
							if p != nil {
								*p = k*1000 + r%1000
							} else {
								l.Insert(k, k*1000+r%1000)
							}
							l.Unlock()
						}
					}
					if s.grp.Load() == s.inlineGroup() {
						inlineSeen.Add(1)
					}
					switch r % 4 {
					case 0:
						m.Purge()
					case 1:
						for k := range n {
							m.Take(k, nil)
						}
					}
					if r%64 == 2 { // a round that leaves its keys in
						runtime.Gosched()
					}
				}
			}()
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := int64(0); !done.Load(); i++ {
						k := i % keys
						if v, ok := m.Get(k, gate.Everyone); ok {
							reads.Add(1)
							if v/1000 != k {
								t.Errorf("key %d read value %d", k, v)
								return
							}
						}
						if i%256 == 0 {
							runtime.Gosched()
						}
					}
				}()
			}
			wg.Wait()
			require.Positive(t, inlineSeen.Load(), "the table was never in line")
			require.Positive(t, reads.Load())
		})
	}
}

// Clear is atomic (ETS delete_all_objects): a key x written after Clear
// began, and read back before a key y that Clear removes was seen gone, must
// not survive it. With x in the first shard and y in the last, a Clear that
// emptied one shard at a time let x land in the emptied first shard while y
// was still present, and x then outlived a Clear that had to come after it.
func TestClearIsAtomic(t *testing.T) {
	for _, bag := range []bool{false, true} {
		t.Run(fmt.Sprintf("bag=%v", bag), func(t *testing.T) {
			const shards = 64
			var put func(k int)
			var has func(k int) bool
			var clearAll func()
			var hash func(k int) uint64
			if bag {
				b := NewBag[int, int](Config{Shards: shards}, false)
				put = func(k int) { b.Insert(b.Hash(k), k, 1, nil) }
				has = func(k int) bool { return b.Has(k, nil) }
				clearAll, hash = func() { b.Clear(nil) }, b.Hash
			} else {
				m := New[int, int](Config{Shards: shards})
				put = func(k int) { m.Put(k, 1, nil) }
				has = func(k int) bool { return m.Has(k, gate.Everyone) }
				clearAll, hash = func() { m.Clear(nil) }, m.Hash
			}
			x, y := -1, -1
			for k := 0; x < 0 || y < 0; k++ {
				switch hash(k) >> (64 - 6) { // the shard of k among 64
				case 0:
					x = k
				case shards - 1:
					y = k
				}
			}
			for i := range 3000 {
				put(y)
				var started atomic.Bool
				cleared := make(chan struct{})
				go func() { started.Store(true); clearAll(); close(cleared) }()
				for !started.Load() { // put x as the Clear starts
					runtime.Gosched()
				}
				put(x)
				sawY := has(y)
				<-cleared
				require.False(t, sawY && has(x), "round %d: x, written before y was seen, survived the Clear that removed y", i)
				clearAll()
			}
		})
	}
}

// A table that held many keys gives its arrays back as deletes empty it,
// through every path that deletes (a Map's Take, Update's Delete and
// Sweep; a Bag's Take, Delete, DeleteObject and Sweep): the keys left are
// all there, with their values, and the table grows again. Before, a shard
// kept the arrays of the most keys it ever held (2.2 MB for 10 keys here).
func TestShrinkGivesBackMemory(t *testing.T) {
	const n, kept = 100_000, 10
	check := func(t *testing.T, memory func() int, big int, get func(k int64) (int64, bool)) {
		t.Helper()
		require.Less(t, memory(), big/100, "arrays given back")
		for k := range int64(kept) {
			v, ok := get(k)
			require.True(t, ok, "key %d", k)
			require.Equal(t, k, v)
		}
	}
	mapPaths := map[string]func(m *Map[int64, int64]){
		"Take": func(m *Map[int64, int64]) {
			for k := int64(kept); k < n; k++ {
				m.Take(k, nil)
			}
		},
		"Update": func(m *Map[int64, int64]) {
			for k := int64(kept); k < n; k++ {
				m.Update(k, func(int64, bool) (int64, Op) { return 0, Delete }, nil)
			}
		},
		"Sweep": func(m *Map[int64, int64]) { sweepFrom(kept, m.Sweep) },
		"Sweep that panics": func(m *Map[int64, int64]) { // after deleting all but 100 of the others: it shrinks as it unwinds
			deleted := 0
			func() {
				defer func() { _ = recover() }()
				m.Sweep(0, func(k, v int64) (int64, Op) {
					if deleted == n-kept-100 {
						panic("stop")
					}
					if k >= kept {
						deleted++
						return v, Delete
					}
					return v, Keep
				}, nil)
			}()
		},
	}
	for name, del := range mapPaths {
		t.Run("Map/"+name, func(t *testing.T) {
			m := New[int64, int64](Config{Shards: 1})
			for k := range int64(n) {
				m.Put(k, k, nil)
			}
			big := m.Memory()
			del(m)
			check(t, m.Memory, big, func(k int64) (int64, bool) { return m.Get(k, nil) })
			for k := range int64(n) {
				m.Put(k, k, nil)
			}
			check(t, func() int { return 0 }, 100, func(k int64) (int64, bool) { return m.Get(k, nil) })
			require.Equal(t, n, m.Len())
		})
	}
	bagPaths := map[string]func(b *Bag[int64, int64]){
		"Take":   func(b *Bag[int64, int64]) { eachKey(b, func(h uint64, k int64) { b.Take(h, k, nil) }) },
		"Delete": func(b *Bag[int64, int64]) { eachKey(b, func(h uint64, k int64) { b.Delete(h, k, nil) }) },
		"DeleteObject": func(b *Bag[int64, int64]) {
			eachKey(b, func(h uint64, k int64) { b.DeleteObject(h, k, k, nil); b.DeleteObject(h, k, k+n, nil) })
		},
		"Sweep": func(b *Bag[int64, int64]) { sweepFrom(kept, b.Sweep) },
	}
	for name, del := range bagPaths {
		t.Run("Bag/"+name, func(t *testing.T) {
			b := NewBag[int64, int64](Config{Shards: 1}, false)
			for k := range int64(n) {
				b.Insert(b.Hash(k), k, k, nil)
				b.Insert(b.Hash(k), k, k+n, nil)
			}
			big := b.Memory()
			del(b)
			get := func(k int64) (int64, bool) {
				vs := b.Get(k, nil)
				if len(vs) != 2 || vs[1] != k+n {
					return 0, false
				}
				return vs[0], true
			}
			check(t, b.Memory, big, get)
			require.Equal(t, 2*kept, b.Len())
		})
	}
}

// sweepFrom deletes every key from kept on with sweep, a Map's or a Bag's.
func sweepFrom(kept int64, sweep func(uint64, func(k, v int64) (int64, Op), *gate.Token) (int, int, uint64, bool)) {
	for pos, more := uint64(0), true; more; {
		_, _, pos, more = sweep(pos, func(k, v int64) (int64, Op) {
			if k >= kept {
				return v, Delete
			}
			return v, Keep
		}, nil)
	}
}

// eachKey calls del for each key of TestShrinkGivesBackMemory's Bag past
// the kept ones.
func eachKey(b *Bag[int64, int64], del func(h uint64, k int64)) {
	for k := int64(10); k < 100_000; k++ {
		del(b.Hash(k), k)
	}
}

// A table of at most shrinkFloor groups is never shrunk: a shard whose few
// keys come and go keeps its arrays, where with a floor of one group it
// reallocated them at every turn.
func TestShrinkFloor(t *testing.T) {
	for _, keys := range []int{8, 56} {
		m := New[int64, int64](Config{Shards: 1})
		for k := range int64(keys) {
			m.Put(k, k, nil)
		}
		s := m.dir().shard(0)
		groups := len(s.tab.groups)
		require.LessOrEqual(t, groups, shrinkFloor)
		for k := range int64(keys) {
			m.Take(k, nil)
		}
		require.Equal(t, groups, len(s.tab.groups), "%d keys", keys)
	}
}

// Get answers an absent key with the zero value, even after an attempt
// that copied the key's value and then failed its check: a writer puts and
// takes the key, pausing between, and the values are wide, so that a copy
// often straddles a write. (From a review: a version that kept the failed
// copy returned it, torn, with ok false, in 2 runs of 3.)
func TestGetAbsentIsZero(t *testing.T) {
	if !optimisticReads {
		t.Skip("readers lock")
	}
	type huge [4096]int64
	m := New[int, huge](Config{Shards: 1})
	var v huge
	i := int64(0)
	whileWriting(t, func() {
		i++
		for j := range v {
			v[j] = i
		}
		m.Put(0, v, nil)
		spin(int(i % 64))
		m.Take(0, nil)
		spin(int(i % 64))
	})
	reads, absent := 0, 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		for range 1000 {
			reads++
			if v, ok := m.Get(0, nil); !ok {
				absent++
				if v != (huge{}) {
					t.Fatalf("read %d: an absent key's value is not zero: %d, ..., %d", reads, v[0], v[len(v)-1])
				}
			}
		}
	}
	t.Logf("%d reads, %d absent", reads, absent)
}

// whileWriting calls write over and over on another goroutine, with
// GOMAXPROCS at least 2, until the test ends.
func whileWriting(t *testing.T, write func()) {
	t.Helper()
	prev := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			write()
		}
	}()
	t.Cleanup(func() {
		done.Store(true)
		wg.Wait()
		runtime.GOMAXPROCS(prev)
	})
}

// waitOrFail waits for wg, and fails the test if that takes longer than d.
func waitOrFail(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal("no progress")
	}
}

var spinSink atomic.Int64

// spin burns about n*10 additions.
func spin(n int) {
	x := int64(0)
	for i := range n * 10 {
		x += int64(i)
	}
	spinSink.Add(x)
}

// collectEntries walks a Map or a Bag with its CollectInto, as the ets
// package's walks do, and returns every entry (object) it appended, each
// shard's once CollectInto returned.
func collectEntries[K, V any](collect func(pos uint64, buf []Entry[K, V]) ([]Entry[K, V], uint64, bool)) (keys []K, vals []V) {
	var buf []Entry[K, V]
	for pos, more := uint64(0), true; more; {
		buf, pos, more = collect(pos, buf[:0])
		for _, e := range buf {
			keys = append(keys, e.Key)
			vals = append(vals, e.Value)
		}
	}
	return keys, vals
}

// collectCalls walks a Map with Collect, which hands each key to a
// function (the Bag's walks and the Map's pages use it), and returns what
// it was given, each shard's once Collect returned.
func collectCalls[K comparable, V any](m *Map[K, V]) (keys []K, vals []V) {
	var ks []K
	var vs []V
	for pos, more := uint64(0), true; more; {
		ks, vs = ks[:0], vs[:0]
		pos, more = m.Collect(pos, func(k K, v V) {
			ks = append(ks, k)
			vs = append(vs, v)
		}, func() { ks, vs = ks[:0], vs[:0] })
		keys = append(keys, ks...)
		vals = append(vals, vs...)
	}
	return keys, vals
}

// churnKey is a churn's write of key k: an overwrite, a delete or an
// update, by i.
func churnKey(m *Map[string, wide], k string, i int) {
	switch i % 4 {
	case 0, 1:
		m.Put(k, wideOf(int64(i)), nil)
	case 2:
		m.Take(k, nil)
	case 3:
		m.Update(k, func(old wide, ok bool) (wide, Op) { return wideOf(old[0] + 1), Store }, nil)
	}
}

// Walks racing writers that overwrite, delete, reinsert and grow never
// hand on a torn value or a key that was never inserted, see every key
// that no writer touches exactly once, and see no key twice, whether they
// append (CollectInto) or are called (Collect). Without -race they read the
// shards without their locks.
func TestCollectUnderChurn(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("procs=", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			m := New[string, wide](Config{Shards: 2, MaxShards: 512})
			const keys, stable = 4096, 256
			names := make([]string, keys)
			known := map[string]bool{}
			for i := range names {
				names[i] = fmt.Sprintf("key-%d-%s", i, string(make([]byte, i%40)))
				known[names[i]] = true
			}
			for _, k := range names[keys-stable:] {
				m.Put(k, wideOf(7), nil)
			}
			var walks atomic.Int64
			churn(t, 100_000, func(w, i int) {
				if i%64 == 0 {
					runtime.Gosched() // let the walkers run at GOMAXPROCS 1
				}
				k := names[(i*7+w)%(keys-stable)]
				if i%20_000 == 9 {
					m.Grow()
				} else {
					churnKey(m, k, i)
				}
			}, func() bool {
				var ks []string
				var vs []wide
				if walks.Add(1)%2 == 0 { // both of collect's ways
					ks, vs = collectCalls(m)
				} else {
					ks, vs = collectEntries(m.CollectInto)
				}
				seen := make(map[string]int, len(ks))
				for i, k := range ks {
					if !known[k] || vs[i].torn() || seen[k] > 0 {
						t.Errorf("walk handed on %q (known %v, seen %d times before) with %v", k, known[k], seen[k], vs[i])
						return false
					}
					seen[k]++
				}
				for _, k := range names[keys-stable:] {
					if seen[k] != 1 {
						t.Errorf("stable key %q seen %d times", k, seen[k])
						return false
					}
				}
				return true
			})
			require.Positive(t, walks.Load())
			t.Logf("%d walks, %d shards", walks.Load(), m.Shards())
		})
	}
}

// A walk reads a shard without its lock: while it is inside a shard (its
// fn waits), a reader and a writer of that shard go on at once, and the
// walk then reads the shard again and hands on the write. Under -race walks
// take the lock, and the reader would wait: the test is for builds
// without it.
func TestCollectBlocksNobody(t *testing.T) {
	if !optimisticReads {
		t.Skip("walks take the shard's lock in this build")
	}
	m := New[int64, int64](Config{Shards: 1})
	for i := range int64(100) {
		m.Put(i, i, nil)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int64
	done := make(chan map[int64]int64)
	go func() {
		got := map[int64]int64{}
		m.Collect(0, func(k, v int64) {
			if calls.Add(1) == 1 {
				close(inside)
				<-release
			}
			got[k] = v
		}, func() { clear(got) })
		done <- got
	}()
	<-inside
	within := func(what string, f func()) {
		t.Helper()
		ok := make(chan struct{})
		go func() { f(); close(ok) }()
		select {
		case <-ok:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s waited for the walk", what)
		}
	}
	within("Get", func() {
		v, ok := m.Get(5, nil)
		require.Equal(t, []any{int64(5), true}, []any{v, ok})
	})
	within("Put", func() { m.Put(5, 500, nil) })
	close(release)
	got := <-done
	require.Len(t, got, 100)
	require.Equal(t, int64(500), got[5], "the walk read the shard again after the write")
	require.Greater(t, calls.Load(), int64(100), "the first read was given up")
}
