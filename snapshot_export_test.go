package ets

import "io"

// SaveFileThrough is SaveFile with wrap around the temporary file's writer,
// so tests can make the write fail midway.
func SaveFileThrough(path string, t Table, wrap func(io.Writer) io.Writer, opts ...SnapshotOption) error {
	return saveFile(path, t, wrap, opts)
}

// NaturalCompare exposes the key order an OrderedSet loaded without
// WithComparator gets.
func NaturalCompare[K any]() (func(a, b K) int, bool) { return naturalCompare[K]() }
