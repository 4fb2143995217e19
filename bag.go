package ets

import (
	"fmt"
	"iter"
	"reflect"

	"github.com/etsgo/ets/internal/gate"
	"github.com/etsgo/ets/internal/shard"
)

// Bag is ETS's bag: a hash table holding many objects per key, kept in
// insertion order, with no two equal objects under one key; keys and values
// are compared with ==. Inserting an object equal to one the key already has
// changes nothing: the first keeps its place. The zero value is not usable;
// make one with NewBag.
//
// A *Bag is a handle: copies of the pointer share one table. All methods are
// safe for concurrent use. Operations on one key are atomic; a call that
// writes a key synchronizes before every later call that observes the write.
//
// Costs: a key's objects are a slice in insertion order plus, past a few
// objects, an index from value to position, so Insert, InsertNew and
// DeleteObject are O(1) amortized whatever the number of objects under the
// key, and Lookup and Take are O(objects of the key).
type Bag[K comparable, V comparable] struct {
	bag[K, V]
}

// DuplicateBag is ETS's duplicate_bag: a Bag that keeps every copy of an
// object. Inserting an object equal to one the key already has adds another
// copy, and DeleteObject removes every copy. Everything else is as in Bag,
// with the same costs; DeleteObject costs O(copies removed) amortized. The
// zero value is not usable; make one with NewDuplicateBag.
//
// A *DuplicateBag is a handle with Bag's concurrency contract: all methods
// are safe for concurrent use, operations on one key are atomic, and a call
// that writes a key synchronizes before every later call that observes the
// write.
type DuplicateBag[K comparable, V comparable] struct {
	bag[K, V]
}

// bag is the implementation shared by Bag and DuplicateBag: they differ only
// in the engine's duplicates flag.
type bag[K comparable, V comparable] struct {
	handle
	e   *shard.Bag[K, V]
	who *gate.Token // the handle's owner's token for e's gates: see Set
	// check says that V is or holds an interface, whose dynamic value may
	// be of a type that == panics on; nan, that V may hold a NaN (a float,
	// or an interface). See checkValue.
	check, nan bool
	_          [cacheLine - 40]byte // a line of its own: see Set
}

// NewBag makes an empty Bag (ETS new/2 with type bag). The handle it returns
// acts for the table's owner (WithOwner), or for nobody.
//
// It takes the options of NewSet: WithOwner, WithHeir, WithAccess, WithName,
// WithReadConcurrency, WithWriteConcurrency, WithShards and
// WithDecentralizedCounters. A bad option is an error wrapping
// ErrInvalidOption; a taken name ErrNameTaken; an owner that has ended
// ErrOwnerDone.
func NewBag[K comparable, V comparable](opts ...Option) (*Bag[K, V], error) {
	return newBag(KindBag, opts, func(b bag[K, V]) *Bag[K, V] { return &Bag[K, V]{b} })
}

// NewDuplicateBag makes an empty DuplicateBag (ETS new/2 with type
// duplicate_bag). Its options and errors are those of NewBag.
func NewDuplicateBag[K comparable, V comparable](opts ...Option) (*DuplicateBag[K, V], error) {
	return newBag(KindDuplicateBag, opts, func(b bag[K, V]) *DuplicateBag[K, V] { return &DuplicateBag[K, V]{b} })
}

func newBag[K comparable, V comparable, T Table](kind Kind, opts []Option, wrap func(bag[K, V]) T) (T, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		var zero T
		return zero, err
	}
	return makeBag(kind, cfg, shard.NewBag[K, V](cfg.engine(), kind == KindDuplicateBag), wrap)
}

// makeBag makes a bag table of the given kind around engine e.
func makeBag[K comparable, V comparable, T Table](kind Kind, cfg config, e *shard.Bag[K, V], wrap func(bag[K, V]) T) (T, error) {
	check, nan := bagChecks[V]()
	return newTable[K, V](kind, cfg, e, func(h handle) T { return wrap(bag[K, V]{handle: h, e: e, who: h.as.token(), check: check, nan: nan}) })
}

// holdsInterface reports whether values of t are, or hold, interfaces: the
// only comparable types whose == can panic.
func holdsInterface(t reflect.Type) bool {
	return holds(t, func(k reflect.Kind) bool { return k == reflect.Interface })
}

// holds reports whether values of t are, or hold in a field or an array
// element, values of a kind leaf reports true for.
func holds(t reflect.Type, leaf func(reflect.Kind) bool) bool {
	switch k := t.Kind(); {
	case leaf(k):
		return true
	case k == reflect.Array:
		return holds(t.Elem(), leaf)
	case k == reflect.Struct:
		for i := range t.NumField() {
			if holds(t.Field(i).Type, leaf) {
				return true
			}
		}
	}
	return false
}

// checkValue returns nil if v can be compared, as a bag compares its objects
// (a Bag to keep one copy of each, both kinds to index a key's objects and
// to delete one), and otherwise an error wrapping ErrInvalidOption: v is,
// or holds, an interface whose dynamic type == panics on, such as a slice
// in a Bag[K, any]; or v is not equal to itself (a NaN, or a value holding
// one), so that no object would ever be equal to it: a Bag would keep every
// copy and DeleteObject could remove none. Writes check before they change
// anything, so such a value is refused whole rather than half stored. It
// costs nothing unless V holds an interface or a float.
func (t *bag[K, V]) checkValue(v V) error { return checkBagValue(t.check, t.nan, t.c.kind, v) }

// checkBagValue is checkValue for a bag of the kind whose flags are check
// and nan (see bag); Load checks saved values with it too.
func checkBagValue[V comparable](check, nan bool, kind Kind, v V) error {
	if check {
		if x := any(v); x != nil && !reflect.ValueOf(x).Comparable() {
			return fmt.Errorf("%w: %s value %T cannot be compared, so a bag cannot hold it", ErrInvalidOption, kind, v)
		}
	}
	if nan && v != v {
		return errNaNValue
	}
	return nil
}

// bagChecks returns the flags check and nan of a bag of values of type V.
func bagChecks[V comparable]() (check, nan bool) {
	return holdsInterface(reflect.TypeFor[V]()), mayHoldNaN(reflect.TypeFor[V]())
}

// errNaNValue is the error of a bag write of a value not equal to itself.
var errNaNValue = fmt.Errorf("%w: a value not equal to itself (a NaN) is equal to no object of a bag", ErrInvalidOption)

// checkEntries is checkValue for every entry of a batch.
func (t *bag[K, V]) checkEntries(entries []Entry[K, V]) error {
	if t.check || t.nan {
		for _, e := range entries {
			if err := t.checkValue(e.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// As returns a handle on the same table acting for o (nil: for nobody); see
// Set.As.
func (t *Bag[K, V]) As(o *Owner) *Bag[K, V] {
	return &Bag[K, V]{bag[K, V]{handle: handle{t.c, o}, e: t.e, who: o.token(), check: t.check, nan: t.nan}}
}

// As returns a handle on the same table acting for o (nil: for nobody); see
// Set.As.
func (t *DuplicateBag[K, V]) As(o *Owner) *DuplicateBag[K, V] {
	return &DuplicateBag[K, V]{bag[K, V]{handle: handle{t.c, o}, e: t.e, who: o.token(), check: t.check, nan: t.nan}}
}

// Insert adds the object (k, v) after k's other objects (ETS insert/2). In a
// Bag, an object equal to one k already has is not added again and the first
// keeps its place; a DuplicateBag adds every copy. It is O(1) amortized, does
// not allocate when the object is already present in a Bag, and returns
// ErrDeleted if the table was dropped. Values are equal as Go's == says (so
// +0.0 and -0.0 are one object, where Erlang's =:= tells them apart). A
// value that cannot be compared (an interface holding a slice, map or func)
// or is not equal to itself (a NaN, or a value holding one) is
// ErrInvalidOption in every write that takes a value, and so is a key not
// equal to itself (see Set.Insert) in every write that can add a key.
func (t *bag[K, V]) Insert(k K, v V) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := t.checkValue(v); err != nil {
		return err
	}
	if nanKey(t.c, k) {
		return errNaNKey
	}
	h, who := t.e.Hash(k), t.as.token()
	for {
		if _, admitted := t.e.Insert(h, k, v, who); admitted {
			return nil
		}
		if err := t.refused(); err != nil { // see core.publish
			return err
		}
	}
}

// InsertMany adds every entry in the list's order, as Insert does (ETS
// insert/2 with a list), atomically and in isolation: a concurrent reader of
// any of the keys sees none of the batch or all of it. In a Bag, an entry
// equal to an earlier one is not added again. It costs O(len(entries)) and
// holds the locks of the shards involved while it adds. A value that cannot
// be compared (see Insert) is ErrInvalidOption, and nothing is added.
func (t *bag[K, V]) InsertMany(entries ...Entry[K, V]) error {
	if err := t.checkEntries(entries); err != nil {
		return err
	}
	_, err := insertBatch(t.handle, entries, false, t.e.Hash, t.e.InsertBatch)
	return err
}

// InsertNew adds the object (k, v) only if k has no object (ETS
// insert_new/2) and reports whether it did. It is O(1). Its errors are
// Insert's.
func (t *bag[K, V]) InsertNew(k K, v V) (bool, error) {
	if err := t.writable(); err != nil {
		return false, err
	}
	if err := t.checkValue(v); err != nil {
		return false, err
	}
	if nanKey(t.c, k) {
		return false, errNaNKey
	}
	h, who := t.e.Hash(k), t.as.token()
	for {
		if added, admitted := t.e.InsertNew(h, k, v, who); admitted {
			return added, nil
		}
		if err := t.refused(); err != nil {
			return false, err
		}
	}
}

// InsertNewMany adds every entry, in order, only if none of their keys has an
// object (ETS insert_new/2 with a list): all or nothing, atomically and in
// isolation. It reports whether it added. A key may appear more than once in
// entries: its objects are added as InsertMany adds them. It costs
// O(len(entries)); its errors are InsertMany's, and nothing is added on
// one.
func (t *bag[K, V]) InsertNewMany(entries ...Entry[K, V]) (bool, error) {
	if err := t.checkEntries(entries); err != nil {
		return false, err
	}
	return insertBatch(t.handle, entries, true, t.e.Hash, t.e.InsertBatch)
}

// Lookup returns k's objects in insertion order (ETS lookup/2), in a new
// slice the caller owns: changing it never changes the table. It returns nil
// if k has no object or the table cannot be read (see Err). It is
// O(objects of k) and allocates only the slice it returns. It reads as a
// Set's Lookup does, taking no lock and writing no shared memory: it copies
// the objects and keeps the copy if no writer of k's shard ran meanwhile,
// and copies under the shard's lock if writers keep it busy (see
// WithReadConcurrency).
func (t *bag[K, V]) Lookup(k K) []V {
	// The engine checks the right to read (its read gate, which
	// core.publish keeps in step with the table's state), as a Set's does.
	return t.e.Get(k, t.who)
}

// AppendLookup appends k's objects to dst in insertion order and returns
// the extended slice, growing it as append does; it returns dst unchanged
// (nil if dst is nil) if k has no object or the table cannot be read (see
// Err). It reads as Lookup does, into a slice the caller keeps: a dispatch
// loop that reuses its buffer (buf = t.AppendLookup(buf[:0], k)) reads
// without allocating once the buffer has grown to its keys' sizes. It may
// zero elements of dst's array past len(dst), even when it returns dst: a
// copy it discards (one a concurrent writer interrupted) is cleared, not
// left there.
func (t *bag[K, V]) AppendLookup(dst []V, k K) []V {
	return t.e.Append(dst, k, t.who)
}

// Count returns how many objects k has: 0 if none or if the table cannot be
// read. It is O(1) and does not allocate. ETS has no count of one key's
// objects; this is length(lookup(T, K)) without the copy.
func (t *bag[K, V]) Count(k K) int {
	return t.e.Count(t.e.Hash(k), k, t.who)
}

// Member reports whether k has any object (ETS member/2). It is O(1) and
// does not allocate.
func (t *bag[K, V]) Member(k K) bool {
	return t.e.Has(k, t.who)
}

// Delete removes k and all its objects (ETS delete/2). Deleting an absent key
// is not an error and does not allocate. It is O(1).
func (t *bag[K, V]) Delete(k K) error {
	if err := t.writable(); err != nil {
		return err
	}
	h, who := t.e.Hash(k), t.as.token()
	for !t.e.Delete(h, k, who) {
		if err := t.refused(); err != nil {
			return err
		}
	}
	return nil
}

// DeleteObject removes the object (k, v) (ETS delete_object/2); in a
// DuplicateBag it removes every copy. k's other objects keep their order.
// Deleting an absent object is not an error. It is O(1) amortized in a Bag
// and O(copies removed) amortized in a DuplicateBag, however many objects k
// has. A value that cannot be compared or is not equal to itself (see
// Insert) is ErrInvalidOption: no object can be equal to it.
func (t *bag[K, V]) DeleteObject(k K, v V) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := t.checkValue(v); err != nil {
		return err
	}
	h, who := t.e.Hash(k), t.as.token()
	for {
		if _, admitted := t.e.DeleteObject(h, k, v, who); admitted {
			return nil
		}
		if err := t.refused(); err != nil {
			return err
		}
	}
}

// Take removes k and returns its objects in insertion order (ETS take/2), in
// a slice the caller owns. If k has no object it returns an empty (nil)
// slice and a nil error. It is O(objects of k).
func (t *bag[K, V]) Take(k K) ([]V, error) {
	if err := t.writable(); err != nil {
		return nil, err
	}
	h, who := t.e.Hash(k), t.as.token()
	for {
		if objects, admitted := t.e.Take(h, k, who); admitted {
			return objects, nil
		}
		if err := t.refused(); err != nil {
			return nil, err
		}
	}
}

// All returns an iterator over the table's objects, one (k, v) pair per
// object (ETS tab2list/1, foldl/3): keys in no particular order, each key's
// objects together and in insertion order. See the package documentation for
// what a traversal sees while writers run: every object present for the
// whole traversal is yielded exactly once. The loop body may write to the
// table. Each shard is copied before its objects are yielded, so the
// iterator allocates O(objects of the largest shard).
func (t *bag[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) { // Set.All's loop, inlined as it is
		buf := walkBuffer[shard.Entry[K, V]]()
		for pos, more := uint64(0), true; more && t.readable(); {
			buf, pos, more = t.e.CollectInto(pos, buf[:0])
			for _, e := range buf {
				if !yield(e.Key, e.Value) {
					return
				}
			}
		}
	}
}

// Keys returns an iterator over the table's keys, each key once however many
// objects it has (ETS has no keys/1; this is the first/next walk), with the
// guarantees of All. It is O(keys) and allocates O(keys of the largest
// shard).
func (t *bag[K, V]) Keys() iter.Seq[K] {
	return func(yield func(K) bool) {
		buf := walkBuffer[K]()
		for pos, more := uint64(0), true; more; {
			if !t.readable() {
				return
			}
			buf = buf[:0]
			pos, more = t.e.CollectKeys(pos, func(k K) { buf = append(buf, k) }, func() { buf = buf[:0] })
			for _, k := range buf {
				if !yield(k) {
					return
				}
			}
		}
	}
}

// Select returns the objects for which pred returns true (ETS select/2 and
// match_object/2), one entry per object, each key's in insertion order; a
// nil pred matches every object. pred runs outside the table's locks, on a
// copy of one shard at a time, and may call the table. Select is O(n) in
// objects; Select(nil), ETS's tab2list/1, copies each object once.
func (t *bag[K, V]) Select(pred func(K, V) bool) []Entry[K, V] {
	if pred == nil {
		return listShards(t.handle, t.e.CollectInto)
	}
	return selectFrom(t.All(), pred)
}

// SelectCount returns how many objects pred returns true for (ETS
// select_count/2); a nil pred counts every object. It runs pred as Select
// does.
func (t *bag[K, V]) SelectCount(pred func(K, V) bool) int {
	return countFrom(t.All(), pred)
}

// SelectDelete deletes the objects pred returns true for and returns how many
// it deleted (ETS select_delete/2); a nil pred deletes every object. Each
// object is tested and deleted atomically: pred runs while the lock of the
// object's shard is held, so it must be short and must neither call the
// table nor stop its owner (either deadlocks). If pred panics, the objects of
// the keys already swept stay deleted, the key being swept is left as it
// was, the table stays consistent and unlocked, and the panic propagates. It
// is O(n) in objects. If the table is dropped part-way, it returns the count
// so far and ErrDeleted.
func (t *bag[K, V]) SelectDelete(pred func(K, V) bool) (int, error) {
	return sweepShards(t.handle, t.e.Sweep, deleteWhere[shard.Op](pred))
}

// SelectReplace calls fn for every object and, where fn returns true,
// replaces the object's value with the one fn returns, keeping its place in
// k's order (ETS select_replace/2, which cannot change keys either; ETS
// supports it on duplicate_bag, not on bag). It returns how many objects fn
// replaced. In a Bag no key holds two equal objects, so a replacement equal
// to an object of the key that fn left alone merges into that object, which
// keeps its place (a walk of SelectLimit's pages that has not reached it
// still finds it), and a replacement equal to another replacement merges
// into the earlier of the two: Size then drops, and the count includes the
// merged objects. Each object is tested and replaced atomically, with fn
// running under the shard's lock as in SelectDelete. It is O(n) in objects.
// A replacement that cannot be compared or is not equal to itself (see
// Insert) panics, as a panic of fn does, before anything of its key is
// stored. A drop of the table part-way returns the count so far and
// ErrDeleted, as SelectDelete does.
func (t *bag[K, V]) SelectReplace(fn func(K, V) (V, bool)) (int, error) {
	if (t.check || t.nan) && fn != nil {
		user := fn
		fn = func(k K, v V) (V, bool) {
			v, ok := user(k, v)
			if err := t.checkValue(v); ok && err != nil {
				panic("ets: SelectReplace: " + err.Error())
			}
			return v, ok
		}
	}
	return sweepShards(t.handle, t.e.Sweep, replaceWhere[shard.Op](fn))
}

// SelectLimit returns the first page of at most limit objects pred returns
// true for, and a cursor to the next page (ETS select/3); a nil pred matches
// every object. The cursor is nil when this page is the last. Pages count
// objects, and a page may end inside one key's objects: an object present
// during the whole walk appears in exactly one page, and no object appears
// more often than it was inserted, whatever writers do between pages. An
// object deleted and inserted again during the walk is a new object, which
// the walk may return again (as ETS's traversals may or may not return
// objects inserted during them), even in a Bag, which never holds two
// copies at once. Every page but the last holds exactly limit objects; the
// last may be empty. pred runs as in Select. A page copies, one shard at
// a time as the shard was at one moment (see Traversals in the package
// documentation), the keys of the shard it resumes in from its place on,
// and of each key at most a page's worth of objects (64 at least) before it
// checks them with pred: O(objects of a shard, at most max(limit, 64) a key,
// + limit) for a page that pred does not make search further, so a walk
// through one key of many objects costs O(objects) in all. SelectLimit
// panics if limit < 1.
func (t *bag[K, V]) SelectLimit(pred func(K, V) bool, limit int) ([]Entry[K, V], *Cursor[K, V]) {
	return paged(t.handle, shard.BagPos[K]{}, pred, limit, t.e.Page)
}
