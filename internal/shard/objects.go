package shard

import "slices"

// objects is what a Bag stores under one key: the key's objects in insertion
// order. It is not safe for concurrent use; the shard's lock guards it.
//
// A key with few objects (up to smallObjects) keeps a plain slice and finds
// an object by scanning it: no map, one allocation, and a scan of a few
// values is faster than hashing. Past that, an index maps each value to the
// newest slot holding it, and the slots holding equal values are chained
// through the index's prev (a duplicate_bag keeps many copies), so finding,
// inserting and deleting an object cost O(1) (deleting costs O(copies))
// however many objects the key has. A deleted slot of an indexed key
// becomes a tombstone, so the order of the others is kept without shifting
// them; once tombstones outnumber the live objects the slice is compacted
// and the index rebuilt, which keeps deletion O(1) amortized and Lookup
// O(live objects).
//
// The list holds only what a lookup copies and a paged walk orders by (a
// value and its insertion number): the chains are the index's, and the
// key's next insertion number is one past its newest object's, so an
// object of an 8-byte value takes 16 bytes (four make one cache line) and
// an int64 key's slot 48. (With the chain link in each object and the
// next number in the slot, 24 and 56 bytes: lookups of four objects a key
// took 5-8% longer, of 10,000 objects 5%.)
type objects[V comparable] struct {
	list []obj[V]
	ix   *index[V] // nil while the key is small; then list has no tombstones
	live int       // objects in list that are not tombstones
}

// index is an indexed key's map from each value to the newest slot holding
// it, and the chains through the older slots holding it.
type index[V comparable] struct {
	m map[V]int32
	// prev[i] is the slot of the next older object equal to list[i].v,
	// noPrev if there is none; it is as long as the list and means nothing
	// for a tombstone.
	prev []int32
}

// obj is one object of a key.
type obj[V comparable] struct {
	v V
	// seq is the object's insertion number, which grows along the list, so
	// that a paged walk can tell whether it has passed the object, and
	// two flags in the top bits: dead (a tombstone, which keeps its number
	// so that the list stays sorted by it) and restored (an object apply
	// stored, until it rebuilds).
	seq uint64
}

const (
	smallObjects = 8
	noPrev       = -1
	dead         = 1 << 63
	restored     = 1 << 62
)

// number returns x's insertion number without its flags.
func (x *obj[V]) number() uint64 { return x.seq &^ (dead | restored) }

// isDead reports whether x is a tombstone.
func (x *obj[V]) isDead() bool { return x.seq&dead != 0 }

// kill makes x a tombstone, dropping its value for the garbage collector.
func (x *obj[V]) kill() { *x = obj[V]{seq: x.seq | dead} }

// nextSeq returns the insertion number of the key's next object: one past
// the newest's. (After the newest object is deleted, the next insert takes
// its number: a walk that had passed it skips the new object, which was not
// there throughout the walk, and every object that was keeps its number.)
func (o *objects[V]) nextSeq() uint64 {
	if len(o.list) == 0 {
		return 1
	}
	return o.list[len(o.list)-1].number() + 1
}

// find returns a slot holding v, or -1. It is O(1) for an indexed key and a
// scan of at most smallObjects slots otherwise.
func (o *objects[V]) find(v V) int {
	if o.ix != nil {
		if i, ok := o.ix.m[v]; ok {
			return int(i)
		}
		return -1
	}
	for i := range o.list {
		if o.list[i].v == v {
			return i
		}
	}
	return -1
}

// add appends v unless dup is false and v is present, and reports whether it
// did. It is O(1) amortized.
func (o *objects[V]) add(v V, dup bool) bool {
	if !dup && o.find(v) >= 0 {
		return false
	}
	x := obj[V]{v: v, seq: o.nextSeq()}
	if o.ix != nil {
		prev := int32(noPrev)
		if p, ok := o.ix.m[v]; ok {
			prev = p
		}
		o.ix.m[v] = int32(len(o.list))
		o.ix.prev = append(o.ix.prev, prev)
	}
	o.list = append(o.list, x)
	o.live++
	if o.ix == nil && len(o.list) > smallObjects {
		o.rebuild(dup)
	}
	return true
}

// remove deletes every object equal to v and returns how many it deleted. It
// is O(copies of v) amortized for an indexed key, O(smallObjects) otherwise.
func (o *objects[V]) remove(v V, dup bool) int {
	if o.ix == nil {
		n := len(o.list)
		o.list = slices.DeleteFunc(o.list, func(x obj[V]) bool { return x.v == v })
		o.live = len(o.list)
		return n - o.live
	}
	p, ok := o.ix.m[v]
	if !ok {
		return 0
	}
	delete(o.ix.m, v)
	n := 0
	for i := p; i != noPrev; n++ {
		o.list[i].kill()
		i = o.ix.prev[i]
	}
	o.live -= n
	// Trailing tombstones go at once: a key used as a stack never compacts.
	for len(o.list) > 0 && o.list[len(o.list)-1].isDead() {
		o.list = o.list[:len(o.list)-1]
	}
	o.ix.prev = o.ix.prev[:len(o.list)]
	// Compact when tombstones outnumber objects, or when the key has lost
	// most of the objects it once had (the trimming above leaves the
	// list's capacity as it was): a rebuild then gives back the list's and
	// the index's memory. Either takes the key shrinking by half or more
	// since the last rebuild, so the O(len(list)) rebuild is O(1)
	// amortized.
	if len(o.list)-o.live > o.live || cap(o.list) > 4*o.live+smallObjects {
		o.rebuild(dup)
	}
	return n
}

// each calls fn for every object in insertion order.
func (o *objects[V]) each(fn func(x *obj[V])) {
	for i := range o.list {
		if !o.list[i].isDead() {
			fn(&o.list[i])
		}
	}
}

// appendTo appends the values in insertion order to dst, growing it once
// (growFor). The caller holds the lock, so the list holds exactly o.live.
func (o *objects[V]) appendTo(dst []V) []V {
	n := len(dst)
	dst = growFor(dst, o.live)[:n+o.live]
	copyLive(dst[n:], o.list)
	return dst
}

// copyLive copies the values of list's live objects (not tombstones) into
// out and reports whether list held exactly len(out) of them. It writes
// nothing past out: a list that a writer changed during the copy can hold
// any number of objects (a rebuild compacts in place and zeroes the tail,
// whose slots then read as live), and the caller's array past out is not
// the copy's to fill. A list as long as out is copied whole, without a look
// for tombstones: one whose header and count were read together (peek, or
// Append's checked copy of the slot) has none, and one a writer changed
// since fails the caller's check of the counter. (Registry lookups of four
// objects a key, 1e3 keys, one core: 28.2 -> 25.8 ns.)
func copyLive[V comparable](out []V, list []obj[V]) bool {
	if len(list) == len(out) {
		list = list[:len(out)] // no bounds check in the loop
		for i := range out {
			out[i] = list[i].v
		}
		return true
	}
	j := 0
	for i := range list {
		if !list[i].isDead() {
			if j == len(out) {
				return false
			}
			out[j] = list[i].v
			j++
		}
	}
	return j == len(out)
}

// copyLiveCalled is copyLive, not inlined: for Bag.Append's fast path,
// whose many live values leave an inlined loop no registers to spare (its
// index was stored and loaded at every object: lookups of 10,000 objects
// took a third longer); a few objects are copied inline.
//
//go:noinline
func copyLiveCalled[V comparable](out []V, list []obj[V]) bool { return copyLive(out, list) }

// change is what a Sweep callback asked for one object.
type change[V any] struct {
	v  V
	op Op
}

// apply makes changes[i] to the i-th object and returns how many objects it
// stored and deleted. Without dup, a stored value equal to an object the
// changes left alone merges into that object, which keeps its place and
// insertion number (a paged walk that has not passed it still finds it); a
// stored value equal to another stored one merges into the earlier.
func (o *objects[V]) apply(changes []change[V], dup bool) (stored, deleted int) {
	j := 0
	for i := range o.list {
		x := &o.list[i]
		if x.isDead() {
			continue
		}
		switch c := changes[j]; c.op {
		case Store:
			x.v = c.v
			x.seq |= restored // until rebuild, which clears it
			stored++
		case Delete:
			x.kill()
			deleted++
		}
		j++
	}
	if stored > 0 && !dup {
		o.mergeIntoKept()
	}
	if stored+deleted > 0 {
		o.rebuild(dup) // values changed: the index is stale
	}
	return stored, deleted
}

// mergeIntoKept deletes every restored object (see apply) equal to an
// object that was not restored. The index, if any, still maps each value
// the key held before to its slot: in a Bag, the only object of that value.
func (o *objects[V]) mergeIntoKept() {
	kept := func(p int, v V) bool {
		y := &o.list[p]
		return y.seq&(dead|restored) == 0 && y.v == v
	}
	for i := range o.list {
		x := &o.list[i]
		if x.seq&restored == 0 {
			continue
		}
		if o.ix != nil {
			if p, ok := o.ix.m[x.v]; ok && kept(int(p), x.v) {
				x.kill()
			}
			continue
		}
		for p := range o.list {
			if kept(p, x.v) {
				x.kill()
				break
			}
		}
	}
}

// rebuild compacts list, dropping tombstones (and, without dup, every object
// equal to an earlier one), clears the restored flags and rebuilds the
// index if the key is not small. It is O(len(list)).
func (o *objects[V]) rebuild(dup bool) {
	live := 0
	for i := range o.list {
		if !o.list[i].isDead() {
			live++
		}
	}
	var ix *index[V]
	switch {
	case live <= smallObjects:
	case o.ix != nil && 4*live > cap(o.list):
		// Reuse its buckets and chains: compacting then costs no
		// allocation. The list's capacity stands for the most objects
		// the key held (the map never shrinks, and len(m) counts values,
		// not buckets): a key that lost three quarters of them gets a
		// new, smaller map.
		ix = o.ix
		clear(ix.m)
		ix.prev = ix.prev[:0]
	default:
		ix = &index[V]{m: make(map[V]int32, live), prev: make([]int32, 0, live)}
	}
	w := 0
	for _, x := range o.list {
		if x.isDead() {
			continue
		}
		x.seq &^= restored
		if ix != nil {
			prev := int32(noPrev)
			if p, ok := ix.m[x.v]; ok {
				if !dup {
					continue
				}
				prev = p
			}
			ix.m[x.v] = int32(w)
			ix.prev = append(ix.prev, prev) // ix.prev's array is the old index's or new: writes at w or below, read nothing
		} else if !dup && slices.ContainsFunc(o.list[:w], func(y obj[V]) bool { return y.v == x.v }) {
			continue
		}
		o.list[w] = x
		w++
	}
	clear(o.list[w:])
	o.list, o.ix, o.live = o.list[:w], ix, w
	if cap(o.list) > 4*w+smallObjects { // shrink a key that lost most of its objects
		o.list = slices.Clone(o.list)
	}
	if w < live {
		// Without dup, equal objects merged (apply): the index was chosen
		// for live objects, and w may be small enough for none, or for a
		// smaller map. Once more, on a list that now has no tombstones and
		// no duplicates, chooses again (found by a review: a sweep that
		// stored one value over 40 objects left a key of one object
		// holding the 40-entry map).
		o.rebuild(dup)
	}
}
