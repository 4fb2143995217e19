package ets

import (
	"math"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// refStep is UpdateCounter's arithmetic written in V itself, as it was before
// counterOp worked on 64-bit patterns: the reference counterOp.step must
// agree with for every integer type.
func refStep[V Integer](old V, ok bool, incr V, def *V, threshold *[2]V) (V, error) {
	if !ok {
		if def == nil {
			return old, ErrNotFound
		}
		old = *def
	}
	v := old + incr
	overflow := (incr > 0 && v < old) || (incr < 0 && v > old)
	switch {
	case threshold != nil && (overflow || (incr >= 0 && v > threshold[0]) || (incr < 0 && v < threshold[0])):
		return threshold[1], nil
	case overflow:
		return old, ErrOverflow
	}
	return v, nil
}

// checkCounterArith runs every combination of the given values as old value,
// increment, default and threshold through counterOp and refStep.
func checkCounterArith[V Integer](t *testing.T, values []V) (adds int) {
	t.Helper()
	for _, incr := range values {
		for _, old := range values {
			// load and store round-trip V's bits, and store writes V's
			// bytes only.
			c := newCounterOp(incr)
			back := [3]V{incr, 0, incr}
			c.store(unsafe.Pointer(&back[1]), c.load(unsafe.Pointer(&old)))
			require.Equal(t, [3]V{incr, old, incr}, back)

			for _, ok := range []bool{true, false} {
				for i, thr := range append([]V{0}, values...) {
					var def *V
					var threshold *[2]V
					c := newCounterOp(incr)
					if !ok && i%2 == 0 { // a missing key: with a default, or without (ErrNotFound)
						def, c.def, c.flags = &old, uint64(old), c.flags|hasDefault
					}
					if i > 0 {
						threshold = &[2]V{thr, old ^ thr}
						c.threshold, c.thresholdV, c.flags = uint64(thr), uint64(old^thr), c.flags|hasThreshold
					}
					present := old // the value of a present key; a missing one has none
					if !ok {
						present = 0
					}
					want, wantErr := refStep(present, ok, incr, def, threshold)
					var start uint64
					if ok {
						start = c.load(unsafe.Pointer(&old))
					}
					got, err := c.step(start, ok)
					if v, fast := c.add(start, ok); fast { // add agrees with step where it answers
						require.NoError(t, err, "add: %T: old %v incr %v", old, old, incr)
						require.Equal(t, got, v, "add: %T: old %v incr %v", old, old, incr)
						adds++
					}
					require.Equal(t, wantErr, err, "%T: old %v ok %v incr %v threshold %v", old, old, ok, incr, threshold)
					require.Equal(t, want, V(got), "%T: old %v ok %v incr %v threshold %v", old, old, ok, incr, threshold)
				}
			}
		}
	}
	return adds
}

// edges returns the values at and next to V's extremes, -1 and zero.
func edges[V Integer](lo, hi V) []V {
	return []V{lo, lo + 1, lo + 2, lo / 2, ^V(1), ^V(0), 0, 1, 2, hi / 2, hi - 2, hi - 1, hi}
}

// TestCounterArith checks the 64-bit counter arithmetic against the same
// arithmetic in V: exhaustively for 8-bit counters, at the edges for the
// wider ones; and add against step.
func TestCounterArith(t *testing.T) {
	var all8 []int8
	for v := math.MinInt8; v <= math.MaxInt8; v += 3 {
		all8 = append(all8, int8(v))
	}
	all8 = append(all8, math.MaxInt8, -1, 0, 1)
	checkCounterArith(t, all8)
	var allU8 []uint8
	for v := 0; v <= math.MaxUint8; v += 3 {
		allU8 = append(allU8, uint8(v))
	}
	allU8 = append(allU8, 1, 2, math.MaxUint8-1)
	checkCounterArith(t, allU8)

	checkCounterArith(t, edges[int16](math.MinInt16, math.MaxInt16))
	checkCounterArith(t, edges[int32](math.MinInt32, math.MaxInt32))
	// add, step's inlined common case, answers for 64-bit signed counters
	// only.
	require.Positive(t, checkCounterArith(t, edges[int64](math.MinInt64, math.MaxInt64)))
	if unsafe.Sizeof(int(0)) == 8 {
		require.Positive(t, checkCounterArith(t, edges[int](math.MinInt, math.MaxInt)))
	} else {
		checkCounterArith(t, edges[int](math.MinInt, math.MaxInt))
	}
	checkCounterArith(t, edges[uint16](0, math.MaxUint16))
	checkCounterArith(t, edges[uint32](0, math.MaxUint32))
	checkCounterArith(t, edges[uint64](0, math.MaxUint64))
	checkCounterArith(t, edges[uint](0, math.MaxUint))
	checkCounterArith(t, edges[uintptr](0, ^uintptr(0)))
	type level int16 // a named type keeps its underlying type's width
	checkCounterArith(t, edges[level](math.MinInt16, math.MaxInt16))
}
