package ordered

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNaturalSearch_MatchesCmpCompare checks the inline node search of
// NewOrdered trees against slices.BinarySearchFunc with cmp.Compare, NaN
// included (below every other float, all NaNs one key).
func TestNaturalSearch_MatchesCmpCompare(t *testing.T) {
	keys := []float64{math.NaN(), math.Inf(-1), -2, -0.5, 0, 1, 3, math.Inf(1)}
	probes := append(slices.Clone(keys), -3, 0.5, 2, 4)
	for n := range len(keys) + 1 {
		s := make([]Item[float64, int], n)
		for i := range s {
			s[i].Key = keys[i]
		}
		for _, p := range probes {
			i, found := naturalSearch(s, Item[float64, int]{Key: p})
			wi, wfound := slices.BinarySearchFunc(s, p, func(it Item[float64, int], k float64) int { return cmp.Compare(it.Key, k) })
			require.Equal(t, wi, i, "n=%d probe %v", n, p)
			require.Equal(t, wfound, found, "n=%d probe %v", n, p)
		}
	}
}

// TestTree_WalkAfterIsStrict checks a walk resuming After a key, present or
// not, in both directions and for both kinds of tree.
func TestTree_WalkAfterIsStrict(t *testing.T) {
	trees := map[string]*Tree[int, int]{
		"ordered": NewOrdered[int, int](),
		"compare": NewCompare[int, int](cmp.Compare[int]),
	}
	for name, tr := range trees {
		for k := range 500 {
			tr.Put(2*k, k)
		}
		collect := func(s Span[int], desc bool) []int {
			var out []int
			tr.Walk(s, desc, func(k, _ int) bool { out = append(out, k); return true })
			return out
		}
		up := collect(Span[int]{From: 10, HasFrom: true, After: true, To: 20, HasTo: true}, false)
		require.Equal(t, []int{12, 14, 16, 18}, up, name)
		up = collect(Span[int]{From: 11, HasFrom: true, After: true, To: 16, HasTo: true}, false)
		require.Equal(t, []int{12, 14}, up, name)
		down := collect(Span[int]{From: 10, HasFrom: true, After: true}, true)
		require.Equal(t, []int{8, 6, 4, 2, 0}, down, name)
		down = collect(Span[int]{From: 10, HasFrom: true}, true)
		require.Equal(t, []int{10, 8, 6, 4, 2, 0}, down, name)
		all := collect(Span[int]{}, false)
		require.Len(t, all, 500, name)
		require.True(t, slices.IsSorted(all), name)
		it, ok := tr.Next(998, false)
		require.False(t, ok, name)
		it, ok = tr.Next(997, false)
		require.True(t, ok, name)
		require.Equal(t, 998, it.Key, name)
		it, ok = tr.Next(0, true)
		require.False(t, ok, name)
		require.Zero(t, it, name)
	}
}
