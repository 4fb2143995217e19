package ordered

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etsgo/ets/internal/ordered/btree"
)

// BenchmarkTree_WriteAfterClone measures what btree's Clone costs writers:
// after a Clone the tree is copy-on-write, and the next write to each node
// copies it. clone=every-write is a table walked (with Clone) between every
// two writes; clone=never is the batched walks this engine uses.
func BenchmarkTree_WriteAfterClone(b *testing.B) {
	for _, size := range []int{1_000, 1_000_000} {
		t := NewOrdered[int, int](false)
		for i := range size {
			t.Put(i, i, nil)
		}
		for _, every := range []int{0, 100, 1} {
			name := map[int]string{0: "never", 100: "every-100-writes", 1: "every-write"}[every]
			b.Run(fmt.Sprintf("size=%d/clone=%s", size, name), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					if every > 0 && i%every == 0 {
						b := t.route.Load().bases[0]
						b.mu.Lock()
						_ = b.tr.Clone()
						b.mu.Unlock()
					}
					t.Put(i*7919%size, i, nil)
				}
			})
		}
	}
}

// BenchmarkNodeSearch compares the node searches of int64 keys on nodes in
// the cache: 64 nodes of 63 to 126 items (degree 64's node sizes), random
// probes. binary is naturalSearchSeq, which checks the counter before each
// comparison, binary-once binarySearchSeq, count countSearchSeq
// (btree.CountBelow), run btree.RunBelow (made for leaves not in the
// cache).
func BenchmarkNodeSearch(b *testing.B) {
	var nodes [64][]Item[int64, int64]
	for j := range nodes {
		nodes[j] = make([]Item[int64, int64], degree-1+j%degree)
		for i := range nodes[j] {
			nodes[j][i].Key = int64(2 * i)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	probes := make([]int64, 1<<20) // more than a branch predictor learns
	for i := range probes {
		probes[i] = r.Int64N(4 * degree) // keys are even, up to 2*(2*degree-2)
	}
	searches := []struct {
		name string
		f    func([]Item[int64, int64], Item[int64, int64], *atomic.Uint64, uint64) (int, bool, bool)
	}{{"binary", naturalSearchSeq[int64, int64]}, {"binary-once", binarySearchSeq[int64, int64]}, {"count", countSearchSeq[int64, int64]},
		{"run", func(s []Item[int64, int64], item Item[int64, int64], seq *atomic.Uint64, start uint64) (int, bool, bool) {
			i := btree.RunBelow(s, item.Key) // as GetSeqInt searches a leaf
			return i, i < len(s) && s[i].Key == item.Key, seq.Load() == start
		}}}
	for _, s := range searches {
		b.Run("search="+s.name, func(b *testing.B) {
			var seq atomic.Uint64
			i := 0
			for b.Loop() {
				s.f(nodes[i%64], Item[int64, int64]{Key: probes[i%len(probes)]}, &seq, 0)
				i++
			}
		})
	}
}

// BenchmarkTree_GetLeaves compares lock-free lookups of random int64 keys
// with leaves searched by counting (leaves=cached) and as leaves not in the
// cache (btree.RunBelow): what cachedBytes was set from until the
// twenty-first session (since, BenchmarkTree_LeafSearches). Each lookup also
// draws a random number and reads a random line of the keys' array, and
// separate runs of this VM differ by more than the searches do: see
// bench/README.md for the interleaved comparison within one process.
func BenchmarkTree_GetLeaves(b *testing.B) {
	for _, size := range []int{1e3, 1e4, 3e4, 1e5, 3e5, 1e6} {
		r := rand.New(rand.NewPCG(3, 4))
		_, bn, keys := randomTree(size, r)
		for _, cached := range []bool{false, true} {
			name := map[bool]string{false: "uncached", true: "cached"}[cached]
			b.Run(fmt.Sprintf("size=%d/leaves=%s", size, name), func(b *testing.B) {
				for b.Loop() {
					if _, ok, _ := bn.getSeq(btree.GetSeqInt[int64, int64], Item[int64, int64]{Key: keys[r.IntN(size)]}, cached); !ok {
						b.Fatal("key not found")
					}
				}
			})
		}
	}
}

// BenchmarkTree_LeafSearches compares lookups of int64 keys within one
// process, where separate runs of this VM differ by more than the lookups
// do. Each variant has its own tree of the same keys, the trees built in
// turns, key by key, so that none gets the heap's first pages (with two
// variants sharing a tree, the second after the first read lines the first
// had just brought in; with trees built one after the other, the third of
// four ran 0.83 of the first's time on the same search). run is
// btree.GetSeqInt on leaves that are not leaf blocks, halved down to a
// counted run (btree.RunBelow, what large trees used before blocks, the
// twenty-third session); block is GetSeqInt on leaf blocks (btree.BlockBelow
// and HalfBelow, what large trees use now); count and count-blocks are
// GetSeqInt with the leaves counted (btree.CountBelow, what trees of up to
// cachedBytes of items use), without and with blocks; generic is
// btree.GetSeq, the tree's binary search (binarySearchSeq) through a
// function value at every level, on leaves without blocks, what trees of
// other keys use. Each round runs a burst of lookups with each in
// turn, each first in turn, on one goroutine or two, and reports each one's
// ns a lookup and the median of the rounds' ratios to run (below 1:
// faster); its ns/op is a round's. b.N is the number of rounds: run it with
// -benchtime 100x or so. Each goroutine reads its own sample of the keys in
// order, as BenchmarkErlang does, and each variant its own samples, every
// burst keys the one before did not read: a sample of 2^16 keys comes round
// again every fourth burst of its variant or so, as BenchmarkErlang's do
// with ETS_ERLANG_SAMPLE=65536. The trees compete for the cache, more than
// one table would: to compare searches of one tree (as cachedBytes needs),
// give the variants one tree.
func BenchmarkTree_LeafSearches(b *testing.B) {
	if !optimisticReads {
		b.Skip("lookups take the lock here (race detector, or loads reordered): every search would measure the locked Get")
	}
	const burst = 20_000
	type getSeq = func(*btree.BTreeG[Item[int64, int64]], int64, *atomic.Uint64, uint64, bool) (Item[int64, int64], bool, bool)
	lookups := []struct {
		name   string
		blocks bool
		getSeq getSeq
		large  bool
	}{
		{"run", false, btree.GetSeqInt[int64, int64], true},
		{"block", true, btree.GetSeqInt[int64, int64], true},
		{"count", false, btree.GetSeqInt[int64, int64], false},
		{"count-blocks", true, btree.GetSeqInt[int64, int64], false},
		{"generic", false, nil, true},
	}
	for _, size := range []int{10_000, 100_000, 300_000, 500_000, 700_000, 1_000_000} {
		r := rand.New(rand.NewPCG(5, 6))
		keys := make([]int64, size)
		for i := range keys {
			keys[i] = r.Int64()
		}
		trees, bases := make([]*Tree[int64, int64], len(lookups)), make([]*base[int64, int64], len(lookups))
		for l, lookup := range lookups {
			trees[l] = NewOrdered[int64, int64](false)
			bases[l] = trees[l].route.Load().bases[0]
			bases[l].tr.SetLeafBlocks(lookup.blocks)
			bases[l].large.Store(lookup.large)
			trees[l].getSeq = lookup.getSeq
		}
		for _, k := range keys { // in turns, so that no tree gets the heap's first pages
			for _, t := range trees {
				t.Put(k, 1, nil)
			}
		}
		for _, sample := range []int{1 << 16, 1 << 20} {
			samples := make([][2][]int64, len(lookups)) // a variant's, a goroutine's
			for l := range samples {
				for g := range samples[l] {
					samples[l][g] = make([]int64, sample)
					for i := range samples[l][g] {
						samples[l][g][i] = keys[r.IntN(size)]
					}
				}
			}
			for _, procs := range []int{1, 2} {
				b.Run(fmt.Sprintf("size=%d/sample=%d/goroutines=%d", size, sample, procs), func(b *testing.B) {
					total := make([]time.Duration, len(lookups))
					ratios := make([][]float64, len(lookups))
					pos := make([]int, len(lookups)) // each variant's place in its samples
					for round := range b.N {
						d := make([]time.Duration, len(lookups))
						for j := range lookups {
							l := (j + round) % len(lookups)
							t := trees[l]
							bases[l].large.Store(lookups[l].large) // the tree's writes set it by its size
							var wg sync.WaitGroup
							t0 := time.Now()
							for g := range procs {
								wg.Add(1)
								go func(sample []int64) {
									defer wg.Done()
									for i := range burst {
										if _, ok := t.Get(sample[(pos[l]+i)&(len(sample)-1)]); !ok {
											panic("a key is missing")
										}
									}
								}(samples[l][g])
							}
							wg.Wait()
							d[l] = time.Since(t0)
							total[l] += d[l]
							pos[l] += burst // fresh keys: the burst before left its leaves' lines in the cache
						}
						for l := range lookups {
							ratios[l] = append(ratios[l], float64(d[l])/float64(d[0]))
						}
					}
					n := float64(b.N * burst * procs)
					for l, lookup := range lookups {
						slices.Sort(ratios[l])
						b.ReportMetric(float64(total[l])/n, lookup.name+"-ns/lookup")
						if l > 0 {
							b.ReportMetric(ratios[l][len(ratios[l])/2], lookup.name+"/run")
						}
					}
				})
			}
		}
	}
}

// randomTree returns a tree of size random int64 keys drawn from r, without
// adaptation (one base node, which it returns too), and its keys.
func randomTree(size int, r *rand.Rand) (*Tree[int64, int64], *base[int64, int64], []int64) {
	t := NewOrdered[int64, int64](false)
	keys := make([]int64, size)
	for i := range keys {
		keys[i] = r.Int64()
		t.Put(keys[i], 1, nil)
	}
	return t, t.route.Load().bases[0], keys
}

// BenchmarkTree_StepSearches compares the leaf searches of a walk's steps,
// halving (binarySearchSeq) and counting (countSearchSeq), on one tree of
// int64 keys within one process: what steppedItems is set from. Each round
// runs a burst of walks of 100 Next calls, from keys of a sample read in
// order, with the leaves halved and counted in turn, each first in turn
// (the base node's medium flag changed between bursts), and reports each
// search's ns a walk and the median of the rounds' ratios (below 1:
// counting is faster); its ns/op is a round's. b.N is the number of rounds:
// run it with -benchtime 200x or so.
func BenchmarkTree_StepSearches(b *testing.B) {
	if !optimisticReads {
		b.Skip("steps take the lock here (race detector, or loads reordered): both would measure the locked walk")
	}
	const burst = 300
	for _, size := range []int{1_000, 2_000, 3_000, 5_000, 10_000, 30_000, 100_000, 300_000, 500_000, 1_000_000} {
		r := rand.New(rand.NewPCG(5, 6))
		t, bn, keys := randomTree(size, r)
		sample := make([]int64, 1<<16)
		for i := range sample {
			sample[i] = keys[r.IntN(size)]
		}
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			defer bn.medium.Store(bn.medium.Load())
			var total [2]time.Duration
			var ratios []float64
			pos := 0
			for round := range b.N {
				var d [2]time.Duration
				for j := range 2 {
					counted := (j+round)%2 == 1
					bn.medium.Store(counted)
					t0 := time.Now()
					for i := range burst {
						k := sample[(pos+i)&(len(sample)-1)]
						for range 100 {
							it, ok := t.Next(k, false)
							if !ok {
								break
							}
							k = it.Key
						}
					}
					d[(j+round)%2] = time.Since(t0)
					pos += burst
				}
				total[0] += d[0]
				total[1] += d[1]
				ratios = append(ratios, float64(d[1])/float64(d[0]))
			}
			slices.Sort(ratios)
			walks := float64(b.N * burst)
			b.ReportMetric(float64(total[0])/walks, "halve-ns/walk")
			b.ReportMetric(float64(total[1])/walks, "count-ns/walk")
			b.ReportMetric(ratios[len(ratios)/2], "count/halve")
		})
	}
}

// BenchmarkTree_WriteSearches compares the node searches of writers in
// trees of int64 keys: binary is the tree's binary search (naturalSearch),
// int btree.SetIntFind's (leaf blocks at their fixed offsets, every other
// node counted). Each variant has its own tree of size keys drawn from a
// universe of twice as many, built in turns, and runs the same sequence of
// inserts and deletes (half each, of random keys of the universe), so the
// trees keep the same shape. Each round runs a burst of writes on each in
// turn, each first in turn, and reports each one's ns a write and the median
// of the rounds' ratios to binary (below 1: faster); its ns/op is a round's.
// b.N is the number of rounds: run it with -benchtime 50x or so.
func BenchmarkTree_WriteSearches(b *testing.B) {
	const burst = 20_000
	finds := []struct {
		name string
		on   bool
	}{{"binary", false}, {"int", true}}
	for _, size := range []int{1_000, 100_000, 1_000_000} {
		r := rand.New(rand.NewPCG(7, 8))
		universe := make([]int64, 2*size)
		for i := range universe {
			universe[i] = r.Int64()
		}
		trees := make([]*Tree[int64, int64], len(finds))
		for f, find := range finds {
			trees[f] = NewOrdered[int64, int64](false)
			btree.SetIntFind(trees[f].route.Load().bases[0].tr, find.on)
		}
		for _, k := range universe[:size] { // in turns, so that no tree gets the heap's first pages
			for _, t := range trees {
				t.Put(k, 1, nil)
			}
		}
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			total := make([]time.Duration, len(finds))
			ratios := make([][]float64, len(finds))
			for round := range b.N {
				d := make([]time.Duration, len(finds))
				for j := range finds {
					f := (j + round) % len(finds)
					t := trees[f]
					ops := rand.New(rand.NewPCG(uint64(round), 9)) // the same writes for every variant
					t0 := time.Now()
					for range burst {
						x := ops.Uint64()
						k := universe[x%uint64(len(universe))]
						if x>>63 == 0 {
							t.Put(k, 1, nil)
						} else {
							t.Take(k, nil)
						}
					}
					d[f] = time.Since(t0)
					total[f] += d[f]
				}
				for f := range finds {
					ratios[f] = append(ratios[f], float64(d[f])/float64(d[0]))
				}
			}
			n := float64(b.N * burst)
			for f, find := range finds {
				slices.Sort(ratios[f])
				b.ReportMetric(float64(total[f])/n, find.name+"-ns/write")
				if f > 0 {
					b.ReportMetric(ratios[f][len(ratios[f])/2], find.name+"/binary")
				}
			}
		})
	}
}

// BenchmarkRouteSearch compares the routing layer's searches for int64
// keys: binary is the btrees' search of a NewOrdered tree (what searchLows
// used for every key type before searchLowsInt), count searchLowsInt. A routing layer of n
// lows (the bounds of n+1 base nodes), random probes; the two take turns
// within one process, as -count runs them.
func BenchmarkRouteSearch(b *testing.B) {
	t := NewOrdered[int64, int64](true)
	r := rand.New(rand.NewPCG(1, 2))
	probes := make([]int64, 1<<20) // more than a branch predictor learns
	for _, n := range []int{15, 127, 1023} {
		lows := make([]Item[int64, int64], n)
		for i := range lows {
			lows[i].Key = int64(i) << 20
		}
		for i := range probes {
			probes[i] = r.Int64N(int64(n+1) << 20)
		}
		for _, v := range []struct {
			name   string
			search func(lows []Item[int64, int64], k int64) (int, bool)
		}{
			{"binary", func(lows []Item[int64, int64], k int64) (int, bool) {
				return t.proto.Search(lows, Item[int64, int64]{Key: k})
			}},
			{"count", t.lowsInt},
		} {
			b.Run(fmt.Sprintf("lows=%d/search=%s", n, v.name), func(b *testing.B) {
				timeSearch(b, v.search, lows, probes)
			})
		}
	}
}

// timeSearch times search of node for each of probes in turn (their number
// a power of two), one call a round.
func timeSearch[N, P any](b *testing.B, search func(N, P) (int, bool), node N, probes []P) {
	sum, i := 0, 0
	for b.Loop() {
		j, _ := search(node, probes[i&(len(probes)-1)])
		sum += j
		i++
	}
	routeSink = sum
}

// routeSink keeps timeSearch's searches from being optimised away.
var routeSink int

// BenchmarkStringSearch compares the node searches of string keys:
// natural is naturalSearch (cmp.Less, a call a probe), prefix stringSearch.
// A sorted node of n keys of one shape, probes of the same shape, half of
// them the node's keys; the two take turns within one process.
func BenchmarkStringSearch(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var seq atomic.Uint64
	shapes := []struct {
		name string
		key  func() string
	}{
		{"hex16", func() string { return fmt.Sprintf("%016x", r.Uint64()) }},
		{"user", func() string { return fmt.Sprintf("user:%d", r.IntN(1e6)) }},
		{"session", func() string { return fmt.Sprintf("session:%08d", r.IntN(1e8)) }},
		{"url", func() string { return fmt.Sprintf("https://example.com/users/%08d", r.IntN(1e8)) }},
	}
	for _, shape := range shapes {
		for _, n := range []int{15, 63} {
			node := make([]Item[string, int], n)
			for i := range node {
				node[i].Key = shape.key()
			}
			slices.SortFunc(node, func(x, y Item[string, int]) int { return strings.Compare(x.Key, y.Key) })
			probes := make([]Item[string, int], 1<<12)
			for i := range probes {
				probes[i].Key = shape.key()
				if i%2 == 0 {
					probes[i].Key = node[r.IntN(n)].Key
				}
			}
			for _, v := range []struct {
				name   string
				search func([]Item[string, int], Item[string, int]) (int, bool)
			}{
				{"natural", naturalSearch[string, int]},
				{"prefix", stringSearch[string, int]},
				{"naturalSeq", func(s []Item[string, int], it Item[string, int]) (int, bool) {
					i, f, _ := naturalSearchSeq(s, it, &seq, 0)
					return i, f
				}},
				{"prefixSeq", func(s []Item[string, int], it Item[string, int]) (int, bool) {
					i, f, _ := stringSearchSeq(s, it, &seq, 0)
					return i, f
				}},
			} {
				b.Run(fmt.Sprintf("keys=%s/n=%d/search=%s", shape.name, n, v.name), func(b *testing.B) {
					timeSearch(b, v.search, node, probes)
				})
			}
		}
	}
}
