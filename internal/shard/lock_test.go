package shard

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSeqLockLongHolder checks that a waiter gets the lock after a holder
// keeps it long (the waiter's backoff sleeps), and that the word tells
// lock-free readers a writer held it.
func TestSeqLockLongHolder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var l shard[int, int]
	before := l.l.Seq.Load()
	require.Zero(t, before&1)
	l.lock()
	require.NotZero(t, l.l.Seq.Load()&1, "a held lock must read as odd")
	got := make(chan struct{})
	go func() {
		l.lock()
		close(got)
		l.unlock()
	}()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("the waiter took a held lock")
	default:
	}
	l.unlock()
	<-got
	require.False(t, l.l.Unchanged(before), "a write must change the word")
	s, _ := l.rlock()
	l.runlock(s)
	require.True(t, l.l.Unchanged(s), "a reader must not change the word")
}

// lock write-locks a shard of a Map that does not grow.
func (s *shard[K, V]) lock() { s.l.Lock() }

// A frozen word is readable and held, thaws back to the word it froze, and
// differs from the word of any later freeze of the same shard, so that a
// reader that noted one freeze and validates against the next (the grow
// gave up, a writer wrote, another grow froze the shard) retries.
func TestFrozenWords(t *testing.T) {
	var l seqLock
	w, ok := l.TryLock()
	require.True(t, ok)
	require.False(t, readable(l.Seq.Load()), "a held word is not readable")
	l.Seq.Store(freeze(w))
	f1 := l.Seq.Load()
	require.True(t, readable(f1))
	_, ok = l.TryLock()
	require.False(t, ok, "a frozen shard is held")
	l.Seq.Store(thaw(f1))
	require.Equal(t, w, l.Seq.Load())
	w2, ok := l.TryLock() // a writer
	require.True(t, ok)
	l.Seq.Add(1)
	_, ok = l.TryLock() // the next grow
	require.True(t, ok)
	f2 := freeze(w2 + 2)
	require.NotEqual(t, f1, f2)
	require.False(t, readable(retired))
	require.True(t, readable(w2+2))
}

// TestReadPathPerArchitecture pins the build-tag matrix of optimistic.go,
// locked.go and seqlock's fence_*.go and release_*.go: lock-free reads on amd64, 386,
// s390x and arm64 (with barriers on arm64 only), the lock everywhere under
// the race detector and on other architectures, and the plain release
// store on amd64 only (a plain 64-bit store is two stores on 386). A file
// that loses its tag fails here on that architecture (CI runs arm64 under
// qemu-user).
func TestReadPathPerArchitecture(t *testing.T) {
	race := checkIndexes // true exactly under the race detector (race.go)
	arch := runtime.GOARCH
	lockFree := !race && (arch == "amd64" || arch == "386" || arch == "s390x" || arch == "arm64")
	assert.Equal(t, lockFree, optimisticReads, "optimisticReads on %s, race %v", arch, race)
	assert.Equal(t, arch == "arm64", fenced, "fenced on %s", arch)
	assert.Equal(t, arch == "amd64" && !race, plainRelease, "plainRelease on %s, race %v", arch, race)
}
