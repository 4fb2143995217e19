package btree

import "sync/atomic"

// Bounds is the part of a tree AppendAscend and AppendDescend copy.
type Bounds[T any] struct {
	From    T    // the first item, if HasFrom
	HasFrom bool //
	After   bool // start strictly after From (else at From)
	To      T    // AppendAscend stops before To, if HasTo
	HasTo   bool // (AppendDescend ignores To)
}

// walk is one AppendAscend or AppendDescend call, or one of their Seq
// forms: its bounds, its limit, the tree's order and, for a reader without
// the lock, the sequence counter that validates what it reads (seq nil
// under the lock).
type walk[T any] struct {
	b      Bounds[T] // a copy: see AppendAscendSeq
	limit  int
	cow    *copyOnWriteContext[T]
	seq    *atomic.Uint64
	start  uint64
	cached bool // the Seq forms' cachedLeaves (see SetCachedSeq)
}

// AppendAscend appends to buf the items within b in ascending order until buf
// holds limit items, and returns buf. It copies each leaf's run of items with
// one append, compares only to find the bounds, and calls no function per
// item.
func (t *BTreeG[T]) AppendAscend(buf []T, b *Bounds[T], limit int) []T {
	if t.root == nil || len(buf) >= limit {
		return buf
	}
	w := walk[T]{b: *b, limit: limit, cow: t.cow}
	buf, _, _ = w.ascend(t.root, buf, b.HasFrom)
	return buf
}

// AppendDescend appends to buf the items within b in descending order (To is
// ignored) until buf holds limit items, and returns buf.
func (t *BTreeG[T]) AppendDescend(buf []T, b *Bounds[T], limit int) []T {
	if t.root == nil || len(buf) >= limit {
		return buf
	}
	w := walk[T]{b: *b, limit: limit, cow: t.cow}
	buf, _, _ = w.descend(t.root, buf, b.HasFrom)
	return buf
}

// AppendAscendSeq is AppendAscend for GetSeq's reader, validated as GetSeq
// is: it copies each node's slices, and each item it compares, and checks
// that seq is still start before it uses the copy, so the tree's search and
// less function never see a torn item; the runs it appends to buf it copies
// unchecked. valid is false if seq moved: the items appended are then
// meaningless (torn, perhaps) and the caller must drop them and read again,
// or take the lock. cachedLeaves says whether the tree's leaves are likely in
// the processor's cache (see SetCachedSeq). (Added for ets.)
//
// The walk keeps a copy of *b, not the pointer: the counter it passes to the
// tree's search, a function value, makes everything the walk points to
// escape, and a pointer to the caller's bounds would cost the caller an
// allocation per walk.
func (t *BTreeG[T]) AppendAscendSeq(buf []T, b *Bounds[T], limit int, seq *atomic.Uint64, start uint64, cachedLeaves bool) (out []T, valid bool) {
	w := walk[T]{b: *b, limit: limit, cow: t.cow, seq: seq, start: start, cached: cachedLeaves}
	return w.seqRun(t, buf, false)
}

// AppendDescendSeq is AppendDescend for GetSeq's reader, validated as
// AppendAscendSeq is. (Added for ets.)
func (t *BTreeG[T]) AppendDescendSeq(buf []T, b *Bounds[T], limit int, seq *atomic.Uint64, start uint64, cachedLeaves bool) (out []T, valid bool) {
	w := walk[T]{b: *b, limit: limit, cow: t.cow, seq: seq, start: start, cached: cachedLeaves}
	return w.seqRun(t, buf, true)
}

// seqRun runs a Seq form's walk of t from its root.
func (w *walk[T]) seqRun(t *BTreeG[T], buf []T, desc bool) ([]T, bool) {
	root := t.root
	if w.moved() {
		return buf, false
	}
	if root == nil || len(buf) >= w.limit {
		return buf, true
	}
	var ok bool
	if desc {
		buf, _, ok = w.descend(root, buf, w.b.HasFrom)
	} else {
		buf, _, ok = w.ascend(root, buf, w.b.HasFrom)
	}
	return buf, ok && !w.moved()
}

// moved reports whether a writer changed the tree since a reader without
// the lock began (always false under the lock).
func (w *walk[T]) moved() bool { return w.seq != nil && w.seq.Load() != w.start }

// find is the node search of the walk: the tree's, under the lock; a
// validated one otherwise, as GetSeq's (ok false if seq moved).
func (w *walk[T]) find(s items[T], item T, leaf bool) (i int, found, ok bool) {
	if w.seq == nil {
		i, found = w.cow.find(s, item)
		return i, found, true
	}
	if c := w.cow; c.cachedSeq != nil && (w.cached || !leaf) {
		return c.cachedSeq(s, item, w.seq, w.start)
	}
	return w.cow.findSeq(s, item, w.seq, w.start)
}

// child returns children[i], or false if a reader without the lock read a
// torn node (i out of range) or a writer moved seq since it read the slice.
// The pointer is loaded before the check, so that the node it points to is
// one the tree held when the check passed.
func (w *walk[T]) child(children items[*node[T]], i int) (*node[T], bool) {
	if i >= len(children) {
		return nil, false // not a consistent node: only a torn read gets here
	}
	c := children[i]
	return c, !w.moved()
}

// ascend appends the items of n's subtree within the bounds, From applying
// only if bounded. more is false once the walk is over (buf full or To
// reached); ok is false if a reader without the lock must start over. In
// order, the subtree is child 0, item 0, child 1, ..., item k-1, child k.
func (w *walk[T]) ascend(n *node[T], buf []T, bounded bool) (out []T, more, ok bool) {
	items, children := n.items, n.children
	if w.moved() {
		return buf, false, false
	}
	leaf := len(children) == 0
	// Start at item s, after visiting child pre (none if -1) first, with
	// From applying to it if preBounded.
	s, pre, preBounded := 0, 0, false
	if bounded {
		i, found, ok := w.find(items, w.b.From, leaf)
		switch {
		case !ok:
			return buf, false, false
		case found && w.b.After: // item i is From: skip it and child i
			s, pre = i+1, i+1
		case found: // item i is From: child i is below it
			s, pre = i, -1
		default: // item i is above From: child i may straddle it
			s, pre, preBounded = i, i, true
		}
	}
	if leaf {
		end := len(items)
		if w.b.HasTo {
			j, _, ok := w.find(items[s:], w.b.To, leaf)
			if !ok {
				return buf, false, false
			}
			end = s + j
		}
		more := end == len(items)
		if room := w.limit - len(buf); end-s >= room {
			end, more = s+room, false
		}
		return append(buf, items[s:end]...), more, true
	}
	if pre >= 0 {
		c, ok := w.child(children, pre)
		if !ok {
			return buf, false, false
		}
		if buf, more, ok = w.ascend(c, buf, preBounded); !more || !ok {
			return buf, false, ok
		}
	}
	for i := s; i < len(items); i++ {
		it := items[i]
		if w.moved() {
			return buf, false, false
		}
		if w.b.HasTo && !w.cow.less(it, w.b.To) {
			return buf, false, true
		}
		if buf = append(buf, it); len(buf) >= w.limit {
			return buf, false, true
		}
		c, ok := w.child(children, i+1)
		if !ok {
			return buf, false, false
		}
		if buf, more, ok = w.ascend(c, buf, false); !more || !ok {
			return buf, false, ok
		}
	}
	return buf, true, true
}

// descend appends the items of n's subtree within the bounds in descending
// order, From applying only if bounded; more and ok are ascend's. In
// descending order, the subtree is child k, item k-1, child k-1, ..., item
// 0, child 0.
func (w *walk[T]) descend(n *node[T], buf []T, bounded bool) (out []T, more, ok bool) {
	items, children := n.items, n.children
	if w.moved() {
		return buf, false, false
	}
	leaf := len(children) == 0
	// Start at item top, after visiting child pre (none if -1) first, with
	// From applying to it if preBounded.
	top, pre, preBounded := len(items)-1, len(items), false
	if bounded {
		i, found, ok := w.find(items, w.b.From, leaf)
		switch {
		case !ok:
			return buf, false, false
		case found && w.b.After: // item i is From: skip it; child i is below it
			top, pre = i-1, i
		case found: // item i is From: take it first
			top, pre = i, -1
		default: // item i is above From: child i may straddle it
			top, pre, preBounded = i-1, i, true
		}
	}
	if pre >= 0 && !leaf {
		c, ok := w.child(children, pre)
		if !ok {
			return buf, false, false
		}
		if buf, more, ok = w.descend(c, buf, preBounded); !more || !ok {
			return buf, false, ok
		}
	}
	for j := top; j >= 0; j-- {
		if buf = append(buf, items[j]); len(buf) >= w.limit {
			return buf, false, true
		}
		if !leaf {
			c, ok := w.child(children, j)
			if !ok {
				return buf, false, false
			}
			if buf, more, ok = w.descend(c, buf, false); !more || !ok {
				return buf, false, ok
			}
		}
	}
	return buf, true, true
}
