//go:build race

package ets_test

// raceEnabled reports a -race build, whose sync.Pool drops a quarter of the
// items put into it (to shake out races), so that walks, which reuse pooled
// batch buffers, allocate a new one now and then.
const raceEnabled = true
