// Copyright 2014-2022 Google Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// Package btree is google/btree v1.1.3's generic BTreeG (btree_generic.go),
// copied so that the ordered engine can copy runs of items out of the nodes
// (AppendAscend, AppendDescend in append.go) instead of calling a function
// per item, and search a node without sort.Search's closure. The rest is
// google's code as released, minus the non-generic BTree, the Item interface
// and the debugging printer; LICENSE is google/btree's.
//
// Modifications for ets: items.find, NewSearchG and copyOnWriteContext.find
// (every node search goes through it), GetSeq and SeekSeq (seq.go: reads
// without the lock, validated by the caller's sequence counter), Item and
// GetSeqInt (seqint.go: GetSeq for integer keys, with its searches), min
// and max renamed minItem and maxItem (they shadowed the builtins),
// ReplaceOrInsert's root split moved into splitFullRoot (split.go's push
// uses it too), append.go and split.go.
package btree

import (
	"sync"
	"sync/atomic"
)

const (
	DefaultFreeListSize = 32
)

// FreeListG represents a free list of btree nodes. By default each
// BTree has its own FreeList, but multiple BTrees can share the same
// FreeList, in particular when they're created with Clone.
// Two Btrees using the same freelist are safe for concurrent write access.
type FreeListG[T any] struct {
	mu       sync.Mutex
	freelist []*node[T]
}

// NewFreeListG creates a new free list.
// size is the maximum size of the returned free list.
func NewFreeListG[T any](size int) *FreeListG[T] {
	return &FreeListG[T]{freelist: make([]*node[T], 0, size)}
}

func (f *FreeListG[T]) newNode() (n *node[T]) {
	f.mu.Lock()
	index := len(f.freelist) - 1
	if index < 0 {
		f.mu.Unlock()
		return new(node[T])
	}
	n = f.freelist[index]
	f.freelist[index] = nil
	f.freelist = f.freelist[:index]
	f.mu.Unlock()
	return
}

func (f *FreeListG[T]) freeNode(n *node[T]) (out bool) {
	f.mu.Lock()
	if len(f.freelist) < cap(f.freelist) {
		f.freelist = append(f.freelist, n)
		out = true
	}
	f.mu.Unlock()
	return
}

// ItemIteratorG allows callers of {A/De}scend* to iterate in-order over portions of
// the tree.  When this function returns false, iteration will stop and the
// associated Ascend* function will immediately return.
type ItemIteratorG[T any] func(item T) bool

// Ordered represents the set of types for which the '<' operator work.
type Ordered interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64 | ~string
}

// Less[T] returns a default LessFunc that uses the '<' operator for types that support it.
func Less[T Ordered]() LessFunc[T] {
	return func(a, b T) bool { return a < b }
}

// NewOrderedG creates a new B-Tree for ordered types.
func NewOrderedG[T Ordered](degree int) *BTreeG[T] {
	return NewG[T](degree, Less[T]())
}

// NewG creates a new B-Tree with the given degree.
//
// NewG(2), for example, will create a 2-3-4 tree (each node contains 1-3 items
// and 2-4 children).
//
// The passed-in LessFunc determines how objects of type T are ordered.
func NewG[T any](degree int, less LessFunc[T]) *BTreeG[T] {
	return NewWithFreeListG(degree, less, NewFreeListG[T](DefaultFreeListSize))
}

// NewWithFreeListG creates a new B-Tree that uses the given node free list.
func NewWithFreeListG[T any](degree int, less LessFunc[T], f *FreeListG[T]) *BTreeG[T] {
	if degree <= 1 {
		panic("bad degree")
	}
	return &BTreeG[T]{
		degree: degree,
		cow:    &copyOnWriteContext[T]{freelist: f, less: less},
	}
}

// NewSearchG is NewG with a node search: search(s, item) must return what
// searching the sorted s for item with less would, the index of the first
// element not less than item and whether it equals item. A search written
// for one key type compares inline, where the generic search makes an
// indirect call per comparison. searchSeq is search for GetSeq's reader: it
// must copy each item, and check that seq is still start, before it compares
// it, and report ok false if seq moved; for items whose torn copy cannot
// fault a comparison (integer keys) it may instead check once, after the
// search. Either way it must return an i in [0, len(s)], and found only with
// i < len(s): callers index with it before they check. (Added for ets.)
func NewSearchG[T any](degree int, less LessFunc[T], search func(s []T, item T) (int, bool),
	searchSeq func(s []T, item T, seq *atomic.Uint64, start uint64) (i int, found, ok bool)) *BTreeG[T] {
	t := NewG(degree, less)
	t.cow.search, t.cow.searchSeq = search, searchSeq
	return t
}

// SetCachedSeq gives the readers without the lock a second searchSeq, for
// nodes that are likely in the processor's cache: AppendAscendSeq and
// AppendDescendSeq search inner nodes with it, and leaves when their caller
// says they are cached; SeekSeq searches leaves with it when its caller asks
// (countLeaves), and inner nodes with the tree's own. A search that makes
// more comparisons than a binary search, none waiting for another, is
// faster on a node in the cache and slower on one that is not, where each
// line it reads is another miss. It must do what NewSearchG asks of a
// searchSeq. Set it before any reader runs; it applies
// to every tree of t's context (Clone's copies, Split's halves). (Added for
// ets.)
func (t *BTreeG[T]) SetCachedSeq(searchSeq func(s []T, item T, seq *atomic.Uint64, start uint64) (i int, found, ok bool)) {
	t.cow.cachedSeq = searchSeq
}

// items stores items in a node.
type items[T any] []T

// insertAt inserts a value into the given index, pushing all subsequent values
// forward.
func (s *items[T]) insertAt(index int, item T) {
	var zero T
	*s = append(*s, zero)
	if index < len(*s) {
		copy((*s)[index+1:], (*s)[index:])
	}
	(*s)[index] = item
}

// removeAt removes a value at a given index, pulling all subsequent values
// back.
func (s *items[T]) removeAt(index int) T {
	item := (*s)[index]
	copy((*s)[index:], (*s)[index+1:])
	var zero T
	(*s)[len(*s)-1] = zero
	*s = (*s)[:len(*s)-1]
	return item
}

// pop removes and returns the last element in the list.
func (s *items[T]) pop() (out T) {
	index := len(*s) - 1
	out = (*s)[index]
	var zero T
	(*s)[index] = zero
	*s = (*s)[:index]
	return
}

// truncate truncates this instance at index so that it contains only the
// first index items. index must be less than or equal to length.
func (s *items[T]) truncate(index int) {
	var toClear items[T]
	*s, toClear = (*s)[:index], (*s)[index:]
	var zero T
	for i := 0; i < len(toClear); i++ {
		toClear[i] = zero
	}
}

// find returns the index where the given item should be inserted into this
// list.  'found' is true if the item already exists in the list at the given
// index.
func (s items[T]) find(item T, less func(T, T) bool) (index int, found bool) {
	// Modified for ets: a binary search that calls less directly rather
	// than through sort.Search's closure, one indirect call per step fewer.
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if less(s[m], item) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(s) && !less(item, s[lo]) {
		return lo, true
	}
	return lo, false
}

// node is an internal node in a tree.
//
// It must at all times maintain the invariant that either
//   - len(children) == 0, len(items) unconstrained
//   - len(children) == len(items) + 1
type node[T any] struct {
	items    items[T]
	children items[*node[T]]
	cow      *copyOnWriteContext[T]
	block    uint8 // Added for ets: plainNode, or the block n is the node of (see newLeaf)
}

func (n *node[T]) mutableFor(cow *copyOnWriteContext[T]) *node[T] {
	if n.cow == cow {
		return n
	}
	var out *node[T]
	if n.block != plainNode {
		out = cow.newLeaf(len(n.items)) // Modified for ets: a block's copy is a block
	} else {
		out = cow.newNode()
	}
	if cap(out.items) >= len(n.items) {
		out.items = out.items[:len(n.items)]
	} else {
		out.items = make(items[T], len(n.items), cap(n.items))
	}
	copy(out.items, n.items)
	// Copy children
	if cap(out.children) >= len(n.children) {
		out.children = out.children[:len(n.children)]
	} else {
		out.children = make(items[*node[T]], len(n.children), cap(n.children))
	}
	copy(out.children, n.children)
	return out
}

func (n *node[T]) mutableChild(i int) *node[T] {
	c := n.children[i].mutableFor(n.cow)
	n.children[i] = c
	return c
}

// growChild is mutableChild for a child about to take more items: through
// room, so that a half block that would hold more than halfCap moves into
// a leafBlock first. Only paths that add items use it (inserts of new keys,
// steals' receivers, pushes, merges): a half block that only loses or
// replaces items stays half. (Added for ets.)
func (n *node[T]) growChild(i, more int) *node[T] {
	c := n.mutableChild(i)
	c = n.cow.room(c, more)
	n.children[i] = c
	return c
}

// split splits the given node at the given index, and returns the item
// that existed at that index, the node holding the items before it and the
// node holding those after it.
//
// Modified for ets (google/btree's n always keeps the first half): it returns
// the node that holds the items before i too, which the caller puts where n
// was. In a tree of blocks a leaf's halves are blocks (see newLeaf): n, a
// leafBlock, keeps the half the caller will insert into (the second if
// toSecond), in place, and the other goes into a new halfBlock, where it
// stays if no insert comes back to it, as in trees filled in key order; a
// plain leaf (a first root) is copied into two new blocks. Otherwise n keeps
// the first half.
func (n *node[T]) split(i int, toSecond bool) (T, *node[T], *node[T]) {
	item := n.items[i]
	if c := n.cow; len(n.children) == 0 && c.blocks {
		switch {
		case n.block == plainNode:
			first, next := c.leafOf(n.items[:i]), c.leafOf(n.items[i+1:])
			c.freeNode(n)
			return item, first, next
		case toSecond:
			first := c.leafOf(n.items[:i])
			n.items.truncate(copy(n.items, n.items[i+1:]))
			return item, first, n
		}
		next := c.leafOf(n.items[i+1:])
		n.items.truncate(i)
		return item, n, next
	}
	next := n.cow.newNode()
	next.items = append(next.items, n.items[i+1:]...)
	n.items.truncate(i)
	if len(n.children) > 0 {
		next.children = append(next.children, n.children[i+1:]...)
		n.children.truncate(i + 1)
	}
	return item, n, next
}

// toSecond reports whether item goes after n's i-th item, where split(i)
// divides n, if n is a leaf of a tree of blocks: the split then keeps the
// half the insert goes on into in n's block. Other splits do not ask, and
// it makes no comparison for them. (Added for ets.)
func (n *node[T]) toSecond(i int, item T) bool {
	return n.cow.blocks && len(n.children) == 0 && n.cow.less(n.items[i], item)
}

// maybeSplitChild checks if a child should be split, and if so splits it.
// Returns whether or not a split occurred. (Modified for ets: toSecond is
// split's, whether the caller will go on into the second half.)
func (n *node[T]) maybeSplitChild(i, maxItems int, toSecond bool) bool {
	if len(n.children[i].items) < maxItems {
		return false
	}
	item, first, second := n.mutableChild(i).split(maxItems/2, toSecond)
	n.children[i] = first
	n.items.insertAt(i, item)
	n.children.insertAt(i+1, second)
	return true
}

// insert inserts an item into the subtree rooted at this node, making sure
// no nodes in the subtree exceed maxItems items.  Should an equivalent item be
// be found/replaced by insert, it will be returned.
func (n *node[T]) insert(item T, maxItems int) (_ T, _ bool) {
	i, found := n.find(item)
	if found {
		out := n.items[i]
		n.items[i] = item
		return out, true
	}
	if len(n.children) == 0 {
		n.items.insertAt(i, item)
		return
	}
	// Modified for ets: toSecond only for a child to split (a comparison).
	if c := n.children[i]; len(c.items) >= maxItems && n.maybeSplitChild(i, maxItems, c.toSecond(maxItems/2, item)) {
		inTree := n.items[i]
		switch {
		case n.cow.less(item, inTree):
			// no change, we want first split node
		case n.cow.less(inTree, item):
			i++ // we want second split node
		default:
			out := n.items[i]
			n.items[i] = item
			return out, true
		}
	}
	c := n.mutableChild(i)
	if c.block == halfLeaf && len(c.items) == halfCap { // Modified for ets: see growChild
		if _, found := c.find(item); !found {
			c = n.growChild(i, 1)
		}
	}
	return c.insert(item, maxItems)
}

// get finds the given key in the subtree and returns it.
func (n *node[T]) get(key T) (_ T, _ bool) {
	i, found := n.find(key)
	if found {
		return n.items[i], true
	} else if len(n.children) > 0 {
		return n.children[i].get(key)
	}
	return
}

// min returns the first item in the subtree.
func minItem[T any](n *node[T]) (_ T, found bool) {
	if n == nil {
		return
	}
	for len(n.children) > 0 {
		n = n.children[0]
	}
	if len(n.items) == 0 {
		return
	}
	return n.items[0], true
}

// max returns the last item in the subtree.
func maxItem[T any](n *node[T]) (_ T, found bool) {
	if n == nil {
		return
	}
	for len(n.children) > 0 {
		n = n.children[len(n.children)-1]
	}
	if len(n.items) == 0 {
		return
	}
	return n.items[len(n.items)-1], true
}

// toRemove details what item to remove in a node.remove call.
type toRemove int

const (
	removeItem toRemove = iota // removes the given item
	removeMin                  // removes smallest item in the subtree
	removeMax                  // removes largest item in the subtree
)

// remove removes an item from the subtree rooted at this node.
func (n *node[T]) remove(item T, minItems int, typ toRemove) (_ T, _ bool) {
	var i int
	var found bool
	switch typ {
	case removeMax:
		if len(n.children) == 0 {
			return n.items.pop(), true
		}
		i = len(n.items)
	case removeMin:
		if len(n.children) == 0 {
			return n.items.removeAt(0), true
		}
		i = 0
	case removeItem:
		i, found = n.find(item)
		if len(n.children) == 0 {
			if found {
				return n.items.removeAt(i), true
			}
			return
		}
	default:
		panic("invalid type")
	}
	// If we get to here, we have children.
	if len(n.children[i].items) <= minItems {
		return n.growChildAndRemove(i, item, minItems, typ)
	}
	child := n.mutableChild(i)
	// Either we had enough items to begin with, or we've done some
	// merging/stealing, because we've got enough now and we're ready to return
	// stuff.
	if found {
		// The item exists at index 'i', and the child we've selected can give us a
		// predecessor, since if we've gotten here it's got > minItems items in it.
		out := n.items[i]
		// We use our special-case 'remove' call with typ=maxItem to pull the
		// predecessor of item i (the rightmost leaf of our immediate left child)
		// and set it into where we pulled the item from.
		var zero T
		n.items[i], _ = child.remove(zero, minItems, removeMax)
		return out, true
	}
	// Final recursive call.  Once we're here, we know that the item isn't in this
	// node and that the child is big enough to remove from.
	return child.remove(item, minItems, typ)
}

// growChildAndRemove grows child 'i' to make sure it's possible to remove an
// item from it while keeping it at minItems, then calls remove to actually
// remove it.
//
// Most documentation says we have to do two sets of special casing:
//  1. item is in this node
//  2. item is in child
//
// In both cases, we need to handle the two subcases:
//
//	A) node has enough values that it can spare one
//	B) node doesn't have enough values
//
// For the latter, we have to check:
//
//	a) left sibling has node to spare
//	b) right sibling has node to spare
//	c) we must merge
//
// To simplify our code here, we handle cases #1 and #2 the same:
// If a node doesn't have enough items, we make sure it does (using a,b,c).
// We then simply redo our remove call, and the second time (regardless of
// whether we're in case 1 or 2), we'll have enough items and can guarantee
// that we hit case A.
func (n *node[T]) growChildAndRemove(i int, item T, minItems int, typ toRemove) (T, bool) {
	if i > 0 && len(n.children[i-1].items) > minItems {
		// Steal from left child
		child := n.growChild(i, 1) // Modified for ets: see growChild
		stealFrom := n.mutableChild(i - 1)
		stolenItem := stealFrom.items.pop()
		child.items.insertAt(0, n.items[i-1])
		n.items[i-1] = stolenItem
		if len(stealFrom.children) > 0 {
			child.children.insertAt(0, stealFrom.children.pop())
		}
	} else if i < len(n.items) && len(n.children[i+1].items) > minItems {
		// steal from right child
		child := n.growChild(i, 1) // Modified for ets: see growChild
		stealFrom := n.mutableChild(i + 1)
		stolenItem := stealFrom.items.removeAt(0)
		child.items = append(child.items, n.items[i])
		n.items[i] = stolenItem
		if len(stealFrom.children) > 0 {
			child.children = append(child.children, stealFrom.children.removeAt(0))
		}
	} else {
		if i >= len(n.items) {
			i--
		}
		child := n.growChild(i, 1+len(n.children[i+1].items)) // Modified for ets: see growChild
		// merge with right child
		mergeItem := n.items.removeAt(i)
		mergeChild := n.children.removeAt(i + 1)
		child.items = append(child.items, mergeItem)
		child.items = append(child.items, mergeChild.items...)
		child.children = append(child.children, mergeChild.children...)
		n.cow.freeNode(mergeChild)
	}
	return n.remove(item, minItems, typ)
}

type direction int

const (
	descend = direction(-1)
	ascend  = direction(+1)
)

type optionalItem[T any] struct {
	item  T
	valid bool
}

func optional[T any](item T) optionalItem[T] {
	return optionalItem[T]{item: item, valid: true}
}
func empty[T any]() optionalItem[T] {
	return optionalItem[T]{}
}

// iterate provides a simple method for iterating over elements in the tree.
//
// When ascending, the 'start' should be less than 'stop' and when descending,
// the 'start' should be greater than 'stop'. Setting 'includeStart' to true
// will force the iterator to include the first item when it equals 'start',
// thus creating a "greaterOrEqual" or "lessThanEqual" rather than just a
// "greaterThan" or "lessThan" queries.
func (n *node[T]) iterate(dir direction, start, stop optionalItem[T], includeStart bool, hit bool, iter ItemIteratorG[T]) (bool, bool) {
	var ok, found bool
	var index int
	switch dir {
	case ascend:
		if start.valid {
			index, _ = n.find(start.item)
		}
		for i := index; i < len(n.items); i++ {
			if len(n.children) > 0 {
				if hit, ok = n.children[i].iterate(dir, start, stop, includeStart, hit, iter); !ok {
					return hit, false
				}
			}
			if !includeStart && !hit && start.valid && !n.cow.less(start.item, n.items[i]) {
				hit = true
				continue
			}
			hit = true
			if stop.valid && !n.cow.less(n.items[i], stop.item) {
				return hit, false
			}
			if !iter(n.items[i]) {
				return hit, false
			}
		}
		if len(n.children) > 0 {
			if hit, ok = n.children[len(n.children)-1].iterate(dir, start, stop, includeStart, hit, iter); !ok {
				return hit, false
			}
		}
	case descend:
		if start.valid {
			index, found = n.find(start.item)
			if !found {
				index = index - 1
			}
		} else {
			index = len(n.items) - 1
		}
		for i := index; i >= 0; i-- {
			if start.valid && !n.cow.less(n.items[i], start.item) {
				if !includeStart || hit || n.cow.less(start.item, n.items[i]) {
					continue
				}
			}
			if len(n.children) > 0 {
				if hit, ok = n.children[i+1].iterate(dir, start, stop, includeStart, hit, iter); !ok {
					return hit, false
				}
			}
			if stop.valid && !n.cow.less(stop.item, n.items[i]) {
				return hit, false //	continue
			}
			hit = true
			if !iter(n.items[i]) {
				return hit, false
			}
		}
		if len(n.children) > 0 {
			if hit, ok = n.children[0].iterate(dir, start, stop, includeStart, hit, iter); !ok {
				return hit, false
			}
		}
	}
	return hit, true
}

// BTreeG is a generic implementation of a B-Tree.
//
// BTreeG stores items of type T in an ordered structure, allowing easy insertion,
// removal, and iteration.
//
// Write operations are not safe for concurrent mutation by multiple
// goroutines, but Read operations are.
type BTreeG[T any] struct {
	degree int
	root   *node[T]
	cow    *copyOnWriteContext[T]
	// Modified for ets: length, which every insert and delete writes, has a
	// cache line of its own, so that readers without the lock (GetSeq,
	// SeekSeq), who read root and cow, do not miss on a line that a writer
	// on another core has just written. The tree is 128 bytes, a size class
	// whose objects start on a cache line.
	_      [cacheLine - 24]byte
	length int
	_      [cacheLine - 8]byte
}

// cacheLine is the size of a cache line (Added for ets: see BTreeG).
const cacheLine = 64

// LessFunc[T] determines how to order a type 'T'.  It should implement a strict
// ordering, and should return true if within that ordering, 'a' < 'b'.
type LessFunc[T any] func(a, b T) bool

// copyOnWriteContext pointers determine node ownership... a tree with a write
// context equivalent to a node's write context is allowed to modify that node.
// A tree whose write context does not match a node's is not allowed to modify
// it, and must create a new, writable copy (IE: it's a Clone).
//
// When doing any write operation, we maintain the invariant that the current
// node's context is equal to the context of the tree that requested the write.
// We do this by, before we descend into any node, creating a copy with the
// correct context if the contexts don't match.
//
// Since the node we're currently visiting on any write has the requesting
// tree's context, that node is modifiable in place.  Children of that node may
// not share context, but before we descend into them, we'll make a mutable
// copy.
type copyOnWriteContext[T any] struct {
	freelist *FreeListG[T]
	less     LessFunc[T]
	search   func(s []T, item T) (int, bool)      // Modified for ets: see NewSearchG
	nodeFind func(n *node[T], item T) (int, bool) // Added for ets: see SetIntFind
	// Modified for ets: see NewSearchG and GetSeq.
	searchSeq func(s []T, item T, seq *atomic.Uint64, start uint64) (i int, found, ok bool)
	cachedSeq func(s []T, item T, seq *atomic.Uint64, start uint64) (i int, found, ok bool) // Added for ets: see SetCachedSeq
	blocks    bool                                                                          // Added for ets: see newLeaf
}

// find is items.find in the tree's order, through search if the tree has
// one. (Modified for ets.)
func (c *copyOnWriteContext[T]) find(s items[T], item T) (int, bool) {
	if c.search != nil {
		return c.search(s, item)
	}
	return s.find(item, c.less)
}

// find is the search of n's items by writers and readers under the lock:
// the nodeFind of n's context if it has one (SetIntFind), which may search a
// block at its fixed offsets, else find of n's items. (Added for ets.)
func (n *node[T]) find(item T) (int, bool) {
	if f := n.cow.nodeFind; f != nil {
		return f(n, item)
	}
	return n.cow.find(n.items, item)
}

// Clone clones the btree, lazily.  Clone should not be called concurrently,
// but the original tree (t) and the new tree (t2) can be used concurrently
// once the Clone call completes.
//
// The internal tree structure of b is marked read-only and shared between t and
// t2.  Writes to both t and t2 use copy-on-write logic, creating new nodes
// whenever one of b's original nodes would have been modified.  Read operations
// should have no performance degredation.  Write operations for both t and t2
// will initially experience minor slow-downs caused by additional allocs and
// copies due to the aforementioned copy-on-write logic, but should converge to
// the original performance characteristics of the original tree.
func (t *BTreeG[T]) Clone() (t2 *BTreeG[T]) {
	// Create two entirely new copy-on-write contexts.
	// This operation effectively creates three trees:
	//   the original, shared nodes (old b.cow)
	//   the new b.cow nodes
	//   the new out.cow nodes
	cow1, cow2 := *t.cow, *t.cow
	out := *t
	t.cow = &cow1
	out.cow = &cow2
	return &out
}

// maxItems returns the max number of items to allow per node.
func (t *BTreeG[T]) maxItems() int {
	return t.degree*2 - 1
}

// minItems returns the min number of items to allow per node (ignored for the
// root node).
func (t *BTreeG[T]) minItems() int {
	return t.degree - 1
}

func (c *copyOnWriteContext[T]) newNode() (n *node[T]) {
	n = c.freelist.newNode()
	n.cow = c
	return
}

// The kinds of node (node.block): a plain node, whose items are a slice of
// their own, or the node of a leafBlock or of a halfBlock.
const (
	plainNode uint8 = iota
	fullLeaf
	halfLeaf
)

// leafCap is the number of items a leafBlock holds: 2*64-1, a full node of
// ets's trees (degree 64); halfCap a halfBlock's, one more than a leaf of
// that degree keeps after a split.
const (
	leafCap = 127
	halfCap = 64
)

// leafBlock is a leaf and its items in one allocation: the node, then the
// array its items slice always points into (its capacity, which a node
// never outgrows). A reader that knows a node is a block finds its keys at
// a fixed offset from the node, so it can load them while the node's own
// line, the slice header, is still on its way: GetSeqInt's leaf search does
// (BlockBelow). Without blocks, a leaf's items are a separate allocation
// whose address is in the node, one miss after the other. 2,304 bytes for
// 16-byte items (the size class above 2,096).
type leafBlock[T any] struct {
	node  node[T]
	items [leafCap]T
}

// halfBlock is leafBlock for a leaf of at most halfCap items: what a split
// makes of the half of a leaf (63 items) the insert does not go on into, so
// that a half no insert comes back to, as in trees filled in key order,
// takes 1,152 bytes with 16-byte items (1,024 of them items) rather than
// 2,304. room moves one into a leafBlock before it takes a 65th item.
type halfBlock[T any] struct {
	node  node[T]
	items [halfCap]T
}

// SetLeafBlocks says whether the leaves t's splits make from now on are
// blocks (see newLeaf); they are not by default, and blocks need degree 64
// (on is ignored at other degrees). It applies to the trees of t's context
// (Split's halves, Concat's result), not to clones already made. Blocks
// cost memory where nothing reads them at fixed places: ets's trees of
// integer keys have them, for GetSeqInt. (Added for ets.)
func (t *BTreeG[T]) SetLeafBlocks(on bool) {
	t.cow.blocks = on && 2*t.degree-1 == leafCap
}

// LeafBlocks reports whether t's splits make leaf blocks (SetLeafBlocks).
// (Added for ets.)
func (t *BTreeG[T]) LeafBlocks() bool { return t.cow.blocks }

// newLeaf returns a new, empty leaf for c's trees, with room for n items: a
// halfBlock's node if n is at most halfCap, else a leafBlock's, if c's
// trees have blocks (see SetLeafBlocks), else newNode's. Blocks do not go
// through the free list, whose nodes are of any kind: freeNode drops them.
// Leaf splits, copies of blocks (mutableFor) and room make leaves through
// it; a tree's first root, and the roots of Split's halves of a lone leaf,
// are plain nodes whose items grow with them, so that small trees stay
// small, until they split into two blocks. (Added for ets.)
func (c *copyOnWriteContext[T]) newLeaf(n int) *node[T] {
	if !c.blocks {
		return c.newNode()
	}
	var nd *node[T]
	if n <= halfCap {
		b := new(halfBlock[T])
		b.node.items, b.node.block = b.items[:0], halfLeaf
		nd = &b.node
	} else {
		b := new(leafBlock[T])
		b.node.items, b.node.block = b.items[:0], fullLeaf
		nd = &b.node
	}
	nd.cow = c
	return nd
}

// leafOf returns a new leaf for c's trees (newLeaf) holding a copy of s.
// (Added for ets.)
func (c *copyOnWriteContext[T]) leafOf(s items[T]) *node[T] {
	l := c.newLeaf(len(s))
	l.items = append(l.items, s...)
	return l
}

// room returns n, mutable for c, if it can take more items without
// leaving its block, or else (a halfBlock's node that would hold more than
// halfCap) a leafBlock's node holding n's items, which the caller puts
// where n was; n is freed. Every path that adds items to a leaf goes
// through it: growChild (inserts, steals, merges), edge (pushes) and
// splitFullRoot (a root leaf). (Added for ets.)
func (c *copyOnWriteContext[T]) room(n *node[T], more int) *node[T] {
	if n.block != halfLeaf || len(n.items)+more <= halfCap {
		return n
	}
	out := c.newLeaf(leafCap)
	out.items = append(out.items, n.items...)
	c.freeNode(n)
	return out
}

type freeType int

const (
	ftFreelistFull freeType = iota // node was freed (available for GC, not stored in freelist)
	ftStored                       // node was stored in the freelist for later use
	ftNotOwned                     // node was ignored by COW, since it's owned by another one
	ftDropped                      // Added for ets: node was a block, never stored (see newLeaf)
)

// freeNode frees a node within a given COW context, if it's owned by that
// context.  It returns what happened to the node (see freeType const
// documentation).
func (c *copyOnWriteContext[T]) freeNode(n *node[T]) freeType {
	if n.cow == c {
		// clear to allow GC
		n.items.truncate(0)
		n.children.truncate(0)
		n.cow = nil
		if n.block != plainNode { // Modified for ets: see newLeaf
			return ftDropped
		}
		if c.freelist.freeNode(n) {
			return ftStored
		} else {
			return ftFreelistFull
		}
	} else {
		return ftNotOwned
	}
}

// splitFullRoot makes the root mutable and, if it is full, splits it under a
// new root, so that an insertion below cannot overflow it.
//
// Modified for ets: toSecond is split's; it is called only when the root
// is full.
func (t *BTreeG[T]) splitFullRoot(toSecond func() bool) {
	t.root = t.cow.room(t.root.mutableFor(t.cow), 1) // Modified for ets: see room
	if len(t.root.items) >= t.maxItems() {
		item2, oldroot, second := t.root.split(t.maxItems()/2, toSecond())
		t.root = t.cow.newNode()
		t.root.items = append(t.root.items, item2)
		t.root.children = append(t.root.children, oldroot, second)
	}
}

// ReplaceOrInsert adds the given item to the tree.  If an item in the tree
// already equals the given one, it is removed from the tree and returned,
// and the second return value is true.  Otherwise, (zeroValue, false)
//
// nil cannot be added to the tree (will panic).
func (t *BTreeG[T]) ReplaceOrInsert(item T) (_ T, _ bool) {
	if t.root == nil {
		t.root = t.cow.newNode()
		t.root.items = append(t.root.items, item)
		t.length++
		return
	} else {
		t.splitFullRoot(func() bool { return t.root.toSecond(t.maxItems()/2, item) })
	}
	out, outb := t.root.insert(item, t.maxItems())
	if !outb {
		t.length++
	}
	return out, outb
}

// Delete removes an item equal to the passed in item from the tree, returning
// it.  If no such item exists, returns (zeroValue, false).
func (t *BTreeG[T]) Delete(item T) (T, bool) {
	return t.deleteItem(item, removeItem)
}

// DeleteMin removes the smallest item in the tree and returns it.
// If no such item exists, returns (zeroValue, false).
func (t *BTreeG[T]) DeleteMin() (T, bool) {
	var zero T
	return t.deleteItem(zero, removeMin)
}

// DeleteMax removes the largest item in the tree and returns it.
// If no such item exists, returns (zeroValue, false).
func (t *BTreeG[T]) DeleteMax() (T, bool) {
	var zero T
	return t.deleteItem(zero, removeMax)
}

func (t *BTreeG[T]) deleteItem(item T, typ toRemove) (_ T, _ bool) {
	if t.root == nil || len(t.root.items) == 0 {
		return
	}
	t.root = t.root.mutableFor(t.cow)
	// A less that panics after remove merged the root's last two children
	// must not leave a root without items (deleteItem's check above).
	defer func() {
		if len(t.root.items) == 0 && len(t.root.children) > 0 {
			oldroot := t.root
			t.root = t.root.children[0]
			t.cow.freeNode(oldroot)
		}
	}()
	out, outb := t.root.remove(item, t.minItems(), typ)
	if outb {
		t.length--
	}
	return out, outb
}

// AscendRange calls the iterator for every value in the tree within the range
// [greaterOrEqual, lessThan), until iterator returns false.
func (t *BTreeG[T]) AscendRange(greaterOrEqual, lessThan T, iterator ItemIteratorG[T]) {
	if t.root == nil {
		return
	}
	t.root.iterate(ascend, optional[T](greaterOrEqual), optional[T](lessThan), true, false, iterator)
}

// AscendLessThan calls the iterator for every value in the tree within the range
// [first, pivot), until iterator returns false.
func (t *BTreeG[T]) AscendLessThan(pivot T, iterator ItemIteratorG[T]) {
	if t.root == nil {
		return
	}
	t.root.iterate(ascend, empty[T](), optional(pivot), false, false, iterator)
}

// AscendGreaterOrEqual calls the iterator for every value in the tree within
// the range [pivot, last], until iterator returns false.
func (t *BTreeG[T]) AscendGreaterOrEqual(pivot T, iterator ItemIteratorG[T]) {
	if t.root == nil {
		return
	}
	t.root.iterate(ascend, optional[T](pivot), empty[T](), true, false, iterator)
}

// Ascend calls the iterator for every value in the tree within the range
// [first, last], until iterator returns false.
func (t *BTreeG[T]) Ascend(iterator ItemIteratorG[T]) {
	if t.root == nil {
		return
	}
	t.root.iterate(ascend, empty[T](), empty[T](), false, false, iterator)
}

// DescendRange calls the iterator for every value in the tree within the range
// [lessOrEqual, greaterThan), until iterator returns false.
func (t *BTreeG[T]) DescendRange(lessOrEqual, greaterThan T, iterator ItemIteratorG[T]) {
	if t.root == nil {
		return
	}
	t.root.iterate(descend, optional[T](lessOrEqual), optional[T](greaterThan), true, false, iterator)
}

// DescendLessOrEqual calls the iterator for every value in the tree within the range
// [pivot, first], until iterator returns false.
func (t *BTreeG[T]) DescendLessOrEqual(pivot T, iterator ItemIteratorG[T]) {
	if t.root == nil {
		return
	}
	t.root.iterate(descend, optional[T](pivot), empty[T](), true, false, iterator)
}

// DescendGreaterThan calls the iterator for every value in the tree within
// the range [last, pivot), until iterator returns false.
func (t *BTreeG[T]) DescendGreaterThan(pivot T, iterator ItemIteratorG[T]) {
	if t.root == nil {
		return
	}
	t.root.iterate(descend, empty[T](), optional[T](pivot), false, false, iterator)
}

// Descend calls the iterator for every value in the tree within the range
// [last, first], until iterator returns false.
func (t *BTreeG[T]) Descend(iterator ItemIteratorG[T]) {
	if t.root == nil {
		return
	}
	t.root.iterate(descend, empty[T](), empty[T](), false, false, iterator)
}

// Get looks for the key item in the tree, returning it.  It returns
// (zeroValue, false) if unable to find that item.
func (t *BTreeG[T]) Get(key T) (_ T, _ bool) {
	if t.root == nil {
		return
	}
	return t.root.get(key)
}

// Min returns the smallest item in the tree, or (zeroValue, false) if the tree is empty.
func (t *BTreeG[T]) Min() (_ T, _ bool) {
	return minItem(t.root)
}

// Max returns the largest item in the tree, or (zeroValue, false) if the tree is empty.
func (t *BTreeG[T]) Max() (_ T, _ bool) {
	return maxItem(t.root)
}

// Has returns true if the given key is in the tree.
func (t *BTreeG[T]) Has(key T) bool {
	_, ok := t.Get(key)
	return ok
}

// Len returns the number of items currently in the tree.
func (t *BTreeG[T]) Len() int {
	return t.length
}

// Clear removes all items from the btree.  If addNodesToFreelist is true,
// t's nodes are added to its freelist as part of this call, until the freelist
// is full.  Otherwise, the root node is simply dereferenced and the subtree
// left to Go's normal GC processes.
//
// This can be much faster
// than calling Delete on all elements, because that requires finding/removing
// each element in the tree and updating the tree accordingly.  It also is
// somewhat faster than creating a new tree to replace the old one, because
// nodes from the old tree are reclaimed into the freelist for use by the new
// one, instead of being lost to the garbage collector.
//
// This call takes:
//
//	O(1): when addNodesToFreelist is false, this is a single operation.
//	O(1): when the freelist is already full, it breaks out immediately
//	O(freelist size):  when the freelist is empty and the nodes are all owned
//	    by this tree, nodes are added to the freelist until full.
//	O(tree size):  when all nodes are owned by another tree, all nodes are
//	    iterated over looking for nodes to add to the freelist, and due to
//	    ownership, none are.
func (t *BTreeG[T]) Clear(addNodesToFreelist bool) {
	if t.root != nil && addNodesToFreelist {
		t.root.reset(t.cow)
	}
	t.root, t.length = nil, 0
}

// reset returns a subtree to the freelist.  It breaks out immediately if the
// freelist is full, since the only benefit of iterating is to fill that
// freelist up.  Returns true if parent reset call should continue.
func (n *node[T]) reset(c *copyOnWriteContext[T]) bool {
	for _, child := range n.children {
		if !child.reset(c) {
			return false
		}
	}
	return c.freeNode(n) != ftFreelistFull
}
