package ordered

import (
	"fmt"
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
			t.Put(i, i)
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
					t.Put(i*7919%size, i)
				}
			})
		}
	}
}
