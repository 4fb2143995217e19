// Added for ets: reads without the lock, validated by a sequence counter.

package btree

import "sync/atomic"

// GetSeq is Get for a reader that holds no lock while writers may be
// changing the tree. seq is a sequence counter that every writer moves
// before it changes the tree and again after, and start is its value, even,
// from before the reader looked at the tree. GetSeq copies each node's
// slices, and checks that seq is still start before it searches them; the
// tree's searchSeq copies each item it compares and checks seq before the
// comparison, so that a torn string or interface is discarded, never
// compared (a searchSeq of integer keys checks once, after its search: see
// NewSearchG). valid is false if seq moved: the result is then
// meaningless and the caller must read again, or take the lock. Trees of
// integer keys have GetSeqInt, which makes no call per node.
func (t *BTreeG[T]) GetSeq(key T, seq *atomic.Uint64, start uint64) (out T, found, valid bool) {
	// The tree's own context searches every node: a node's cow may be nil
	// by the time the reader gets to it (freeNode clears it), and every
	// context of a tree has the same less and search.
	c, n := t.cow, t.root
	for {
		if n == nil {
			return out, false, seq.Load() == start
		}
		// n's slices are read before seq is checked, as a walk's are:
		// whatever n points to, even a node freed and reused since, is
		// memory the reader may read, and the check discards the copy if
		// a writer was in the tree since start.
		items, children := n.items, n.children
		if seq.Load() != start {
			return out, false, false
		}
		i, found, ok := c.findSeq(items, key, seq, start)
		switch {
		case !ok:
			return out, false, false
		case found:
			out = items[i]
			return out, true, seq.Load() == start
		case len(children) == 0:
			return out, false, true
		case i >= len(children):
			return out, false, false // not a consistent node: only a torn read gets here
		}
		n = children[i]
	}
}

// findSeq is find for GetSeq's reader: each item is copied, and seq checked
// unchanged, before it is compared. ok is false if seq moved.
func (c *copyOnWriteContext[T]) findSeq(s items[T], item T, seq *atomic.Uint64, start uint64) (i int, found, ok bool) {
	if c.searchSeq != nil {
		return c.searchSeq(s, item, seq, start)
	}
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		x := s[m]
		if seq.Load() != start {
			return 0, false, false
		}
		if c.less(x, item) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(s) {
		return lo, false, true
	}
	x := s[lo]
	if seq.Load() != start {
		return 0, false, false
	}
	return lo, !c.less(item, x), true
}

// SeekSeq is a seek for GetSeq's reader, validated as GetSeq is: it returns
// the first item not less than key, or strictly greater than key if after,
// or with desc the last item not greater than key (strictly less if after).
// Without hasKey it returns the first item, or with desc the last.
// countLeaves says to search the leaf with the tree's second search (see
// SetCachedSeq), if it has one; inner nodes get the first.
func (t *BTreeG[T]) SeekSeq(key T, hasKey, after, desc bool, seq *atomic.Uint64, start uint64, countLeaves bool) (out T, found, valid bool) {
	c, n := t.cow, t.root // c: see GetSeq
	for {
		if seq.Load() != start {
			return out, false, false
		}
		if n == nil {
			return out, found, true
		}
		items, children := n.items, n.children
		if seq.Load() != start {
			return out, false, false
		}
		// i is the index of the first item not less than key: children[i]
		// holds the keys between items[i-1] and items[i].
		i, eq := len(items), false
		if !desc {
			i = 0
		}
		if hasKey {
			var ok bool
			if countLeaves && c.cachedSeq != nil && len(children) == 0 {
				i, eq, ok = c.cachedSeq(items, key, seq, start)
			} else {
				i, eq, ok = c.findSeq(items, key, seq, start)
			}
			if !ok {
				return out, false, false
			}
			if eq && !after {
				out = items[i]
				return out, true, seq.Load() == start
			}
		}
		// The item nearest key in this node, on the walk's side: a
		// candidate unless the child below holds a nearer one.
		j := i // the child to descend into
		switch {
		case !desc && eq:
			j = i + 1
			fallthrough
		case !desc:
			if j < len(items) {
				out, found = items[j], true
			}
		case i > 0:
			out, found = items[i-1], true
		}
		switch {
		case len(children) == 0:
			return out, found, seq.Load() == start
		case j >= len(children):
			return out, false, false // not a consistent node: only a torn read gets here
		}
		n = children[j]
	}
}
