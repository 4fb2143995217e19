package btree

// Bounds is the part of a tree AppendAscend and AppendDescend copy.
type Bounds[T any] struct {
	From    T    // the first item, if HasFrom
	HasFrom bool //
	After   bool // start strictly after From (else at From)
	To      T    // AppendAscend stops before To, if HasTo
	HasTo   bool // (AppendDescend ignores To)
}

// walk is one AppendAscend or AppendDescend call: its bounds, its limit and
// the tree's order.
type walk[T any] struct {
	b     *Bounds[T]
	limit int
	cow   *copyOnWriteContext[T]
}

// AppendAscend appends to buf the items within b in ascending order until buf
// holds limit items, and returns buf. It copies each leaf's run of items with
// one append, compares only to find the bounds, and calls no function per
// item.
func (t *BTreeG[T]) AppendAscend(buf []T, b *Bounds[T], limit int) []T {
	if t.root == nil || len(buf) >= limit {
		return buf
	}
	w := walk[T]{b, limit, t.cow}
	buf, _ = w.ascend(t.root, buf, b.HasFrom)
	return buf
}

// AppendDescend appends to buf the items within b in descending order (To is
// ignored) until buf holds limit items, and returns buf.
func (t *BTreeG[T]) AppendDescend(buf []T, b *Bounds[T], limit int) []T {
	if t.root == nil || len(buf) >= limit {
		return buf
	}
	w := walk[T]{b, limit, t.cow}
	buf, _ = w.descend(t.root, buf, b.HasFrom)
	return buf
}

// ascend appends the items of n's subtree within the bounds, From applying
// only if bounded. It reports false once the walk is over (buf full or To
// reached). In order, the subtree is child 0, item 0, child 1, ..., item
// k-1, child k.
func (w *walk[T]) ascend(n *node[T], buf []T, bounded bool) ([]T, bool) {
	// Start at item s, after visiting child pre (none if -1) first, with
	// From applying to it if preBounded.
	s, pre, preBounded := 0, 0, false
	if bounded {
		i, found := w.cow.find(n.items, w.b.From)
		switch {
		case found && w.b.After: // item i is From: skip it and child i
			s, pre = i+1, i+1
		case found: // item i is From: child i is below it
			s, pre = i, -1
		default: // item i is above From: child i may straddle it
			s, pre, preBounded = i, i, true
		}
	}
	if len(n.children) == 0 {
		end := len(n.items)
		if w.b.HasTo {
			j, _ := w.cow.find(n.items[s:], w.b.To)
			end = s + j
		}
		more := end == len(n.items)
		if room := w.limit - len(buf); end-s >= room {
			end, more = s+room, false
		}
		return append(buf, n.items[s:end]...), more
	}
	var more bool
	if pre >= 0 {
		if buf, more = w.ascend(n.children[pre], buf, preBounded); !more {
			return buf, false
		}
	}
	for i := s; i < len(n.items); i++ {
		it := n.items[i]
		if w.b.HasTo && !w.cow.less(it, w.b.To) {
			return buf, false
		}
		if buf = append(buf, it); len(buf) >= w.limit {
			return buf, false
		}
		if buf, more = w.ascend(n.children[i+1], buf, false); !more {
			return buf, false
		}
	}
	return buf, true
}

// descend appends the items of n's subtree within the bounds in descending
// order, From applying only if bounded. It reports false once buf is full.
// In descending order, the subtree is child k, item k-1, child k-1, ...,
// item 0, child 0.
func (w *walk[T]) descend(n *node[T], buf []T, bounded bool) ([]T, bool) {
	// Start at item top, after visiting child pre (none if -1) first, with
	// From applying to it if preBounded.
	top, pre, preBounded := len(n.items)-1, len(n.items), false
	if bounded {
		i, found := w.cow.find(n.items, w.b.From)
		switch {
		case found && w.b.After: // item i is From: skip it; child i is below it
			top, pre = i-1, i
		case found: // item i is From: take it first
			top, pre = i, -1
		default: // item i is above From: child i may straddle it
			top, pre, preBounded = i-1, i, true
		}
	}
	leaf := len(n.children) == 0
	var more bool
	if pre >= 0 && !leaf {
		if buf, more = w.descend(n.children[pre], buf, preBounded); !more {
			return buf, false
		}
	}
	for j := top; j >= 0; j-- {
		if buf = append(buf, n.items[j]); len(buf) >= w.limit {
			return buf, false
		}
		if !leaf {
			if buf, more = w.descend(n.children[j], buf, false); !more {
				return buf, false
			}
		}
	}
	return buf, true
}
