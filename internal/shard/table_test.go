package shard

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestControlBytes checks the word operations on control bytes against a
// byte at a time, for random groups of empty, deleted and full slots: the
// masks of empty, free and full slots are exact, and a tag's mask has a bit
// for every slot with that tag, none below the first, and none at all if
// no slot has it.
func TestControlBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 0))
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
