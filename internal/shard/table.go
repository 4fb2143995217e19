package shard

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// table is an open-addressing hash table in the style of Abseil's Swiss
// table: slots are kept in groups of eight, each group described by one
// 64-bit word of control bytes so that a probe compares eight slots with a
// handful of word operations. As in Go's own map, a group's control word is
// stored with its slots, so that a lookup in a large table misses the cache
// once (the control word and the slot are neighbours), not twice. It is not
// safe for concurrent use; a shard guards it with its lock.
//
// A control byte is ctrlEmpty (zero), ctrlDeleted (a tombstone), or, when
// the slot is full, its high bit and the low seven bits of the key's hash
// (tagOf). Empty is zero so that a new table's groups are empty as the
// allocator hands them out: a table that grows does not pass over its new
// array to mark every group empty before it rehashes into it, as Abseil's
// and Go's tables do (0x80 is their empty). The hash is computed once by
// the caller and passed in; the table rehashes keys only when it grows.
//
// Readers that do not hold the lock (see Map.Get) load the groups through
// the pointer and mask their shard publishes, read control words atomically
// and validate what they copied from slots against the shard's sequence
// counter; writers therefore store control words atomically, and the shard
// publishes new groups atomically, under the lock, when a rehash makes them
// (shard.insert).
type table[K comparable, V any] struct {
	*arrays[K, V]     // nil until the first insert
	live          int // full slots
	growthLeft    int // empty slots that may still be filled before a rehash
}

// arrays is a table's storage, replaced as a whole when the table grows.
// Slot i is slots[i%groupSize] of groups[i/groupSize].
type arrays[K comparable, V any] struct {
	groups []group[K, V] // a power of two of them
}

type group[K comparable, V any] struct {
	ctrl  uint64 // the control bytes of slots, byte j for slots[j]
	slots [groupSize]slot[K, V]
}

type slot[K comparable, V any] struct {
	key K
	val V
}

const (
	groupSize   = 8
	ctrlEmpty   = 0x00
	ctrlDeleted = 0x01
	ctrlFull    = 0x80 // the bit every full slot's control byte has
	lsb         = 0x0101010101010101
	msb         = 0x8080808080808080
)

// matchEmpty returns a mask of the bytes of w that are ctrlEmpty: neither
// the high bit (full) nor the low bit (deleted) set. (w<<7 moves each
// byte's low bit to its high bit.)
func matchEmpty(w uint64) uint64 { return ^(w | w<<7) & msb }

// matchFree returns a mask of the bytes of w that are empty or deleted.
func matchFree(w uint64) uint64 { return ^w & msb }

// matchFull returns a mask of the bytes of w that hold a key.
func matchFull(w uint64) uint64 { return w & msb }

// tagOf is the control byte of a full slot whose key hashes to h.
func tagOf(h uint64) uint64 { return h&0x7f | ctrlFull }

// find returns the slot index holding k, or -1. The caller holds the lock.
// The word operations are spelled out (the bytes of w equal to the tag, with
// possible false positives; then the empty bytes, as matchEmpty): this is
// every write's probe, and the compiler would not inline them into generic
// code instantiated in another package (golang/go#56280).
func (t *table[K, V]) find(h uint64, k K) int {
	if t.arrays == nil {
		return -1
	}
	mask := uint64(len(t.groups) - 1)
	g := (h >> 7) & mask
	tag := lsb * (h&0x7f | ctrlFull)
	for step := uint64(1); ; step++ {
		gr := &t.groups[g]
		w := gr.ctrl
		x := w ^ tag
		for m := (x - lsb) &^ x & msb; m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m) >> 3
			if gr.slots[j&(groupSize-1)].key == k {
				return int(g)*groupSize + j
			}
		}
		if ^(w|w<<7)&msb != 0 {
			return -1
		}
		g = (g + step) & mask // triangular probing visits every group
	}
}

// insert adds k, which the caller knows is absent, and returns its slot.
// matchFree and tagOf are spelled out, as in find.
func (t *table[K, V]) insert(hs *hasher[K], h uint64, k K, v V) int {
	if t.growthLeft == 0 {
		t.rehash(hs)
	}
	mask := uint64(len(t.groups) - 1)
	g := (h >> 7) & mask
	for step := uint64(1); ; step++ {
		w := t.groups[g].ctrl
		if m := ^w & msb; m != 0 {
			j := bits.TrailingZeros64(m) >> 3
			if byte(w>>(j*8)) == ctrlEmpty {
				t.growthLeft--
			}
			t.setCtrl(int(g), j, byte(h&0x7f|ctrlFull))
			t.groups[g].slots[j] = slot[K, V]{k, v}
			t.live++
			return int(g)*groupSize + j
		}
		g = (g + step) & mask
	}
}

// remove empties slot i. A slot whose group still has an empty slot can be
// made empty again: no probe sequence ever passed through that group. Any
// other becomes a tombstone.
func (t *table[K, V]) remove(i int) {
	g, j := i/groupSize, i%groupSize
	if w := t.groups[g].ctrl; ^(w|w<<7)&msb != 0 { // matchEmpty, spelled out as in find
		t.setCtrl(g, j, ctrlEmpty)
		t.growthLeft++
	} else {
		t.setCtrl(g, j, ctrlDeleted)
	}
	t.groups[g].slots[j] = slot[K, V]{} // drop references for the garbage collector
	t.live--
}

// setCtrl sets the control byte of slot j of group g, for a writer holding
// the shard's lock. Lock-free readers load control words atomically and
// accept what they read only if the shard's counter did not move (see
// Map.Get), so the store needs to be atomic as a word, not ordered: on amd64
// it is a plain store, as the lock's release is (seqlock's
// release_amd64.go), where an atomic Store is an XCHG, a second locked
// instruction in every insert and delete. It is spelled out rather than a
// call of seqlock.StoreRelease, which the compiler would not inline into
// generic code instantiated in another package (golang/go#56280).
func (t *table[K, V]) setCtrl(g, j int, b byte) {
	shift := uint(j) * 8
	c := &t.groups[g].ctrl
	w := *c&^(0xff<<shift) | uint64(b)<<shift
	if plainRelease {
		*c = w
	} else {
		atomic.StoreUint64(c, w)
	}
}

// rehash makes room for at least one more key: it doubles the table when it
// is more than half full and otherwise rebuilds it at the same size, which
// clears the tombstones.
func (t *table[K, V]) rehash(hs *hasher[K]) {
	old := t.arrays
	groups := 1
	if old != nil {
		groups = len(old.groups)
		if t.live >= capacityOf(groups)/2 {
			groups *= 2
		}
	}
	t.reset(groups)
	if old == nil {
		return
	}
	for g := range old.groups {
		gr := &old.groups[g]
		for m := matchFull(gr.ctrl); m != 0; m &= m - 1 {
			s := &gr.slots[bits.TrailingZeros64(m)>>3]
			t.insert(hs, hs.hash(s.key), s.key, s.val)
		}
	}
}

// capacityOf is the number of keys a table of n groups holds before it must
// rehash: seven eighths of its slots, so every probe meets an empty slot.
func capacityOf(groups int) int { return groups * groupSize * 7 / 8 }

// reserve gives the table, which must be empty, arrays that hold n keys
// without a rehash.
func (t *table[K, V]) reserve(n int) {
	groups := 1
	for capacityOf(groups) < n {
		groups *= 2
	}
	t.reset(groups)
}

// reset gives the table new, empty arrays of the given number of groups:
// zeroed memory, whose control bytes are all ctrlEmpty.
func (t *table[K, V]) reset(groups int) { t.use(make([]group[K, V], groups)) }

// use makes groups, whose control words are zero (every slot empty), the
// table's arrays, empty.
func (t *table[K, V]) use(groups []group[K, V]) {
	t.arrays = &arrays[K, V]{groups: groups}
	t.live = 0
	t.growthLeft = capacityOf(len(groups))
}

// slot returns slot i. The caller holds the lock.
func (t *table[K, V]) slot(i int) *slot[K, V] {
	return &t.groups[i/groupSize].slots[i%groupSize]
}

// each calls fn with the index of every full slot and the slot, in slot
// order; fn may remove the slot it is given. The caller holds the lock.
// (shard.collect's lock-free copy, the walk of All and Select, has its own
// loop.)
func (t *table[K, V]) each(fn func(i int, s *slot[K, V])) {
	if t.arrays == nil {
		return
	}
	for g := range t.groups {
		gr := &t.groups[g]
		for m := matchFull(gr.ctrl); m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m) >> 3
			fn(g*groupSize+j, &gr.slots[j])
		}
	}
}

// bytes is the memory the table holds, in bytes.
func (t *table[K, V]) bytes() int {
	if t.arrays == nil {
		return 0
	}
	return len(t.groups) * int(unsafe.Sizeof(group[K, V]{}))
}
