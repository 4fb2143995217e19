package ordered

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets/internal/testseed"
)

// bases returns the number of base nodes of t's routing layer.
func bases(t *Tree[int, int]) int { return len(t.route.Load().bases) }

// checkContents checks that walks of tr both ways, and Len, find the keys
// and values of m, in order.
func checkContents(t *testing.T, tr *Tree[int, int], m map[int]int, msg string) {
	var got []int
	tr.Walk(Span[int]{}, false, func(k, v int) bool {
		require.Equal(t, m[k], v, "%s: key %d", msg, k)
		got = append(got, k)
		return true
	})
	require.Equal(t, slices.Sorted(maps.Keys(m)), got, msg)
	var down []int
	tr.Walk(Span[int]{}, true, func(k, _ int) bool { down = append(down, k); return true })
	slices.Reverse(down)
	require.Equal(t, got, down, msg)
	require.Equal(t, len(m), tr.Len(), msg)
}

// TestTree_ColdBasesJoin splits trees into many base nodes and then writes
// to them from one goroutine, uncontended: the base nodes grow cold and join
// until one is left, with the contents and their order unchanged throughout.
func TestTree_ColdBasesJoin(t *testing.T) {
	seed := testseed.Seed(t)
	r := rand.New(rand.NewPCG(seed, seed))
	for _, natural := range []bool{true, false} {
		tr := NewOrdered[int, int](true)
		if !natural {
			tr = NewCompare[int, int](cmp.Compare[int], true)
		}
		const n = 6000
		m := map[int]int{}
		for k := range n {
			tr.Put(k, k, nil)
			m[k] = k
		}
		for k := 100; k < n; k += 100 {
			tr.SplitAt(k)
		}
		require.Equal(t, n/100, bases(tr))
		checkContents(t, tr, m, "split")
		before, writes := bases(tr), 0
		for ; bases(tr) > 1 && writes < 1e6; writes++ {
			k, v := r.IntN(n+200)-100, r.IntN(1000)
			switch r.IntN(3) {
			case 0:
				tr.Put(k, v, nil)
				m[k] = v
			case 1:
				tr.Take(k, nil)
				delete(m, k)
			default:
				tr.Update(k, func(int, bool) (int, Op) { return v, Store }, nil)
				m[k] = v
			}
			if b := bases(tr); b < before {
				before = b
				checkContents(t, tr, m, fmt.Sprintf("natural=%v seed %d: %d bases after %d writes", natural, seed, b, writes))
			}
		}
		require.Equal(t, 1, bases(tr), "natural=%v seed %d: %d writes", natural, seed, writes)
		checkContents(t, tr, m, "joined")
	}
}

// TestTree_JoinRules checks the join's rules: a joined base node's statistic
// starts at 0, a join with the neighbour's lock taken gives up and resets the
// statistic to 0 instead, a lone base node never joins, and the colder
// neighbour is chosen.
func TestTree_JoinRules(t *testing.T) {
	tr := NewOrdered[int, int](true)
	for k := range 400 {
		tr.Put(k, k, nil)
	}
	for k := 100; k < 400; k += 100 {
		tr.SplitAt(k)
	}
	r := tr.route.Load()
	require.Len(t, r.bases, 4)

	// The neighbour's lock is taken: no join, and the statistic restarts.
	r.bases[2].heat.Store(coldest)
	r.bases[3].mu.RLock()
	r.bases[1].heat.Store(1) // so that the right neighbour, 3, is the colder
	tr.Put(250, 0, nil)      // 2 is cold: it tries to join with 3
	r.bases[3].mu.RUnlock()
	require.Same(t, r, tr.route.Load(), "no join while the neighbour is locked")
	require.Zero(t, r.bases[2].heat.Load())

	// The colder neighbour is chosen: 1 is colder than 3.
	r.bases[1].heat.Store(-10)
	r.bases[2].heat.Store(coldest + 1)
	tr.Put(250, 0, nil)
	nr := tr.route.Load()
	require.Len(t, nr.bases, 3)
	require.Equal(t, []int{100, 300}, []int{nr.lows[0].Key, nr.lows[1].Key})
	require.Same(t, r.bases[0], nr.bases[0])
	require.Same(t, r.bases[3], nr.bases[2])
	require.True(t, r.bases[1].dead)
	require.True(t, r.bases[2].dead)
	require.Zero(t, nr.bases[1].heat.Load(), "a joined base node starts at 0")
	require.Equal(t, 200, nr.bases[1].tr.Len())

	// The last base node joins with its left neighbour.
	nr.bases[2].heat.Store(coldest + 1)
	tr.Take(399, nil)
	nr = tr.route.Load()
	require.Len(t, nr.bases, 2)
	require.Equal(t, 100, nr.lows[0].Key)

	// A lone base node does not join, nor ask to.
	tr.join(nr.bases[0])
	tr.join(nr.bases[1])
	require.Equal(t, 1, bases(tr))
	b := tr.route.Load().bases[0]
	b.heat.Store(coldest)
	b2, reshape := tr.lock(Item[int, int]{Key: 5}, nil)
	b2.mu.Unlock()
	require.Same(t, b, b2)
	require.False(t, reshape)

	m := map[int]int{}
	for k := range 399 {
		m[k] = k
	}
	m[250] = 0
	checkContents(t, tr, m, "after the joins")
}

// joinSome joins up to n random base nodes of t with a neighbour, as a cold
// statistic would.
func joinSome(t *Tree[int, int], r *rand.Rand, n int) {
	for range n {
		bs := t.route.Load().bases
		t.join(bs[r.IntN(len(bs))])
	}
}

// TestTree_WalksWhileBasesSplitAndJoin runs writers through alternating hot
// phases, in which base nodes split (by contention and by force), and cold
// ones, in which they join (by their statistics and by force), while readers
// walk both ways, step with Next, sweep and count. Every walk, step chain
// and sweep must be strictly ordered and see every stable key (present
// throughout) once; at the end the tree must equal the writers' models.
func TestTree_WalksWhileBasesSplitAndJoin(t *testing.T) {
	seed := testseed.Seed(t)
	const (
		span    = 4000 // keys 0..span-1; those divisible by 4 are stable
		writers = 3
		phases  = 8
	)
	tr := NewOrdered[int, int](true)
	stable := 0
	for k := 0; k < span; k += 4 {
		tr.Put(k, 0, nil)
		stable++
	}
	var hot atomic.Bool
	var splits, joins atomic.Int64 // base counts seen to rise and fall
	done := make(chan struct{})
	stopped := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	models := make([]map[int]int, writers)
	var wg sync.WaitGroup
	for g := range writers {
		models[g] = map[int]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			m := models[g]
			// Writer g owns the keys k with k/4 % writers == g.
			own := func(lo, n int) int {
				k := lo + r.IntN(n)
				return k - (k/4%writers-g)*4
			}
			for i := 0; !stopped(); i++ {
				k := own(0, span-4*writers)
				if hot.Load() {
					k = own(span/2, 64) // all writers on a few keys: contention
				}
				switch op := r.IntN(6); {
				case k%4 == 0 || op == 0:
					tr.Put(k, i, nil)
					m[k] = i
				case op == 1:
					v, ok, _ := tr.Take(k, nil)
					w, wok := m[k]
					assert.Equal(t, []any{w, wok}, []any{v, ok}, "seed %d key %d", seed, k)
					delete(m, k)
				case op == 2:
					_, had := m[k]
					assert.Equal(t, !had, admittedOK(tr.PutNew(k, i, nil)), "seed %d key %d", seed, k)
					if !had {
						m[k] = i
					}
				case op == 3:
					k2 := own(0, span-4*writers)
					tr.PutBatch(2, func(j int) (int, int) { return []int{k, k2}[j], i }, false, nil)
					m[k], m[k2] = i, i
				default:
					tr.Update(k, func(old int, ok bool) (int, Op) {
						if ok && old%2 == 0 {
							return 0, Delete
						}
						return i, Store
					}, nil)

					if old, ok := m[k]; ok && old%2 == 0 {
						delete(m, k)
					} else {
						m[k] = i
					}
				}
			}
		}()
	}
	// The shaper splits in hot phases and joins in cold ones, and counts.
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 99))
		last := bases(tr)
		for !stopped() {
			if hot.Load() {
				splitSome(tr, r, 1)
			} else {
				joinSome(tr, r, 1)
			}
			switch b := bases(tr); {
			case b > last:
				splits.Add(1)
				last = b
			case b < last:
				joins.Add(1)
				last = b
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	// Readers.
	check := func(name string, keys []int, desc bool) {
		seen := 0
		for i, k := range keys {
			if i > 0 {
				assert.True(t, desc == (k < keys[i-1]) && k != keys[i-1], "seed %d %s: %d after %d", seed, name, k, keys[i-1])
			}
			if k%4 == 0 {
				seen++
			}
		}
		assert.Equal(t, stable, seen, "seed %d %s: stable keys seen", seed, name)
	}
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; !stopped(); round++ {
				var keys []int
				switch round % 4 {
				case 0, 1:
					desc := round%4 == 1
					tr.Walk(Span[int]{}, desc, func(k, _ int) bool { keys = append(keys, k); return true })
					check(fmt.Sprintf("walk desc=%v", desc), keys, desc)
				case 2:
					if g == 0 {
						tr.Sweep(func(k, v int) (int, Op) { keys = append(keys, k); return v, Keep }, func() bool { return true }, nil)
						check("sweep", keys, false)
					} else {
						assert.GreaterOrEqual(t, tr.Len(), stable, "seed %d", seed)
					}
				case 3:
					desc := g == 1
					it, ok := tr.First()
					if desc {
						it, ok = tr.Last()
					}
					for ; ok; it, ok = tr.Next(it.Key, desc) {
						keys = append(keys, it.Key)
					}
					check(fmt.Sprintf("next desc=%v", desc), keys, desc)
				}
			}
		}()
	}
	for p := range phases {
		hot.Store(p%2 == 0)
		time.Sleep(150 * time.Millisecond)
	}
	close(done)
	wg.Wait()
	want := map[int]int{}
	for _, m := range models {
		maps.Copy(want, m)
	}
	for k := 0; k < span; k += 4 {
		if _, ok := want[k]; !ok {
			want[k] = 0
		}
	}
	checkContents(t, tr, want, fmt.Sprintf("seed %d: the end", seed))
	t.Logf("base nodes: %d splits and %d joins seen, %d at the end", splits.Load(), joins.Load(), bases(tr))
	require.Positive(t, splits.Load(), "seed %d", seed)
	require.Positive(t, joins.Load(), "seed %d", seed)
}
