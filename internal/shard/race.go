//go:build race

package shard

// Under the race detector, readers take the shard's lock: the
// optimistic read copies slots that a writer may be changing (and discards
// the copy if so), which the detector rightly reports as a race.
const optimisticReads = false
