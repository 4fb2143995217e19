//go:build !race

package shard

// checkIndexes: see race.go.
const checkIndexes = false
