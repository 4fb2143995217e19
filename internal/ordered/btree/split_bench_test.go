package btree

import (
	"cmp"
	"fmt"
	"testing"
)

// BenchmarkConcat joins two halves of n keys: Concat, O(log n), against
// pushing the right half's items one by one onto the left, O(n log n), which
// Concat does only for a node's worth of items. Building the halves is not
// timed.
func BenchmarkConcat(b *testing.B) {
	for _, n := range []int{1e3, 1e5} {
		halves := func() (*BTreeG[int], *BTreeG[int]) {
			left, right := NewG(32, cmp.Less[int]), NewG(32, cmp.Less[int])
			for k := range n / 2 {
				left.ReplaceOrInsert(k)
				right.ReplaceOrInsert(n/2 + k)
			}
			return left, right
		}
		b.Run(fmt.Sprintf("n=%d/how=concat", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				left, right := halves()
				b.StartTimer()
				Concat(left, right)
			}
		})
		b.Run(fmt.Sprintf("n=%d/how=push", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				left, right := halves()
				b.StartTimer()
				right.Ascend(func(it int) bool { left.push(it, true); return true })
			}
		})
	}
}
