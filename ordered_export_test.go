package ets

// SplitOrderedSet makes each of keys the lowest key of a base node of its
// own in s's contention-adapting tree (nothing if s's write concurrency is
// off), so that tests run every operation across base nodes without waiting
// for contention to split them.
func SplitOrderedSet[K, V any](s *OrderedSet[K, V], keys ...K) {
	for _, k := range keys {
		s.tr.SplitAt(k)
	}
}
