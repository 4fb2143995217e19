//go:build race || !(amd64 || 386 || s390x || arm64)

package shard

// Under the race detector, readers take the shard's lock: the optimistic
// read copies slots that a writer may be changing (and discards the copy if
// so), which the detector rightly reports as a race. On the architectures
// without the barriers of seqlock's fence_arm64.go, and whose loads may be
// reordered with later loads (ppc64, riscv64 and others), they take it too
// (see optimistic.go).
const optimisticReads = false
