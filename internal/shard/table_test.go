package shard

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets/internal/testseed"
)

// matchTag returns a mask of the bytes of w equal to tag's (lsb*tagOf(h)),
// with false positives possible above a true match (the borrow of the
// subtraction), never below one or without one: a full byte whose tag
// differs, and every empty or deleted byte, differ from the tag in the
// high bit or in another, so only a borrow can set their mask bit. The
// probes spell it out (find, Get, get, Ref); this is their reference, which
// TestControlBytes checks.
func matchTag(w, tag uint64) uint64 {
	x := w ^ tag
	return (x - lsb) &^ x & msb
}

// TestControlBytes checks the word operations on control bytes against a
// byte at a time, for random groups of empty, deleted and full slots: the
// masks of empty, free and full slots are exact, and a tag's mask has a bit
// for every slot with that tag, none below the first, and none at all if
// no slot has it.
func TestControlBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(testseed.Seed(t), 0))
	for range 200000 {
		h := r.Uint64()
		tag := tagOf(h)
		var w uint64
		var empty, free, full, same uint64
		for j := range groupSize {
			var b uint64
			switch x := r.IntN(8); {
			case x == 0:
				b = ctrlEmpty
			case x == 1:
				b = ctrlDeleted
			case x == 2:
				b = tag // the key's own tag, several times in some groups
			default:
				b = tagOf(r.Uint64())
			}
			w |= b << (j * 8)
			bit := uint64(0x80) << (j * 8)
			switch {
			case b == ctrlEmpty:
				empty |= bit
				free |= bit
			case b == ctrlDeleted:
				free |= bit
			default:
				full |= bit
				if b == tag {
					same |= bit
				}
			}
		}
		require.Equal(t, empty, matchEmpty(w), "empty slots of %#016x", w)
		require.Equal(t, free, matchFree(w), "free slots of %#016x", w)
		require.Equal(t, full, matchFull(w), "full slots of %#016x", w)
		got := matchTag(w, lsb*tag)
		require.Equal(t, same, got&same, "every slot tagged %#x in %#016x", tag, w)
		if same == 0 {
			require.Zero(t, got, "no slot tagged %#x in %#016x", tag, w)
		} else {
			first := same & -same
			require.Equal(t, first, got&-got, "the first slot tagged %#x in %#016x", tag, w)
		}
	}
	require.Zero(t, matchFull(0), "a zeroed group is empty")
	require.Equal(t, uint64(msb), matchEmpty(0), "a zeroed group is empty")
}

// TestProbesWithSharedTags runs every spelled-out probe (Get's first try,
// get's full probe, Ref's first group, find) over a group whose slots share
// one tag, with the tag one bit off beside them (the case the word trick's
// borrow can mistake for a match) and a tombstone in it, and keys beyond it
// in the next group: every key present is found with its value, and none
// absent is.
func TestProbesWithSharedTags(t *testing.T) {
	m := New[int, int](Config{Shards: 1})
	// Keys whose first group is group 0 of a two-group table: same has five
	// with one tag, near two with that tag's low bit flipped, and absent
	// three with the tag that are never stored.
	var same, near, other, absent []int
	var tag uint64
	for k := 0; len(same) < 5 || len(near) < 2 || len(other) < 2 || len(absent) < 3; k++ {
		h := m.Hash(k)
		if h>>7&1 != 0 {
			continue
		}
		switch tg := tagOf(h); {
		case tag == 0:
			tag = tg
			same = append(same, k)
		case tg == tag && len(same) < 5:
			same = append(same, k)
		case tg == tag && len(absent) < 3:
			absent = append(absent, k)
		case tg == tag^1 && len(near) < 2:
			near = append(near, k)
		case tg != tag && tg != tag^1 && len(other) < 2:
			other = append(other, k)
		}
	}
	present := map[int]int{}
	check := func(stage string) {
		t.Helper()
		for k, v := range present {
			got, ok := m.Get(k, nil)
			require.True(t, ok, "%s: Get(%d)", stage, k)
			require.Equal(t, v, got, "%s: Get(%d)", stage, k)
			l, p := m.Ref(k)
			require.NotNil(t, p, "%s: Ref(%d)", stage, k)
			require.Equal(t, v, *p, "%s: Ref(%d)", stage, k)
			l.Unlock()
		}
		for _, k := range append(slices.Clone(absent), same...) {
			if _, ok := present[k]; ok {
				continue
			}
			_, ok := m.Get(k, nil)
			require.False(t, ok, "%s: Get(%d) of an absent key", stage, k)
			l, p := m.Ref(k)
			require.Nil(t, p, "%s: Ref(%d) of an absent key", stage, k)
			l.Unlock()
		}
	}
	put := func(k int) {
		m.Put(k, 1000+k, nil)
		present[k] = 1000 + k
	}
	// Seven keys fill the shard's one group; the eighth doubles the table,
	// and all of them then probe from group 0, which the ninth overflows.
	for i, k := range []int{near[0], same[0], other[0], same[1], near[1], same[2], other[1], same[3], same[4]} {
		put(k)
		if i == 4 {
			check("one group with room")
		}
	}
	tab := &(*shard[int, int])(unsafe.Pointer(m.base.Load())).tab
	require.Len(t, tab.groups, 2)
	require.Zero(t, matchEmpty(tab.groups[0].ctrl), "group 0 is full")
	check("a full group and one beyond")
	m.Take(same[1], nil)
	delete(present, same[1])
	require.NotZero(t, matchFree(tab.groups[0].ctrl), "a tombstone in group 0")
	require.Zero(t, matchEmpty(tab.groups[0].ctrl), "the tombstone is not empty")
	check("a tombstone among the shared tags")
	m.Take(near[0], nil)
	delete(present, near[0])
	put(same[1])
	put(near[0])
	check("the keys stored again")
}
