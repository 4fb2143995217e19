package btree

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// want is AppendAscend or AppendDescend computed from the sorted keys.
func want(sorted []int, b Bounds[int], desc bool, limit int) []int {
	var out []int
	if desc {
		for _, k := range slices.Backward(sorted) {
			if b.HasFrom && (k > b.From || b.After && k == b.From) {
				continue
			}
			out = append(out, k)
		}
	} else {
		for _, k := range sorted {
			if b.HasFrom && (k < b.From || b.After && k == b.From) {
				continue
			}
			if b.HasTo && k >= b.To {
				break
			}
			out = append(out, k)
		}
	}
	return out[:min(len(out), limit)]
}

// TestAppend_MatchesModel checks both appends on random trees, deep ones
// (degree 2) and wide ones, against a sorted slice, for random bounds and
// limits: every bound on, off, at a present key and between keys.
func TestAppend_MatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, search := range []bool{false, true} {
		for _, degree := range []int{2, 3, 4, 32, 64} {
			for _, size := range []int{0, 1, 2, 5, 17, 100, 1000, 3000} {
				t.Run(fmt.Sprintf("search=%v/degree=%d/size=%d", search, degree, size), func(t *testing.T) {
					testAppend(t, r, search, degree, size)
				})
			}
		}
	}
}

// intSearch is a node search for NewSearchG.
func intSearch(s []int, k int) (int, bool) {
	i, found := slices.BinarySearch(s, k)
	return i, found
}

// intSearchSeq is intSearch for readers without the lock.
func intSearchSeq(s []int, k int, seq *atomic.Uint64, start uint64) (int, bool, bool) {
	i, found := slices.BinarySearch(s, k)
	return i, found, seq.Load() == start
}

func testAppend(t *testing.T, r *rand.Rand, search bool, degree, size int) {
	tr := blocks(NewG(degree, cmp.Less[int]))
	if search {
		tr = NewSearchG(degree, cmp.Less[int], intSearch, intSearchSeq)
		tr.SetCachedSeq(intSearchSeq)
	}
	present := map[int]bool{}
	for range size {
		k := 2 * r.IntN(2*size+1) // even keys: odd bounds fall between keys
		tr.ReplaceOrInsert(k)
		present[k] = true
	}
	for range size / 3 { // deletions rebalance the nodes
		k := 2 * r.IntN(2*size+1)
		tr.Delete(k)
		delete(present, k)
	}
	sorted := make([]int, 0, len(present))
	for k := range present {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	require.Equal(t, len(sorted), tr.Len())
	for range 400 {
		b := Bounds[int]{
			From: r.IntN(4*size+6) - 3, HasFrom: r.IntN(4) > 0, After: r.IntN(2) == 0,
			To: r.IntN(4*size+6) - 3, HasTo: r.IntN(3) > 0,
		}
		limit := 1 + r.IntN(len(sorted)+3)
		prefix := []int{-100, -200}[:r.IntN(3)]
		desc := r.IntN(2) == 0
		var got []int
		if desc {
			got = tr.AppendDescend(slices.Clone(prefix), &b, limit+len(prefix))
		} else {
			got = tr.AppendAscend(slices.Clone(prefix), &b, limit+len(prefix))
		}
		exp := append(slices.Clone(prefix), want(sorted, b, desc, limit)...)
		require.Equal(t, exp, got, "bounds %+v desc %v limit %d", b, desc, limit)
		// The Seq forms, with no writer about, copy the same, whichever
		// search they use on leaves; and nothing valid once seq moved.
		var seq atomic.Uint64
		cached := r.IntN(2) == 0
		appendSeq := tr.AppendAscendSeq
		if desc {
			appendSeq = tr.AppendDescendSeq
		}
		got, valid := appendSeq(slices.Clone(prefix), &b, limit+len(prefix), &seq, 0, cached)
		require.True(t, valid)
		require.Equal(t, exp, got, "Seq: bounds %+v desc %v limit %d cached %v", b, desc, limit, cached)
		if size > 0 {
			_, valid = appendSeq(slices.Clone(prefix), &b, limit+len(prefix), &seq, 2, cached)
			require.False(t, valid, "seq moved before the walk")
		}
	}
}

// TestFind_MatchesLinearSearch checks the closure-free binary search: the
// index of the first item not less than the key, and whether it equals it.
func TestFind_MatchesLinearSearch(t *testing.T) {
	for n := range 70 {
		s := make(items[int], n)
		for i := range s {
			s[i] = 2 * i
		}
		for k := -1; k <= 2*n+1; k++ {
			i, found := s.find(k, cmp.Less[int])
			wantI := slices.IndexFunc(s, func(x int) bool { return x >= k })
			if wantI < 0 {
				wantI = n
			}
			require.Equal(t, wantI, i, "n=%d k=%d", n, k)
			require.Equal(t, k%2 == 0 && k >= 0 && k < 2*n, found, "n=%d k=%d", n, k)
		}
	}
}

func items2slice(tr *BTreeG[int]) []int {
	var out []int
	tr.Ascend(func(k int) bool { out = append(out, k); return true })
	return out
}

// TestSplit_Partitions splits random trees of every shape, checks the halves
// against the whole, then writes to the halves and checks each against its
// own model: they share no node.
func TestSplit_Partitions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, degree := range []int{2, 3, 32, 64} {
		for _, size := range []int{0, 1, 2, 3, 10, 63, 64, 200, 5000} {
			for range 3 {
				tr := blocks(NewG(degree, cmp.Less[int]))
				for range size {
					tr.ReplaceOrInsert(r.IntN(4 * size))
				}
				all := items2slice(tr)
				left, right, pivot, ok := tr.Split()
				if len(all) < 2 {
					require.False(t, ok)
					continue
				}
				require.True(t, ok)
				l, rt := items2slice(left), items2slice(right)
				require.Equal(t, all, append(slices.Clone(l), rt...), "degree %d size %d", degree, size)
				require.Equal(t, len(l), left.Len())
				require.Equal(t, len(rt), right.Len())
				require.NotEmpty(t, l)
				require.Equal(t, pivot, rt[0])
				for i := range min(3*size, 300) {
					left.ReplaceOrInsert(-1 - i)
					l = append([]int{-1 - i}, l...)
					right.Delete(rt[0])
					rt = rt[1:]
					right.ReplaceOrInsert(10*size + i)
					rt = append(rt, 10*size+i)
				}
				require.Equal(t, l, items2slice(left))
				require.Equal(t, rt, items2slice(right))
				require.Equal(t, len(l), left.Len())
				require.Equal(t, len(rt), right.Len())
				checkShape(t, left, fmt.Sprintf("left, degree %d size %d", degree, size))
				checkShape(t, right, fmt.Sprintf("right, degree %d size %d", degree, size))
			}
		}
	}
}

// checkShape fails unless every node of tr holds at most 2*degree-1 items,
// at least degree-1 but for the root, and one child more than items (or
// none), and every leaf is at the same depth; and unless every block (see
// newLeaf) is a leaf whose items are in its block, and, in a tree of
// blocks, every leaf but a lone root is a block.
func checkShape[T any](t *testing.T, tr *BTreeG[T], msg string) {
	leafDepth := -1
	plain := 0
	var walk func(n *node[T], depth int)
	walk = func(n *node[T], depth int) {
		switch n.block {
		case fullLeaf:
			b := (*leafBlock[T])(unsafe.Pointer(n))
			require.Empty(t, n.children, msg)
			require.Same(t, &b.items[0], unsafe.SliceData(n.items[:leafCap]), msg)
		case halfLeaf:
			b := (*halfBlock[T])(unsafe.Pointer(n))
			require.Empty(t, n.children, msg)
			require.Same(t, &b.items[0], unsafe.SliceData(n.items[:halfCap]), msg)
		default:
			if len(n.children) == 0 && depth > 0 {
				plain++
			}
		}
		require.LessOrEqual(t, len(n.items), tr.maxItems(), msg)
		if depth > 0 {
			require.GreaterOrEqual(t, len(n.items), tr.minItems(), msg)
		}
		if len(n.children) == 0 {
			if leafDepth < 0 {
				leafDepth = depth
			}
			require.Equal(t, leafDepth, depth, msg)
			return
		}
		require.Len(t, n.children, len(n.items)+1, msg)
		require.NotEmpty(t, n.items, msg)
		for _, c := range n.children {
			walk(c, depth+1)
		}
	}
	if tr.root != nil {
		walk(tr.root, 0)
	}
	if tr.cow.blocks {
		require.Zero(t, plain, "%s: leaves that are not blocks", msg)
	}
}

// TestConcat_Joins concatenates random adjacent trees of every shape, small
// into large and large into small, emptied ones included, checks the result
// against the two models and its shape, then writes to it.
func TestConcat_Joins(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	sizes := []int{0, 1, 2, 62, 63, 64, 200, 3000, 10_000} // 10,000+10,000 at degree 64: two roots of two levels overflow one node
	for _, degree := range []int{2, 3, 32, 64} {
		for _, ls := range sizes {
			for _, rs := range sizes {
				msg := fmt.Sprintf("degree %d sizes %d+%d", degree, ls, rs)
				left, right := blocks(NewG(degree, cmp.Less[int])), blocks(NewG(degree, cmp.Less[int]))
				for range ls {
					left.ReplaceOrInsert(r.IntN(4 * ls))
				}
				for range rs {
					right.ReplaceOrInsert(4*ls + r.IntN(4*rs))
				}
				if r.IntN(4) == 0 { // an emptied tree keeps an empty root
					for _, k := range items2slice(left) {
						left.Delete(k)
					}
				}
				all := append(items2slice(left), items2slice(right)...)
				tr := Concat(left, right)
				require.Equal(t, all, items2slice(tr), msg)
				require.Equal(t, len(all), tr.Len(), msg)
				checkShape(t, tr, msg)
				for i := range 200 {
					tr.ReplaceOrInsert(-1 - i)
					tr.ReplaceOrInsert(1<<20 + i)
					if len(all) > 0 {
						tr.Delete(all[r.IntN(len(all))])
					}
				}
				checkShape(t, tr, msg)
				got := items2slice(tr)
				require.True(t, slices.IsSorted(got), msg)
				require.Equal(t, len(got), tr.Len(), msg)
				for i, k := range r.Perm(len(got)) { // deletions steal from and merge underfull nodes
					_, ok := tr.Delete(got[k])
					require.True(t, ok, msg)
					if i%499 == 0 {
						checkShape(t, tr, msg)
					}
				}
				require.Zero(t, tr.Len(), msg)
				require.Empty(t, items2slice(tr), msg)
			}
		}
	}
}

// TestConcat_ChainsWithSplit cuts a tree into pieces with Split and joins
// adjacent pieces again with Concat, at random, inserting and deleting
// within pieces meanwhile, and checks every piece against its model.
func TestConcat_ChainsWithSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, degree := range []int{2, 3, 32, 64} {
		type piece struct {
			tr   *BTreeG[int]
			keys []int
		}
		whole := blocks(NewG(degree, cmp.Less[int]))
		var keys []int
		for k := range 5000 {
			whole.ReplaceOrInsert(4 * k)
			keys = append(keys, 4*k)
		}
		pieces := []piece{{whole, keys}}
		for step := range 1200 {
			msg := fmt.Sprintf("degree %d step %d", degree, step)
			i := r.IntN(len(pieces))
			p := pieces[i]
			switch op := r.IntN(4); {
			case op == 0 && len(p.keys) >= 2:
				left, right, pivot, ok := p.tr.Split()
				require.True(t, ok, msg)
				j := slices.Index(p.keys, pivot)
				pieces = slices.Replace(pieces, i, i+1, piece{left, p.keys[:j:j]}, piece{right, p.keys[j:]})
			case op == 1 && i+1 < len(pieces):
				q := pieces[i+1]
				pieces = slices.Replace(pieces, i, i+2, piece{Concat(p.tr, q.tr), slices.Concat(p.keys, q.keys)})
			case op == 2 && len(p.keys) >= 2 && p.keys[len(p.keys)-1]-p.keys[0] >= 2:
				k := p.keys[0] + 1 + r.IntN(p.keys[len(p.keys)-1]-p.keys[0]-1)
				if _, had := p.tr.ReplaceOrInsert(k); !had {
					j, _ := slices.BinarySearch(p.keys, k)
					pieces[i].keys = slices.Insert(p.keys, j, k)
				}
			case op == 3 && len(p.keys) > 0:
				j := r.IntN(len(p.keys))
				_, ok := p.tr.Delete(p.keys[j])
				require.True(t, ok, msg)
				pieces[i].keys = slices.Delete(p.keys, j, j+1)
			}
			for _, p := range pieces {
				if step%100 == 0 || len(p.keys) < 64 {
					require.Equal(t, fmt.Sprint(p.keys), fmt.Sprint(items2slice(p.tr)), msg) // nil and empty alike
					require.Equal(t, len(p.keys), p.tr.Len(), msg)
					checkShape(t, p.tr, msg)
				}
			}
		}
	}
}

// blocks returns tr with leaf blocks (ignored but at degree 64), as ets's
// trees of integer keys have them: the tests of its shape then check them.
func blocks[T any](tr *BTreeG[T]) *BTreeG[T] {
	tr.SetLeafBlocks(true)
	return tr
}

// TestSetLeafBlocks checks that trees have no blocks by default, nor at a
// degree other than 64, and that a tree of blocks has only blocks for
// leaves once it has split, half blocks where inserts in key order left
// halves behind, and leafBlocks where a leaf took a 65th item.
func TestSetLeafBlocks(t *testing.T) {
	kinds := func(tr *BTreeG[int]) map[uint8]int {
		m := map[uint8]int{}
		var walk func(n *node[int])
		walk = func(n *node[int]) {
			if len(n.children) == 0 {
				m[n.block]++
			}
			for _, c := range n.children {
				walk(c)
			}
		}
		walk(tr.root)
		return m
	}
	fill := func(tr *BTreeG[int]) *BTreeG[int] {
		for k := range 5000 {
			tr.ReplaceOrInsert(2 * k)
		}
		return tr
	}
	require.Equal(t, []uint8{plainNode}, slices.Collect(maps.Keys(kinds(fill(NewG(64, cmp.Less[int]))))), "by default")
	require.Equal(t, []uint8{plainNode}, slices.Collect(maps.Keys(kinds(fill(blocks(NewG(32, cmp.Less[int])))))), "at degree 32")
	off := blocks(NewG(64, cmp.Less[int]))
	off.SetLeafBlocks(false)
	require.Equal(t, []uint8{plainNode}, slices.Collect(maps.Keys(kinds(fill(off)))), "turned off")
	tr := fill(blocks(NewG(64, cmp.Less[int])))
	m := kinds(tr)
	require.Zero(t, m[plainNode])
	require.Greater(t, m[halfLeaf], 70, "the halves keys in order leave behind")
	require.LessOrEqual(t, m[fullLeaf], 1, "the last leaf, if it took a 65th")
	for k := range 5000 {
		tr.ReplaceOrInsert(2*k + 1)
	}
	checkShape(t, tr, "odd keys added")
	m = kinds(tr)
	require.Zero(t, m[plainNode])
	require.Greater(t, m[fullLeaf], m[halfLeaf], "leaves that took more than 64 items")

	// Updates, and a key added to a half block and deleted again, leave
	// half blocks half (a 64th item fits; only a 65th moves a block).
	ordered := fill(blocks(NewG(64, cmp.Less[int])))
	before := kinds(ordered)
	for k := range 5000 {
		ordered.ReplaceOrInsert(2 * k)
	}
	for k := 0; k < 5000; k += 63 {
		ordered.ReplaceOrInsert(2*k + 1)
		ordered.ReplaceOrInsert(2*k + 1) // an update of a half block's 64th item
		ordered.Delete(2*k + 1)
	}
	require.Equal(t, before, kinds(ordered), "updates, inserts and deletes of a 64th item")

	// Pushes at the end (Concat of small trees) and a root leaf that splits
	// leave behind half blocks too.
	pushed := fill(blocks(NewG(64, cmp.Less[int])))
	for j := range 30 {
		small := blocks(NewG(64, cmp.Less[int]))
		for k := range 100 {
			small.ReplaceOrInsert(10_000 + 100*j + k)
		}
		pushed = Concat(pushed, small)
	}
	checkShape(t, pushed, "pushed")
	require.LessOrEqual(t, kinds(pushed)[fullLeaf], 1, "pushed at the end")
	root := blocks(NewG(64, cmp.Less[int]))
	for k := range 200 {
		root.ReplaceOrInsert(k)
	}
	for k := range 150 {
		root.Delete(k)
	}
	require.Empty(t, root.root.children, "the root is a leaf again")
	require.NotEqual(t, plainNode, root.root.block)
	for k := 200; k < 400; k++ {
		root.ReplaceOrInsert(k)
	}
	require.Equal(t, halfLeaf, root.root.children[0].block, "the root leaf's first half, split in key order")

	// Deletes merge leaves into half blocks that take a neighbour's items.
	half := fill(blocks(NewG(64, cmp.Less[int])))
	for k := range 5000 {
		if k%3 != 0 {
			half.Delete(2 * k)
			checkShape(t, half, fmt.Sprintf("key %d deleted", 2*k))
		}
	}
	require.Equal(t, 1667, half.Len())

	// Clear gives the free list its plain nodes, past the blocks it drops.
	tr.Clear(true)
	require.NotEmpty(t, tr.cow.freelist.freelist)
}
