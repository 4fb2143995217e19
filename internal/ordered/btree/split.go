package btree

// Search searches the sorted s for item in t's order: the index of the first
// element not less than item, and whether it equals item.
func (t *BTreeG[T]) Search(s []T, item T) (int, bool) {
	return t.cow.find(s, item)
}

// Split divides t at its root into two trees, left holding the items before
// the returned pivot and right the pivot and the items after it, in
// O(log n + nodes of left), without calling less: a comparator cannot panic
// midway. It reports false, and returns nothing, if t has fewer than two
// items. left and right take over t's nodes (they have none in common) and
// its copy-on-write context, so t must not be used afterwards.
func (t *BTreeG[T]) Split() (left, right *BTreeG[T], pivot T, ok bool) {
	if t.length < 2 {
		return nil, nil, pivot, false
	}
	left = &BTreeG[T]{degree: t.degree, cow: t.cow}
	right = &BTreeG[T]{degree: t.degree, cow: t.cow}
	root := t.root.mutableFor(t.cow)
	k := len(root.items)
	m := k / 2
	if len(root.children) == 0 {
		left.root = t.cow.newNode()
		left.root.items = append(left.root.items[:0], root.items[:m]...)
		right.root = t.cow.newNode()
		right.root.items = append(right.root.items[:0], root.items[m:]...)
		left.length, right.length = m, k-m
		return left, right, root.items[m], true
	}
	if m == 0 {
		left.root = root.children[0]
	} else {
		left.root = t.cow.newNode()
		left.root.items = append(left.root.items[:0], root.items[:m]...)
		left.root.children = append(left.root.children[:0], root.children[:m+1]...)
	}
	if m+1 == k {
		right.root = root.children[k]
	} else {
		right.root = t.cow.newNode()
		right.root.items = append(right.root.items[:0], root.items[m+1:]...)
		right.root.children = append(right.root.children[:0], root.children[m+1:]...)
	}
	left.length = left.root.count()
	right.length = t.length - left.length - 1
	pivot = root.items[m]
	right.push(pivot, false)
	return left, right, pivot, true
}

// Concat joins left and right, every item of left less than every item of
// right, into one tree, which it returns, without calling less: a comparator
// cannot panic midway. It takes the largest item of left out as a pivot and
// joins the lower tree's root, with the pivot, to the higher tree's edge
// node at the same level (see hang): O(log n), every node but the root
// keeping between degree-1 and 2*degree-1 items, as the btree's deletions
// need. A tree with a node's worth of items or fewer is pushed into the
// other item by item instead. The result takes over both trees' nodes;
// neither must be used afterwards. Both must have the same degree and order.
func Concat[T any](left, right *BTreeG[T]) *BTreeG[T] {
	switch {
	case right.length <= left.maxItems():
		right.Ascend(func(it T) bool { left.push(it, true); return true })
		return left
	case left.length <= left.maxItems():
		left.Descend(func(it T) bool { right.push(it, false); return true })
		return right
	}
	n := left.length + right.length
	pivot, _ := left.DeleteMax() // removeMax descends by position: no comparison
	hl, hr := left.height(), right.height()
	if hl >= hr {
		left.hang(pivot, right.root, hr, true)
		left.length = n
		return left
	}
	right.hang(pivot, left.root, hl, false)
	right.length = n
	return right
}

// height returns the number of levels of t's nodes, 1 for a lone leaf.
func (t *BTreeG[T]) height() int {
	h := 0
	for n := t.root; n != nil; n = n.firstChild() {
		h++
	}
	return h
}

// firstChild returns n's first child, nil if n is a leaf.
func (n *node[T]) firstChild() *node[T] {
	if len(n.children) == 0 {
		return nil
	}
	return n.children[0]
}

// push inserts item without comparing: at the start of t's leftmost leaf,
// item less than every item of t, or, atEnd, at the end of its rightmost
// leaf, item greater than every item of t.
func (t *BTreeG[T]) push(item T, atEnd bool) {
	if t.root == nil || t.length == 0 { // an emptied tree may keep an empty root
		t.root = t.cow.newNode()
		t.root.items = append(t.root.items, item)
		t.length = 1
		return
	}
	n := t.edge(1, atEnd)
	if atEnd {
		n.items = append(n.items, item)
	} else {
		n.items.insertAt(0, item)
	}
	t.length++
}

// edge returns the node at the given level (1 for a leaf) on t's first path
// from the root, or its last if atEnd, made mutable, splitting full nodes on
// the way down as ReplaceOrInsert does, so that it has room for one more
// item. t must be at least that high.
func (t *BTreeG[T]) edge(level int, atEnd bool) *node[T] {
	t.splitFullRoot(func() bool { return atEnd })
	n := t.root
	for l := t.height(); l > level; l-- {
		i := 0
		if atEnd {
			i = len(n.children) - 1
		}
		if n.maybeSplitChild(i, t.maxItems(), atEnd) && atEnd {
			i++ // the upper half of the split child is the last child now
		}
		n = n.growChild(i, 1) // a push adds one item to the leaf
	}
	return n
}

// hang joins sub, the root of a tree of height h whose items are all greater
// (less, unless atEnd) than item, and item greater (less) than every item of
// t, to t, at least as high: it merges item and sub's items and children
// into the last (first) node c at level h of t, if they fit in one node, or
// else shares them out evenly between c and a new node beside it, their
// middle item going up into c's parent, which edge left room for. Either
// way every node but the root holds at least degree-1 items: sub and c hold
// at least one each and more than a node's worth together. t's length is
// the caller's to update.
func (t *BTreeG[T]) hang(item T, sub *node[T], h int, atEnd bool) {
	if t.height() == h { // c is t's root: give it a parent
		root := t.cow.newNode()
		root.children = append(root.children, t.root)
		t.root = root
	}
	parent := t.edge(h+1, atEnd)
	k := 0
	if atEnd {
		k = len(parent.children) - 1
	}
	c := parent.mutableChild(k)
	lo, hi := c, sub
	if !atEnd {
		lo, hi = sub, c
	}
	its := make(items[T], 0, len(lo.items)+1+len(hi.items))
	its = append(append(append(its, lo.items...), item), hi.items...)
	var kids items[*node[T]]
	if len(lo.children) > 0 {
		kids = append(append(make(items[*node[T]], 0, len(its)+1), lo.children...), hi.children...)
	}
	// c and the new node are inner nodes, never leaf blocks, whose items
	// must stay in their block: Concat pushes a tree of a node's worth of
	// items or fewer into the other, so both are two levels high or more.
	if len(its) <= t.maxItems() {
		c.items, c.children = its, kids
		if len(parent.items) == 0 { // the root made above: no longer needed
			t.root = c
		}
		return
	}
	m := len(its) / 2
	low, high := c, t.cow.newNode()
	if !atEnd {
		low, high = high, c
	}
	low.items, high.items = its[:m:m], its[m+1:]
	if kids != nil {
		low.children, high.children = kids[:m+1:m+1], kids[m+1:]
	}
	if atEnd {
		parent.items = append(parent.items, its[m])
		parent.children = append(parent.children, high)
	} else {
		parent.items.insertAt(0, its[m])
		parent.children.insertAt(0, low)
	}
}

// count returns the number of items in n's subtree.
func (n *node[T]) count() int {
	c := len(n.items)
	for _, ch := range n.children {
		c += ch.count()
	}
	return c
}
