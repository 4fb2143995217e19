package btree

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestGetSeq_MatchesGet checks GetSeq against Get on trees of every height
// up to four, for keys present and absent, with no writer about.
func TestGetSeq_MatchesGet(t *testing.T) {
	for _, n := range []int{0, 1, 5, 7, 100, 3000} {
		tr := NewG(2, func(a, b int) bool { return a < b })
		for k := range n {
			tr.ReplaceOrInsert(2 * k)
		}
		var seq atomic.Uint64
		for k := -1; k <= 2*n; k++ {
			want, wok := tr.Get(k)
			got, ok, valid := tr.GetSeq(k, &seq, 0, false)
			require.True(t, valid, "n=%d key %d", n, k)
			require.Equal(t, wok, ok, "n=%d key %d", n, k)
			require.Equal(t, want, got, "n=%d key %d", n, k)
		}
		_, _, valid := tr.GetSeq(0, &seq, 2, false) // seq moved before the read began
		require.False(t, valid, "n=%d", n)
	}
}

// countedTree returns a tree of degree 2 of the even keys below 6000, at
// least four levels deep, its keys, its depth, and the count of calls of
// its second search (SetCachedSeq, a binary search that counts itself).
func countedTree(t *testing.T) (*BTreeG[int], []int, int, *int) {
	tr := NewG(2, func(a, b int) bool { return a < b })
	var sorted []int
	for k := range 3000 {
		tr.ReplaceOrInsert(2 * k)
		sorted = append(sorted, 2*k)
	}
	levels := 1
	for n := tr.root; len(n.children) > 0; n = n.children[0] {
		levels++
	}
	require.Greater(t, levels, 3)
	calls := new(int)
	tr.SetCachedSeq(func(s []int, item int, seq *atomic.Uint64, start uint64) (int, bool, bool) {
		*calls++
		i, found := slices.BinarySearch(s, item)
		return i, found, seq.Load() == start
	})
	return tr, sorted, levels, calls
}

// TestGetSeq_CachedSeq checks that GetSeq searches inner nodes with the
// search given to SetCachedSeq, and leaves only when told they are cached:
// an absent key's lookup visits every level, so the cached search runs once
// per inner level, plus once for the leaf when leaves are cached.
func TestGetSeq_CachedSeq(t *testing.T) {
	tr, _, levels, calls := countedTree(t)
	var seq atomic.Uint64
	for _, cachedLeaves := range []bool{false, true} {
		for k := -1; k <= 6000; k++ {
			*calls = 0
			want, wok := tr.Get(k)
			got, ok, valid := tr.GetSeq(k, &seq, 0, cachedLeaves)
			require.Equal(t, []any{want, wok, true}, []any{got, ok, valid}, "key %d, cached leaves %v", k, cachedLeaves)
			if k%2 != 0 {
				want := levels - 1
				if cachedLeaves {
					want = levels
				}
				require.Equal(t, want, *calls, "absent key %d, cached leaves %v", k, cachedLeaves)
			}
		}
	}
}

// TestGetSeq_LeafSeq checks that GetSeq searches leaves with the search
// given to SetLeafSeq when it is not told they are cached, and nothing else:
// an absent key's lookup searches one leaf, and inner nodes keep the
// cached search (or, in a tree without one, the tree's own); cached leaves,
// SeekSeq and the append walks do not use it.
func TestGetSeq_LeafSeq(t *testing.T) {
	tr, sorted, levels, calls := countedTree(t)
	leafCalls := 0
	tr.SetLeafSeq(func(s []int, item int, seq *atomic.Uint64, start uint64) (int, bool, bool) {
		leafCalls++
		i, found := slices.BinarySearch(s, item)
		return i, found, seq.Load() == start
	})
	var seq atomic.Uint64
	for _, cachedLeaves := range []bool{false, true} {
		for k := -1; k <= 6000; k++ {
			*calls, leafCalls = 0, 0
			want, wok := tr.Get(k)
			got, ok, valid := tr.GetSeq(k, &seq, 0, cachedLeaves)
			msg := fmt.Sprintf("key %d, cached leaves %v", k, cachedLeaves)
			require.Equal(t, []any{want, wok, true}, []any{got, ok, valid}, msg)
			if k%2 != 0 {
				wantCached, wantLeaf := levels-1, 1
				if cachedLeaves {
					wantCached, wantLeaf = levels, 0
				}
				require.Equal(t, []int{wantCached, wantLeaf}, []int{*calls, leafCalls}, msg)
			}
		}
	}
	for k := -1; k <= 6000; k++ {
		leafCalls = 0
		want, wok := seek(sorted, k, true, false, false)
		got, ok, valid := tr.SeekSeq(k, true, false, false, &seq, 0, false)
		require.Equal(t, []any{want, wok, true}, []any{got, ok, valid}, "seek %d", k)
		b := Bounds[int]{From: k, HasFrom: true}
		_, valid = tr.AppendAscendSeq(nil, &b, 3, &seq, 0, false)
		require.True(t, valid, "ascend from %d", k)
		_, valid = tr.AppendDescendSeq(nil, &b, 3, &seq, 0, false)
		require.True(t, valid, "descend from %d", k)
		require.Zero(t, leafCalls, "seek, ascend and descend from %d", k)
	}

	// Without a cached search, inner nodes keep the tree's own: the leaf
	// search runs once a lookup, on the leaf.
	plain := NewG(2, func(a, b int) bool { return a < b })
	for _, k := range sorted {
		plain.ReplaceOrInsert(k)
	}
	plain.SetLeafSeq(func(s []int, item int, seq *atomic.Uint64, start uint64) (int, bool, bool) {
		leafCalls++
		i, found := slices.BinarySearch(s, item)
		return i, found, seq.Load() == start
	})
	require.True(t, plain.HasLeafSeq())
	for k := -1; k <= 6000; k += 2 { // absent keys: every lookup reaches a leaf
		leafCalls = 0
		_, ok, valid := plain.GetSeq(k, &seq, 0, false)
		require.Equal(t, []any{false, true, 1}, []any{ok, valid, leafCalls}, "key %d, no cached search", k)
	}
}

// TestSeekSeq_CountLeaves checks SeekSeq's second search on leaves: with
// countLeaves the leaf, and only the leaf, is searched with it, and every
// seek still finds what the model says.
func TestSeekSeq_CountLeaves(t *testing.T) {
	tr, sorted, _, calls := countedTree(t)
	var seq atomic.Uint64
	for _, countLeaves := range []bool{false, true} {
		for _, after := range []bool{false, true} {
			for _, desc := range []bool{false, true} {
				for k := -1; k <= 6000; k++ {
					*calls = 0
					want, wok := seek(sorted, k, true, after, desc)
					got, ok, valid := tr.SeekSeq(k, true, after, desc, &seq, 0, countLeaves)
					msg := fmt.Sprintf("key %d, after %v, desc %v, count leaves %v", k, after, desc, countLeaves)
					require.Equal(t, []any{want, wok, true}, []any{got, ok, valid}, msg)
					switch {
					case !countLeaves:
						require.Zero(t, *calls, msg)
					case !(ok && got == k && !after): // (a key found in an inner node ends the seek there)
						require.Equal(t, 1, *calls, msg)
					}
				}
			}
		}
	}
}

// seek is SeekSeq computed from the sorted keys.
func seek(sorted []int, key int, hasKey, after, desc bool) (int, bool) {
	if desc {
		for _, k := range slices.Backward(sorted) {
			if !hasKey || k < key || k == key && !after {
				return k, true
			}
		}
		return 0, false
	}
	for _, k := range sorted {
		if !hasKey || k > key || k == key && !after {
			return k, true
		}
	}
	return 0, false
}

// TestSeekSeq_MatchesModel checks SeekSeq against a sorted model on trees
// of every height up to four, for every combination of its flags and keys
// present, absent and beyond both ends.
func TestSeekSeq_MatchesModel(t *testing.T) {
	for _, n := range []int{0, 1, 5, 7, 100, 3000} {
		for _, degree := range []int{2, 8} {
			tr := NewG(degree, func(a, b int) bool { return a < b })
			sorted := make([]int, n)
			for k := range n {
				tr.ReplaceOrInsert(2 * k)
				sorted[k] = 2 * k
			}
			var seq atomic.Uint64
			for k := -1; k <= 2*n; k++ {
				for _, f := range flagSets {
					want, wok := seek(sorted, k, f.hasKey, f.after, f.desc)
					got, ok, valid := tr.SeekSeq(k, f.hasKey, f.after, f.desc, &seq, 0, false)
					require.True(t, valid, "n=%d key %d %+v", n, k, f)
					require.Equal(t, wok, ok, "n=%d key %d %+v", n, k, f)
					require.Equal(t, want, got, "n=%d key %d %+v", n, k, f)
				}
			}
		}
	}
}

// flagSets are SeekSeq's flags, every combination.
var flagSets = func() (fs []struct{ hasKey, after, desc bool }) {
	for i := range 8 {
		fs = append(fs, struct{ hasKey, after, desc bool }{i&1 != 0, i&2 != 0, i&4 != 0})
	}
	return fs
}()

// TestGetSeq_SeesEveryWriteDuringTheRead stands a writer in at every point
// of a GetSeq, a SeekSeq or an AppendAscendSeq or AppendDescendSeq: at its c-th call, for every c, the less function moves seq
// and rewrites every item in the tree, as a writer would: keys move by
// 1000, down or up (staying in order), values become -1; each read's tree is restored
// after it. A read that GetSeq reports valid must have used only what it
// read before the write, so it must find what the tree held before it.
func TestGetSeq_SeesEveryWriteDuringTheRead(t *testing.T) {
	type kv struct{ k, v int }
	var (
		seq              atomic.Uint64
		calls, at, shift int
		tr               *BTreeG[kv]
	)
	rewrite := func(f func(kv) kv) {
		var walk func(n *node[kv])
		walk = func(n *node[kv]) {
			for i := range n.items {
				n.items[i] = f(n.items[i])
			}
			for _, c := range n.children {
				walk(c)
			}
		}
		walk(tr.root)
	}
	less := func(a, b kv) bool {
		if a.v == -1 || b.v == -1 {
			t.Errorf("less(%v, %v): a rewritten item reached the comparison", a, b)
		}
		calls++
		if calls == at {
			seq.Add(2)
			rewrite(func(x kv) kv { return kv{x.k + shift, -1} })
		}
		return a.k < b.k
	}
	for _, c := range []struct{ degree, shift int }{{2, -1000}, {8, -1000}, {2, 1000}, {8, 1000}} {
		degree := c.degree
		shift = c.shift
		tr, at = NewG(degree, less), 0 // no write while the tree is built
		for k := range 200 {
			tr.ReplaceOrInsert(kv{2 * k, 2*k + 1})
		}
		sorted := make([]int, 200)
		for k := range 200 {
			sorted[k] = 2 * k
		}
		// The reads: Get, and SeekSeq with a key (without one it compares
		// nothing, so no write can be stood in during it).
		type read struct {
			name string
			do   func(k int) (kv, bool, bool)
			want func(k int) (int, bool)
		}
		reads := []read{{
			"get",
			func(k int) (kv, bool, bool) { return tr.GetSeq(kv{k: k}, &seq, seq.Load(), false) },
			func(k int) (int, bool) { return k, k >= 0 && k < 400 && k%2 == 0 },
		}}
		for _, f := range flagSets {
			if f.hasKey {
				reads = append(reads, read{
					fmt.Sprintf("seek-after=%v-desc=%v", f.after, f.desc),
					func(k int) (kv, bool, bool) {
						return tr.SeekSeq(kv{k: k}, true, f.after, f.desc, &seq, seq.Load(), false)
					},
					func(k int) (int, bool) { return seek(sorted, k, true, f.after, f.desc) },
				})
			}
		}
		for _, rd := range reads {
			for _, k := range []int{-1, 0, 1, 77, 200, 201, 398, 399, 400, -1000, -802, 1000, 1398} {
				t.Run(fmt.Sprintf("degree=%d/shift=%d/%s/key=%d", degree, shift, rd.name, k), func(t *testing.T) {
					wk, wok := rd.want(k)
					for at = 1; ; at++ {
						calls = 0
						got, ok, valid := rd.do(k)
						if calls >= at {
							rewrite(func(x kv) kv { return kv{x.k - shift, x.k - shift + 1} })
						}
						if valid {
							require.Equal(t, wok, ok, "key %d, write at comparison %d of %d", k, at, calls)
							if ok {
								require.Equal(t, kv{wk, wk + 1}, got, "key %d, write at comparison %d of %d", k, at, calls)
							}
						}
						if calls < at {
							require.True(t, valid, "no write: key %d", k)
							require.Greater(t, at, 2, "too few comparisons to test: key %d", k)
							return
						}
					}
				})
			}
		}
		// The walks, from a key, up to a bound 40 above it (up only) and
		// for at most eight items: a valid one copied the tree as it was.
		for _, desc := range []bool{false, true} {
			for _, after := range []bool{false, true} {
				for _, k := range []int{-1, 0, 1, 77, 200, 201, 398, 399, 400} {
					t.Run(fmt.Sprintf("degree=%d/shift=%d/walk-after=%v-desc=%v/key=%d", degree, shift, after, desc, k), func(t *testing.T) {
						b := Bounds[kv]{From: kv{k: k}, HasFrom: true, After: after, To: kv{k: k + 40}, HasTo: true}
						var exp []kv
						for _, key := range want(sorted, Bounds[int]{From: k, HasFrom: true, After: after, To: k + 40, HasTo: true}, desc, 8) {
							exp = append(exp, kv{key, key + 1})
						}
						appendSeq := tr.AppendAscendSeq
						if desc {
							appendSeq = tr.AppendDescendSeq
						}
						for at = 1; ; at++ {
							calls = 0
							got, valid := appendSeq(nil, &b, 8, &seq, seq.Load(), false)
							if calls >= at {
								rewrite(func(x kv) kv { return kv{x.k - shift, x.k - shift + 1} })
							}
							if valid {
								require.Equal(t, exp, got, "walk from %d, write at comparison %d of %d", k, at, calls)
							}
							if calls < at {
								require.True(t, valid, "no write: walk from %d", k)
								require.Greater(t, at, 2, "too few comparisons to test: walk from %d", k)
								return
							}
						}
					})
				}
			}
		}
	}
}

// TestBTreeGLayout checks that a tree's length, which every write stores,
// has a cache line of its own, away from the root and cow that readers
// without the lock load.
func TestBTreeGLayout(t *testing.T) {
	var tr BTreeG[int]
	require.Equal(t, uintptr(cacheLine), unsafe.Offsetof(tr.length))
	require.Equal(t, uintptr(2*cacheLine), unsafe.Sizeof(tr))
	require.Less(t, unsafe.Offsetof(tr.cow), uintptr(cacheLine))
	require.Less(t, unsafe.Offsetof(tr.root), uintptr(cacheLine))
}
