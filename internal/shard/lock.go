package shard

import "github.com/etsgo/ets/internal/seqlock"

// seqLock is a shard's lock and its sequence counter in one word
// (seqlock.Lock): odd while someone holds it. Writers take it with
// Map.lockHash or Ref (the fast path spelled out) and release it with
// shard.unlock; holders that only read use shard.rlock and shard.runlock,
// which put back the word they found, so that lock-free readers that
// straddled them need not retry and cached copies of the shard (Pos.sorted)
// stay valid.
type seqLock = seqlock.Lock

// retired is the word of a shard a Map has replaced (Map.grow): odd, so
// lock-free readers never accept it and the fast paths never take it, and
// LockSlow tells its waiters to look the shard up again.
const retired = seqlock.Retired

// freeze returns the word of a shard while a grow copies it, given the even
// word w the grow found: held (odd), so writers wait, but readable (see
// readable), since nobody writes the shard until it is retired. It keeps w,
// so that each freeze of a shard has its own word: a grow that gives up
// puts w back (thaw), writers move on from it, and a reader that noted one
// freeze cannot mistake a later one for it. No counter reaches frozenBit:
// that would take 2^61 writes.
func freeze(w uint64) uint64 { return frozenBit | w | 1 }

// thaw returns the word a frozen shard had before freeze.
func thaw(f uint64) uint64 { return f &^ (frozenBit | 1) }

const frozenBit = 1 << 62

// readable reports whether lock-free readers may read a shard whose word is
// w: no writer holds it (w even), or a grow has frozen it.
func readable(w uint64) bool { return w&1 == 0 || w&(retired|frozenBit) == frozenBit|1 }

// fenced and plainRelease are seqlock's, named here as the shard's hot
// paths test them: see seqlock's fence_arm64.go and release_amd64.go.
const (
	fenced       = seqlock.Fenced
	plainRelease = seqlock.PlainRelease
)
