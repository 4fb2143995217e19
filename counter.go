package ets

import (
	"fmt"
	"unsafe"
)

// Integer is the constraint of counter values: any integer type.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// Counters is a table whose values UpdateCounter can increment: a *Set or an
// *OrderedSet with integer values. It is implemented only by this package's
// tables.
type Counters[K any, V Integer] interface {
	updateCounter(k K, c counterOp) (V, error)
}

// A CounterOption modifies one UpdateCounter call. The zero CounterOption is
// invalid.
type CounterOption[V Integer] struct {
	kind            counterOptionKind
	value, setValue V
}

type counterOptionKind uint8

const (
	counterDefault counterOptionKind = iota + 1
	counterThreshold
)

// WithDefault gives UpdateCounter ETS's default object: a missing key is
// first set to v, then incremented, so it ends as v + incr. A present key
// ignores v.
func WithDefault[V Integer](v V) CounterOption[V] {
	return CounterOption[V]{kind: counterDefault, value: v}
}

// WithThreshold gives UpdateCounter ETS's wrap rule
// {Pos, Incr, Threshold, SetValue}: when the incremented value is past
// threshold (above it for an increment >= 0, below it for a negative one) the
// counter is set to setValue instead. A value that would overflow V counts as
// past any threshold.
func WithThreshold[V Integer](threshold, setValue V) CounterOption[V] {
	return CounterOption[V]{kind: counterThreshold, value: threshold, setValue: setValue}
}

// counterOp is one UpdateCounter call, decoded, for a counter of any integer
// type: its values are the 64-bit patterns of V's (sign-extended when V is
// signed: uint64(v)), and its flags say V's width and signedness. The tables,
// whose V is any type, read and write the counter in place through
// load and store, and the arithmetic (step) is one function for every V.
//
// It is not generic on purpose; only the result, a V, keeps V in the
// Counters method, for type inference at UpdateCounter's call sites. An
// interface call to a generic type's method goes through a wrapper that
// adds the type's dictionary to the arguments. A counterOp of V-typed values
// and an arithmetic interface was seven words, which with the dictionary,
// the receiver and the key no longer fit the nine integer registers of Go's
// calling convention, so every call copied it through memory: a
// store-forwarding stall that cost a fifth of an increment
// (BenchmarkHotCounters, -cpu 1). Five words fit, with a key of two.
type counterOp struct {
	incr, def, threshold, thresholdV uint64
	flags                            counterFlags
}

type counterFlags uint8

const (
	hasDefault counterFlags = 1 << iota
	hasThreshold
	signed
	// The counter's width is 8<<(flags>>widthShift) bits.
	widthShift = iota
)

// newCounterOp returns the counterOp of an increment by incr of a counter of
// type V.
func newCounterOp[V Integer](incr V) counterOp {
	f := counterFlags(0)
	if ^V(0) < 0 {
		f |= signed
	}
	switch unsafe.Sizeof(incr) {
	case 2:
		f |= 1 << widthShift
	case 4:
		f |= 2 << widthShift
	case 8:
		f |= 3 << widthShift
	}
	return counterOp{incr: uint64(incr), flags: f}
}

// width is the counter's width in bits.
func (c *counterOp) width() uint { return 8 << (c.flags >> widthShift) }

// load reads the counter at p, a *V, as a 64-bit pattern.
func (c *counterOp) load(p unsafe.Pointer) uint64 {
	switch s := c.flags&signed != 0; c.flags >> widthShift {
	case 0:
		if s {
			return uint64(*(*int8)(p))
		}
		return uint64(*(*uint8)(p))
	case 1:
		if s {
			return uint64(*(*int16)(p))
		}
		return uint64(*(*uint16)(p))
	case 2:
		if s {
			return uint64(*(*int32)(p))
		}
		return uint64(*(*uint32)(p))
	default:
		return *(*uint64)(p)
	}
}

// store writes the 64-bit pattern v to the counter at p, a *V.
func (c *counterOp) store(p unsafe.Pointer, v uint64) {
	switch c.flags >> widthShift {
	case 0:
		*(*uint8)(p) = uint8(v)
	case 1:
		*(*uint16)(p) = uint16(v)
	case 2:
		*(*uint32)(p) = uint32(v)
	default:
		*(*uint64)(p) = v
	}
}

// add is step's common case, small enough to be inlined: a present 64-bit
// signed counter (int64, or int on 64-bit platforms) without a threshold,
// whose sum does not overflow. In every other case ok is false and the
// caller calls step.
func (c *counterOp) add(old uint64, present bool) (v uint64, ok bool) {
	v = old + c.incr
	return v, present && c.flags&^hasDefault == signed|3<<widthShift && int64((v^old)&(v^c.incr)) >= 0
}

// step returns the counter's next value given its current one (ok: the key
// is present), or an error leaving the key unchanged: ErrNotFound, or
// ErrOverflow with the old value, which UpdateCounter formats once the
// lock is released.
func (c *counterOp) step(old uint64, ok bool) (uint64, error) {
	if !ok {
		if c.flags&hasDefault == 0 {
			return old, ErrNotFound
		}
		old = c.def
	}
	v := old + c.incr
	var overflow, past bool
	if w := c.width(); c.flags&signed != 0 {
		a, b, s := int64(old), int64(c.incr), int64(v)
		overflow = (b > 0 && s < a) || (b < 0 && s > a) || // past int64
			w < 64 && (s < -1<<(w-1) || s > 1<<(w-1)-1) // past V, for narrower V
		past = (b >= 0 && s > int64(c.threshold)) || (b < 0 && s < int64(c.threshold))
	} else {
		overflow = v < old || w < 64 && v > 1<<w-1
		past = v > c.threshold
	}
	switch {
	case c.flags&hasThreshold != 0 && (overflow || past):
		return c.thresholdV, nil
	case overflow:
		return old, ErrOverflow
	}
	return v, nil
}

// UpdateCounter adds incr to the integer stored under k and returns the new
// value, atomically (ETS update_counter/3,4). Without WithDefault a missing
// key is ErrNotFound; with it, the key is created. WithThreshold wraps the
// counter as ETS does. Arithmetic that would overflow V returns ErrOverflow
// and leaves the value as it was (ETS integers do not overflow; Go's do, so
// this is the closest faithful rule). A zero CounterOption, or an option
// given twice (two WithDefaults or two WithThresholds: ETS's call takes one
// of each), is ErrInvalidOption, before anything else; then errors of the
// table (ErrDeleted, and ErrAccess for handles without write right) come before
// ErrNotFound and ErrOverflow. On any error the value returned is 0. On a
// Set, a key not equal to itself (a NaN) is ErrInvalidOption, with or
// without WithDefault, as in every Set write that may add a key (see
// Set.Insert).
//
// For an unsigned V every increment counts upwards: incr is an unsigned
// number (a constant -1 does not convert to one) and the sum must fit V. A
// decrement by d written as its wrapped value, ^V(0)-d+1 (^V(0) for 1), is
// added as that large number: from a counter of at least d it overflows (or,
// with WithThreshold, sets the counter to setValue), and from a smaller one
// it gives a large number, not an error. ETS's decrement with a
// floor, {Pos, -1, 0, 0}, needs a signed V: UpdateCounter(t, k, -1,
// WithThreshold(0, 0)).
//
// The options' V is inferred from their own arguments, not from t: an
// untyped constant makes a CounterOption[int], so a counter of another type
// names it, WithDefault[int64](0) or WithDefault(int64(0)).
//
// UpdateCounter is O(1) on a Set, O(log n) on an OrderedSet, and does not
// allocate. Concurrent increments of one key are never lost.
func UpdateCounter[K any, V Integer](t Counters[K, V], k K, incr V, opts ...CounterOption[V]) (V, error) {
	c := newCounterOp(incr)
	for _, o := range opts {
		switch o.kind {
		case counterDefault:
			if c.flags&hasDefault != 0 {
				return 0, errTwoDefaults
			}
			c.flags, c.def = c.flags|hasDefault, uint64(o.value)
		case counterThreshold:
			if c.flags&hasThreshold != 0 {
				return 0, errTwoThresholds
			}
			c.flags, c.threshold, c.thresholdV = c.flags|hasThreshold, uint64(o.value), uint64(o.setValue)
		default:
			return 0, errZeroOption
		}
	}
	v, err := t.updateCounter(k, c)
	if err != nil {
		return 0, counterError(err, v, incr)
	}
	return v, nil
}

// errZeroOption is UpdateCounter's error for the zero CounterOption.
var errZeroOption = fmt.Errorf("%w: the zero CounterOption", ErrInvalidOption)

// errTwoDefaults and errTwoThresholds are UpdateCounter's errors for an
// option given twice, which would otherwise leave one of them unused.
var (
	errTwoDefaults   = fmt.Errorf("%w: UpdateCounter given WithDefault twice", ErrInvalidOption)
	errTwoThresholds = fmt.Errorf("%w: UpdateCounter given WithThreshold twice", ErrInvalidOption)
)

// counterError returns the error UpdateCounter returns for the error err of
// an increment by incr of the value v.
func counterError[V Integer](err error, v, incr V) error {
	if err == ErrOverflow {
		// Formatted here, outside the lock: formatting may call a String
		// method of V, which is user code.
		return fmt.Errorf("%w: %v + %v", ErrOverflow, v, incr)
	}
	return err
}
