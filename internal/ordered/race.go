//go:build race

package ordered

// Under the race detector, Get and Has take the base node's read lock: the
// optimistic read copies items that a writer may be changing (and discards
// the copy if so), which the detector rightly reports as a race.
const optimisticReads = false
