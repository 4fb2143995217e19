//go:build race || !(amd64 || 386 || s390x)

package ordered

// Under the race detector, Get, Has, Tree.step and walks take the base
// node's read lock: the optimistic read copies items that a writer may be
// changing (and discards the copy if so), which the detector rightly
// reports as a race. On architectures whose loads may be reordered with
// later loads they take it too (see optimistic.go).
const optimisticReads = false
