package shard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets/internal/testseed"
)

// collectAll walks the Map by position, as the ets package's traversals do,
// and returns how many times it met each key.
func collectAll[K comparable, V any](m *Map[K, V]) map[K]int {
	seen := map[K]int{}
	keys, _ := collectEntries(m.CollectInto)
	for _, k := range keys {
		seen[k]++
	}
	return seen
}

// pageAll walks the Map with Page, three keys a page.
func pageAll[K comparable, V any](m *Map[K, V]) map[K]int {
	seen := map[K]int{}
	var pos Pos[K, V]
	for more := true; more; {
		pos, more = m.Page(pos, 3, func(K, V) bool { return true }, func(k K, _ V) { seen[k]++ })
	}
	return seen
}

// Every grow keeps every key, its value and the counts, and a Map grows
// fourfold each time until its MaxShards.
func TestGrowKeepsKeys(t *testing.T) {
	for _, central := range []bool{false, true} {
		t.Run(fmt.Sprint("central=", central), func(t *testing.T) {
			m := New[int, int](Config{Shards: 1, MaxShards: 1 << 10, Central: central})
			const n = 10_000
			for k := range n {
				m.Put(k, -k, nil)
			}
			shards := []int{m.Shards()}
			for m.Grow() {
				shards = append(shards, m.Shards())
				require.Equal(t, n, m.Len())
				for k := range n {
					v, ok := m.Get(k, nil)
					require.True(t, ok, "key %d after growing to %d shards", k, m.Shards())
					require.Equal(t, -k, v)
				}
				for _, seen := range []map[int]int{collectAll(m), pageAll(m)} {
					require.Len(t, seen, n)
					for k, c := range seen {
						require.Equal(t, 1, c, "key %d", k)
					}
				}
			}
			require.Equal(t, []int{1, 4, 16, 64, 256, 1024}, shards)
			require.False(t, m.Grow(), "a Map at its MaxShards does not grow")
			require.Greater(t, m.Memory(), 1024*cacheLine)
			m.Purge()
			require.Zero(t, m.Len())
			require.Empty(t, collectAll(m))
		})
	}
	fixed := New[int, int](Config{Shards: 4})
	require.False(t, fixed.Grow(), "a fixed Map does not grow")
	require.Equal(t, 4, fixed.Shards())
}

// A grow lets the old shards' groups go: a paged walk's position, which a
// user may keep as long as they like (an ets Cursor), points at the shard
// it stopped in, and through it kept the whole pre-grow table alive (30 MB
// of heap where 10 MB were live, with 200,000 keys). Found by a review.
func TestGrowDropsTheOldGroups(t *testing.T) {
	m := New[int, int](Config{Shards: 4, MaxShards: 64})
	const n = 10_000
	for k := range n {
		m.Put(k, k, nil)
	}
	pos, more := m.Page(Pos[int, int]{}, 1, func(int, int) bool { return true }, func(int, int) {})
	require.True(t, more)
	require.NotNil(t, pos.sorted, "the position keeps its shard's copy")
	old := m.dir()
	require.True(t, m.Grow())
	for i := range old.len() {
		s := old.shard(i)
		require.Nil(t, s.grp.Load(), "old shard %d", i)
		require.Nil(t, s.tab.arrays, "old shard %d", i)
		require.Zero(t, s.tab.live, "old shard %d", i)
	}
	seen := map[int]int{}
	for more {
		pos, more = m.Page(pos, 7, func(int, int) bool { return true }, func(k, _ int) { seen[k]++ })
	}
	require.Len(t, seen, n-1, "the walk goes on from where it stopped")
	for k := range n {
		v, ok := m.Get(k, nil)
		require.Equal(t, []any{k, true}, []any{v, ok})
	}
}

// A Map grows by itself when its writers wait for locks, often enough: with
// a window of 0 no waits are close enough together, and it never grows.
func TestGrowsWhenWritersWait(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0))))
	defer func(w time.Duration) { growWindow = w }(growWindow)
	growWindow = 0
	m := New[int, int](Config{Shards: 1, MaxShards: 64, GrowAfter: 1})
	hammer(m, 8, 300*time.Millisecond)
	require.Equal(t, 1, m.Shards(), "waits never close enough together")
	growWindow = time.Second
	m = New[int, int](Config{Shards: 1, MaxShards: 64, GrowAfter: 1})
	hammer(m, 8, 10*time.Second)
	require.Equal(t, 64, m.Shards(), "four writers of eight keys wait for each other, so the Map grows to its most")
	total := 0
	for k := range 8 {
		v, _ := m.Get(k, nil)
		total += v
	}
	require.Equal(t, 8, m.Len())
	require.Positive(t, total)
}

// hammer runs four writers of keys 0 to n-1 until d has passed or the Map
// has its most shards.
func hammer(m *Map[int, int], n int, d time.Duration) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				m.Update(i%n, func(old int, _ bool) (int, Op) { return old + 1, Store }, nil)
				if i%64 == g {
					runtime.Gosched()
				}
			}
		}()
	}
	deadline := time.Now().Add(d)
	for m.Shards() < 1<<(64-m.growth.minShift) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
}

// Writers, readers, batches, sweeps and traversals run while the Map grows
// from one shard to many, again and again:
//   - each writer owns its keys, so what it reads back must be exactly what
//     it last wrote;
//   - keys written before the start and never again must be seen by every
//     reader, and exactly once by every traversal (Collect, Page, Sweep);
//   - in the end the Map holds exactly the writers' models and those keys.
//
// Half the rounds pause in the middle of each grow, between the stores of
// the new array and its shift, so that readers and writers meet the two
// out of step (see Map).
func TestGrowUnderChurn(t *testing.T) {
	defer func() { growPause = nil }()
	seed := testseed.Seed(t)
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	for round := range rounds {
		growPause = nil
		if round%2 == 1 {
			growPause = func(stage int) {
				if stage == growStores {
					time.Sleep(200 * time.Microsecond)
				}
			}
		}
		growUnderChurn(t, seed+uint64(round))
	}
}

func growUnderChurn(t *testing.T, seed uint64) {
	defer watchdog(t, time.Minute)()
	m := New[int, int](Config{Shards: 1, MaxShards: 1 << 10})
	const (
		writers = 3
		owned   = 512 // keys per writer: w, w+writers, ...
		stable  = 1_000_000
		nStable = 300
	)
	for k := stable; k < stable+nStable; k++ {
		m.Put(k, k, nil)
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	models := make([]map[int]int, writers)
	for w := range writers {
		models[w] = map[int]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			model := models[w]
			for i := 0; i < 20_000; i++ {
				k := w + writers*r.IntN(owned)
				switch r.IntN(5) {
				case 0, 1:
					m.Put(k, i, nil)
					model[k] = i
				case 2:
					m.Take(k, nil)
					delete(model, k)
				case 3:
					m.Update(k, func(old int, ok bool) (int, Op) { return old + 1, Store }, nil)
					model[k]++
				case 4:
					k2 := w + writers*r.IntN(owned)
					hs := []uint64{m.Hash(k), m.Hash(k2)}
					m.PutBatch(hs, func(j int) (int, int) { return []int{k, k2}[j], i }, false, nil)
					model[k], model[k2] = i, i
				}
				if v, ok := m.Get(k, nil); ok != hasKey(model, k) || v != model[k] {
					assert.Fail(t, "a writer does not read its own write", "key %d: got %d %v, want %d %v", k, v, ok, model[k], hasKey(model, k))
					return
				}
			}
		}()
	}
	var readers sync.WaitGroup
	check := func(name string, seen map[int]int) {
		for k := stable; k < stable+nStable; k++ {
			if seen[k] != 1 {
				assert.Fail(t, name+" did not see a stable key exactly once", "key %d seen %d times", k, seen[k])
				return
			}
		}
	}
	readers.Add(4)
	go func() {
		defer readers.Done()
		for !done.Load() {
			if n := m.Len(); n < nStable || n > nStable+writers*owned {
				assert.Fail(t, "Len out of bounds", "%d", n)
				return
			}
			if b := m.Memory(); b < nStable*16 {
				assert.Fail(t, "Memory too small", "%d", b)
				return
			}
		}
	}()
	go func() {
		defer readers.Done()
		for !done.Load() {
			check("Collect", collectAll(m))
			check("Page", pageAll(m))
		}
	}()
	go func() {
		defer readers.Done()
		for i := 0; !done.Load(); i++ {
			k := stable + i%nStable
			if v, ok := m.Get(k, nil); !ok || v != k {
				assert.Fail(t, "a stable key went missing", "key %d: %d %v", k, v, ok)
				return
			}
		}
	}()
	go func() {
		defer readers.Done()
		for !done.Load() {
			seen := map[int]int{}
			for pos, more := uint64(0), true; more; {
				_, _, pos, more = m.Sweep(pos, func(k, v int) (int, Op) {
					if k >= stable {
						seen[k]++
					}
					return v, Keep
				}, nil)
			}
			check("Sweep", seen)
		}
	}()
	r := rand.New(rand.NewPCG(seed, 99))
	for m.Grow() {
		time.Sleep(time.Duration(r.IntN(2000)) * time.Microsecond)
	}
	wg.Wait()
	done.Store(true)
	readers.Wait()
	want := nStable
	for w := range writers {
		want += len(models[w])
		for k, v := range models[w] {
			got, ok := m.Get(k, nil)
			require.True(t, ok, "key %d", k)
			require.Equal(t, v, got, "key %d", k)
		}
	}
	require.Equal(t, want, m.Len())
	require.Len(t, collectAll(m), want)
}

func hasKey(m map[int]int, k int) bool { _, ok := m[k]; return ok }

// watchdog fails the test binary, with every goroutine's stack, if the
// test it guards has not returned within d: a deadlocked grow shows in
// seconds rather than at the test timeout.
func watchdog(t *testing.T, d time.Duration) (stop func()) {
	timer := time.AfterFunc(d, func() {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		panic(fmt.Sprintf("%s still running after %v: deadlock?\n%s", t.Name(), d, buf[:n]))
	})
	return func() { timer.Stop() }
}

// A grow stops at MaxShards even when four times the count would pass it,
// and a grow for a shift the Map has left does nothing (a stale caller must
// never rebuild the array: positions would fall inside shards).
func TestGrowBounds(t *testing.T) {
	m := New[int, int](Config{Shards: 1, MaxShards: 8})
	for k := range 100 {
		m.Put(k, k, nil)
	}
	shards := []int{m.Shards()}
	for m.Grow() {
		shards = append(shards, m.Shards())
	}
	require.Equal(t, []int{1, 4, 8}, shards)

	m = New[int, int](Config{Shards: 1, MaxShards: 64})
	stale := m.dir().shift
	require.True(t, m.grow(stale, m.growth.since.Load(), true))
	require.False(t, m.grow(stale, m.growth.since.Load(), true), "a grow for a shift the Map has left")
	require.Equal(t, 4, m.Shards())
	require.Panics(t, func() { New[int, int](Config{Shards: 1, MaxShards: 12}) })
}

// A grow that meets a shard held for long gives up and leaves every shard
// as it was; once the holder lets go, the Map grows.
func TestGrowGivesUpBehindAHolder(t *testing.T) {
	defer watchdog(t, 20*time.Second)()
	m := New[int, int](Config{Shards: 4, MaxShards: 64})
	for k := range 1000 {
		m.Put(k, k, nil)
	}
	held := 0 // a key of the last shard, so that the grow freezes the others first
	for m.dir().index(m.Hash(held)) != 3 {
		held++
	}
	l, p := m.Ref(held) // holds its shard, as a slow Update callback would
	require.NotNil(t, p)
	require.False(t, m.Grow())
	require.Equal(t, 4, m.Shards())
	for k := range 1000 {
		if m.dir().index(m.Hash(k)) == 3 {
			continue
		}
		m.Put(k, -k, nil) // the other shards are writable: the grow let them go
		v, ok := m.Get(k, nil)
		require.True(t, ok)
		require.Equal(t, -k, v)
	}
	l.Unlock()
	require.True(t, m.Grow())
	require.Equal(t, 16, m.Shards())
	require.Equal(t, 1000, m.Len())
}

// While a grow copies the keys, readers and walks go on reading the frozen
// shards (without -race, where they read without the lock) and writers wait; once it is done, the writers' keys are in the new
// shards.
func TestGrowFreezesForWritersOnly(t *testing.T) {
	defer watchdog(t, 20*time.Second)()
	m := New[int, int](Config{Shards: 1, MaxShards: 64})
	for k := range 1000 {
		m.Put(k, k, nil)
	}
	frozen, release := pauseFrozenGrow(t)
	grown := make(chan bool)
	go func() { grown <- m.Grow() }()
	<-frozen
	if optimisticReads { // with -race, readers take the lock and wait too
		for k := range 1000 {
			v, ok := m.Get(k, nil)
			require.True(t, ok, "key %d unreadable during a grow", k)
			require.Equal(t, k, v)
		}
		require.Equal(t, 1000, m.Len())
		ks, vs := collectEntries(m.CollectInto) // a walk too
		require.Len(t, ks, 1000)
		for i, k := range ks {
			require.Equal(t, k, vs[i])
		}
	}
	wrote := make(chan struct{})
	go func() {
		m.Put(5, 50, nil)
		close(wrote)
	}()
	select {
	case <-wrote:
		t.Fatal("a write went into a frozen shard")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	require.True(t, <-grown)
	<-wrote
	v, _ := m.Get(5, nil)
	require.Equal(t, 50, v)
	require.Equal(t, 4, m.Shards())
}

// pauseFrozenGrow makes grows stop once they have frozen the shards until
// the test ends: frozen closes then, and the grow goes on when release is
// closed.
func pauseFrozenGrow(t *testing.T) (frozen, release chan struct{}) {
	frozen, release = make(chan struct{}), make(chan struct{})
	growPause = func(stage int) {
		if stage == growFrozen {
			close(frozen)
			<-release
		}
	}
	t.Cleanup(func() { growPause = nil })
	return frozen, release
}

// BenchmarkGrow measures one grow of a Map of 1e6 int keys from 16 shards to
// 64, the time its writers wait (ns/op is one grow).
func BenchmarkGrow(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		b.StopTimer()
		m := New[int, int](Config{Shards: 16, MaxShards: 64})
		for i := range n {
			m.Put(i, i, nil)
		}
		runtime.GC()
		b.StartTimer()
		if !m.Grow() {
			b.Fatal("the Map did not grow")
		}
	}
}

// A Bag grows as a Map does, and its object counts, kept per range of
// hashes rather than per shard, stay right across grows, and after Sweep,
// DeleteObject and Clear on shards that hold several ranges.
func TestBagGrowKeepsObjectsAndCounts(t *testing.T) {
	for _, central := range []bool{false, true} {
		t.Run(fmt.Sprint("central=", central), func(t *testing.T) {
			b := NewBag[int, int](Config{Shards: 1, MaxShards: 1 << 8, Central: central}, true)
			const n = 2_000
			objects := 0
			fill := func() {
				for k := range n {
					for j := range k%3 + 1 { // one to three objects per key
						b.Insert(b.Hash(k), k, j, nil)
						objects++
					}
				}
			}
			// check checks Len, every key's count, and (per range) that each
			// range counts the objects of the keys that hash into it.
			check := func(stage string) {
				t.Helper()
				require.Equal(t, objects, b.Len(), stage)
				want := make([]int64, len(b.objs))
				for k := range n {
					c := b.Count(b.Hash(k), k, nil)
					want[b.Hash(k)>>b.cshift] += int64(c)
				}
				if !central {
					for i := range b.objs {
						require.Equal(t, want[i], b.objs[i].n.Load(), "%s: range %d", stage, i)
					}
				}
			}
			fill()
			check("filled")
			shards := []int{b.Shards()}
			for b.m.Grow() {
				shards = append(shards, b.Shards())
				check(fmt.Sprint("grown to ", b.Shards()))
				if b.Shards() == 16 { // 16 ranges a shard
					deleted := 0
					for pos, more := uint64(0), true; more; { // delete object 0 of every key
						var d int
						_, d, pos, more = b.Sweep(pos, func(_ int, v int) (int, Op) {
							if v == 0 {
								return v, Delete
							}
							return v, Keep
						}, nil)
						deleted += d
					}
					require.Equal(t, n, deleted)
					objects -= n
					check("swept")
					n1, _ := b.DeleteObject(b.Hash(2), 2, 1, nil)
					n2, _ := b.DeleteObject(b.Hash(2), 2, 2, nil)
					require.Equal(t, 2, n1+n2)
					objects -= 2
					check("deleted")
					b.Purge()
					objects = 0
					check("cleared")
					fill()
					check("filled again")
				}
			}
			require.Equal(t, []int{1, 4, 16, 64, 256}, shards)
			b.Purge()
			objects = 0
			check("cleared at the most shards")
		})
	}
}

// A Bag's counts per range stay exact while writers insert and delete
// objects, a sweeper and a clearer go through the shards, and the Bag grows
// from 1 shard to 64 (of 256 ranges) beneath them: once they stop, every
// range counts the objects of the keys that hash into it.
func TestBagCountsUnderGrowsAndChurn(t *testing.T) {
	defer watchdog(t, 20*time.Second)()
	seed := testseed.Seed(t)
	for round := range 4 {
		// Writers that wait never make it grow (GrowAfter): only the grows
		// below do, so it ends at 64 shards, 4 ranges each. Growing on its
		// own, it could reach 256 in the meantime, one range a shard.
		b := NewBag[int, int](Config{Shards: 1, MaxShards: 1 << 8, GrowAfter: math.MaxInt32}, round%2 == 0)
		var stop atomic.Bool
		var wg sync.WaitGroup
		goroutines := 0
		run := func(f func(r *rand.Rand)) {
			goroutines++
			wg.Add(1)
			go func(id int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed+uint64(round), uint64(id)))
				for !stop.Load() {
					f(r)
				}
			}(goroutines)
		}
		for range 2 { // writers
			run(func(r *rand.Rand) {
				k, v := r.IntN(2000), r.IntN(8)
				switch h := b.Hash(k); r.IntN(4) {
				case 0, 1:
					b.Insert(h, k, v, nil)
				case 2:
					b.DeleteObject(h, k, v, nil)
				default:
					b.InsertBatch([]uint64{h, b.Hash(k + 1)}, func(i int) (int, int) { return k + i, v }, false, nil)
				}
			})
		}
		run(func(r *rand.Rand) { // a sweeper deleting one value
			drop := r.IntN(8)
			for pos, more := uint64(0), true; more && !stop.Load(); {
				_, _, pos, more = b.Sweep(pos, func(_, v int) (int, Op) {
					if v == drop {
						return v, Delete
					}
					return v, Keep
				}, nil)
			}
		})
		var cleared sync.WaitGroup // the clearer stops once the Bag has grown, so that
		var grown atomic.Bool      // the other writers leave counts a Clear does not wipe
		cleared.Add(1)
		go func() {
			defer cleared.Done()
			r := rand.New(rand.NewPCG(seed+uint64(round), 99))
			for !grown.Load() {
				time.Sleep(time.Duration(r.IntN(2000)) * time.Microsecond)
				b.Purge()
			}
		}()
		for b.Shards() < 64 { // of 256: 4 ranges a shard. A grow gives up behind a busy shard: try again
			b.m.Grow()
			time.Sleep(2 * time.Millisecond)
		}
		grown.Store(true)
		cleared.Wait()
		time.Sleep(10 * time.Millisecond)
		stop.Store(true)
		wg.Wait()
		require.Equal(t, 64, b.Shards())

		want := make([]int64, len(b.objs))
		total := 0
		keys, _ := collectEntries(b.CollectInto)
		for _, k := range keys {
			want[b.Hash(k)>>b.cshift]++
			total++
		}
		for i := range b.objs {
			require.Equal(t, want[i], b.objs[i].n.Load(), "round %d: range %d", round, i)
		}
		require.Equal(t, total, b.Len(), "round %d", round)
	}
}

// BenchmarkFill measures building a Map of one shard from empty, through
// every doubling of its table (ns/op is per key). Built over and over, the
// tables' memory comes back from the heap rather than the OS.
func BenchmarkFill(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint("keys=", n), func(b *testing.B) {
			b.ReportAllocs()
			var m *Map[int, int]
			for b.Loop() {
				m = New[int, int](Config{Shards: 1})
				for i := range n {
					m.Put(i, i, nil)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
			_ = m
		})
	}
}
