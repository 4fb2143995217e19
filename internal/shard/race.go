//go:build race

package shard

// Under the race detector, readers take the shard's lock: the
// optimistic read copies slots that a writer may be changing (and discards
// the copy if so), which the detector rightly reports as a race.
const optimisticReads = false

// checkIndexes makes Get and Ref check, under the race detector, that the
// shard index they compute from a shift and an array they loaded separately
// is within the array: it is, if grow stores the array before the shift
// and they load the shift first (see Map), which no other check would show.
const checkIndexes = true
