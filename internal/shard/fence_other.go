//go:build !arm64

package shard

// loadFence and storeFence are arm64's barriers (fence_arm64.go). On the
// other architectures with lock-free reads (amd64, 386, s390x) loads are
// not reordered with later loads, nor stores with later stores, and the
// compiler keeps a plain load before a later atomic load, so they are empty
// (and inlined away). Elsewhere readers take the lock (locked.go).
func loadFence()  {}
func storeFence() {}
