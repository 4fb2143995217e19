// Package ordered is the ordered engine behind ets's OrderedSet: a
// google/btree BTreeG of key/value items guarded by one reader/writer lock.
//
// The BTreeG is a copy of google/btree's (package btree below), with two
// additions this engine's speed rests on: AppendAscend and AppendDescend copy
// a leaf's run of items into a batch with one append, comparing only to find
// the bounds, where BTreeG's Ascend calls a function per item; and a node
// search supplied per tree (NewSearchG), so that a tree of cmp.Ordered keys
// (NewOrdered) compares keys inline instead of calling a less function
// through a closure at every step of every binary search. Trees made with a
// comparator (NewCompare) call it once per comparison, through one closure.
//
// # Traversals copy bounded batches, not Clone snapshots
//
// A walk (Walk) copies a batch of items into a private buffer under the read
// lock, releases the lock, hands the batch to the caller, and resumes
// strictly after the last key of the batch with a fresh O(log n) seek.
// Batches start at 128 items (a typical range query takes one seek) and
// double up to 1024 (a long walk pays one seek per thousand keys); Next and
// Prev copy one item. User code therefore never runs under the lock, a caller
// may write to the tree from inside a walk without deadlock, and btree's
// "delete during Ascend" panic cannot happen: the tree is only ever iterated
// under the lock, by code of this package that does not write.
//
// The alternative, btree's O(1) Clone, gives a whole-walk snapshot but makes
// the tree copy-on-write: every write after a Clone copies the nodes on its
// path (about log n nodes of up to 2*degree-1 items each), so a table that
// is walked often makes every writer allocate kilobytes. The benchmark
// BenchmarkTree_WriteAfterClone in this package measures it. Batches give
// the guarantee the ets package promises for every kind — a key present for
// the whole walk is seen exactly once, in order, and no key twice — without
// taxing writers.
//
// The engine knows nothing of owners, access or names.
package ordered

import (
	"cmp"
	"slices"
	"sync"
	"unsafe"

	"github.com/etsgo/ets/internal/ordered/btree"
)

// Op tells Update and Sweep what to do with a key once the callback returns.
type Op uint8

// The operations a callback may ask for.
const (
	Keep   Op = iota // leave the key as it was
	Store            // store the returned value
	Delete           // remove the key
)

// degree is the btree's minimum degree: nodes hold 31 to 63 items, a few
// cache lines of small items. It is google/btree's usual choice and has not
// been tuned for this engine yet.
const degree = 32

// The batch sizes of a walk: the first batch, large enough for a typical
// range query in one seek, and the largest, where one O(log n) seek per
// batch costs less than a comparison per key.
const (
	firstBatch = 128
	maxBatch   = 1024
)

// Item is one key and its value.
type Item[K, V any] struct {
	Key   K
	Value V
}

// cacheLine is the padding that keeps the lock, which every operation
// writes, off the cache line of the fields every operation only reads.
const cacheLine = 64

// Tree is an ordered map from K to V. All methods are safe for concurrent
// use. Keys a and b are equal when neither is less than the other.
type Tree[K, V any] struct {
	tr   *btree.BTreeG[Item[K, V]]
	bufs sync.Pool // of *[]Item[K, V]: batch buffers, reused across walks
	_    [cacheLine]byte
	mu   sync.RWMutex
	_    [cacheLine]byte
}

// NewCompare returns an empty Tree ordered by compare, which returns a
// negative number when a < b, as cmp.Compare does. Each comparison costs one
// call of the btree's less function and one of compare.
func NewCompare[K, V any](compare func(a, b K) int) *Tree[K, V] {
	return newTree[K, V](func(a, b Item[K, V]) bool { return compare(a.Key, b.Key) < 0 })
}

// NewOrdered returns an empty Tree ordered by cmp.Less (NaN below every
// other float, all NaNs one key). Its node searches compare keys inline, with
// no function call per comparison.
func NewOrdered[K cmp.Ordered, V any]() *Tree[K, V] {
	return &Tree[K, V]{tr: btree.NewSearchG(degree, naturalLess[K, V], naturalSearch[K, V])}
}

func naturalLess[K cmp.Ordered, V any](a, b Item[K, V]) bool { return cmp.Less(a.Key, b.Key) }

// naturalSearch is the binary search of a node of a NewOrdered tree: the
// index of the first item whose key is not less than item's, and whether
// the keys are equal.
func naturalSearch[K cmp.Ordered, V any](s []Item[K, V], item Item[K, V]) (int, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmp.Less(s[m].Key, item.Key) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s) && !cmp.Less(item.Key, s[lo].Key)
}

func newTree[K, V any](less func(a, b Item[K, V]) bool) *Tree[K, V] {
	return &Tree[K, V]{tr: btree.NewG(degree, less)}
}

// Len returns the number of keys: O(1), under the read lock.
func (t *Tree[K, V]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.tr.Len()
}

// Memory estimates the bytes the tree holds: its items, with nodes assumed
// three quarters full, and one node header per node. Memory that keys and
// values point to is not counted.
func (t *Tree[K, V]) Memory() int {
	const nodeHeader = 64 // two slice headers and a cow pointer, rounded up
	n := t.Len()
	item := int(unsafe.Sizeof(Item[K, V]{}))
	nodes := n/(3*degree/2) + 1
	return n*item*4/3 + nodes*(nodeHeader+8*2*degree)
}

// Clear removes every key.
func (t *Tree[K, V]) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tr.Clear(false)
}

// Get returns the value of k.
func (t *Tree[K, V]) Get(k K) (V, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	it, ok := t.tr.Get(Item[K, V]{Key: k})
	return it.Value, ok
}

// Has reports whether k is present.
func (t *Tree[K, V]) Has(k K) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.tr.Has(Item[K, V]{Key: k})
}

// Put stores k and v, replacing the item of any key equal to k (key
// included, as ETS replaces the whole object).
func (t *Tree[K, V]) Put(k K, v V) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tr.ReplaceOrInsert(Item[K, V]{k, v})
}

// PutNew stores k and v only if no key equal to k is present, and reports
// whether it did.
func (t *Tree[K, V]) PutNew(k K, v V) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tr.Has(Item[K, V]{Key: k}) {
		return false
	}
	t.tr.ReplaceOrInsert(Item[K, V]{k, v})
	return true
}

// PutBatch stores the n items item(i) in order, atomically. With onlyNew it
// first checks that no key is present and stores nothing if one is. It
// reports whether it stored.
func (t *Tree[K, V]) PutBatch(n int, item func(i int) (K, V), onlyNew bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if onlyNew {
		for i := range n {
			k, _ := item(i)
			if t.tr.Has(Item[K, V]{Key: k}) {
				return false
			}
		}
	}
	for i := range n {
		k, v := item(i)
		t.tr.ReplaceOrInsert(Item[K, V]{k, v})
	}
	return true
}

// Take removes k and returns the value it held.
func (t *Tree[K, V]) Take(k K) (V, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	it, ok := t.tr.Delete(Item[K, V]{Key: k})
	return it.Value, ok
}

// Update calls fn with k's value (ok reports whether k is present) while
// holding the write lock, then applies the Op fn returns. A Store to a
// present key keeps the stored key and replaces its value. Update returns the
// value k holds afterwards and whether it holds one. If fn panics, the tree
// is left as it was and the lock is released.
func (t *Tree[K, V]) Update(k K, fn func(old V, ok bool) (V, Op)) (V, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.tr.Get(Item[K, V]{Key: k})
	v, op := fn(old.Value, ok)
	switch op {
	case Store:
		if ok {
			k = old.Key
		}
		t.tr.ReplaceOrInsert(Item[K, V]{k, v})
		return v, true
	case Delete:
		if ok {
			t.tr.Delete(old)
		}
		var zero V
		return zero, false
	}
	return old.Value, ok
}

// First returns the smallest item.
func (t *Tree[K, V]) First() (Item[K, V], bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.tr.Min()
}

// Last returns the largest item.
func (t *Tree[K, V]) Last() (Item[K, V], bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.tr.Max()
}

// Next returns the item with the smallest key greater than k (with the
// largest key smaller than k if desc).
func (t *Tree[K, V]) Next(k K, desc bool) (Item[K, V], bool) {
	var one [1]Item[K, V]
	if buf := t.copy(one[:0], Span[K]{From: k, HasFrom: true, After: true}, desc, 1); len(buf) == 1 {
		return buf[0], true
	}
	return one[0], false
}

// Span is the part of the tree a walk covers. The zero Span is every key.
type Span[K any] struct {
	From    K    // the first key, if HasFrom
	HasFrom bool //
	After   bool // start strictly after From (else at From)
	To      K    // an ascending walk stops before To, if HasTo
	HasTo   bool // (descending walks ignore To)
}

// Walk calls yield for the items of s in ascending order (descending if
// desc) until yield returns false. It copies up to a batch of items under
// the read lock and calls yield outside the lock, so yield may call the tree
// (see the package documentation). A key present for the whole walk is
// yielded exactly once; no key is yielded twice.
func (t *Tree[K, V]) Walk(s Span[K], desc bool, yield func(K, V) bool) {
	p := t.buffer()
	used := 0 // the largest batch asked for: what recycle must clear
	defer func() { t.recycle(p, used) }()
	for n := firstBatch; ; n = min(2*n, maxBatch) {
		*p, used = slices.Grow((*p)[:0], n), max(used, n)
		buf := t.copy(*p, s, desc, n)
		for _, it := range buf {
			if !yield(it.Key, it.Value) {
				return
			}
		}
		if len(buf) < n {
			return
		}
		s.From, s.HasFrom, s.After = buf[len(buf)-1].Key, true, true
	}
}

// buffer returns an empty batch buffer. Walks reuse buffers, so that a range
// query does not allocate one each time.
func (t *Tree[K, V]) buffer() *[]Item[K, V] {
	if p, ok := t.bufs.Get().(*[]Item[K, V]); ok {
		return p
	}
	return new([]Item[K, V])
}

// recycle clears the first used items of a buffer, all a walk may have
// filled (used is the largest batch it asked for, counted before the batch,
// so a panic during the batch is covered), so that it keeps nothing alive,
// and keeps it for the next walk.
func (t *Tree[K, V]) recycle(p *[]Item[K, V], used int) {
	clear((*p)[:used])
	*p = (*p)[:0]
	t.bufs.Put(p)
}

// copy appends to buf up to n items of s, in order, under the read lock.
func (t *Tree[K, V]) copy(buf []Item[K, V], s Span[K], desc bool, n int) []Item[K, V] {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.copyLocked(buf, s, desc, n)
}

// copyLocked is copy for a caller holding the lock. The btree copies each
// leaf's run of items with one append and compares only to find the bounds.
func (t *Tree[K, V]) copyLocked(buf []Item[K, V], s Span[K], desc bool, n int) []Item[K, V] {
	b := btree.Bounds[Item[K, V]]{
		From: Item[K, V]{Key: s.From}, HasFrom: s.HasFrom, After: s.After,
		To: Item[K, V]{Key: s.To}, HasTo: s.HasTo,
	}
	if desc {
		return t.tr.AppendDescend(buf, &b, len(buf)+n)
	}
	return t.tr.AppendAscend(buf, &b, len(buf)+n)
}

// Sweep calls fn for every item in key order and applies the Op it returns,
// so each key is tested and changed atomically. It works a batch of keys at
// a time under the write lock, calling more before each batch and stopping
// when more returns false. It returns how many keys were stored and deleted.
// If fn panics, the keys already swept keep their changes, the rest are
// untouched, and the lock is released.
func (t *Tree[K, V]) Sweep(fn func(k K, v V) (V, Op), more func() bool) (stored, deleted int) {
	var s Span[K]
	p := t.buffer()
	used := 0
	defer func() { t.recycle(p, used) }()
	for n := firstBatch; more(); n = min(2*n, maxBatch) {
		var st, del int
		*p, used = slices.Grow((*p)[:0], n), max(used, n)
		*p, st, del = t.sweepBatch(*p, s, n, fn)
		stored, deleted = stored+st, deleted+del
		if len(*p) < n {
			break
		}
		s.From, s.HasFrom, s.After = (*p)[len(*p)-1].Key, true, true
	}
	return stored, deleted
}

// sweepBatch sweeps up to n items of s under the write lock. It copies them
// out first, because the btree must not change while it iterates.
func (t *Tree[K, V]) sweepBatch(buf []Item[K, V], s Span[K], n int, fn func(k K, v V) (V, Op)) (_ []Item[K, V], stored, deleted int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	buf = t.copyLocked(buf, s, false, n)
	for _, it := range buf {
		v, op := fn(it.Key, it.Value)
		switch op {
		case Store:
			t.tr.ReplaceOrInsert(Item[K, V]{it.Key, v})
			stored++
		case Delete:
			t.tr.Delete(it)
			deleted++
		}
	}
	return buf, stored, deleted
}
