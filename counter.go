package ets

import "fmt"

// Integer is the constraint of counter values: any integer type.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// Counters is a table whose values UpdateCounter can increment: a *Set or an
// *OrderedSet with integer values. It is implemented only by this package's
// tables.
type Counters[K any, V Integer] interface {
	updateCounter(k K, c counterOp[V]) (V, error)
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

// counterOp is one UpdateCounter call, decoded. It is declared for any V so
// that Set[K, V any] can name it; its arithmetic is an interface holding the
// zero-size integerArith[V], so that building and applying a counterOp never
// allocates (a generic function value would: it carries a dictionary). The
// arithmetic takes its operands as scalars, which travel in registers: a
// counterOp passed by value or by pointer through the interface would be
// copied or moved to the heap on every call.
type counterOp[V any] struct {
	incr, def, threshold, thresholdV V
	flags                            counterFlags
	arith                            arith[V]
}

type counterFlags uint8

const (
	hasDefault counterFlags = 1 << iota
	hasThreshold
)

type arith[V any] interface {
	step(old V, ok bool, incr, def, threshold, thresholdV V, flags counterFlags) (V, error)
}

type integerArith[V Integer] struct{}

// step returns the counter's next value given its current one (ok: the key
// is present), or an error leaving the key unchanged.
func (integerArith[V]) step(old V, ok bool, incr, def, threshold, thresholdV V, flags counterFlags) (V, error) {
	if !ok {
		if flags&hasDefault == 0 {
			return old, ErrNotFound
		}
		old = def
	}
	v := old + incr
	overflow := (incr > 0 && v < old) || (incr < 0 && v > old)
	switch {
	case flags&hasThreshold != 0 && (overflow || (incr >= 0 && v > threshold) || (incr < 0 && v < threshold)):
		return thresholdV, nil
	case overflow:
		return old, ErrOverflow // result formats it, once the lock is released
	}
	return v, nil
}

// apply returns the counter's next value given its current one (ok: the key
// is present), or an error when c cannot apply and the key must stay as it
// is.
func (c *counterOp[V]) apply(old V, ok bool) (V, error) {
	return c.arith.step(old, ok, c.incr, c.def, c.threshold, c.thresholdV, c.flags)
}

// next is c as an Update function: the counter's next value and Store, or,
// when c cannot apply, the old value, Keep, and the reason in *err.
func (c *counterOp[V]) next(old V, ok bool, err *error) (V, Op) {
	nv, e := c.apply(old, ok)
	if e != nil {
		*err = e
		return old, Keep
	}
	return nv, Store
}

// result is what UpdateCounter returns once a kind applied c and released
// its lock: the value k holds, or the zero value and the reason c did not
// apply. An overflow's message is formatted here, outside the lock, because
// formatting may call a String method of V, which is user code.
func (c *counterOp[V]) result(v V, err error) (V, error) {
	var zero V
	switch {
	case err == ErrOverflow:
		return zero, fmt.Errorf("%w: %v + %v", ErrOverflow, v, c.incr)
	case err != nil:
		return zero, err
	}
	return v, nil
}

// UpdateCounter adds incr to the integer stored under k and returns the new
// value, atomically (ETS update_counter/3,4). Without WithDefault a missing
// key is ErrNotFound; with it, the key is created. WithThreshold wraps the
// counter as ETS does. Arithmetic that would overflow V returns ErrOverflow
// and leaves the value as it was (ETS integers do not overflow; Go's do, so
// this is the closest faithful rule). Errors of the table (ErrDeleted, and
// ErrAccess for handles without write right) come first.
//
// UpdateCounter is O(1) on a Set, O(log n) on an OrderedSet, and does not
// allocate. Concurrent increments of one key are never lost.
func UpdateCounter[K any, V Integer](t Counters[K, V], k K, incr V, opts ...CounterOption[V]) (V, error) {
	c := counterOp[V]{incr: incr, arith: integerArith[V]{}}
	for _, o := range opts {
		switch o.kind {
		case counterDefault:
			c.flags, c.def = c.flags|hasDefault, o.value
		case counterThreshold:
			c.flags, c.threshold, c.thresholdV = c.flags|hasThreshold, o.value, o.setValue
		default:
			var zero V
			return zero, fmt.Errorf("%w: the zero CounterOption", ErrInvalidOption)
		}
	}
	return t.updateCounter(k, c)
}
