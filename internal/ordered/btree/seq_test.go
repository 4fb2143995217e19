package btree

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets/internal/testseed"
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
			got, ok, valid := tr.GetSeq(k, &seq, 0)
			require.True(t, valid, "n=%d key %d", n, k)
			require.Equal(t, wok, ok, "n=%d key %d", n, k)
			require.Equal(t, want, got, "n=%d key %d", n, k)
		}
		_, _, valid := tr.GetSeq(0, &seq, 2) // seq moved before the read began
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

// TestGetSeqInt_MatchesGet checks GetSeqInt against Get on trees of every
// height up to four, at degree 2, 32 (nodes past the 8-key runs CountBelow
// counts and the 16-item runs RunBelow counts) and ets's 64 (leaf blocks,
// searched with BlockBelow, but for a first root), with leaves counted and
// halved: keys present (in inner nodes and in leaves), absent,
// beyond both ends and at the extremes of int64; uint8 keys whose order
// differs from their signed one; and a counter that moved.
func TestGetSeqInt_MatchesGet(t *testing.T) {
	less := func(a, b Item[int64, int]) bool { return a.Key < b.Key }
	for _, degree := range []int{2, 32, 64} {
		for _, n := range []int{0, 1, 5, 7, 100, 3000, 100_000} {
			tr := blocks(NewG(degree, less))
			tr.ReplaceOrInsert(Item[int64, int]{Key: math.MinInt64, Value: -1})
			tr.ReplaceOrInsert(Item[int64, int]{Key: math.MaxInt64, Value: -2})
			for k := range n {
				tr.ReplaceOrInsert(Item[int64, int]{Key: int64(2 * k), Value: k})
			}
			probes := []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1, math.MaxInt64}
			for k := -1; k <= 2*n; k += 1 + n/3000 {
				probes = append(probes, int64(k))
			}
			var seq atomic.Uint64
			for _, cachedLeaves := range []bool{false, true} {
				for _, k := range probes {
					want, wok := tr.Get(Item[int64, int]{Key: k})
					got, ok, valid := GetSeqInt(tr, k, &seq, 0, cachedLeaves)
					require.Equal(t, []any{want, wok, true}, []any{got, ok, valid}, "degree %d, n=%d, key %d, cached leaves %v", degree, n, k, cachedLeaves)
				}
				_, _, valid := GetSeqInt(tr, 0, &seq, 2, cachedLeaves) // seq moved before the read began
				require.False(t, valid, "degree %d, n=%d", degree, n)
			}
		}
	}
	u := NewG(2, func(a, b Item[uint8, int]) bool { return a.Key < b.Key })
	for _, k := range []uint8{0, 1, 127, 128, 200, 255} {
		u.ReplaceOrInsert(Item[uint8, int]{Key: k, Value: int(k)})
	}
	var seq atomic.Uint64
	for p := range 256 {
		want, wok := u.Get(Item[uint8, int]{Key: uint8(p)})
		for _, cachedLeaves := range []bool{false, true} {
			got, ok, valid := GetSeqInt(u, uint8(p), &seq, 0, cachedLeaves)
			require.Equal(t, []any{want, wok, true}, []any{got, ok, valid}, "uint8 key %d, cached leaves %v", p, cachedLeaves)
		}
	}
}

// TestGetSeqInt_SearchesAndTornNodes checks which search GetSeqInt gives a
// leaf, and what it does with a node no consistent tree holds, as a torn
// read may see: a leaf whose keys a writer is rewriting (out of order) is
// searched with CountBelow when cachedLeaves says it is cached and with
// RunBelow otherwise (the two disagree on unsorted keys, so the answers tell
// them apart), whatever either returns is in range, and an inner node with
// fewer children than its items need gives an invalid read, not a fault.
func TestGetSeqInt_SearchesAndTornNodes(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	tr := NewG(32, func(a, b Item[int64, int]) bool { return a.Key < b.Key })
	for k := range 50 { // one leaf, the root
		tr.ReplaceOrInsert(Item[int64, int]{Key: int64(k)})
	}
	require.Empty(t, tr.root.children)
	var seq atomic.Uint64
	differ := 0
	for range 200 {
		s := tr.root.items
		for i := range s {
			s[i].Key = int64(r.IntN(60)) // out of order: a writer's work seen half done
		}
		for k := int64(-1); k <= 60; k++ {
			ic, ir := CountBelow(s, k), RunBelow(s, k)
			require.True(t, ic >= 0 && ic <= len(s) && ir >= 0 && ir <= len(s), "key %d: %d, %d", k, ic, ir)
			for _, c := range []struct {
				cached bool
				i      int
			}{{true, ic}, {false, ir}} {
				wok := c.i < len(s) && s[c.i].Key == k
				it, ok, valid := GetSeqInt(tr, k, &seq, 0, c.cached)
				require.True(t, valid)
				require.Equal(t, wok, ok, "key %d, cached leaves %v, keys %v", k, c.cached, s)
				if ok {
					require.Equal(t, k, it.Key)
				}
			}
			if (ic < len(s) && s[ic].Key == k) != (ir < len(s) && s[ir].Key == k) {
				differ++
			}
		}
	}
	require.Positive(t, differ, "no key told the two searches apart")

	// An inner node with as many children as items: a key above them all
	// indexes one past the last child.
	inner := NewG(32, func(a, b Item[int64, int]) bool { return a.Key < b.Key })
	for k := range 200 {
		inner.ReplaceOrInsert(Item[int64, int]{Key: int64(k)})
	}
	require.NotEmpty(t, inner.root.children)
	inner.root.children = inner.root.children[:len(inner.root.items)]
	_, _, valid := GetSeqInt(inner, 1000, &seq, 0, false)
	require.False(t, valid, "an inner node short of a child")

	// A leaf block whose items slice is not its block's, which only a bug
	// could make: its lookups are invalid, not answered from the block.
	bt := blocks(NewG(64, func(a, b Item[int64, int]) bool { return a.Key < b.Key }))
	for k := range 1000 {
		bt.ReplaceOrInsert(Item[int64, int]{Key: int64(2 * k), Value: k})
	}
	leaf := bt.root.children[0]
	require.Equal(t, halfLeaf, leaf.block) // keys in order: the first leaf took none after its split
	last := leaf.items[len(leaf.items)-1].Key
	_, ok, valid := GetSeqInt(bt, last, &seq, 0, false)
	require.True(t, ok && valid, "the block's own items")
	leaf.items = slices.Clone(leaf.items)
	_, _, valid = GetSeqInt(bt, last, &seq, 0, false)
	require.False(t, valid, "a block's node with items elsewhere")
	_, ok, valid = GetSeqInt(bt, last, &seq, 0, true)
	require.True(t, ok && valid, "counted leaves do not use the block")
	for k := range 4 { // the first leaf's 64th to 67th items: room moves it into a leafBlock
		bt.ReplaceOrInsert(Item[int64, int]{Key: int64(2*k + 1), Value: k})
	}
	leaf = bt.root.children[0]
	require.Equal(t, fullLeaf, leaf.block)
	last = leaf.items[len(leaf.items)-1].Key
	_, ok, valid = GetSeqInt(bt, last, &seq, 0, false)
	require.True(t, ok && valid, "the block's own items")
	leaf.items = slices.Clone(leaf.items)
	_, _, valid = GetSeqInt(bt, last, &seq, 0, false)
	require.False(t, valid, "a block's node with items elsewhere")

	// Which search a block gets: on keys a writer is rewriting (out of
	// order), GetSeqInt answers as BlockBelow or HalfBelow does, which
	// RunBelow does not always.
	bt = blocks(NewG(64, func(a, b Item[int64, int]) bool { return a.Key < b.Key }))
	for k := range 1000 {
		bt.ReplaceOrInsert(Item[int64, int]{Key: int64(2 * k), Value: k})
	}
	bt.ReplaceOrInsert(Item[int64, int]{Key: 1}) // 64 items in the first leaf: HalfBelow halves at 31, RunBelow at 32
	first, lastLeaf := bt.root.children[0], bt.root.children[len(bt.root.children)-1]
	require.Equal(t, []uint8{halfLeaf, fullLeaf}, []uint8{first.block, lastLeaf.block})
	for _, c := range []struct {
		leaf   *node[Item[int64, int]]
		lo, hi int64 // the keys the root sends to the leaf
		below  func(n int, k int64) int
	}{
		{first, 0, bt.root.items[0].Key, func(n int, k int64) int {
			return HalfBelow(&(*halfBlock[Item[int64, int]])(unsafe.Pointer(first)).items, n, k)
		}},
		{lastLeaf, bt.root.items[len(bt.root.items)-1].Key + 1, bt.root.items[len(bt.root.items)-1].Key + 1 + int64(len(lastLeaf.items)), func(n int, k int64) int {
			return BlockBelow(&(*leafBlock[Item[int64, int]])(unsafe.Pointer(lastLeaf)).items, n, k)
		}},
	} {
		leaf := c.leaf
		differ := 0
		for range 50 {
			for i := range leaf.items {
				leaf.items[i].Key = c.lo + r.Int64N(c.hi-c.lo)
			}
			for k := c.lo; k < c.hi; k++ {
				ib, ir := c.below(len(leaf.items), k), RunBelow(leaf.items, k)
				wok := ib < len(leaf.items) && leaf.items[ib].Key == k
				_, ok, valid := GetSeqInt(bt, k, &seq, 0, false)
				require.True(t, valid)
				require.Equal(t, wok, ok, "block kind %d, key %d", leaf.block, k)
				if wok != (ir < len(leaf.items) && leaf.items[ir].Key == k) {
					differ++
				}
			}
		}
		require.Positive(t, differ, "block kind %d: no key told the searches apart", leaf.block)
	}
}

// TestBlockBelow_MatchesNaturalSearch checks BlockBelow and HalfBelow
// against a binary search of the first n slots of a block, for every n up
// to the block's size and keys below, between, on and above them, with the
// slots past n holding the least, zero and the greatest keys in turn (keys
// removed, zero values): they must never count, nor shift the runs counted.
func TestBlockBelow_MatchesNaturalSearch(t *testing.T) {
	var full [leafCap]Item[int64, int]
	var half [halfCap]Item[int64, int]
	for _, c := range []struct {
		a     []Item[int64, int]
		below func(n int, k int64) int
	}{
		{full[:], func(n int, k int64) int { return BlockBelow(&full, n, k) }},
		{half[:], func(n int, k int64) int { return HalfBelow(&half, n, k) }},
	} {
		a := c.a
		for n := 0; n <= len(a); n++ {
			for _, rest := range []int64{math.MinInt64, 0, math.MaxInt64} {
				for j := range a {
					a[j].Key = rest
					if j < n {
						a[j].Key = int64(10 * (j + 1))
					}
				}
				for k := int64(0); k <= int64(10*(n+2)); k += 5 {
					want, _ := slices.BinarySearchFunc(a[:n], k, func(it Item[int64, int], k int64) int { return cmp.Compare(it.Key, k) })
					require.Equal(t, want, c.below(n, k), "%d slots, n=%d, key %d, slots past n %d", len(a), n, k, rest)
				}
			}
		}
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
			func(k int) (kv, bool, bool) { return tr.GetSeq(kv{k: k}, &seq, seq.Load()) },
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

// TestSetIntFind_MatchesBinarySearch runs the same random inserts, updates,
// deletes (of keys, of the least and of the greatest), lookups and walks
// from a key on two trees, one searching its nodes with SetIntFind's
// searches and one with its binary search, at degree 64 with leaf blocks of
// both kinds (with keys random and in order, so that half blocks fill up
// and take a 65th item), and at degrees 2 and 32 without blocks, and checks
// that every answer, the contents and the shapes agree. Replay a failure
// with -seed.
func TestSetIntFind_MatchesBinarySearch(t *testing.T) {
	seed := testseed.Seed(t)
	less := func(a, b Item[int64, int]) bool { return a.Key < b.Key }
	search := func(s []Item[int64, int], it Item[int64, int]) (int, bool) {
		i, found := slices.BinarySearchFunc(s, it, func(a, b Item[int64, int]) int { return cmp.Compare(a.Key, b.Key) })
		return i, found
	}
	for _, degree := range []int{2, 32, 64} {
		for _, inOrder := range []bool{false, true} {
			r := rand.New(rand.NewPCG(seed, uint64(degree)))
			fast := blocks(NewSearchG(degree, less, search, nil))
			SetIntFind(fast, true)
			plain := blocks(NewSearchG(degree, less, search, nil))
			universe := int64(4000)
			key := func(i int) int64 {
				if inOrder && i%2 == 0 {
					return int64(i / 2 % int(universe))
				}
				return r.Int64N(universe)
			}
			for i := range 40_000 {
				k := key(i)
				it := Item[int64, int]{Key: k, Value: i}
				msg := fmt.Sprintf("seed %d, degree %d, in order %v, op %d, key %d", seed, degree, inOrder, i, k)
				var got, want []any
				switch op := r.IntN(100); {
				case op < 45 || i < 3000:
					a, aok := fast.ReplaceOrInsert(it)
					b, bok := plain.ReplaceOrInsert(it)
					got, want = []any{a, aok}, []any{b, bok}
				case op < 80:
					a, aok := fast.Delete(it)
					b, bok := plain.Delete(it)
					got, want = []any{a, aok}, []any{b, bok}
				case op < 82:
					a, aok := fast.DeleteMin()
					b, bok := plain.DeleteMin()
					got, want = []any{a, aok}, []any{b, bok}
				case op < 84:
					a, aok := fast.DeleteMax()
					b, bok := plain.DeleteMax()
					got, want = []any{a, aok}, []any{b, bok}
				case op < 94:
					a, aok := fast.Get(it)
					b, bok := plain.Get(it)
					got, want = []any{a, aok, fast.Has(it)}, []any{b, bok, plain.Has(it)}
				default:
					walk := func(tr *BTreeG[Item[int64, int]]) []any {
						var up, down []any
						tr.AscendGreaterOrEqual(it, func(x Item[int64, int]) bool { up = append(up, x); return len(up) < 5 })
						tr.DescendLessOrEqual(it, func(x Item[int64, int]) bool { down = append(down, x); return len(down) < 5 })
						return []any{up, down}
					}
					got, want = walk(fast), walk(plain)
				}
				require.Equal(t, want, got, msg)
				if i%5000 == 4999 {
					all := func(tr *BTreeG[Item[int64, int]]) (out []Item[int64, int]) {
						tr.Ascend(func(x Item[int64, int]) bool { out = append(out, x); return true })
						return out
					}
					require.Equal(t, all(plain), all(fast), msg)
					checkShape(t, fast, msg)
				}
			}
			require.Equal(t, plain.Len(), fast.Len())
		}
	}
}

// TestFindInt_ForeignItems checks that findInt searches a block whose items
// slice is not its own, which no writer makes, as a plain node: right,
// whatever the block's own slots hold.
func TestFindInt_ForeignItems(t *testing.T) {
	for _, kind := range []uint8{fullLeaf, halfLeaf} {
		n := (&copyOnWriteContext[Item[int64, int]]{blocks: true}).newLeaf(map[uint8]int{fullLeaf: leafCap, halfLeaf: halfCap}[kind])
		require.Equal(t, kind, n.block)
		for k := range 40 {
			n.items = append(n.items, Item[int64, int]{Key: int64(100 + k)}) // the block's slots: keys 100 on
		}
		foreign := make([]Item[int64, int], 40)
		for k := range foreign {
			foreign[k] = Item[int64, int]{Key: int64(2 * k)}
		}
		n.items = foreign
		for k := int64(-1); k < 90; k++ {
			i, found := findInt(n, Item[int64, int]{Key: k})
			want := int(max(0, min(40, (k+1)/2)))
			require.Equal(t, []any{want, k >= 0 && k < 80 && k%2 == 0}, []any{i, found}, "kind %d, key %d", kind, k)
		}
	}
}
