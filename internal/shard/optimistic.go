//go:build !race && (amd64 || 386 || s390x)

package shard

// optimisticReads lets Get, Has and a shard's live count read without the
// shard's lock, validated by the shard's sequence counter. It needs loads
// that are not reordered with later loads, as on these architectures: a
// reader's plain copy of a slot must not be satisfied after its second load
// of the counter, which Go's atomic loads do not promise on weaker machines
// (arm64, for one: an earlier plain load may pass a load-acquire), and a
// writer's stores must not pass its store of the odd counter.
const optimisticReads = true
