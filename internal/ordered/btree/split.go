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
// cannot panic midway. It moves the items of the smaller tree into the larger
// one, one push at its end each: O(m log n) for m items moved into n. The
// larger tree is the result; the smaller must not be used afterwards. Both
// trees must have the same degree and search.
func Concat[T any](left, right *BTreeG[T]) *BTreeG[T] {
	if left.length >= right.length {
		right.Ascend(func(it T) bool { left.push(it, true); return true })
		return left
	}
	left.Descend(func(it T) bool { right.push(it, false); return true })
	return right
}

// push inserts item without comparing, splitting full nodes on the way down
// as ReplaceOrInsert does: at the start of t's leftmost leaf, item less than
// every item of t, or, atEnd, at the end of its rightmost leaf, item greater
// than every item of t.
func (t *BTreeG[T]) push(item T, atEnd bool) {
	if t.root == nil || t.length == 0 { // an emptied tree may keep an empty root
		t.root = t.cow.newNode()
		t.root.items = append(t.root.items, item)
		t.length = 1
		return
	}
	t.splitFullRoot()
	n := t.root
	for len(n.children) > 0 {
		i := 0
		if atEnd {
			i = len(n.children) - 1
		}
		if n.maybeSplitChild(i, t.maxItems()) && atEnd {
			i++ // the upper half of the split child is the last child now
		}
		n = n.mutableChild(i)
	}
	if atEnd {
		n.items = append(n.items, item)
	} else {
		n.items.insertAt(0, item)
	}
	t.length++
}

// count returns the number of items in n's subtree.
func (n *node[T]) count() int {
	c := len(n.items)
	for _, ch := range n.children {
		c += ch.count()
	}
	return c
}
