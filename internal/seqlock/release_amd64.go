//go:build !race

package seqlock

import (
	"sync/atomic"
	"unsafe"
)

// StoreRelease stores v in *p, which only the caller may be writing (it
// holds the lock whose word *p is), so that every load and store the caller
// made before it is seen before it: it releases the lock.
//
// On amd64 that is a plain store: the processor neither makes stores visible
// out of order nor lets a load pass a later store, and the compiler does not
// move a load or store of the critical section below a store. An atomic
// Store (XCHG) or Add (LOCK XADD) would also drain the store buffer: a
// locked instruction that cost 4 ns of a 20 ns overwrite and of a 26 ns
// UpdateCounter on one core (bench/: BenchmarkWrite100, BenchmarkHotCounters),
// with nothing gained, since the next holder takes the lock with a
// compare-and-swap, which is a full barrier. This is what Linux's
// spin_unlock and Go's own runtime (internal/runtime/atomic.StoreRel) do on
// amd64. Under the race detector it is an atomic store (release_other.go),
// since the plain one races by the language's rules.
func StoreRelease(p *atomic.Uint64, v uint64) { *(*uint64)(unsafe.Pointer(p)) = v }

// PlainRelease: StoreRelease is a plain store (callers' hot paths spell it
// out, as shard.Locked.Unlock does).
const PlainRelease = true
