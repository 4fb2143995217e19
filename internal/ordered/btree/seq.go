// Added for ets: reads without the lock, validated by a sequence counter.

package btree

import "sync/atomic"

// GetSeq is Get for a reader that holds no lock while writers may be
// changing the tree. seq is a sequence counter that every writer moves
// before it changes the tree and again after, and start is its value, even,
// from before the reader looked at the tree. GetSeq copies each node's
// slices and each item it compares, and checks that seq is still start
// before it uses the copy, so the tree's search and less function only ever
// see items as a writer left them: a torn string or interface is discarded,
// never compared. valid is false if seq moved: the result is then
// meaningless and the caller must read again, or take the lock.
func (t *BTreeG[T]) GetSeq(key T, seq *atomic.Uint64, start uint64) (out T, found, valid bool) {
	n := t.root
	for {
		if seq.Load() != start {
			return out, false, false
		}
		if n == nil {
			return out, false, true
		}
		items, children := n.items, n.children
		if seq.Load() != start {
			return out, false, false
		}
		i, found, ok := n.cow.findSeq(items, key, seq, start)
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
