package shard

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type namedInt int32

// roundTrip stores keys in a Map of K and reads them back, and reports
// whether the Map took the integer path.
func roundTrip[K comparable](t *testing.T, keys []K) bool {
	t.Helper()
	m := New[K, int](Config{Shards: 4})
	for i, k := range keys {
		m.Put(k, i, nil)
	}
	require.Equal(t, len(keys), m.Len())
	for i, k := range keys {
		v, ok := m.Get(k, nil)
		require.True(t, ok, "key %v", k)
		require.Equal(t, i, v, "key %v", k)
	}
	return m.intKey
}

func TestHasherIntegerKinds(t *testing.T) {
	assert.True(t, roundTrip(t, []int8{-128, -1, 0, 1, 127}))
	assert.True(t, roundTrip(t, []uint8{0, 1, 255}))
	assert.True(t, roundTrip(t, []int16{math.MinInt16, -1, 0, math.MaxInt16}))
	assert.True(t, roundTrip(t, []uint32{0, 1, math.MaxUint32}))
	assert.True(t, roundTrip(t, []namedInt{-5, 0, 5}))
	assert.True(t, roundTrip(t, []int{math.MinInt, -1, 0, 1, math.MaxInt}))
	assert.True(t, roundTrip(t, []uint64{0, 1 << 63, math.MaxUint64}))
	assert.True(t, roundTrip(t, []uintptr{0, 1, ^uintptr(0)}))
	assert.False(t, roundTrip(t, []string{"", "a", "b"}))
	assert.False(t, roundTrip(t, []float64{-1, 0.5, math.Inf(1)}))
	assert.False(t, roundTrip(t, []any{1, "1", int8(1)}))
}

// TestHasherFollowsEquality: keys equal under == hash alike, whatever their
// bits (floats' +0 and -0).
func TestHasherFollowsEquality(t *testing.T) {
	m := New[float64, int](Config{Shards: 4})
	m.Put(0.0, 1, nil)
	v, ok := m.Get(math.Copysign(0, -1), nil)
	require.True(t, ok)
	require.Equal(t, 1, v)
}

// TestHasherSeeded: two Maps hash the same integer differently (with
// overwhelming probability), and a Map's integer hashes spread over its
// shards.
func TestHasherSeeded(t *testing.T) {
	a, b := New[int64, int](Config{Shards: 64}), New[int64, int](Config{Shards: 64})
	same := 0
	perShard := make([]int, 64)
	for k := range int64(4096) {
		if a.Hash(k) == b.Hash(k) {
			same++
		}
		perShard[a.dir().index(a.Hash(k))]++
	}
	require.Less(t, same, 2)
	for i, n := range perShard {
		require.Greater(t, n, 20, "shard %d holds %d of 4096 sequential keys", i, n)
	}
}
