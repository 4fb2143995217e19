//go:build !race && (amd64 || 386 || s390x)

// The race detector rightly reports GetSeq's and SeekSeq's reads, which race
// with the writer by design; the tree's own tests run them under it with
// the locks (see ordered's locked.go). Elsewhere (arm64, for one) loads may
// be reordered with later loads, so reads without the lock are not valid
// there, and the ordered engine does not make them (ordered's
// optimistic.go).

package btree

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSeq_ReadsWhileNodesSplitMergeAndFree reads with GetSeq and SeekSeq
// while a writer inserts and deletes keys in a tree of degree 2, moving seq
// around each write as the ordered engine's lock does. Every write splits,
// merges or frees nodes, so readers meet nodes that writers have emptied,
// freed (cow cleared) and reused. Even keys stay present throughout: a
// valid read must find them, and a seek must not step over one.
func TestSeq_ReadsWhileNodesSplitMergeAndFree(t *testing.T) {
	const keys = 64
	tr := NewG(2, func(a, b int) bool { return a < b })
	for k := 0; k < keys; k += 2 {
		tr.ReplaceOrInsert(k)
	}
	var seq atomic.Uint64
	defer churn(tr, &seq, keys, func(k int) int { return k })()
	r := rand.New(rand.NewPCG(3, 4))
	valid, walks := 0, 0
	buf := make([]int, 0, 16)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		for range 1000 {
			k := r.IntN(keys)
			start := seq.Load()
			if start&1 != 0 {
				continue
			}
			if _, ok, v := tr.GetSeq(k, &seq, start); v && k%2 == 0 && !ok {
				require.Failf(t, "stable key not found", "GetSeq(%d)", k)
			}
			start = seq.Load()
			if start&1 != 0 {
				continue
			}
			next, ok, v := tr.SeekSeq(k, true, true, false, &seq, start, false)
			if !v {
				continue
			}
			valid++
			near := k + 2 - k%2
			if near < keys && !(ok && next > k && next <= near) || near >= keys && ok && next <= k {
				require.Failf(t, "SeekSeq stepped over a stable key", "after %d: %d, %v", k, next, ok)
			}
			start = seq.Load()
			if start&1 != 0 {
				continue
			}
			b := Bounds[int]{From: k, HasFrom: true, After: r.IntN(2) == 0, To: k + r.IntN(16), HasTo: true}
			desc := r.IntN(2) == 0
			limit := 1 + r.IntN(12)
			var got []int
			if desc {
				got, ok = tr.AppendDescendSeq(buf[:0], &b, limit, &seq, start, r.IntN(2) == 0)
			} else {
				got, ok = tr.AppendAscendSeq(buf[:0], &b, limit, &seq, start, r.IntN(2) == 0)
			}
			if ok {
				walks++
				checkWalk(t, got, b, desc, limit, keys)
			}
		}
	}
	require.Positive(t, valid)
	require.Positive(t, walks)
}

// checkWalk fails t unless got is what a walk of a tree whose even keys
// below keys are present (and odd keys may be) can copy: keys in order
// within the bounds, no even key passed over between the start, the keys
// copied and, if the walk ended short of its limit, its end.
func checkWalk(t *testing.T, got []int, b Bounds[int], desc bool, limit, keys int) {
	t.Helper()
	require.LessOrEqual(t, len(got), limit)
	// stepped reports whether an even key lies strictly between a and c
	// (a < c), that is, whether a walk from a to c passed over one.
	stepped := func(a, c int) bool {
		e := a + 1
		if e%2 != 0 {
			e++
		}
		return e < c && e < keys && e >= 0
	}
	from := b.From
	if !b.After { // the walk starts at From itself
		if desc {
			from++
		} else {
			from--
		}
	}
	prev := from
	for _, k := range got {
		if desc {
			require.Less(t, k, prev, "walk %+v desc copied %v", b, got)
			require.False(t, stepped(k, prev), "walk %+v desc passed over a stable key: %v", b, got)
		} else {
			require.Greater(t, k, prev, "walk %+v copied %v", b, got)
			require.Less(t, k, b.To, "walk %+v copied %v", b, got)
			require.False(t, stepped(prev, k), "walk %+v passed over a stable key: %v", b, got)
		}
		prev = k
	}
	if len(got) < limit {
		if desc {
			require.False(t, stepped(-1, prev), "walk %+v desc ended short (%v) above a stable key", b, got)
		} else {
			require.False(t, stepped(prev, b.To), "walk %+v ended short (%v) below a stable key", b, got)
		}
	}
}

// TestGetSeqInt_ReadsWhileNodesSplitMergeAndFree is the test above for
// GetSeqInt, whose searches compare keys before checking the counter: a
// writer inserts and deletes odd keys in a tree of degree 2, and in one of
// degree 64 whose leaves are leaf blocks (searched with BlockBelow when
// halved), while readers look keys up, leaves counted or halved in turn. A
// valid lookup must find every even key, and whatever it finds must be the
// key it looked for, with that key's value.
func TestGetSeqInt_ReadsWhileNodesSplitMergeAndFree(t *testing.T) {
	for _, c := range []struct{ degree, keys int }{{2, 64}, {64, 4000}} {
		t.Run(fmt.Sprintf("degree=%d", c.degree), func(t *testing.T) {
			keys := c.keys
			tr := blocks(NewG(c.degree, func(a, b Item[int64, int64]) bool { return a.Key < b.Key }))
			for k := int64(0); k < int64(keys); k += 2 {
				tr.ReplaceOrInsert(Item[int64, int64]{Key: k, Value: 10 * k})
			}
			var seq atomic.Uint64
			defer churn(tr, &seq, keys, func(k int) Item[int64, int64] { return Item[int64, int64]{Key: int64(k), Value: 10 * int64(k)} })()
			r := rand.New(rand.NewPCG(7, 8))
			valid, found := 0, 0
			for deadline := time.Now().Add(time.Second / 2); time.Now().Before(deadline); {
				for range 1000 {
					k := int64(r.IntN(keys+2) - 1)
					start := seq.Load()
					if start&1 != 0 {
						continue
					}
					it, ok, v := GetSeqInt(tr, k, &seq, start, r.IntN(2) == 0)
					if !v {
						continue
					}
					valid++
					if k >= 0 && k < int64(keys) && k%2 == 0 && !ok {
						require.Failf(t, "stable key not found", "GetSeqInt(%d)", k)
					}
					if ok {
						found++
						require.Equal(t, Item[int64, int64]{Key: k, Value: 10 * k}, it, "GetSeqInt(%d)", k)
					}
				}
			}
			require.Positive(t, valid)
			require.Positive(t, found)
		})
	}
}

// churn starts a writer that inserts and deletes the items of random odd
// keys below keys in tr (see writer), and returns the function that stops
// it.
func churn[T any](tr *BTreeG[T], seq *atomic.Uint64, keys int, item func(k int) T) (stop func()) {
	r := rand.New(rand.NewPCG(1, 2)) // the writer's alone
	return writer(seq, 0, func(int) {
		it := item(2*r.IntN(keys/2) + 1)
		if r.IntN(2) == 0 {
			tr.ReplaceOrInsert(it)
		} else {
			tr.Delete(it)
		}
	})
}

// writer starts a goroutine that calls write(0), write(1) and so on,
// moving seq around each call as the ordered engine's lock does and
// spinning pause steps after it, until the function it returns is called.
func writer(seq *atomic.Uint64, pause int, write func(i int)) (stop func()) {
	var done atomic.Bool
	var spin atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !done.Load(); i++ {
			seq.Add(1)
			write(i)
			seq.Add(1)
			for j := range pause {
				spin.Add(int64(j))
			}
		}
	}()
	return func() { done.Store(true); wg.Wait() }
}

// TestGetSeqInt_NoTornItem looks up a key whose item a writer keeps
// replacing in place with one of 256 words, all equal (all 1s, then all 2s),
// moving seq around each write and pausing between writes: a valid lookup
// must return an item whose words agree, never one copied while the writer
// was storing it. (Without GetSeqInt's last check of the counter, 2 to 18
// lookups in half a second returned a torn item here.)
func TestGetSeqInt_NoTornItem(t *testing.T) {
	type wide = Item[int64, [256]int64]
	tr := NewG(32, func(a, b wide) bool { return a.Key < b.Key })
	for k := range int64(200) {
		tr.ReplaceOrInsert(wide{Key: k})
	}
	var items [2]wide
	for i := range items {
		items[i].Key = 150
		for j := range items[i].Value {
			items[i].Value[j] = int64(i + 1)
		}
	}
	var seq atomic.Uint64
	// A pause after each write, in which readers start: their copies
	// overlap the next write's.
	defer writer(&seq, 256, func(i int) { tr.ReplaceOrInsert(items[i%2]) })()
	valid := 0
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		for range 1000 {
			start := seq.Load()
			if start&1 != 0 {
				continue
			}
			it, ok, v := GetSeqInt(tr, 150, &seq, start, false)
			if !v {
				continue
			}
			valid++
			require.True(t, ok)
			require.Equal(t, it.Value[0], it.Value[255], "a torn item read as valid")
		}
	}
	require.Positive(t, valid)
}
