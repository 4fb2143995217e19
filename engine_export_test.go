package ets

import "github.com/etsgo/ets/internal/shard"

// WithEngineForTest lets a test change the engine configuration the other
// options chose: a hash table that starts with one shard and grows after
// every wait, for instance.
func WithEngineForTest(f func(*shard.Config)) Option {
	return Option{func(c *config) error {
		c.testEngine = f
		return nil
	}}
}

// GrowForTest grows a Set's engine one step, as contention would, and
// reports whether it grew.
func GrowForTest[K comparable, V any](t *Set[K, V]) bool { return t.m.Grow() }

// StoredForTest returns how many objects t's storage holds, whatever its
// state: a dropped table's storage should hold none.
func StoredForTest(t any) int {
	return t.(interface{ tableCore() *core }).tableCore().eng.Len()
}
