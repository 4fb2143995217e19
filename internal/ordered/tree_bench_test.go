package ordered

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
// comparison, binary-once binarySearchSeq, leaf leafSearchSeq (made for
// leaves not in the cache).
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
	}{{"binary", naturalSearchSeq[int64, int64]}, {"binary-once", binarySearchSeq[int64, int64]}, {"count", countSearchSeq[int64, int64]}, {"leaf", leafSearchSeq[int64, int64]}}
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
// cache (leafSearchSeq): what cachedBytes is set from. Each lookup also
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
					if _, ok, _ := bn.getSeq(Item[int64, int64]{Key: keys[r.IntN(size)]}, cached); !ok {
						b.Fatal("key not found")
					}
				}
			})
		}
	}
}

// BenchmarkTree_LeafSearches compares the searches of a tree's leaves on
// one tree within one process, where separate runs of this VM differ by
// more than the searches do: binary (binarySearchSeq), leaf
// (leafSearchSeq, what large trees use) and count (countSearchSeq, what
// trees of up to cachedBytes of items use). Each round runs a burst of
// lookups with each search in turn, each first in turn (the tree's leaf
// search, or its large flag, changed between bursts, no reader running),
// on one goroutine or two, and reports each search's ns a lookup and the
// median of the rounds' ratios to binary (below 1: faster); its ns/op is a
// round's. b.N is the number of rounds: run it with -benchtime 100x or so.
// Each goroutine reads its own sample of the keys in order, as
// BenchmarkErlang does, every burst keys the one before did not read.
func BenchmarkTree_LeafSearches(b *testing.B) {
	if !optimisticReads {
		b.Skip("lookups take the lock here (race detector, or loads reordered): every search would measure the locked Get")
	}
	const burst = 20_000
	searches := []struct {
		name string
		f    func([]Item[int64, int64], Item[int64, int64], *atomic.Uint64, uint64) (int, bool, bool)
	}{{"binary", binarySearchSeq[int64, int64]}, {"leaf", leafSearchSeq[int64, int64]}, {"count", nil}}
	for _, size := range []int{100_000, 300_000, 1_000_000} {
		r := rand.New(rand.NewPCG(5, 6))
		t, bn, keys := randomTree(size, r)
		var samples [2][]int64
		for g := range samples {
			samples[g] = make([]int64, 1<<20)
			for i := range samples[g] {
				samples[g][i] = keys[r.IntN(size)]
			}
		}
		for _, procs := range []int{1, 2} {
			b.Run(fmt.Sprintf("size=%d/goroutines=%d", size, procs), func(b *testing.B) {
				defer bn.tr.SetLeafSeq(leafSearchSeq[int64, int64])
				defer bn.large.Store(true)
				total := make([]time.Duration, len(searches))
				ratios := make([][]float64, len(searches))
				pos := 0
				for round := range b.N {
					d := make([]time.Duration, len(searches))
					for j := range searches {
						s := (j + round) % len(searches)
						if searches[s].f != nil {
							bn.tr.SetLeafSeq(searches[s].f)
						}
						bn.large.Store(searches[s].f != nil) // a small tree's leaves are counted
						var wg sync.WaitGroup
						t0 := time.Now()
						for g := range procs {
							wg.Add(1)
							go func(sample []int64) {
								defer wg.Done()
								for i := range burst {
									if _, ok := t.Get(sample[(pos+i)&(len(sample)-1)]); !ok {
										panic("a key is missing")
									}
								}
							}(samples[g])
						}
						wg.Wait()
						d[s] = time.Since(t0)
						total[s] += d[s]
						pos += burst // fresh keys: the burst before left its leaves' lines in the cache
					}
					for s := range searches {
						ratios[s] = append(ratios[s], float64(d[s])/float64(d[0]))
					}
				}
				lookups := float64(b.N * burst * procs)
				for s, search := range searches {
					slices.Sort(ratios[s])
					b.ReportMetric(float64(total[s])/lookups, search.name+"-ns/lookup")
					if s > 0 {
						b.ReportMetric(ratios[s][len(ratios[s])/2], search.name+"/binary")
					}
				}
			})
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
