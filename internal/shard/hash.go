package shard

import (
	"hash/maphash"
	"math/bits"
	"reflect"
	"unsafe"
)

// hasher hashes a Map's keys under seeds drawn at random for the Map. Keys
// of an integer kind (int8 to uint64, uintptr, and types defined on them)
// are mixed with two multiply-fold rounds of a 64-bit secret (the wyhash
// construction): about a nanosecond, inlined, where maphash.Comparable calls
// through the runtime's hasher. Every other key goes through
// maphash.Comparable, which follows ==: +0 and -0 floats, equal strings,
// equal interfaces hash alike.
type hasher[K comparable] struct {
	seed    maphash.Seed
	intSeed uint64
	intKey  bool
	// inline is not about hashing: it tells the Map's shards that they may
	// keep their first group in line (see shard.inl). New sets it; it is
	// here because the hasher is what every insert is given.
	inline bool
}

func newHasher[K comparable]() hasher[K] {
	h := hasher[K]{seed: maphash.MakeSeed()}
	switch reflect.TypeFor[K]().Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		h.intKey = true
		h.intSeed = maphash.Comparable(h.seed, uint64(0x9e3779b97f4a7c15))
	}
	return h
}

// hash returns k's hash.
func (h *hasher[K]) hash(k K) uint64 {
	if h.intKey {
		return h.intHash(k)
	}
	return maphash.Comparable(h.seed, k)
}

// intHash returns the hash of k, a key of an integer kind. It is spelled out
// rather than split into helpers, which the compiler would not inline into
// generic code instantiated in another package (golang/go#56280), and it is
// kept small enough to be inlined itself. unsafe.Sizeof(k) is a constant of
// each instantiation: the switch folds away.
func (h *hasher[K]) intHash(k K) uint64 {
	var v uint64
	switch unsafe.Sizeof(k) {
	case 8:
		v = *(*uint64)(unsafe.Pointer(&k))
	case 4:
		v = uint64(*(*uint32)(unsafe.Pointer(&k)))
	case 2:
		v = uint64(*(*uint16)(unsafe.Pointer(&k)))
	default:
		v = uint64(*(*uint8)(unsafe.Pointer(&k)))
	}
	hi, lo := bits.Mul64(v^h.intSeed, 0x2d358dccaa6c78a5)
	hi, lo = bits.Mul64(hi^lo, 0x8bb84b93962eacc9)
	return hi ^ lo
}
