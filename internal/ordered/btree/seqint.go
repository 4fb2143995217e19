// Added for ets: lookups without the lock in trees of integer keys.

package btree

import (
	"cmp"
	"sync/atomic"
	"unsafe"
)

// Item is one key and its value: the items of ets's ordered trees. It is
// defined here so that GetSeqInt can read their keys itself, where GetSeq
// calls the tree's search through a function value for each node (and, for
// a search instantiated in another package, through a wrapper that adds
// its dictionary).
type Item[K, V any] struct {
	Key   K
	Value V
}

// GetSeqInt is GetSeq for trees of Items whose keys are integers, ordered by
// <, read without the lock under the same contract (seq, start, valid). K
// must be an integer type: its keys are compared as they are read, torn or
// not, which a torn string could turn into a fault and a NaN into a wrong
// order. It counts the keys below key in inner nodes (CountBelow), and in
// leaves too if cachedLeaves says they are likely in the processor's cache;
// other leaves it searches at fixed places of their block (BlockBelow,
// HalfBelow), or, if they are plain nodes (a tree without blocks, a first
// root), with RunBelow. A block whose items slice is not its own, which no
// writer makes, reads invalid: the caller takes the lock. It checks seq
// once a level, after it has copied the node's slices and before it
// searches them, and once at the end: an integer read while a writer
// stores it is a wrong number, never a fault, and the index a search
// returns is in range whatever the keys it read. Before blocks (measured on
// plain leaves, with RunBelow), lookups of 1e6 int64 keys took 1,013
// instructions through it against 1,191 through GetSeq with the same
// searches (callgrind, twenty-second session; 1,204 in the twenty-first's
// count), and 2-4% less time (a scratch copy of ordered's
// BenchmarkTree_LeafSearches, GetSeq and GetSeqInt taking turns); 908 once
// CountBelow's last round was spelled out.
func GetSeqInt[K cmp.Ordered, V any](t *BTreeG[Item[K, V]], key K, seq *atomic.Uint64, start uint64, cachedLeaves bool) (out Item[K, V], found, valid bool) {
	n := t.root
	for n != nil {
		// As in GetSeq: the slices are copied before seq is checked, so
		// that a check that passes vouches for both.
		items, children := n.items, n.children
		if seq.Load() != start {
			return out, false, false
		}
		var i int
		switch {
		case len(children) > 0 || cachedLeaves:
			i = CountBelow(items, key)
		case n.block == fullLeaf:
			b := (*leafBlock[Item[K, V]])(unsafe.Pointer(n))
			if unsafe.SliceData(items) != &b.items[0] || len(items) > len(b.items) {
				return out, false, false // not the block's items: a bug
			}
			i = BlockBelow(&b.items, len(items), key)
		case n.block == halfLeaf:
			b := (*halfBlock[Item[K, V]])(unsafe.Pointer(n))
			if unsafe.SliceData(items) != &b.items[0] || len(items) > len(b.items) {
				return out, false, false
			}
			i = HalfBelow(&b.items, len(items), key)
		default:
			i = RunBelow(items, key)
		}
		if i < len(items) && items[i].Key == key {
			out = items[i]
			return out, true, seq.Load() == start
		}
		if len(children) == 0 {
			return out, false, seq.Load() == start
		}
		if i >= len(children) {
			return out, false, false // not a consistent node: only a torn read gets here
		}
		n = children[i]
	}
	return out, false, seq.Load() == start
}

// SetIntFind says whether the node searches of t's writers and of its
// readers under the lock (Get, Has, the Ascend and Descend families; not
// the Append walks nor Search) go through findInt rather than the tree's
// binary search (NewSearchG's search): a leaf block at its fixed offsets
// (BlockBelow, HalfBelow), every other node by counting (CountBelow). t's
// items must be Items whose keys are integers ordered by <, as GetSeqInt's.
// A binary search waits for each comparison and mispredicts about half of
// them; under the lock nothing is torn, so no seq is checked. It is set on
// t's copy-on-write context, which each node names and which Split's halves
// and the trees its context makes share. Inserts and deletes of random
// int64 keys took 0.78-0.79 of the binary search's time on trees of 1e3
// keys, 0.74-0.75 on 1e5 and 0.88-0.92 on 1e6 (ordered's
// BenchmarkTree_WriteSearches, four runs); counting the leaves too was level
// on 1e3 keys (0.77-0.78 against 0.79 in the same runs) and slower on 1e5
// (0.78-0.82 against 0.72-0.74) and 1e6 (0.97-1.10 against 0.88-0.97),
// whose leaves are not all in the cache. (Added for ets.)
func SetIntFind[K cmp.Ordered, V any](t *BTreeG[Item[K, V]], on bool) {
	t.cow.nodeFind = nil
	if on {
		t.cow.nodeFind = findInt[K, V]
	}
}

// IntFind reports whether t's context searches with findInt (SetIntFind).
// (Added for ets.)
func (t *BTreeG[T]) IntFind() bool { return t.cow.nodeFind != nil }

// findInt is SetIntFind's node search: the index of the first of n's items
// whose key is not less than item's, and whether the keys are equal. A
// block's items slice always points into its own array (see leafBlock); if
// it did not, n is counted as a plain node, which is right whatever n is.
func findInt[K cmp.Ordered, V any](n *node[Item[K, V]], item Item[K, V]) (int, bool) {
	items, key := n.items, item.Key
	var i int
	switch {
	case len(n.children) > 0:
		i = CountBelow(items, key)
	case n.block == fullLeaf && unsafe.SliceData(items) == &(*leafBlock[Item[K, V]])(unsafe.Pointer(n)).items[0]:
		i = BlockBelow(&(*leafBlock[Item[K, V]])(unsafe.Pointer(n)).items, len(items), key)
	case n.block == halfLeaf && unsafe.SliceData(items) == &(*halfBlock[Item[K, V]])(unsafe.Pointer(n)).items[0]:
		i = HalfBelow(&(*halfBlock[Item[K, V]])(unsafe.Pointer(n)).items, len(items), key)
	default:
		i = CountBelow(items, key)
	}
	return i, i < len(items) && items[i].Key == key
}

// CountBelow returns the number of keys of s less than key; s is sorted by
// <. It counts without a branch on any comparison: the keys below key
// among every eighth key of s, then among the seven keys of the run that
// leaves, so a node of 63 items costs 7 + 7 comparisons in two rounds, none
// waiting for another, where a binary search makes 6 that each wait for the
// one before and mispredict half the time. On nodes in the cache it took 22
// ns against 34 (ordered's BenchmarkNodeSearch, nodes of 44 to 62 items).
// On a leaf that is not in the cache it is slower: its first round reads
// seven lines where a binary search reads four or five (see RunBelow).
// Arrays longer than 64 items (nodes of more than 64, a routing layer's
// bounds) are first halved down to 64. Whatever s holds, sorted or not, the
// result is in [0, len(s)].
func CountBelow[K cmp.Ordered, V any](s []Item[K, V], key K) int {
	lo, n := 0, len(s)
	for n > 64 { // halve, as a binary search, down to a node's size
		half := n >> 1
		if s[lo+half].Key < key {
			lo, n = lo+half+1, n-half-1
		} else {
			n = half
		}
	}
	s = s[lo : lo+n]
	// Each comparison adds 1 or 0 without a branch (a SETcc; the compiler
	// does not inline a helper into generic code instantiated in another
	// package, golang/go#56280, hence the spelled-out ifs).
	runs := 0 // runs of eight keys all below key (their last keys are)
	for j := 7; j < len(s); j += 8 {
		one := 0
		if s[j].Key < key {
			one = 1
		}
		runs += one
	}
	i := runs * 8
	// The run after them: its last key is a run's last, not below key (on
	// sorted keys), so its first seven decide. Spelled out, the seven
	// comparisons took 0.92-0.96 of the loop's time in lookups of 1e3 to
	// 1e5 int64 keys (BenchmarkTree_LeafSearches in a scratch copy).
	if i+7 <= len(s) {
		r := s[i : i+7]
		a, b, c, d, e, f, g := 0, 0, 0, 0, 0, 0, 0
		if r[0].Key < key {
			a = 1
		}
		if r[1].Key < key {
			b = 1
		}
		if r[2].Key < key {
			c = 1
		}
		if r[3].Key < key {
			d = 1
		}
		if r[4].Key < key {
			e = 1
		}
		if r[5].Key < key {
			f = 1
		}
		if r[6].Key < key {
			g = 1
		}
		return lo + i + a + b + c + d + e + f + g
	}
	below := i
	for _, it := range s[i:] { // the last, short run: at most six keys
		one := 0
		if it.Key < key {
			one = 1
		}
		below += one
	}
	return lo + below
}

// RunBelow is CountBelow for leaves that are likely not in the cache: it
// halves s down to a run of at most leafRun items, then counts the run's
// keys below key. In a leaf much larger than the cache, the lines of a
// binary search's first probes are those every lookup of the leaf reads,
// and likely cached, and its last probes' lines a miss each, one after the
// other; the count reads the run's lines at once (four or five for items of
// 16 bytes; larger items spread the run over more, not measured). Lookups
// of 1e6 int64 keys took 0.88-0.91 of the time of a binary search of their
// leaves (ordered's BenchmarkTree_LeafSearches, twenty-first session), for
// 110 instructions more. Walks do not use it. A step's inner nodes (SeekSeq)
// keep the tree's binary search: a step comes down the path the one before
// took, whose branches are then predicted (with this run search in the
// binary search, 100 Next calls on 1e6 keys took 4.2-5.0 us against
// 3.5-4.0); its leaf is counted whole or halved (see ordered's stepRead).
// Whatever s holds, the result is in [0, len(s)].
//
// It is kept out of line: inlined into GetSeqInt, whose values then fill
// the registers, its count kept its sum on the stack, a load and a store a
// key (a lookup of 1e6 int64 keys took 1,087 instructions so, 1,013 with
// the call, callgrind).
//
//go:noinline
func RunBelow[K cmp.Ordered, V any](s []Item[K, V], key K) int {
	lo, hi := 0, len(s)
	for hi-lo > leafRun {
		m := int(uint(lo+hi) >> 1)
		if s[m].Key < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	below := 0
	for _, it := range s[lo:hi] { // a SETcc a key, as CountBelow
		one := 0
		if it.Key < key {
			one = 1
		}
		below += one
	}
	return lo + below
}

// leafRun is the longest run of items RunBelow counts rather than halves.
// Lookups of 1e6 int64 keys (ordered's BenchmarkTree_LeafSearches, with the
// other runs added in a scratch copy), time against a binary search: runs
// of 8, 16, 32 and 64 items 0.91, 0.91, 0.88 and 0.97 on one goroutine,
// 0.94, 0.91, 0.91 and 0.97 on two; 16 for its fewer instructions.
const leafRun = 16

// BlockBelow is RunBelow for a leaf that is a leafBlock, whose items are the
// first n of a: it halves the block's leafCap slots down to a run of 15
// and counts the run's keys below key, every slot from n on counting as
// greater than key. Its probes are at fixed places in the block, not at
// places that depend on n, so their loads do not wait for the node's line
// (its slice header, where n is): in a leaf that is not in the cache the
// probes' misses and the node's overlap, where RunBelow reads the node's
// line first and the keys after. Lookups of 1e6 int64 keys took 0.84-0.89
// of the time of RunBelow on a tree without blocks, 5e5 keys 0.86-0.89,
// 3e5 keys 0.88-0.96 (ordered's BenchmarkTree_LeafSearches, each search on
// its own tree, twenty-third session). Checking each slot of the run
// against n, rather than cutting the run short at n, was level with it.
// Slots past n hold zero values or keys since removed, read but never
// counted. n must be at most leafCap; the result is in [0, n]. It is kept
// out of line as RunBelow is (its inlined form was not measured).
//
//go:noinline
func BlockBelow[K cmp.Ordered, V any](a *[leafCap]Item[K, V], n int, key K) int {
	lo := 0
	if a[63].Key < key && 63 < n { // 127 slots: 63 below, 63 above
		lo = 64
	}
	if a[lo+31].Key < key && lo+31 < n { // 63: 31 and 31
		lo += 32
	}
	if a[lo+15].Key < key && lo+15 < n { // 31: 15 and 15
		lo += 16
	}
	below := 0
	for _, it := range a[lo : lo+min(n-lo, 15)] { // a SETcc a key, as CountBelow
		one := 0
		if it.Key < key {
			one = 1
		}
		below += one
	}
	return lo + below
}

// HalfBelow is BlockBelow for a halfBlock, whose items are the first n of a:
// it halves the block's halfCap slots down to a run of at most 16 and
// counts the run's keys below key, every slot from n on counting as
// greater than key. n must be at most halfCap; the result is in [0, n].
//
//go:noinline
func HalfBelow[K cmp.Ordered, V any](a *[halfCap]Item[K, V], n int, key K) int {
	lo := 0
	if a[31].Key < key && 31 < n { // 64 slots: 31 below, 32 above
		lo = 32
	}
	if a[lo+15].Key < key && lo+15 < n { // 32 (or 31): 15 below, 16 (15) above
		lo += 16
	}
	below := 0
	for _, it := range a[lo : lo+min(n-lo, 16)] { // a SETcc a key, as CountBelow
		one := 0
		if it.Key < key {
			one = 1
		}
		below += one
	}
	return lo + below
}
