package shard

import "slices"

// objects is what a Bag stores under one key: the key's objects in insertion
// order. It is not safe for concurrent use; the shard's lock guards it.
//
// A key with few objects (up to smallObjects) keeps a plain slice and finds
// an object by scanning it: no map, one allocation, and a scan of a few
// values is faster than hashing. Past that, an index maps each value to the
// newest slot holding it, and the slots holding equal values are chained
// through prev (a duplicate_bag keeps many copies), so finding, inserting and
// deleting an object cost O(1) (deleting costs O(copies)) however many
// objects the key has. A deleted slot of an indexed key becomes a tombstone,
// so the order of the others is kept without shifting them; once tombstones
// outnumber the live objects the slice is compacted and the index rebuilt,
// which keeps deletion O(1) amortized and Lookup O(live objects).
type objects[V comparable] struct {
	list []obj[V]
	idx  map[V]int32 // nil while the key is small; then list has no tombstones
	live int         // objects in list that are not tombstones
	seq  uint64      // sequence number of the newest object
}

// obj is one object of a key.
type obj[V comparable] struct {
	v V
	// seq grows with each insert under the key, so an object's seq tells a
	// paged walk whether it has passed the object.
	seq uint64
	// prev is the slot of the next older object equal to v (indexed keys
	// only), noPrev if there is none, or tombstone.
	prev int32
}

const (
	smallObjects = 8
	noPrev       = -1
	tombstone    = -2
	replaced     = -3 // an object apply stored, until it rebuilds
)

// find returns a slot holding v, or -1. It is O(1) for an indexed key and a
// scan of at most smallObjects slots otherwise.
func (o *objects[V]) find(v V) int {
	if o.idx != nil {
		if i, ok := o.idx[v]; ok {
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
	o.seq++
	x := obj[V]{v: v, seq: o.seq, prev: noPrev}
	if o.idx != nil {
		if p, ok := o.idx[v]; ok {
			x.prev = p
		}
		o.idx[v] = int32(len(o.list))
	}
	o.list = append(o.list, x)
	o.live++
	if o.idx == nil && len(o.list) > smallObjects {
		o.rebuild(dup)
	}
	return true
}

// remove deletes every object equal to v and returns how many it deleted. It
// is O(copies of v) amortized for an indexed key, O(smallObjects) otherwise.
func (o *objects[V]) remove(v V, dup bool) int {
	if o.idx == nil {
		n := len(o.list)
		o.list = slices.DeleteFunc(o.list, func(x obj[V]) bool { return x.v == v })
		o.live = len(o.list)
		return n - o.live
	}
	p, ok := o.idx[v]
	if !ok {
		return 0
	}
	delete(o.idx, v)
	n := 0
	for i := p; i != noPrev; n++ {
		next := o.list[i].prev
		o.list[i] = obj[V]{seq: o.list[i].seq, prev: tombstone} // drop the value for the garbage collector
		i = next
	}
	o.live -= n
	// Trailing tombstones go at once: a key used as a stack never compacts.
	for len(o.list) > 0 && o.list[len(o.list)-1].prev == tombstone {
		o.list = o.list[:len(o.list)-1]
	}
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
		if o.list[i].prev != tombstone {
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
// for tombstones: one whose header and count were read together (peek) has
// none, and one a writer changed since fails the caller's check of the
// counter. (Registry lookups of four objects a key, 1e3 keys, one core:
// 28.2 -> 25.8 ns.)
func copyLive[V comparable](out []V, list []obj[V]) bool {
	if len(list) == len(out) {
		for i := range out {
			out[i] = list[i].v
		}
		return true
	}
	j := 0
	for i := range list {
		if list[i].prev != tombstone {
			if j == len(out) {
				return false
			}
			out[j] = list[i].v
			j++
		}
	}
	return j == len(out)
}

// change is what a Sweep callback asked for one object.
type change[V any] struct {
	v  V
	op Op
}

// apply makes changes[i] to the i-th object and returns how many objects it
// stored and deleted. Without dup, a stored value equal to an object the
// changes left alone merges into that object, which keeps its place and
// sequence number (a paged walk that has not passed it still finds it); a
// stored value equal to another stored one merges into the earlier.
func (o *objects[V]) apply(changes []change[V], dup bool) (stored, deleted int) {
	j := 0
	for i := range o.list {
		x := &o.list[i]
		if x.prev == tombstone {
			continue
		}
		switch c := changes[j]; c.op {
		case Store:
			x.v = c.v
			x.prev = replaced // until rebuild, which resets every prev
			stored++
		case Delete:
			*x = obj[V]{seq: x.seq, prev: tombstone}
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

// mergeIntoKept deletes every replaced object (see apply) equal to an
// object that was not replaced. The index, if any, still maps each value
// the key held before to its slot: in a Bag, the only object of that value.
func (o *objects[V]) mergeIntoKept() {
	kept := func(p int, v V) bool {
		y := &o.list[p]
		return y.prev != replaced && y.prev != tombstone && y.v == v
	}
	for i := range o.list {
		x := &o.list[i]
		if x.prev != replaced {
			continue
		}
		if o.idx != nil {
			if p, ok := o.idx[x.v]; ok && kept(int(p), x.v) {
				*x = obj[V]{seq: x.seq, prev: tombstone}
			}
			continue
		}
		for p := range o.list {
			if kept(p, x.v) {
				*x = obj[V]{seq: x.seq, prev: tombstone}
				break
			}
		}
	}
}

// rebuild compacts list, dropping tombstones (and, without dup, every object
// equal to an earlier one), and rebuilds the index if the key is not small.
// It is O(len(list)).
func (o *objects[V]) rebuild(dup bool) {
	live := 0
	for i := range o.list {
		if o.list[i].prev != tombstone {
			live++
		}
	}
	var idx map[V]int32
	switch {
	case live <= smallObjects:
	case o.idx != nil && 4*live > cap(o.list):
		// Reuse its buckets: compacting then costs no allocation. The
		// list's capacity stands for the most objects the key held
		// (the map never shrinks, and len(idx) counts values, not
		// buckets): a key that lost three quarters of them gets a new,
		// smaller map.
		idx = o.idx
		clear(idx)
	default:
		idx = make(map[V]int32, live)
	}
	w := 0
	for _, x := range o.list {
		if x.prev == tombstone {
			continue
		}
		x.prev = noPrev
		if idx != nil {
			if p, ok := idx[x.v]; ok {
				if !dup {
					continue
				}
				x.prev = p
			}
			idx[x.v] = int32(w)
		} else if !dup && slices.ContainsFunc(o.list[:w], func(y obj[V]) bool { return y.v == x.v }) {
			continue
		}
		o.list[w] = x
		w++
	}
	clear(o.list[w:])
	o.list, o.idx, o.live = o.list[:w], idx, w
	if cap(o.list) > 4*w+smallObjects { // shrink a key that lost most of its objects
		o.list = slices.Clone(o.list)
	}
}
