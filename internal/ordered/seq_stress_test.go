//go:build !race

// Under the race detector reads take the locks (locked.go), so there is
// nothing here to test there.

package ordered

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTree_ReadsWhileTheRootSplitsAndMerges reads a tree of 2*degree-1
// keys, a full root, while a writer adds and removes one more at each end:
// each add splits the root and each removal merges it back and frees
// nodes, so lock-free readers keep meeting nodes a writer has just freed
// (their cow cleared) or reused. Keys 1 to 2*degree-2 stay present
// throughout. It runs three times: as a small tree, whose leaves Get counts
// and Next halves; taken for a medium one, whose leaves both count; and
// taken for a large one, whose leaves Get halves down to a counted run
// (btree.RunBelow) and Next counts. Short walks, ascending and descending,
// copy the stable keys around each.
func TestTree_ReadsWhileTheRootSplitsAndMerges(t *testing.T) {
	for _, size := range []string{"small", "medium", "large"} {
		t.Run("size="+size, func(t *testing.T) { readWhileTheRootSplitsAndMerges(t, size) })
	}
}

func readWhileTheRootSplitsAndMerges(t *testing.T, size string) {
	tr := NewOrdered[int, int](false)
	switch size {
	case "large":
		tr.cached = 1
		fallthrough
	case "medium":
		tr.stepped = 1
	}
	full := 2*degree - 1
	for k := range full {
		tr.Put(k, k, nil)
	}
	b := tr.route.Load().bases[0]
	require.Equal(t, []bool{size != "small", size == "large"}, []bool{b.medium.Load(), b.large.Load()})
	defer background(1, 0, func(int, *rand.Rand, int) {
		tr.Put(full+100, 0, nil)
		tr.Take(full+100, nil)
		tr.Take(0, nil)
		tr.Put(0, 0, nil)
	})()
	var got []int
	collect := func(key, v int) bool {
		if v != key {
			require.Failf(t, "torn item", "key %d value %d", key, v)
		}
		got = append(got, key)
		return true
	}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		for k := 1; k < full; k++ {
			if v, ok := tr.Get(k); !ok || v != k {
				require.Failf(t, "stable key", "Get(%d): %d, %v", k, v, ok)
			}
			if it, ok := tr.Next(k-1, false); !ok || it.Key != k || it.Value != k {
				require.Failf(t, "stable key", "Next(%d): %v, %v", k-1, it, ok)
			}
			// Short walks, which copy without the lock, up and down.
			if k+4 < full {
				got = got[:0]
				tr.Walk(Span[int]{From: k, HasFrom: true, To: k + 4, HasTo: true}, false, collect)
				if !slices.Equal(got, []int{k, k + 1, k + 2, k + 3}) {
					require.Failf(t, "stable keys", "walk [%d, %d): %v", k, k+4, got)
				}
				got = got[:0]
				tr.Walk(Span[int]{From: k + 4, HasFrom: true, After: true}, true, func(key, v int) bool {
					return collect(key, v) && len(got) < 4
				})
				if !slices.Equal(got, []int{k + 3, k + 2, k + 1, k}) {
					require.Failf(t, "stable keys", "walk down from %d: %v", k+4, got)
				}
			}
		}
	}
}

// TestTree_ReadPathPerArchitecture pins the build tags of optimistic.go and
// locked.go (without the race detector, as this file): lock-free reads on
// amd64, 386 and s390x only. arm64 takes the read lock: a search checks the
// counter before every comparison, and would need a barrier at each (the
// hash engine's arm64 barriers are in internal/seqlock/fence_arm64.s).
func TestTree_ReadPathPerArchitecture(t *testing.T) {
	arch := runtime.GOARCH
	require.Equal(t, arch == "amd64" || arch == "386" || arch == "s390x", optimisticReads, "optimisticReads on %s", arch)
}

// TestTree_FailedCopyHoldsNothing interrupts a walk's copy without the lock:
// the compare function, once the first leaf's run is in the batch, deletes
// most keys, so the read fails. The copy must clear what it appended before
// it reads again, so that the pooled buffer holds no object past what the
// walk filled.
func TestTree_FailedCopyHoldsNothing(t *testing.T) {
	if !optimisticReads {
		t.Skip("walks take the read lock here, and the compare function's writes would wait for it")
	}
	var tr *Tree[int, *int]
	fired := false
	compare := func(a, b int) int {
		// The root's first key against the walk's bound: the inner node's
		// item, compared after the first leaf's run was appended.
		if !fired && a == 64 && b == 300 {
			fired = true
			for k := 1; k <= 150; k++ {
				tr.Take(k, nil)
			}
		}
		return cmp.Compare(a, b)
	}
	tr = NewCompare[int, *int](compare, false)
	for k := 1; k < 200; k++ {
		tr.Put(k, new(int), nil)
	}
	n := 0
	tr.Walk(Span[int]{From: 1, HasFrom: true, To: 300, HasTo: true}, false, func(int, *int) bool { n++; return true })
	require.True(t, fired, "the tree's shape changed: the walk never compared its root's first key")
	require.Equal(t, 49, n)
	p, ok := tr.bufs.Get().(*[]Item[int, *int])
	require.True(t, ok)
	for i, it := range (*p)[:cap(*p)] {
		require.Nil(t, it.Value, "stale item at %d", i)
	}
}
