package seqlock

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Writers increment a plain counter under Lock/Unlock while readers hold
// the lock with Lock/Restore, at one, two and four processors: no increment
// is lost (the race detector sees any overlap), readers always find an even
// word, and the word ends two higher per write, readers having put back
// what they found.
func TestLockExcludes(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("procs=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			var l Lock
			n := 0
			const writers, readers, rounds = 8, 4, 2000
			var wg sync.WaitGroup
			wg.Add(writers + readers)
			for range writers {
				go func() {
					defer wg.Done()
					for range rounds {
						_, ok := l.Lock()
						assert.True(t, ok)
						n++
						l.Unlock()
					}
				}()
			}
			seen := make([]int, readers)
			for r := range readers {
				go func() {
					defer wg.Done()
					for range rounds {
						s, ok := l.Lock()
						assert.True(t, ok)
						assert.Zero(t, s&1, "a holder found an odd word")
						seen[r] = n // a read the race detector checks against the writes
						l.Restore(s)
					}
				}()
			}
			wg.Wait()
			require.Equal(t, writers*rounds, n)
			require.Equal(t, uint64(2*writers*rounds), l.Seq.Load(), "readers must put the word back")
		})
	}
}

// A held word is odd and TryLock fails on it; LockWithin gives up after its
// time; LockSlow gives up at once on a Retired word, and waits for a
// holder otherwise.
func TestLockStates(t *testing.T) {
	var l Lock
	s, ok := l.TryLock()
	require.True(t, ok)
	require.Zero(t, s)
	require.Equal(t, uint64(1), l.Seq.Load())
	_, ok = l.TryLock()
	require.False(t, ok, "a held lock")
	_, ok = l.LockWithin(time.Millisecond)
	require.False(t, ok, "LockWithin behind a holder")
	got := make(chan uint64)
	go func() {
		s, _ := l.Lock()
		l.Unlock()
		got <- s
	}()
	time.Sleep(10 * time.Millisecond)
	l.Unlock()
	require.Equal(t, uint64(2), <-got, "the waiter found the word the holder left")
	require.True(t, l.Unchanged(4))

	var r Lock
	r.Seq.Store(Retired)
	_, ok = r.Lock()
	require.False(t, ok, "a Retired word is never taken")
}
