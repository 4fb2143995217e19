//go:build !race

// The race detector rightly reports GetSeq's and SeekSeq's reads, which race
// with the writer by design; the tree's own tests run them under it with
// the locks (see ordered's locked.go).

package btree

import (
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
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for !done.Load() {
			k := 2*r.IntN(keys/2) + 1
			seq.Add(1)
			if r.IntN(2) == 0 {
				tr.ReplaceOrInsert(k)
			} else {
				tr.Delete(k)
			}
			seq.Add(1)
		}
	}()
	defer func() { done.Store(true); wg.Wait() }()
	r := rand.New(rand.NewPCG(3, 4))
	valid := 0
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		for range 1000 {
			k := r.IntN(keys)
			start := seq.Load()
			if start&1 != 0 {
				continue
			}
			if _, ok, v := tr.GetSeq(k, &seq, start, false); v && k%2 == 0 && !ok {
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
		}
	}
	require.Positive(t, valid)
}
