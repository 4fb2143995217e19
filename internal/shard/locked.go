//go:build race || !(amd64 || 386 || s390x)

package shard

// Under the race detector, readers take the shard's lock: the optimistic
// read copies slots that a writer may be changing (and discards the copy if
// so), which the detector rightly reports as a race. On architectures whose
// loads may be reordered with later loads they take it too (see
// optimistic.go).
const optimisticReads = false
