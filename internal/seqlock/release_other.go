//go:build !amd64 || race

package seqlock

import "sync/atomic"

// StoreRelease stores v in *p, which only the caller may be writing, after
// all its earlier loads and stores: see release_amd64.go. An atomic store is
// a store-release on every architecture Go supports.
func StoreRelease(p *atomic.Uint64, v uint64) { p.Store(v) }

// PlainRelease: StoreRelease is an atomic store (callers' hot paths spell
// it out, as shard.Locked.Unlock does).
const PlainRelease = false
