//go:build !race && (amd64 || 386 || s390x || arm64)

package shard

// optimisticReads lets Get, Has, a Bag's Get, Append and Count, Collect
// (the walks) and a shard's live count read without the shard's lock, validated by the shard's
// sequence counter. A reader's plain copy of a slot must not be satisfied
// after its second load of the counter, and a writer's stores must not be
// seen before its store of the odd counter: so on these architectures loads
// are not reordered with later loads nor stores with later stores, and on
// arm64, where a load-acquire does not keep earlier loads from passing it
// nor a store-release (the lock's compare-and-swap) later stores, the reader
// and the writer put barriers there (seqlock's fence_arm64.go), as does a
// grow between retiring its old shards and clearing them.
const optimisticReads = true
