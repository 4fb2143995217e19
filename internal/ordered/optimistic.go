//go:build !race && (amd64 || 386 || s390x)

package ordered

// optimisticReads lets Get, Has, Tree.step and walks (Tree.copy) read a base
// node without its lock, validated by its sequence counter (see
// seqRWMutex). It needs loads
// that are not reordered with later loads, as on these architectures: a
// reader's plain loads of the btree must not be satisfied after its second
// load of the counter, which Go's atomic loads do not promise on weaker
// machines (arm64, for one: an earlier plain load may pass a load-acquire).
const optimisticReads = true
