//go:build !race

package shard

// optimisticReads lets Get and Has read without the shard's lock, validated
// by the shard's sequence counter.
const optimisticReads = true

// checkIndexes: see race.go.
const checkIndexes = false
