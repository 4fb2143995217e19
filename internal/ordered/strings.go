package ordered

import (
	"cmp"
	"encoding/binary"
	"reflect"
	"sync/atomic"
	"unsafe"
)

// Node searches of NewOrdered trees of string keys (of any type whose
// underlying type is string). cmp.Less on two strings is a call of the
// runtime's comparison, one per probe of a binary search. These searches
// compare eight bytes of the keys as one big-endian integer, inline, and
// compare whole strings only where those are equal or a key is too short:
// the eight bytes after the whole words (of eight bytes) that the node's
// first and last keys share, which every key of the node shares too
// (sharedWords), so that keys with a common prefix ("session:...",
// "https://...") are told apart by the bytes after it. A key below or above
// all of those shared words is placed without a probe.
//
// BenchmarkStringSearch (twenty-sixth session, six runs, nodes of 15 and
// 63 keys), time against cmp.Less's: under the lock (stringSearch) 16-byte
// hex keys 0.79 and 0.57, "user:%d" 0.75 and 0.55, "session:%08d" 1.05 and
// 0.87, "https://example.com/users/%08d" 1.04 and 0.91; without it
// (stringSearchSeq) 0.68 and 0.49, 0.64 and 0.48, 1.01 and 0.69, 0.96 and
// 0.70. Through the bench module (ets's OrderedSet, 16-byte keys, old and
// new binaries alternated, six runs each): Lookup of 1e3 keys 0.90 at -cpu
// 1 and 0.93 at -cpu 2, Range of 100 0.94 and 0.94, the 10/10/80 mix 0.94 at
// -cpu 1; 1e6 keys within the noise (their probes wait on the keys' bytes,
// in memory).

// stringKeys reports whether K's underlying type is string.
func stringKeys[K cmp.Ordered]() bool {
	return reflect.TypeFor[K]().Kind() == reflect.String
}

// word is the eight bytes of s from i on as a big-endian integer; len(s)
// must be at least i+8. Of two strings that agree on their first i bytes,
// the one of the smaller word there is the smaller; of equal words, either
// may be.
func word(s string, i int) uint64 {
	return binary.BigEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i)), 8))
}

// sharedWords returns o, the length of the whole words (eight bytes each)
// that first and last, the lowest and highest keys of a node, begin with
// alike, so that every key of the node begins with them too, and where k
// falls: -1 below every key of the node, +1 above, 0 if it begins with
// those o bytes as well.
func sharedWords(first, last, k string) (o, place int) {
	for o+8 <= len(first) && o+8 <= len(last) {
		w := word(first, o)
		if w != word(last, o) {
			break
		}
		if len(k) < o+8 {
			// Every key begins with first[:o+8]; k is shorter, so
			// it is not equal to that and does not begin with it.
			if k < first[:o+8] {
				return o, -1
			}
			return o, 1
		}
		if wk := word(k, o); wk != w {
			if wk < w {
				return o, -1
			}
			return o, 1
		}
		o += 8
	}
	return o, 0
}

// plan returns how stringSearchSeq searches a node of keys first to last
// for k: o and place as sharedWords, and, if k is as long as o+8 bytes, its
// word at o, byWord true. It is not generic, so that word is inlined into
// it; stringSearchSeq, generic, reads its words inline, since the compiler
// does not inline a package's functions into generic code instantiated in
// another package (golang/go#56280; a call of word at every probe made
// lookups of strings no faster).
func plan(first, last, k string) (o, place int, wk uint64, byWord bool) {
	// The test of the first words is sharedWords' first round, repeated
	// here so that nodes whose first and last keys differ there (most
	// nodes of keys without a common prefix) make no call: sharedWords,
	// a loop, is not inlined.
	if len(first) >= 8 && len(last) >= 8 && word(first, 0) == word(last, 0) {
		if o, place = sharedWords(first, last, k); place != 0 {
			return o, place, 0, false
		}
	}
	if len(k) < o+8 {
		return o, 0, 0, false
	}
	return o, 0, word(k, o), true
}

// stringSearch is naturalSearch for string keys.
func stringSearch[K cmp.Ordered, V any](s []Item[K, V], item Item[K, V]) (int, bool) {
	i, found, _ := stringSearchSeq(s, item, nil, 0)
	return i, found
}

// stringSearchSeq is naturalSearchSeq for string keys: as it, it copies
// each key and checks seq unchanged before it reads the key's bytes, since
// a torn string could point anywhere. With seq nil it checks nothing
// (stringSearch, under the lock).
func stringSearchSeq[K cmp.Ordered, V any](s []Item[K, V], item Item[K, V], seq *atomic.Uint64, start uint64) (int, bool, bool) {
	n := len(s)
	if n == 0 {
		return 0, false, true
	}
	first, last := s[0].Key, s[n-1].Key
	if seq != nil && seq.Load() != start {
		return 0, false, false
	}
	k := *(*string)(unsafe.Pointer(&item.Key))
	o, place, wk, byWord := plan(*(*string)(unsafe.Pointer(&first)), *(*string)(unsafe.Pointer(&last)), k)
	switch {
	case place < 0:
		return 0, false, true
	case place > 0:
		return n, false, true
	}
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		ek := s[m].Key
		if seq != nil && seq.Load() != start {
			return 0, false, false
		}
		e := *(*string)(unsafe.Pointer(&ek))
		var less bool
		if !byWord || len(e) < o+8 {
			less = e < k
		} else {
			// word(e, o), spelled out (see plan); the compiler makes
			// it one load and a byte swap
			b := (*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(e)), o))
			we := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
				uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
			if we != wk {
				less = we < wk
			} else {
				less = e < k
			}
		}
		if less {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == n {
		return lo, false, true
	}
	ek := s[lo].Key
	if seq != nil && seq.Load() != start {
		return 0, false, false
	}
	return lo, *(*string)(unsafe.Pointer(&ek)) == k, true
}
