package btree

// Search searches the sorted s for item in t's order: the index of the first
// element not less than item, and whether it equals item.
func (t *BTreeG[T]) Search(s []T, item T) (int, bool) {
	return t.cow.find(s, item)
}

// Split divides t at its root into two trees, left holding the items before
// the returned pivot and right the pivot and the items after it, in
// O(log n + nodes of left). It reports false, and returns nothing, if t has
// fewer than two items. t is left unchanged: left and right share its nodes
// but are copy-on-write contexts of their own, so a write to either copies
// the nodes it changes and t stays intact (t must no longer be written once
// left or right is).
func (t *BTreeG[T]) Split() (left, right *BTreeG[T], pivot T, ok bool) {
	if t.length < 2 {
		return nil, nil, pivot, false
	}
	lc, rc := *t.cow, *t.cow
	left = &BTreeG[T]{degree: t.degree, cow: &lc}
	right = &BTreeG[T]{degree: t.degree, cow: &rc}
	root := t.root
	k := len(root.items)
	if len(root.children) == 0 {
		m := k / 2
		left.root = lc.newNode()
		left.root.items = append(left.root.items[:0], root.items[:m]...)
		right.root = rc.newNode()
		right.root.items = append(right.root.items[:0], root.items[m:]...)
		left.length, right.length = m, k-m
		return left, right, root.items[m], true
	}
	m := k / 2
	if m == 0 {
		left.root = root.children[0]
	} else {
		left.root = lc.newNode()
		left.root.items = append(left.root.items[:0], root.items[:m]...)
		left.root.children = append(left.root.children[:0], root.children[:m+1]...)
	}
	if m+1 == k {
		right.root = root.children[k]
	} else {
		right.root = rc.newNode()
		right.root.items = append(right.root.items[:0], root.items[m+1:]...)
		right.root.children = append(right.root.children[:0], root.children[m+1:]...)
	}
	left.length = left.root.count()
	right.length = t.length - left.length - 1
	pivot = root.items[m]
	right.ReplaceOrInsert(pivot) // copies the nodes on its path: t is untouched
	return left, right, pivot, true
}

// count returns the number of items in n's subtree.
func (n *node[T]) count() int {
	c := len(n.items)
	for _, ch := range n.children {
		c += ch.count()
	}
	return c
}
