// Package seqlock is the lock of ets's engines: a lock and a sequence counter
// in one word, so that a writer pays one atomic read-modify-write (a
// compare-and-swap to lock) and a release store to unlock (on amd64 a plain
// store, see release_amd64.go), where a sync.Mutex or sync.RWMutex plus a
// separate counter cost four to six read-modify-writes. The word is odd
// while someone holds the lock, and a writer's unlock leaves it two higher
// than it found it; lock-free readers note an even value, read, and check
// the value has not moved.
//
// A hash table's shards (internal/shard) and an ordered table's base nodes
// (internal/ordered) are guarded by it.
package seqlock

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Lock is a lock and its sequence counter. The zero Lock is unlocked.
//
// A holder that only reads (a traversal copying what the lock guards, a
// reader that gave up on the lock-free path) takes it with Lock too and
// releases it with Restore, which puts back the value Lock found: nothing
// changed, so lock-free readers that straddled it need not retry.
//
// The fast path is one compare-and-swap. A goroutine that finds the lock
// held first watches the word for a short while (writers hold it for tens of
// nanoseconds; the watch reads the cache line without writing it), then
// queues on wait, a sync.Mutex, so that at most one waiter per lock spins at
// a time; that waiter yields the processor between attempts (the holder may
// be descheduled, and at GOMAXPROCS=1 it can only run if the waiter yields)
// and backs off to short sleeps when the holder keeps the lock long (a
// traversal copying a large shard, a slow callback). Unlike sync.Mutex it has
// no starvation mode: a newcomer may take the lock before the waiter, which
// is what keeps the uncontended path one instruction.
type Lock struct {
	// Seq is the word: odd while held. It is exported so that callers'
	// hot paths can spell out TryLock and Unlock, which the compiler does
	// not inline into generic code instantiated in another package
	// (golang/go#56280).
	Seq  atomic.Uint64
	wait sync.Mutex
}

// Retired is a word no counter reaches (it would take 2^62 writes): odd, so
// that lock-free readers never accept it and the fast paths never take it.
// A hash shard that a grow replaced holds it for good, and LockSlow gives up
// on it, so that its waiters look their key's shard up again.
const Retired = 1<<63 | 1

// Lock takes the lock, waiting if it is held, and returns the even value it
// found; ok is false, and the lock is not taken, if the word is Retired.
// Writers release it with Unlock, holders that only read with Restore.
func (l *Lock) Lock() (seq uint64, ok bool) {
	if s, ok := l.TryLock(); ok {
		return s, true
	}
	return l.LockSlow()
}

// TryLock takes the lock if it is free, and returns the even value it found.
func (l *Lock) TryLock() (uint64, bool) {
	s := l.Seq.Load()
	if s&1 == 0 && l.Seq.CompareAndSwap(s, s+1) {
		if Fenced {
			StoreFence() // the odd counter before the holder's writes (fence_arm64.go)
		}
		return s, true
	}
	return s, false
}

// Unlock releases the lock for a holder that wrote: the word becomes one
// more than the odd value it holds, so two more than Lock found.
func (l *Lock) Unlock() { StoreRelease(&l.Seq, l.Seq.Load()+1) }

// Restore releases a lock taken by a holder that did not write, putting back
// the value Lock or TryLock returned.
func (l *Lock) Restore(s uint64) { StoreRelease(&l.Seq, s) }

// LockSlow takes the lock after the fast path failed and returns the even
// value it found, or gives up and returns false if the word is Retired.
func (l *Lock) LockSlow() (uint64, bool) {
	for range spins {
		if s, ok := l.TryLock(); ok || s == Retired {
			return s, l.retry(ok)
		}
	}
	l.wait.Lock()
	defer l.wait.Unlock()
	for i := 0; ; i++ {
		if s, ok := l.TryLock(); ok || s == Retired {
			return s, l.retry(ok)
		}
		switch {
		case i < 64:
			runtime.Gosched()
		default:
			time.Sleep(time.Duration(min(i-63, 100)) * 10 * time.Microsecond)
		}
	}
}

// retry passes on LockSlow's result; when the word is Retired (ok false) it
// first yields, since the caller will look for what replaced the lock's
// shard and may find this one until the grow that retired it publishes.
func (l *Lock) retry(ok bool) bool {
	if !ok {
		runtime.Gosched()
	}
	return ok
}

// LockWithin takes the lock if it can within d (spins reads, then yields
// until d has passed), for a caller that gives up rather than wait behind a
// long holder: the value it found, or false. A holder that was descheduled
// gets d to run again.
func (l *Lock) LockWithin(d time.Duration) (uint64, bool) {
	for range spins {
		if s, ok := l.TryLock(); ok {
			return s, true
		}
	}
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		if s, ok := l.TryLock(); ok {
			return s, true
		}
		if i%16 == 0 && time.Now().After(deadline) {
			return 0, false
		}
		runtime.Gosched()
	}
}

// spins is how many times LockSlow reads the word before it queues.
const spins = 100

// Unchanged reports whether the word still holds s.
func (l *Lock) Unchanged(s uint64) bool { return l.Seq.Load() == s }
