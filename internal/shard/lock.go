package shard

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// seqLock is a shard's lock and its sequence counter in one word: the word is
// odd while someone holds the lock, and a writer's unlock leaves it two
// higher than it found it. A writer therefore pays one atomic
// read-modify-write per operation (a compare-and-swap to lock) and a release
// store to unlock (shard.lock and shard.unlock; on amd64 a plain store, see
// release_amd64.go), where a sync.Mutex plus a separate sequence counter
// cost four read-modify-writes; lock-free readers (see shard.get) note an even value, read, and check the
// value has not moved.
//
// A holder that only reads (a traversal copying the shard, a reader that gave
// up on the lock-free path) takes the lock with rlock and releases it with
// runlock, which puts back the value it found: nothing changed, so lock-free
// readers that straddled it need not retry and cached copies of the shard
// (Pos.sorted) stay valid.
//
// The fast path is one compare-and-swap. A goroutine that finds the lock
// held first watches the word for a short while (writers hold it for tens of
// nanoseconds; the watch reads the cache line without writing it), then
// queues on wait, a sync.Mutex, so that at most one waiter per shard
// spins at a time; that waiter yields the processor between attempts (the
// holder may be descheduled, and at GOMAXPROCS=1 it can only run if the
// waiter yields) and backs off to short sleeps when the holder keeps the lock
// long (a traversal copying a large shard, a slow Update callback). Unlike
// sync.Mutex it has no starvation mode: a newcomer may take the lock before
// the waiter, which is what keeps the uncontended path one instruction.
type seqLock struct {
	seq  atomic.Uint64
	wait sync.Mutex
}

// retired is the word of a shard a Map has replaced (Map.grow): odd, so
// lock-free readers never accept it and the fast paths never take it, and
// marked so that lockSlow tells its waiters to look the shard up again.
// No counter reaches it, nor frozenBit: that would take 2^61 writes.
const retired = 1<<63 | 1

// freeze returns the word of a shard while a grow copies it, given the even
// word w the grow found: held (odd), so writers wait, but readable (see
// readable), since nobody writes the shard until it is retired. It keeps w,
// so that each freeze of a shard has its own word: a grow that gives up
// puts w back (thaw), writers move on from it, and a reader that noted one
// freeze cannot mistake a later one for it.
func freeze(w uint64) uint64 { return frozenBit | w | 1 }

// thaw returns the word a frozen shard had before freeze.
func thaw(f uint64) uint64 { return f &^ (frozenBit | 1) }

const frozenBit = 1 << 62

// readable reports whether lock-free readers may read a shard whose word is
// w: no writer holds it (w even), or a grow has frozen it.
func readable(w uint64) bool { return w&1 == 0 || w&(retired|frozenBit) == frozenBit|1 }

// lock takes the lock, waiting if it is held, and returns the even value it
// found; ok is false, and the lock is not taken, if the shard is retired.
// Writers release it with shard.unlock (one more, as a release store),
// holders that only read with runlock.
func (l *seqLock) lock() (seq uint64, ok bool) {
	if s, ok := l.tryLock(); ok {
		return s, true
	}
	return l.lockSlow()
}

// rlock takes the lock for a holder that will not write, and returns the
// value runlock must put back; ok is false, and the lock is not taken, if
// the shard is retired.
func (l *seqLock) rlock() (seq uint64, ok bool) { return l.lock() }

// tryLock takes the lock if it is free, and returns the even value it
// found. Writers take the same fast path in shard.lock, spelled out there so
// that it is inlined into generic code (golang/go#56280); their unlock is
// shard.unlock, which stores one more.
func (l *seqLock) tryLock() (uint64, bool) {
	s := l.seq.Load()
	if s&1 == 0 && l.seq.CompareAndSwap(s, s+1) {
		if fenced {
			storeFence() // the odd counter before the holder's writes (fence_arm64.go)
		}
		return s, true
	}
	return s, false
}

// runlock releases a lock taken with rlock, restoring the counter to the
// value it had.
func (l *seqLock) runlock(s uint64) { storeRelease(&l.seq, s) }

// lockSlow takes the lock after the fast path failed and returns the even
// value it found, or gives up and returns false if the shard is retired
// (the caller looks the key's shard up again).
func (l *seqLock) lockSlow() (uint64, bool) {
	for range spins {
		if s, ok := l.tryLock(); ok || s == retired {
			return s, l.retry(ok)
		}
	}
	l.wait.Lock()
	defer l.wait.Unlock()
	for i := 0; ; i++ {
		if s, ok := l.tryLock(); ok || s == retired {
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

// retry passes on lockSlow's result; when the shard is retired (ok false)
// it first yields, since the caller will look its shard up again and may
// find this one until the grow that retired it publishes the new shards.
func (l *seqLock) retry(ok bool) bool {
	if !ok {
		runtime.Gosched()
	}
	return ok
}

// lockWithin takes the lock if it can within d (spins reads, then yields
// until d has passed), for a grow, which gives up rather than wait behind a
// long holder: the value it found, or false. A holder that was descheduled
// gets d to run again.
func (l *seqLock) lockWithin(d time.Duration) (uint64, bool) {
	for range spins {
		if s, ok := l.tryLock(); ok {
			return s, true
		}
	}
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		if s, ok := l.tryLock(); ok {
			return s, true
		}
		if i%16 == 0 && time.Now().After(deadline) {
			return 0, false
		}
		runtime.Gosched()
	}
}

// spins is how many times lockSlow reads the word before it queues.
const spins = 100

// unchanged reports whether the counter still holds s.
func (l *seqLock) unchanged(s uint64) bool { return l.seq.Load() == s }
