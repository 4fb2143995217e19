package ets

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestHandlesFillLines keeps the structs every operation reads (handles,
// the core, its state) in whole cache lines: the allocator then aligns
// them to lines, and no object the program writes shares their lines. A
// 32-byte Set handle sharing a line with a 32-byte object written on every
// iteration (testing.PB's counter, in the benchmarks) made parallel
// lookups twice as slow in some runs.
func TestHandlesFillLines(t *testing.T) {
	for name, size := range map[string]uintptr{
		"Set":        unsafe.Sizeof(Set[int64, int64]{}),
		"Set/string": unsafe.Sizeof(Set[string, []byte]{}),
		"bag":        unsafe.Sizeof(bag[int64, int64]{}),
		"OrderedSet": unsafe.Sizeof(OrderedSet[int64, int64]{}),
		"core":       unsafe.Sizeof(core{}),
	} {
		require.Zero(t, size%cacheLine, "%s is %d bytes", name, size)
	}
	require.LessOrEqual(t, unsafe.Sizeof(state{}), uintptr(cacheLine), "a state fits a line (the 64-byte size class is line-aligned)")
}
