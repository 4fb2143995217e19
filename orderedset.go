package ets

import (
	"cmp"
	"fmt"
	"iter"
	"unsafe"

	"github.com/etsgo/ets/internal/gate"
	"github.com/etsgo/ets/internal/ordered"
)

// OrderedSet is ETS's ordered_set: a B-tree holding one value per key, in key
// order. Keys a and b are the same key when compare(a, b) == 0, as ETS's
// ordered_set compares keys with == rather than matching them exactly: with
// a comparator that ignores case, "Alice" and "ALICE" are one key. The zero
// value is not usable; make one with NewOrderedSet or NewOrderedSetFunc.
//
// A *OrderedSet is a handle: copies of the pointer share one table. All
// methods are safe for concurrent use. Single-key operations are atomic; a
// call that writes a key synchronizes before every later call that observes
// the write.
//
// The table is a contention-adapting tree, ETS's ordered_set with
// write_concurrency: a routing layer over base nodes, each a B-tree
// (google/btree's BTreeG, copied into the engine so that walks copy each
// node's run of objects at once) of one key range under its own reader/writer
// lock. Lookup, Member, Next, Prev, First and Last read a base node without
// its lock: writers move a sequence counter before and after they change the
// node, and a reader checks it unmoved before it uses what it read (reading
// again, and after many tries taking the read lock, when writers keep the node
// busy), so readers on many goroutines write no shared memory. (That is on
// amd64, 386 and s390x; elsewhere they take the read lock, since Go does not
// promise there that the tree's loads are not reordered after the counter's.)
// A table starts as one base node; a base node whose lock writers often find
// taken, or whose readers often meet writers, is split in two (if it holds 128
// keys or more, up to 1024 base nodes), so writers to different key ranges
// stop waiting for each other; a base node whose writers have not contended
// for a thousand writes is joined with a colder neighbour again. With
// WithWriteConcurrency(WriteConcurrencyOff) the table stays one B-tree under
// one lock. WithShards has no effect: the tree adapts its lock count to the
// contention it measures. Info reports the number of base nodes as Shards.
// With NewOrderedSet, a node search compares keys inline rather than calling a
// comparator.
//
// Traversals (All, Keys, Range, Ascend, Descend, the Select family and
// SelectLimit pages) copy a batch of objects from the base nodes it spans,
// one at a time, and run your code after the copy, outside any lock, then
// resume strictly after the last key copied. Each node is read as Lookup
// reads it, without its lock where lookups take none (validated by its
// counter, and under the read lock if writers keep it busy). So the loop body may
// write to the table, a key present for the whole traversal is visited
// exactly once and in order, and no key is visited twice. A traversal is not
// a snapshot: keys written during it may or may not be seen. (A btree Clone would give a snapshot, but makes every later
// write copy the nodes on its path; batches keep writers allocation-free.)
//
// A comparator that panics leaves the table consistent (an ordered set of
// the keys it holds) and unlocked, and the panic reaches the caller of the
// operation that called it. An InsertMany or InsertNewMany it interrupts
// keeps the entries stored before the panic: a comparator must not panic for
// the batches to stay all-or-nothing.
type OrderedSet[K, V any] struct {
	handle
	tr     *ordered.Tree[K, V]
	custom bool                 // made with NewOrderedSetFunc: a snapshot needs the comparator back
	_      [cacheLine - 25]byte // a line of its own: see Set
}

// NewOrderedSet makes an empty OrderedSet whose keys are ordered by
// cmp.Compare (ETS new/2 with type ordered_set). Floating-point NaN keys are
// all one key, smaller than any other.
//
// Options: every option is validated; WithWriteConcurrency(WriteConcurrencyOff)
// keeps the table one B-tree under one lock, WriteConcurrencyOn and Auto (the
// default) let it split contended base nodes (see OrderedSet). Info reports
// WithReadConcurrency and WithWriteConcurrency as given, its base nodes as
// Shards whatever WithShards says, and DecentralizedCounters false, because
// Size adds up the base nodes' own counts (O(base nodes), each under its read
// lock). A bad option is an error wrapping ErrInvalidOption; a taken name
// ErrNameTaken; an owner that has ended ErrOwnerDone.
func NewOrderedSet[K cmp.Ordered, V any](opts ...Option) (*OrderedSet[K, V], error) {
	return newOrderedSet(ordered.NewOrdered[K, V], false, opts)
}

// NewOrderedSetFunc makes an empty OrderedSet whose keys are ordered by
// compare, which returns a negative number when a < b, zero when a and b are
// the same key, and a positive number when a > b. compare must be a total
// order and must not call the table; it runs under the table's lock. Options
// and errors are those of NewOrderedSet; a nil compare is ErrInvalidOption.
func NewOrderedSetFunc[K, V any](compare func(a, b K) int, opts ...Option) (*OrderedSet[K, V], error) {
	if compare == nil {
		return nil, fmt.Errorf("%w: NewOrderedSetFunc: nil compare function", ErrInvalidOption)
	}
	return newOrderedSet(func(adapt bool) *ordered.Tree[K, V] { return ordered.NewCompare[K, V](compare, adapt) }, true, opts)
}

// newOrderedSet makes an OrderedSet of the tree mk makes, contention
// adapting unless write concurrency is off.
func newOrderedSet[K, V any](mk func(adapt bool) *ordered.Tree[K, V], custom bool, opts []Option) (*OrderedSet[K, V], error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return makeOrderedSet(cfg, mk(cfg.adaptive()), custom)
}

// adaptive reports whether an OrderedSet made with c splits the base nodes
// writers contend for: unless write concurrency is off.
func (c *config) adaptive() bool { return c.writeConcurrency != WriteConcurrencyOff }

// makeOrderedSet makes an OrderedSet table around tree tr.
func makeOrderedSet[K, V any](cfg config, tr *ordered.Tree[K, V], custom bool) (*OrderedSet[K, V], error) {
	// The base nodes' own counts, no decentralized counter: report what is in use.
	central := false
	cfg.decentralized = &central
	return newTable[K, V](KindOrderedSet, cfg, tr, func(h handle) *OrderedSet[K, V] {
		return &OrderedSet[K, V]{handle: h, tr: tr, custom: custom}
	})
}

// As returns a handle on the same table acting for o (nil: for nobody); see
// Set.As.
func (t *OrderedSet[K, V]) As(o *Owner) *OrderedSet[K, V] {
	return &OrderedSet[K, V]{handle: handle{t.c, o}, tr: t.tr, custom: t.custom}
}

// Insert stores v under k, replacing the object of any key equal to k, key
// included (ETS insert/2). It is O(log n) and returns ErrDeleted if the
// table was dropped.
func (t *OrderedSet[K, V]) Insert(k K, v V) error {
	if err := t.writable(); err != nil {
		return err
	}
	who := t.as.token()
	for !t.tr.Put(k, v, who) {
		if err := t.refused(); err != nil { // see core.publish
			return err
		}
	}
	return nil
}

// InsertMany stores every entry (ETS insert/2 with a list), atomically and in
// isolation: a concurrent reader sees none of the batch or all of it. When
// two entries have equal keys, the last wins. It costs
// O(len(entries) log n) and holds the write locks of every base node its keys
// fall in (see OrderedSet), taken in key order, while it stores.
func (t *OrderedSet[K, V]) InsertMany(entries ...Entry[K, V]) error {
	_, err := t.insertBatch(entries, false)
	return err
}

// InsertNew stores v under k only if no key equal to k is present (ETS
// insert_new/2) and reports whether it did. It is O(log n).
func (t *OrderedSet[K, V]) InsertNew(k K, v V) (bool, error) {
	if err := t.writable(); err != nil {
		return false, err
	}
	who := t.as.token()
	for {
		if stored, admitted := t.tr.PutNew(k, v, who); admitted {
			return stored, nil
		}
		if err := t.refused(); err != nil {
			return false, err
		}
	}
}

// InsertNewMany stores every entry only if none of their keys is present
// (ETS insert_new/2 with a list): all or nothing, atomically and in
// isolation. It reports whether it stored. When two entries have equal keys,
// the last wins.
func (t *OrderedSet[K, V]) InsertNewMany(entries ...Entry[K, V]) (bool, error) {
	return t.insertBatch(entries, true)
}

func (t *OrderedSet[K, V]) insertBatch(entries []Entry[K, V], onlyNew bool) (bool, error) {
	if err := t.writable(); err != nil {
		return false, err
	}
	if len(entries) == 0 {
		return true, nil
	}
	item := func(i int) (K, V) { return entries[i].Key, entries[i].Value }
	return retry(t.handle, func(who *gate.Token) (bool, bool) { return t.tr.PutBatch(len(entries), item, onlyNew, who) })
}

// Lookup returns the value stored under k or a key equal to it (ETS
// lookup/2). It is O(log n) and does not allocate. It returns false if k is
// absent or the table cannot be read (see Err).
func (t *OrderedSet[K, V]) Lookup(k K) (V, bool) {
	if !t.readable() {
		var zero V
		return zero, false
	}
	return t.tr.Get(k)
}

// Member reports whether k is present (ETS member/2). It is O(log n).
func (t *OrderedSet[K, V]) Member(k K) bool {
	return t.readable() && t.tr.Has(k)
}

// Delete removes k if present (ETS delete/2). Deleting an absent key is not an
// error. It is O(log n).
func (t *OrderedSet[K, V]) Delete(k K) error {
	if err := t.writable(); err != nil {
		return err
	}
	who := t.as.token()
	for {
		if _, _, admitted := t.tr.Take(k, who); admitted {
			return nil
		}
		if err := t.refused(); err != nil {
			return err
		}
	}
}

// Take removes k and returns the value it held (ETS take/2); ok is false if k
// was absent. It is O(log n).
func (t *OrderedSet[K, V]) Take(k K) (v V, ok bool, err error) {
	if err := t.writable(); err != nil {
		return v, false, err
	}
	who := t.as.token()
	for {
		v, ok, admitted := t.tr.Take(k, who)
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
// stores the value (inserting k if absent; a present key keeps the key it
// was stored with), Delete removes k. Update returns the value k holds
// afterwards and whether it holds one.
//
// fn runs while the write lock of k's base node is held (see OrderedSet):
// keep it short, and never call the table from it, nor stop the table's
// owner (either deadlocks). If fn panics, the table is unchanged and
// unlocked, and the panic propagates to the caller. Update is O(log n) and
// does not allocate.
func (t *OrderedSet[K, V]) Update(k K, fn func(old V, ok bool) (V, Op)) (V, bool, error) {
	if fn == nil {
		panic("ets: Update: nil function")
	}
	if err := t.writable(); err != nil {
		var zero V
		return zero, false, err
	}
	who := t.as.token()
	for {
		v, ok, admitted := t.tr.Update(k, func(old V, ok bool) (V, ordered.Op) {
			v, op := fn(old, ok)
			return v, ordered.Op(op.checked())
		}, who)
		if admitted {
			return v, ok, nil
		}
		if err := t.refused(); err != nil {
			return v, false, err
		}
	}
}

// updateCounter applies one UpdateCounter call to k under the write lock.
func (t *OrderedSet[K, V]) updateCounter(k K, c counterOp) (V, error) {
	var nv V
	if err := t.writable(); err != nil {
		return nv, err
	}
	var err error
	who := t.as.token()
	for {
		_, _, admitted := t.tr.Update(k, func(old V, ok bool) (V, ordered.Op) {
			var v uint64
			v, err = c.step(c.load(unsafe.Pointer(&old)), ok)
			c.store(unsafe.Pointer(&nv), v)
			if err != nil {
				return old, ordered.Keep
			}
			return nv, ordered.Store
		}, who)
		if admitted {
			return nv, err
		}
		if err := t.refused(); err != nil {
			return nv, err
		}
	}
}

// First returns the object with the smallest key (ETS first/1 and lookup/2
// together); ok is false if the table is empty or cannot be read. It is
// O(log n).
func (t *OrderedSet[K, V]) First() (k K, v V, ok bool) {
	if !t.readable() {
		return k, v, false
	}
	it, ok := t.tr.First()
	return it.Key, it.Value, ok
}

// Last returns the object with the largest key (ETS last/1); ok is false if
// the table is empty or cannot be read. It is O(log n).
func (t *OrderedSet[K, V]) Last() (k K, v V, ok bool) {
	if !t.readable() {
		return k, v, false
	}
	it, ok := t.tr.Last()
	return it.Key, it.Value, ok
}

// Next returns the object with the smallest key greater than k (ETS next/2);
// k need not be in the table. ok is false if there is none or the table
// cannot be read. It is O(log n). A loop of Next calls sees each key present
// throughout exactly once.
func (t *OrderedSet[K, V]) Next(k K) (K, V, bool) {
	return t.step(k, false)
}

// Prev returns the object with the largest key smaller than k (ETS prev/2);
// k need not be in the table. ok is false if there is none or the table
// cannot be read. It is O(log n).
func (t *OrderedSet[K, V]) Prev(k K) (K, V, bool) {
	return t.step(k, true)
}

func (t *OrderedSet[K, V]) step(k K, desc bool) (K, V, bool) {
	if !t.readable() {
		var zero Entry[K, V]
		return zero.Key, zero.Value, false
	}
	it, ok := t.tr.Next(k, desc)
	return it.Key, it.Value, ok
}

// walk yields the objects of s in order. See OrderedSet for what a traversal
// sees; yield runs outside the table's lock. The handle's right to read is
// checked before each batch, as a Set's walk checks it before each shard: a
// walk of a table dropped, or given away by the owner of a private table,
// ends with the batch in hand. first is the first batch's size (see
// ordered.Tree.WalkWhile).
func (t *OrderedSet[K, V]) walk(s ordered.Span[K], desc bool, first int) iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		t.tr.WalkWhile(s, desc, first, t.readable, yield)
	}
}

// All returns an iterator over the table's objects in ascending key order
// (ETS tab2list/1, foldl/3). The loop body runs outside the table's lock and
// may write to the table; see OrderedSet for what a traversal sees while
// writers run. A walk of m objects costs O(m) plus one O(log n) seek per
// batch; batches start at 128 objects and double up to 1024.
func (t *OrderedSet[K, V]) All() iter.Seq2[K, V] {
	return t.walk(ordered.Span[K]{}, false, 0)
}

// Keys returns an iterator over the table's keys in ascending order, with the
// guarantees of All.
func (t *OrderedSet[K, V]) Keys() iter.Seq[K] {
	return keysOf(t.All())
}

// Range returns an iterator over the objects with lo <= key < hi in
// ascending order, with the guarantees of All. It costs O(log n + m) for m
// objects in range and yields nothing if hi <= lo.
func (t *OrderedSet[K, V]) Range(lo, hi K) iter.Seq2[K, V] {
	return t.walk(ordered.Span[K]{From: lo, HasFrom: true, To: hi, HasTo: true}, false, 0)
}

// Ascend returns an iterator over the objects with key >= from in ascending
// order, with the guarantees of All.
func (t *OrderedSet[K, V]) Ascend(from K) iter.Seq2[K, V] {
	return t.walk(ordered.Span[K]{From: from, HasFrom: true}, false, 0)
}

// Descend returns an iterator over the objects with key <= from (from
// included) in descending order, with the guarantees of All.
func (t *OrderedSet[K, V]) Descend(from K) iter.Seq2[K, V] {
	return t.walk(ordered.Span[K]{From: from, HasFrom: true}, true, 0)
}

// Select returns, in key order, the objects for which pred returns true (ETS
// select/2 and match_object/2); a nil pred matches every object. pred runs
// outside the table's lock, on copied batches, and may call the table.
// Select is O(n).
func (t *OrderedSet[K, V]) Select(pred func(K, V) bool) []Entry[K, V] {
	return selectFrom(t.All(), pred)
}

// SelectRange returns, in key order, the objects with lo <= key < hi for
// which pred returns true (ETS select/2 with a key range bound in the match
// head); a nil pred matches every object in range. pred is called only for
// keys in range, outside the table's lock. SelectRange costs O(log n + m)
// for m objects in range.
func (t *OrderedSet[K, V]) SelectRange(lo, hi K, pred func(K, V) bool) []Entry[K, V] {
	return selectFrom(t.Range(lo, hi), pred)
}

// SelectCount returns how many objects pred returns true for (ETS
// select_count/2); a nil pred counts every object. It runs pred as Select
// does.
func (t *OrderedSet[K, V]) SelectCount(pred func(K, V) bool) int {
	return countFrom(t.All(), pred)
}

// SelectDelete deletes the objects pred returns true for and returns how many
// it deleted (ETS select_delete/2); a nil pred deletes every object. Each
// object is tested and deleted atomically: pred runs while the write lock of
// a base node is held, a batch of its keys at a time, so it must be short and
// must neither call the table nor stop its owner (either deadlocks). If pred
// panics, the objects already deleted stay deleted, the table stays
// consistent and unlocked, and the panic propagates. It is O(n log n) and
// returns ErrDeleted if the table is dropped before or during the sweep.
func (t *OrderedSet[K, V]) SelectDelete(pred func(K, V) bool) (int, error) {
	return t.sweep(deleteWhere[ordered.Op](pred))
}

// SelectReplace calls fn for every object and, where fn returns true, stores
// the value it returns (ETS select_replace/2, which cannot change keys
// either). It returns how many objects it replaced. Each object is tested and
// replaced atomically, with fn running under the write lock as in
// SelectDelete.
func (t *OrderedSet[K, V]) SelectReplace(fn func(K, V) (V, bool)) (int, error) {
	return t.sweep(replaceWhere[ordered.Op](fn))
}

func (t *OrderedSet[K, V]) sweep(fn func(K, V) (V, ordered.Op)) (int, error) {
	var err error
	stored, deleted := t.tr.Sweep(fn, func() bool {
		err = t.writable()
		return err == nil
	}, t.as.token())
	return stored + deleted, err
}

// SelectLimit returns the first page of at most limit objects pred returns
// true for, in key order, and a cursor to the next page (ETS select/3); a nil
// pred matches every object. The cursor is nil when this page is the last.
// Each page resumes strictly after the last key of the page before, so a key
// present during the whole walk appears in exactly one page, and no key
// appears twice, whatever writers do between pages. Every page but the last
// holds exactly limit objects; the last may be empty. pred runs as in
// Select. A page costs O(log n + objects examined): it copies the first limit
// objects (at most 128), then batches twice as large while pred rejects.
// SelectLimit panics if limit < 1.
func (t *OrderedSet[K, V]) SelectLimit(pred func(K, V) bool, limit int) ([]Entry[K, V], *Cursor[K, V]) {
	if limit < 1 {
		panic("ets: SelectLimit: limit must be at least 1")
	}
	return t.page(ordered.Span[K]{}, pred, limit)
}

func (t *OrderedSet[K, V]) page(s ordered.Span[K], pred func(K, V) bool, limit int) ([]Entry[K, V], *Cursor[K, V]) {
	if !t.readable() {
		return nil, nil
	}
	var out []Entry[K, V]
	for k, v := range t.walk(s, false, limit) { // limit objects, if pred takes them all
		if pred != nil && !pred(k, v) {
			continue
		}
		out = append(out, Entry[K, V]{k, v})
		if len(out) == limit {
			next := ordered.Span[K]{From: k, HasFrom: true, After: true}
			return out, &Cursor[K, V]{next: func() ([]Entry[K, V], *Cursor[K, V]) { return t.page(next, pred, limit) }}
		}
	}
	return out, nil
}
