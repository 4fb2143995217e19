package ets

import (
	"iter"
	"unsafe"

	"github.com/etsgo/ets/internal/gate"
	"github.com/etsgo/ets/internal/shard"
)

// Set is ETS's set: a hash table holding one value per key, keys compared
// with ==. The zero value is not usable; make one with NewSet.
//
// A *Set is a handle: copies of the pointer, and the handles As returns,
// share one table. All methods are safe for concurrent use. Single-key
// operations are atomic; a call that writes a key synchronizes before every
// later call that observes the write.
type Set[K comparable, V any] struct {
	handle
	m   *shard.Map[K, V]
	who *gate.Token // the handle's owner's token for m's gates: see core.publish
	wg  *gate.Gate  // m's write gate, which Insert and updateCounter ask after m.Ref
	// A handle is read by every Lookup, from every goroutine: it fills a
	// cache line of its own, so that no object the program writes shares
	// the line (32 bytes would share it with another 32-byte object).
	_ [cacheLine - 40]byte
}

// cacheLine is the size of a cache line on the machines ets is tuned for.
const cacheLine = 64

// NewSet makes an empty Set (ETS new/2 with type set). The handle it returns
// acts for the table's owner (WithOwner), or for nobody.
//
// Options: WithOwner, WithHeir, WithAccess, WithName, WithReadConcurrency,
// WithWriteConcurrency, WithShards and WithDecentralizedCounters. A bad
// option is an error wrapping ErrInvalidOption; a taken name ErrNameTaken; an
// owner that has ended ErrOwnerDone.
func NewSet[K comparable, V any](opts ...Option) (*Set[K, V], error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	m := shard.New[K, V](cfg.engine())
	return newTable[K, V](KindSet, cfg, m, func(h handle) *Set[K, V] { return newSetHandle(h, m) })
}

func newSetHandle[K comparable, V any](h handle, m *shard.Map[K, V]) *Set[K, V] {
	return &Set[K, V]{handle: h, m: m, who: h.as.token(), wg: m.WriteGate()}
}

// As returns a handle on the same table acting for o (nil: for nobody). Its
// rights are checked on every call against the table's owner at that moment:
// see Access.
func (t *Set[K, V]) As(o *Owner) *Set[K, V] { return newSetHandle(handle{t.c, o}, t.m) }

// Insert stores v under k, replacing any value k had (ETS insert/2). It is
// O(1) and returns ErrDeleted if the table was dropped. A key not equal to
// itself (a NaN, or a value holding one) is ErrInvalidOption, in every
// write of a hash table that can add a key: == could never find it again.
func (t *Set[K, V]) Insert(k K, v V) error {
	// It checks with writableIn and spells out Map.Put: writable and
	// Map.Put are not inlined into generic code instantiated in another
	// package (golang/go#56280; writable is also over the inlining budget),
	// and the two calls were a fifteenth of an overwrite's time (Write100,
	// -cpu 1).
	if err := t.writableIn(t.c.st.Load()); err != nil {
		return err
	}
	if nanKey(t.c, k) {
		return errNaNKey
	}
	l, p := t.m.Ref(k)
	if w := t.wg.Load(); w != nil && w != t.who { // the write gate (see core.publish), as gate.Admits
		l.Unlock()
		return t.insertRefused(k, v)
	}
	if p != nil {
		*p = v
	} else {
		l.Insert(k, v)
	}
	l.Unlock()
	return nil
}

// insertRefused is Insert once the write gate has refused it: again, with
// the gate's check in Map.Put, until the gate admits it or the handle may
// no longer write (see handle.refused).
func (t *Set[K, V]) insertRefused(k K, v V) error {
	for {
		if err := t.refused(); err != nil {
			return err
		}
		if _, admitted := t.m.Put(k, v, t.who); admitted {
			return nil
		}
	}
}

// InsertMany stores every entry (ETS insert/2 with a list), atomically and in
// isolation: a concurrent reader of any of the keys sees none of the batch or
// all of it. When a key appears more than once, the last entry wins. It costs
// O(len(entries)) and holds the locks of the shards involved while it
// stores.
func (t *Set[K, V]) InsertMany(entries ...Entry[K, V]) error {
	_, err := insertBatch(t.handle, entries, false, t.m.Hash, t.m.PutBatch)
	return err
}

// InsertNew stores v under k only if k is absent (ETS insert_new/2) and
// reports whether it did. It is O(1).
func (t *Set[K, V]) InsertNew(k K, v V) (bool, error) {
	if err := t.writable(); err != nil {
		return false, err
	}
	if nanKey(t.c, k) {
		return false, errNaNKey
	}
	for {
		if stored, admitted := t.m.PutNew(k, v, t.who); admitted {
			return stored, nil
		}
		if err := t.refused(); err != nil {
			return false, err
		}
	}
}

// InsertNewMany stores every entry only if none of their keys is present
// (ETS insert_new/2 with a list): all or nothing, atomically and in
// isolation. It reports whether it stored. When a key appears more than once
// in entries, the last entry wins.
func (t *Set[K, V]) InsertNewMany(entries ...Entry[K, V]) (bool, error) {
	return insertBatch(t.handle, entries, true, t.m.Hash, t.m.PutBatch)
}

// Lookup returns the value stored under k (ETS lookup/2). It is O(1) and does
// not allocate. It returns false if k is absent or the table cannot be read
// (see Err).
func (t *Set[K, V]) Lookup(k K) (V, bool) {
	// The engine checks the right to read (the table's read gate, which
	// core.publish keeps in step with its state), so that Lookup is small
	// enough to be inlined into its caller.
	return t.m.Get(k, t.who)
}

// Member reports whether k is present (ETS member/2). It is O(1).
func (t *Set[K, V]) Member(k K) bool {
	_, ok := t.m.Get(k, t.who)
	return ok
}

// Delete removes k if present (ETS delete/2). Deleting an absent key is not an
// error. It is O(1).
func (t *Set[K, V]) Delete(k K) error {
	if err := t.writable(); err != nil {
		return err
	}
	for {
		if _, _, admitted := t.m.Take(k, t.who); admitted {
			return nil
		}
		if err := t.refused(); err != nil {
			return err
		}
	}
}

// Take removes k and returns the value it held (ETS take/2); ok is false if k
// was absent. It is O(1).
func (t *Set[K, V]) Take(k K) (v V, ok bool, err error) {
	if err := t.writable(); err != nil {
		return v, false, err
	}
	for {
		v, ok, admitted := t.m.Take(k, t.who)
		if admitted {
			return v, ok, nil
		}
		if err := t.refused(); err != nil {
			return v, false, err
		}
	}
}

// Update reads, modifies and writes k atomically (ETS update_element/3 and
// read-modify-write in general). fn receives k's value (ok is false if k is
// absent) and returns a value and an Op: Keep leaves k as it was, Store
// stores the value (inserting k if absent), Delete removes k. Update returns
// the value k holds afterwards and whether it holds one.
//
// fn runs while the lock of k's shard is held: keep it short, and never call
// the table from it, nor stop the table's owner (either deadlocks). If fn
// panics, the table is unchanged and unlocked, and the panic propagates to
// the caller. Update is O(1) and does not allocate.
func (t *Set[K, V]) Update(k K, fn func(old V, ok bool) (V, Op)) (V, bool, error) {
	if fn == nil {
		panic("ets: Update: nil function")
	}
	if err := t.writable(); err != nil {
		var zero V
		return zero, false, err
	}
	if nanKey(t.c, k) {
		var zero V
		return zero, false, errNaNKey
	}
	for {
		v, ok, admitted := t.m.Update(k, func(old V, ok bool) (V, shard.Op) {
			v, op := fn(old, ok)
			return v, shard.Op(op.checked())
		}, t.who)
		if admitted {
			return v, ok, nil
		}
		if err := t.refused(); err != nil {
			return v, false, err
		}
	}
}

// All returns an iterator over the table's objects (ETS tab2list/1, foldl/3),
// in no particular order. See the package documentation for what a traversal
// sees while writers run; the loop body may write to the table. Each shard is
// copied before its objects are yielded, so the iterator allocates O(largest
// shard).
func (t *Set[K, V]) All() iter.Seq2[K, V] {
	// All is small enough for the compiler to inline into the caller's range
	// loop, and the loop body into All's, with the buffer on the stack: a
	// walk of 1e3 int keys took 4.5-4.7 us so, against 6.2-6.4 through a
	// helper shared with bag.All that took the engine's CollectInto as a
	// function value, which nothing inlines (bench/ Walk, -cpu 1, pinned).
	// bag.All has the same loop.
	return func(yield func(K, V) bool) {
		buf := walkBuffer[shard.Entry[K, V]]()
		for pos, more := uint64(0), true; more && t.readable(); {
			buf, pos, more = t.m.CollectInto(pos, buf[:0])
			for _, e := range buf {
				if !yield(e.Key, e.Value) {
					return
				}
			}
		}
	}
}

// Keys returns an iterator over the table's keys, with the guarantees of All.
func (t *Set[K, V]) Keys() iter.Seq[K] {
	return keysOf(t.All())
}

// Select returns the objects for which pred returns true (ETS select/2 and
// match_object/2); a nil pred matches every object. pred runs outside the
// table's locks, on a copy of one shard at a time, and may call the table.
// Select is O(n); Select(nil), ETS's tab2list/1, copies each object once.
func (t *Set[K, V]) Select(pred func(K, V) bool) []Entry[K, V] {
	if pred == nil {
		return listShards(t.handle, t.m.CollectInto)
	}
	return selectFrom(t.All(), pred)
}

// SelectCount returns how many objects pred returns true for (ETS
// select_count/2); a nil pred counts every object. It runs pred as Select
// does.
func (t *Set[K, V]) SelectCount(pred func(K, V) bool) int {
	return countFrom(t.All(), pred)
}

// SelectDelete deletes the objects pred returns true for and returns how many
// it deleted (ETS select_delete/2); a nil pred deletes every object. Each
// object is tested and deleted atomically: pred runs while the lock of the
// object's shard is held, so it must be short and must neither call the
// table nor stop its owner (either deadlocks). If pred panics, the objects
// already deleted stay deleted, the table stays consistent and unlocked, and
// the panic propagates.
func (t *Set[K, V]) SelectDelete(pred func(K, V) bool) (int, error) {
	return sweepShards(t.handle, t.m.Sweep, deleteWhere[shard.Op](pred))
}

// SelectReplace calls fn for every object and, where fn returns true, stores
// the value it returns (ETS select_replace/2, which cannot change keys
// either). It returns how many objects it replaced. Each object is tested and
// replaced atomically, with fn running under the shard's lock as in
// SelectDelete.
func (t *Set[K, V]) SelectReplace(fn func(K, V) (V, bool)) (int, error) {
	return sweepShards(t.handle, t.m.Sweep, replaceWhere[shard.Op](fn))
}

// SelectLimit returns the first page of at most limit objects pred returns
// true for, and a cursor to the next page (ETS select/3); a nil pred matches
// every object. The cursor is nil when this page is the last. Pages come in
// the table's hash order: a key present during the whole walk appears in
// exactly one page, and no key appears twice, whatever writers do between
// pages. Every page but the last holds exactly limit objects; the last may be
// empty. pred runs as in Select. SelectLimit panics if limit < 1.
func (t *Set[K, V]) SelectLimit(pred func(K, V) bool, limit int) ([]Entry[K, V], *Cursor[K, V]) {
	return paged(t.handle, shard.Pos[K, V]{}, pred, limit, t.m.Page)
}

// Cursor continues a SelectLimit walk (ETS select/1 on a continuation). A nil
// *Cursor is the end of the walk. A Cursor may be used from any goroutine but
// is meant to be advanced by one at a time. A walk also ends, with a short or
// empty page and a nil cursor, when the table is dropped or the handle loses
// the right to read it (its owner gave it away); the handle's Err then tells
// that from the end of the table.
type Cursor[K, V any] struct {
	next func() ([]Entry[K, V], *Cursor[K, V])
}

// Next returns the next page and the cursor after it, which is nil when the
// page is the last. Each page reads the table as it is when the page is
// taken. Next on a nil cursor returns nil, nil.
func (c *Cursor[K, V]) Next() ([]Entry[K, V], *Cursor[K, V]) {
	if c == nil {
		return nil, nil
	}
	return c.next()
}

// updateCounter applies one UpdateCounter call to k under k's shard lock,
// in place: no callback, and no user code runs under the lock. Like Insert,
// it checks with writableIn.
func (t *Set[K, V]) updateCounter(k K, c counterOp) (V, error) {
	var nv V
	if err := t.writableIn(t.c.st.Load()); err != nil {
		return nv, err
	}
	if nanKey(t.c, k) {
		return nv, errNaNKey
	}
	l, p := t.m.Ref(k)
	if w := t.wg.Load(); w != nil && w != t.who { // as in Insert
		l.Unlock()
		if err := t.refused(); err != nil {
			return nv, err
		}
		return t.updateCounter(k, c)
	}
	var old uint64
	if p != nil {
		old = c.load(unsafe.Pointer(p))
	}
	v, ok := c.add(old, p != nil)
	var err error
	if !ok {
		v, err = c.step(old, p != nil)
	}
	c.store(unsafe.Pointer(&nv), v)
	switch {
	case err != nil:
		l.Unlock()
		return nv, err
	case p != nil:
		*p = nv
	default:
		l.Insert(k, nv)
	}
	l.Unlock()
	return nv, nil
}
