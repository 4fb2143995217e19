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
	right.pushMin(pivot)
	return left, right, pivot, true
}

// pushMin inserts item, which must be less than every item of t, at the
// start of t's leftmost leaf without comparing, splitting full nodes on the
// way down as ReplaceOrInsert does.
func (t *BTreeG[T]) pushMin(item T) {
	t.splitFullRoot()
	n := t.root
	for len(n.children) > 0 {
		n.maybeSplitChild(0, t.maxItems()) // child 0 keeps the smaller half
		n = n.mutableChild(0)
	}
	n.items.insertAt(0, item)
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
