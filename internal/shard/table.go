package shard

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// table is an open-addressing hash table in the style of Abseil's Swiss
// table: slots are kept in groups of eight, each group described by one
// 64-bit word of control bytes so that a probe compares eight slots with a
// handful of word operations. It is not safe for concurrent use; a shard
// guards it with its lock.
//
// A control byte is ctrlEmpty, ctrlDeleted (a tombstone), or the low seven
// bits of the key's hash when the slot is full. The hash is computed once by
// the caller and passed in; the table rehashes keys only when it grows.
//
// Readers that do not hold the lock (see Map.Get) load the arrays through
// an atomic pointer, read control words atomically and validate what they
// copied from slots against the shard's sequence counter; writers therefore
// store control words atomically and publish new arrays atomically.
type table[K comparable, V any] struct {
	*arrays[K, V]     // nil until the first insert
	live          int // full slots
	growthLeft    int // empty slots that may still be filled before a rehash
}

// arrays is a table's storage, replaced as a whole when the table grows.
type arrays[K comparable, V any] struct {
	ctrl  []uint64 // one word of control bytes per group of groupSize slots
	slots []slot[K, V]
}

type slot[K comparable, V any] struct {
	key K
	val V
}

const (
	groupSize   = 8
	ctrlEmpty   = 0x80
	ctrlDeleted = 0xFE
	lsb         = 0x0101010101010101
	msb         = 0x8080808080808080
	emptyGroup  = lsb * ctrlEmpty
)

// matchEmpty returns a mask of the bytes of w that are ctrlEmpty.
func matchEmpty(w uint64) uint64 { return w &^ (w << 6) & msb }

// matchFree returns a mask of the bytes of w that are empty or deleted.
func matchFree(w uint64) uint64 { return w & msb }

// matchFull returns a mask of the bytes of w that hold a key.
func matchFull(w uint64) uint64 { return ^w & msb }

func tagOf(h uint64) uint64 { return h & 0x7f }

// find returns the slot index holding k, or -1. The caller holds the lock.
// The word operations are spelled out (the bytes of w equal to the tag, with
// possible false positives; then the empty bytes, as matchEmpty): this is
// every write's probe, and the compiler would not inline them into generic
// code instantiated in another package (golang/go#56280).
func (t *table[K, V]) find(h uint64, k K) int {
	if t.arrays == nil {
		return -1
	}
	mask := uint64(len(t.ctrl) - 1)
	g := (h >> 7) & mask
	tag := lsb * (h & 0x7f)
	for step := uint64(1); ; step++ {
		w := t.ctrl[g]
		x := w ^ tag
		for m := (x - lsb) &^ x & msb; m != 0; m &= m - 1 {
			i := int(g)*groupSize + bits.TrailingZeros64(m)>>3
			if t.slots[i].key == k {
				return i
			}
		}
		if w&^(w<<6)&msb != 0 {
			return -1
		}
		g = (g + step) & mask // triangular probing visits every group
	}
}

// insert adds k, which the caller knows is absent, and returns its slot.
func (t *table[K, V]) insert(hs *hasher[K], h uint64, k K, v V) int {
	if t.growthLeft == 0 {
		t.rehash(hs)
	}
	mask := uint64(len(t.ctrl) - 1)
	g := (h >> 7) & mask
	for step := uint64(1); ; step++ {
		w := t.ctrl[g]
		if m := matchFree(w); m != 0 {
			j := bits.TrailingZeros64(m) >> 3
			if byte(w>>(j*8)) == ctrlEmpty {
				t.growthLeft--
			}
			t.setCtrl(int(g), j, byte(tagOf(h)))
			i := int(g)*groupSize + j
			t.slots[i] = slot[K, V]{k, v}
			t.live++
			return i
		}
		g = (g + step) & mask
	}
}

// remove empties slot i. A slot whose group still has an empty slot can be
// made empty again: no probe sequence ever passed through that group. Any
// other becomes a tombstone.
func (t *table[K, V]) remove(i int) {
	g, j := i/groupSize, i%groupSize
	if matchEmpty(t.ctrl[g]) != 0 {
		t.setCtrl(g, j, ctrlEmpty)
		t.growthLeft++
	} else {
		t.setCtrl(g, j, ctrlDeleted)
	}
	t.slots[i] = slot[K, V]{} // drop references for the garbage collector
	t.live--
}

func (t *table[K, V]) setCtrl(g, j int, b byte) {
	shift := uint(j) * 8
	atomic.StoreUint64(&t.ctrl[g], t.ctrl[g]&^(0xff<<shift)|uint64(b)<<shift)
}

// rehash makes room for at least one more key: it doubles the table when it
// is more than half full and otherwise rebuilds it at the same size, which
// clears the tombstones.
func (t *table[K, V]) rehash(hs *hasher[K]) {
	old := t.arrays
	groups := 1
	if old != nil {
		groups = len(old.ctrl)
		if t.live >= capacityOf(groups)/2 {
			groups *= 2
		}
	}
	t.reset(groups)
	if old == nil {
		return
	}
	for g, w := range old.ctrl {
		for m := matchFull(w); m != 0; m &= m - 1 {
			s := &old.slots[g*groupSize+bits.TrailingZeros64(m)>>3]
			t.insert(hs, hs.hash(s.key), s.key, s.val)
		}
	}
}

// capacityOf is the number of keys a table of n groups holds before it must
// rehash: seven eighths of its slots, so every probe meets an empty slot.
func capacityOf(groups int) int { return groups * groupSize * 7 / 8 }

// reset gives the table new, empty arrays of the given number of groups.
func (t *table[K, V]) reset(groups int) {
	a := &arrays[K, V]{ctrl: make([]uint64, groups), slots: make([]slot[K, V], groups*groupSize)}
	for i := range a.ctrl {
		a.ctrl[i] = emptyGroup
	}
	t.arrays = a
	t.live = 0
	t.growthLeft = capacityOf(groups)
}

// groups returns the control words, nil for a table that has none yet, for
// callers that walk the slots themselves. The caller holds the lock.
func (t *table[K, V]) groups() []uint64 {
	if t.arrays == nil {
		return nil
	}
	return t.ctrl
}

// each calls fn for every full slot, in slot order. The caller holds the
// lock.
func (t *table[K, V]) each(fn func(s *slot[K, V])) {
	if t.arrays == nil {
		return
	}
	for g, w := range t.ctrl {
		for m := matchFull(w); m != 0; m &= m - 1 {
			fn(&t.slots[g*groupSize+bits.TrailingZeros64(m)>>3])
		}
	}
}

// bytes is the memory the table holds, in bytes.
func (t *table[K, V]) bytes() int {
	if t.arrays == nil {
		return 0
	}
	return len(t.ctrl)*8 + len(t.slots)*int(unsafe.Sizeof(slot[K, V]{}))
}
