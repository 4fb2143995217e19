//go:build !amd64 || race

package shard

import "sync/atomic"

// storeRelease stores v in *p, which only the caller may be writing, after
// all its earlier loads and stores: see release_amd64.go. An atomic store is
// a store-release on every architecture Go supports.
func storeRelease(p *atomic.Uint64, v uint64) { p.Store(v) }

// plainRelease: storeRelease is an atomic store (Locked.Unlock spells it out).
const plainRelease = false
