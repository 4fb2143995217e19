package ordered

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
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
		t := NewOrdered[int64, int64](false)
		r := rand.New(rand.NewPCG(3, 4))
		keys := make([]int64, size)
		for i := range keys {
			keys[i] = r.Int64()
			t.Put(keys[i], 1, nil)
		}
		base := t.route.Load().bases[0]
		for _, cached := range []bool{false, true} {
			name := map[bool]string{false: "uncached", true: "cached"}[cached]
			b.Run(fmt.Sprintf("size=%d/leaves=%s", size, name), func(b *testing.B) {
				for b.Loop() {
					if _, ok, _ := base.getSeq(Item[int64, int64]{Key: keys[r.IntN(size)]}, cached); !ok {
						b.Fatal("key not found")
					}
				}
			})
		}
	}
}
