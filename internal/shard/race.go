//go:build race

package shard

// checkIndexes makes Get and Ref check, under the race detector, that the
// shard index they compute from a shift and an array they loaded separately
// is within the array: it is, if grow stores the array before the shift
// and they load the shift first (see Map), which no other check would show.
const checkIndexes = true
