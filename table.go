// Package ets brings Erlang's ETS tables to Go: typed, in-process tables that
// many goroutines read and write at once, with ETS's table kinds, its atomic
// operations and its ownership model.
//
// # Table kinds
//
//   - Set is ETS's set: one value per key, keys compared with ==.
//   - OrderedSet is ETS's ordered_set: one value per key, in key order, keys
//     compared with a comparator; it adds First, Last, Next, Prev and range
//     queries.
//   - Bag is ETS's bag: many objects per key, in insertion order, no two
//     equal; DuplicateBag is ETS's duplicate_bag, which keeps every copy.
//
// Every kind is a handle onto a shared table: all methods are safe for
// concurrent use by any number of goroutines, each single-key operation is
// atomic (linearizable), and the batch operations InsertMany and
// InsertNewMany are atomic and isolated: a concurrent reader of any key of
// the batch sees none or all of it.
//
// # Traversals
//
// All, Keys and the Select family walk a table one shard at a time: each
// shard is copied as it was at one moment and the copy is handed to your
// code afterwards, so you may write to the table from inside the loop. The
// copy takes no lock on amd64, 386, s390x and arm64 (it is checked against
// the shard's sequence counter and taken again if a writer ran meanwhile,
// under the shard's lock if writers keep it busy), so walks neither stall
// lookups and writes nor take turns with each other; elsewhere, and built
// with -race, it takes the shard's lock, for one shard's worth of copying.
// While writers run, every key present for the whole traversal is visited
// exactly once and no key is visited twice (ETS's safe_fixtable
// guarantee, always on); in a Bag or DuplicateBag the same holds of each
// object. Keys added or removed during the walk may or may not be seen. A
// hash table made with WriteConcurrencyOff has a single shard, so its
// traversals are snapshots. An OrderedSet walks in key order, copying a
// bounded batch of keys at a time in the same way (see OrderedSet).
//
// # Ownership
//
// As in ETS, a table may have an owner, an *Owner standing for a goroutine
// (NewOwner ties one to a context; Go starts a goroutine as one). The table
// is dropped when its owner ends unless it has a live heir, which then
// inherits it and receives a Transfer; an owner may also give a table away.
// Handles act on behalf of an owner (t.As(o)), and the table's Access decides
// what each handle may do: Public (all read and write), Protected (all read,
// the owner writes; the default with an owner) or Private (only the owner).
// Rights are checked on each call with one atomic load, and a write checks
// them again under the lock it writes under, so that a change of hands is
// exact (see GiveAway). WithName registers a table so that Open finds it by
// name.
//
// # Errors
//
// Mutations return an error when they do not apply, never silently: a
// dropped table gives ErrDeleted, a handle without write right ErrAccess.
// Reads that cannot proceed return "not found" and the handle's Err says why.
//
// A key whose dynamic type cannot be compared (a slice in a Set[any, V])
// panics in every operation that takes it, as such a key of a Go map does;
// the table is left as it was. A bag's values are checked instead (such a
// value is ErrInvalidOption), since a bag compares them again later, when
// another write or a delete of the key may meet them.
package ets

import (
	"errors"
	"fmt"
	"iter"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/etsgo/ets/internal/gate"
	"github.com/etsgo/ets/internal/shard"
)

// The errors of this package. Test for them with errors.Is: the returned
// errors often wrap them with detail.
var (
	// ErrDeleted: the table was dropped (Drop, or its owner ended with no heir).
	ErrDeleted = errors.New("ets: table deleted")
	// ErrAccess: the handle lacks the right the operation needs.
	ErrAccess = errors.New("ets: access denied")
	// ErrNameTaken: another live table has the name.
	ErrNameTaken = errors.New("ets: table name taken")
	// ErrNotOwner: the operation is reserved to the table's owner.
	ErrNotOwner = errors.New("ets: not the table's owner")
	// ErrOwnerDone: the owner named has already ended.
	ErrOwnerDone = errors.New("ets: owner has ended")
	// ErrNotFound: no such key (UpdateCounter without a default) or table name.
	ErrNotFound = errors.New("ets: not found")
	// ErrInvalidOption: an option or argument has a value the table cannot use.
	ErrInvalidOption = errors.New("ets: invalid option or argument")
	// ErrWrongType: Open found the name, but the table has another type.
	ErrWrongType = errors.New("ets: wrong table type")
	// ErrOverflow: UpdateCounter would overflow the value's integer type and
	// no threshold was given; the value is left unchanged.
	ErrOverflow = errors.New("ets: counter overflow")
)

// Kind is a table's ETS type.
type Kind uint8

// The table kinds.
const (
	KindSet          Kind = iota + 1 // ETS set: Set
	KindOrderedSet                   // ETS ordered_set: OrderedSet
	KindBag                          // ETS bag: Bag
	KindDuplicateBag                 // ETS duplicate_bag: DuplicateBag
)

// String returns the ETS name of the kind, such as "ordered_set".
func (k Kind) String() string {
	switch k {
	case KindSet:
		return "set"
	case KindOrderedSet:
		return "ordered_set"
	case KindBag:
		return "bag"
	case KindDuplicateBag:
		return "duplicate_bag"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Entry is one object of a table: a key and a value.
type Entry[K, V any] struct {
	Key   K
	Value V
}

// Op tells Update what to do with the key once its function returns. An Op
// other than Keep, Store and Delete makes Update panic, as a panic of its
// function does: the table is left as it was.
type Op uint8

// The outcomes of an Update function.
const (
	Keep   Op = iota // leave the key as it was (absent stays absent)
	Store            // store the returned value, inserting the key if absent
	Delete           // remove the key if present
)

// checked returns op, and panics if it is not one of the Ops (see Op).
func (op Op) checked() Op {
	if op > Delete {
		badOp(op)
	}
	return op
}

// badOp is checked's panic, out of line so that checked inlines.
func badOp(op Op) {
	panic(fmt.Sprintf("ets: Update: the function returned Op(%d), not Keep, Store or Delete", op))
}

// Info describes a table, as ETS's info/1.
type Info struct {
	ID                    uint64 // unique in the process, never reused
	Name                  string // "" for an unnamed table
	Kind                  Kind
	Owner                 OwnerID // 0 for a table without owner
	Heir                  OwnerID // 0 without heir
	Access                Access
	KeyType               string // the key type parameter, as fmt's %v of its reflect.Type
	ValueType             string
	Size                  int // objects, whoever asks (as ETS's info/1); 0 once dropped
	Memory                int // approximate bytes held by the table's storage
	ReadConcurrency       bool
	WriteConcurrency      WriteConcurrency
	Shards                int // locks the table's writers spread over now (an OrderedSet's base nodes; a Set or bag under WriteConcurrencyAuto may add more)
	DecentralizedCounters bool
}

// Access is ETS's access level: which handles may read and write a table.
// Rights are checked on every call, against the table's owner at that moment.
// As in ETS, access levels guard against mistakes, not against code of the
// same program that holds the owner's *Owner: whoever has it may act for it
// (As). The library never hands one owner's *Owner to another: Info and
// Transfer name owners by OwnerID.
type Access uint8

const (
	// Public: every handle reads and writes. A table without owner is public.
	Public Access = iota + 1
	// Protected: every handle reads; only handles acting for the owner write.
	// The default for a table with an owner.
	Protected
	// Private: only handles acting for the owner read or write.
	Private
)

// String returns the ETS name: "public", "protected" or "private".
func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case Protected:
		return "protected"
	case Private:
		return "private"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// Table is what every table handle has in common: *Set, *OrderedSet, *Bag
// and *DuplicateBag all implement it. It is how Transfer carries a table of
// any kind, and what GiveAway, SetHeir and Open take. Only this package's
// types implement it.
type Table interface {
	Info() Info
	Size() int
	Clear() error
	Drop() error
	Rename(name string) error
	Err() error
	tableCore() *core
}

// engine is what the lifecycle core needs of a table's storage.
type engine interface {
	Len() int
	Shards() int // the locks writers spread over, now
	Memory() int
	Clear(who *gate.Token) bool // as the engine's other writes, through its write gate (see core.publish)
	Purge()                     // Clear whatever the gate says: a drop's last step
	SetWriters(w *gate.Token)
}

var lastID atomic.Uint64

// core is the state one table shares between all its handles: identity,
// configuration and lifecycle. Every kind embeds a handle pointing at one.
type core struct {
	id        uint64
	kind      Kind
	nanKeys   bool // a hash table whose keys can hold a NaN: see nanKey
	keyType   string
	valueType string
	cfg       config
	eng       engine
	handleFor func(o *Owner) Table // the kind's handle acting for o
	nobody    Table                // handleFor(nil), made once for Open

	mu sync.Mutex // serialises lifecycle changes; operations read st
	st atomic.Pointer[state]
	// Every write reads st: the core fills whole cache lines, so that no
	// object the program writes shares them (see Set).
	_ [256 - 200]byte
}

// publish makes next the table's state. First it sets the engine's gates
// (package gate) to next's readers and writers: the write gate, which every
// engine has and every write asks under the lock it writes under, and the
// read gate of an engine that has one (a Set's shard.Map and a bag's
// shard.Bag, whose reads of a key check the right to read themselves).
//
// The write gate is what makes a change of hands exact. A write checks the
// state first (writable: one atomic load, and the error to return), then
// the gate under its lock; it lands only if both let it. One that passed
// the state just before the change and reaches its lock after the gate
// closed is refused there, and the writer (handle.refused) then finds the
// new state and returns its error. One the gate admitted holds its lock
// from before the gate closed until it lands, so every reader of what it
// writes waits for it and sees it: it happens before the change, as it may,
// since it started before the change returned. The gates are set before
// the state, so that a writer the new state admits (the receiver of a
// GiveAway, with a handle it made with As) is admitted by both only once both
// say so.
//
// A reader racing with a change may be answered by the read gate just
// before it closes, as it may by a state loaded just before: the read
// happens before the change. The caller holds mu, except when the table is
// made.
func (c *core) publish(next *state) {
	c.eng.SetWriters(next.writers())
	if g, ok := c.eng.(interface{ SetReaders(*gate.Token) }); ok {
		g.SetReaders(next.readers())
	}
	if hook := testHookInPublish.Load(); hook != nil {
		(*hook)()
	}
	c.st.Store(next)
}

// testHookInPublish, if set (by tests only), runs in publish between the
// gates and the state.
var testHookInPublish atomic.Pointer[func()]

// readers is who may read the table in state st, as a read gate's setting:
// nobody once it is dropped, only its owner's handles while it is private,
// and everyone otherwise. It is the one statement of the rule: readable and
// the Set's and the bags' read gates all apply it.
func (st *state) readers() *gate.Token {
	switch {
	case st.dropped:
		return gate.Nobody
	case st.access == Private:
		return st.owner.token()
	}
	return gate.Everyone
}

// writers is who may write the table in state st, as a write gate's
// setting: nobody once it is dropped, everyone while it is public, and only
// its owner's handles otherwise. writableIn and the engines' write gates
// both apply it.
func (st *state) writers() *gate.Token {
	switch {
	case st.dropped:
		return gate.Nobody
	case st.access == Public:
		return gate.Everyone
	}
	return st.owner.token()
}

// state is the part of a table's lifecycle that changes. It is immutable once
// published: a change stores a new state under core.mu, so an operation
// checks its rights with one atomic load (and a write again under its lock,
// through the engine's write gate: see publish).
type state struct {
	dropped  bool
	access   Access
	owner    *Owner
	heir     *Owner
	heirData any
	name     string
}

// newTable makes a table's core, gives it to its owner, claims its name and
// returns the kind's handle acting for the owner. wrap builds that handle.
// The last three steps happen under the table's lock, in that order: no
// other goroutine can see the table (Open, Tables) before its owner holds
// it, so none can give it away or drop it while it is being made, and an
// owner that ends meanwhile either refuses it or hands it on (ownerEnded
// waits for the lock) before its Done is closed.
func newTable[K, V any, T Table](kind Kind, cfg config, eng engine, wrap func(handle) T) (T, error) {
	c := &core{
		id:        lastID.Add(1),
		kind:      kind,
		nanKeys:   kind != KindOrderedSet && mayHoldNaN(reflect.TypeFor[K]()),
		keyType:   reflect.TypeFor[K]().String(),
		valueType: reflect.TypeFor[V]().String(),
		cfg:       cfg,
		eng:       eng,
	}
	c.handleFor = func(o *Owner) Table { return wrap(handle{c: c, as: o}) }
	c.nobody = c.handleFor(nil)
	if testHookBeforeAdopt != nil {
		testHookBeforeAdopt()
	}
	var zero T
	o := cfg.owner
	c.mu.Lock()
	defer c.mu.Unlock()
	c.publish(&state{access: cfg.accessLevel(), owner: o, heir: cfg.heir, heirData: cfg.heirData, name: cfg.name})
	if o != nil && !o.adopt(c) {
		// o has ended since WithOwner checked it, perhaps while the
		// table was being made. Nobody has seen the table.
		c.publish(&state{dropped: true})
		return zero, fmt.Errorf("%w (WithOwner %v)", ErrOwnerDone, o)
	}
	if err := c.register(cfg.name); err != nil {
		if o != nil {
			// o's end may have listed the table meanwhile: it finds
			// it dropped once it has the lock.
			o.release(c)
		}
		c.publish(&state{dropped: true})
		return zero, err
	}
	return wrap(handle{c: c, as: o}), nil
}

// testHookBeforeAdopt, if set (by tests only), runs in newTable between
// making the table and giving it to its owner.
var testHookBeforeAdopt func()

// String names the table for error messages: its name, or its kind and ID.
func (c *core) String() string {
	if name := c.st.Load().name; name != "" {
		return fmt.Sprintf("table %q", name)
	}
	return fmt.Sprintf("%s#%d", c.kind, c.id)
}

// handle is a table reference as one kind's methods see it: the table, and
// the owner the handle acts for (nil: nobody). The methods defined here are
// shared by every kind.
type handle struct {
	c  *core
	as *Owner
}

func (h handle) tableCore() *core { return h.c }

// readable reports whether the handle may read the table now.
func (h handle) readable() bool { return h.c.st.Load().readableBy(h.as) }

// readableBy reports whether a handle acting for o may read the table in
// state st.
func (st *state) readableBy(o *Owner) bool {
	r := st.readers()
	return r == gate.Everyone || r == o.token()
}

// writable returns nil if the handle may write the table now, and otherwise
// the error the write must return.
func (h handle) writable() error { return h.writableIn(h.c.st.Load()) }

// writableIn is writable for the state st. Its test is small enough to be
// inlined into every write; building the error is not. writable itself is
// not (its cost, 90, passes the compiler's budget of 80), so the hottest
// writes (Set.Insert, Set.updateCounter) call writableIn(t.c.st.Load()): a
// call fewer per write.
func (h handle) writableIn(st *state) error {
	if !st.dropped && (st.access == Public || h.as == st.owner) {
		return nil
	}
	return h.denied(st)
}

// denied is the error of a write that writableIn refuses.
func (h handle) denied(st *state) error {
	if st.dropped {
		return ErrDeleted
	}
	return fmt.Errorf("%w: %v writes %s table owned by %v", ErrAccess, h.as, st.access, st.owner)
}

// refused is what a write does when the engine's write gate refused it
// (see core.publish): it returns the error of a handle that may no longer
// write the table, or nil, and the write is then made again. The gate
// refuses a write only if the table changed hands or was dropped since the
// write checked its state, so the check here sees the change, unless it was
// undone meanwhile. (The gate is set before the state, so the two may
// disagree for the moment between their stores: refused yields the
// processor so that the change can finish.)
func (h handle) refused() error {
	if err := h.writable(); err != nil {
		return err
	}
	runtime.Gosched()
	return nil
}

// retry makes write, one write through the engine on behalf of h, until
// the engine's write gate admits it (write's second result), and returns
// its result, or the error of a handle that may not write (see refused).
// The caller has checked writable first. The single-key writes of every
// kind spell it out instead: through retry's closure, a bag's Insert took
// 4-8% longer (Bag_Insert, Bag_InsertPresent, -cpu 1).
func retry[R any](h handle, write func(who *gate.Token) (R, bool)) (R, error) {
	for {
		if r, admitted := write(h.as.token()); admitted {
			return r, nil
		}
		if err := h.refused(); err != nil {
			var zero R
			return zero, err
		}
	}
}

// Err returns why the handle cannot use the table: ErrDeleted once the table
// is dropped, ErrAccess if it is private and the handle does not act for its
// owner, and nil otherwise. Reads return not-found rather than an error; Err
// tells a missing key from a table that cannot be read. (A handle that may
// read but not write a protected table has a nil Err; its writes return
// ErrAccess.)
func (h handle) Err() error {
	st := h.c.st.Load() // one state for both answers: a Drop between two loads made it ErrAccess
	switch {
	case st.dropped:
		return ErrDeleted
	case !st.readableBy(h.as):
		return fmt.Errorf("%w: %v reads private table owned by %v", ErrAccess, h.as, st.owner)
	}
	return nil
}

// Size returns the number of objects in the table (ETS info(T, size)): O(1)
// for a hash table with a central counter, O(shards) with decentralized
// counters, O(base nodes) for an OrderedSet, and not a snapshot while
// writers run. As in ETS, whose info/1 answers every process whatever the
// table's access, it needs no right to read: a private table's size is
// given to every handle. It returns 0 once the table is dropped.
func (h handle) Size() int { return h.c.size(h.c.st.Load()) }

// size is the table's size in state st: 0 if it is dropped.
func (c *core) size(st *state) int {
	if st.dropped {
		return 0
	}
	return c.eng.Len()
}

// Info returns the table's description (ETS info/1). It costs O(shards). As
// ETS's info/1, it is available through every handle, even one that may not
// read the table, and gives the same description to all. A dropped table's
// Info has no owner, no heir, no name (its name is free for another table)
// and Size 0 (where ETS's info/1 returns undefined); its Memory is what the
// handles still hold, the emptied engine (16 KB for a Set of 64 shards),
// until the last handle is gone; its other fields are as they were. Err
// returns ErrDeleted.
func (h handle) Info() Info { return h.c.info(h.c.st.Load()) }

// info is Info, with every field that the table's state decides (name,
// owner, heir, access, whether it is dropped) taken from the one state st,
// so that a change racing with it cannot give a mix of two states.
func (c *core) info(st *state) Info {
	return Info{
		ID:                    c.id,
		Name:                  st.name,
		Kind:                  c.kind,
		Owner:                 st.owner.ID(),
		Heir:                  st.heir.ID(),
		Access:                st.access,
		KeyType:               c.keyType,
		ValueType:             c.valueType,
		Size:                  c.size(st),
		Memory:                c.eng.Memory(),
		ReadConcurrency:       c.cfg.readConcurrency,
		WriteConcurrency:      c.cfg.writeConcurrency,
		Shards:                c.eng.Shards(),
		DecentralizedCounters: c.cfg.decentralizedCounters(),
	}
}

// Clear removes every object (ETS delete_all_objects/1), atomically and in
// isolation, as in ETS: it holds every lock of the table at once (a hash
// table's shards, an ordered table's base nodes), so a reader sees all the
// objects or none, and a write is either cleared or made after the whole
// Clear. It needs write access.
func (h handle) Clear() error {
	if err := h.writable(); err != nil {
		return err
	}
	_, err := retry(h, func(who *gate.Token) (struct{}, bool) { return struct{}{}, h.c.eng.Clear(who) })
	return err
}

// Drop deletes the table (ETS delete/1): its objects are freed, its name is
// released, every later mutation through any handle returns ErrDeleted, reads
// return not-found and Err returns ErrDeleted. It needs write access
// (ErrAccess); dropping a dropped table returns ErrDeleted.
func (h handle) Drop() error {
	c := h.c
	c.mu.Lock()
	st := c.st.Load()
	if err := h.writableIn(st); err != nil {
		c.mu.Unlock()
		return err
	}
	c.dropUnlock(st)
	return nil
}

// dropUnlock marks the table dropped and forgets it everywhere, releases
// c.mu, which the caller holds, and then frees the objects.
func (c *core) dropUnlock(st *state) {
	next := *st
	next.dropped, next.owner, next.heir, next.heirData, next.name = true, nil, nil, nil, ""
	c.unregister(st, &next)
	if st.owner != nil {
		st.owner.release(c)
	}
	c.mu.Unlock()
	c.eng.Purge()
}

// insertBatch is InsertMany and InsertNewMany of the hash kinds: it hashes
// every key once and hands the batch to the engine's atomic batch insert
// (put), which locks the shards involved in order.
func insertBatch[K comparable, V any](h handle, entries []Entry[K, V], onlyNew bool,
	hash func(K) uint64, put func(hashes []uint64, item func(i int) (K, V), onlyNew bool, who *gate.Token) (bool, bool)) (bool, error) {
	if err := h.writable(); err != nil {
		return false, err
	}
	if len(entries) == 0 {
		return true, nil
	}
	for i := range entries {
		if nanKey(h.c, entries[i].Key) {
			return false, errNaNKey
		}
	}
	hashes := make([]uint64, len(entries))
	for i := range entries {
		hashes[i] = hash(entries[i].Key)
	}
	item := func(i int) (K, V) { return entries[i].Key, entries[i].Value }
	return retry(h, func(who *gate.Token) (bool, bool) { return put(hashes, item, onlyNew, who) })
}

// nanKey reports whether k, a key to add to the hash table of c, is not
// equal to itself: a floating-point NaN, or a value holding one (in a
// field, an array or an interface). Such a key hashes at random and == never
// finds it again, so a hash table cannot hold it: every insert would add
// another copy no lookup or delete could reach, and traversals, which find
// their place again by hash and ==, would skip or repeat other keys. The
// writes that can add a key refuse it (errNaNKey) before changing anything.
// (An OrderedSet holds NaN as one key, below every other: its comparator,
// cmp.Compare, says so.) For a key type that cannot hold a NaN c.nanKeys is
// false; for integer and string keys the compiler folds k != k away, and
// the test costs nothing (see Set.Insert's disassembly).
func nanKey[K comparable](c *core, k K) bool { return c.nanKeys && k != k }

// errNaNKey is the error of a write of a key that is not equal to itself.
var errNaNKey = fmt.Errorf("%w: a key not equal to itself (a NaN) cannot be found again in a hash table", ErrInvalidOption)

// mayHoldNaN reports whether a value of type t can be unequal to itself.
func mayHoldNaN(t reflect.Type) bool {
	return holds(t, func(k reflect.Kind) bool {
		switch k {
		case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.Interface:
			return true
		}
		return false
	})
}

// collector is the engines' CollectInto of the hash kinds: it appends to
// buf every object of the shard holding hash pos, as the shard was at one
// moment, and returns buf and where the next shard starts (see
// shard.Map.CollectInto).
type collector[K, V any] func(pos uint64, buf []shard.Entry[K, V]) (_ []shard.Entry[K, V], next uint64, more bool)

// walkBuffer returns the buffer a walk (All and Keys of the hash kinds)
// starts with: room for 32 objects, about two shards of a small table (16
// objects at 1e3 keys), so that a walk does not grow its buffer from nothing
// through five allocations. Walks of 1e3 string keys made 8 allocations and
// spent about a sixth of their time in the garbage collector's write
// barriers and marking (perf); presized, a walk took 6.2-6.5 us rather than
// 7.9-8.7 (-cpu 1, pinned). Inlined into the walk, with a constant size, it
// lets the compiler keep the buffer on the stack, 2 KiB at most: objects of
// more than 64 bytes start from nil instead, and each shard's copy sizes the
// buffer for the shard at once (see shard.Map.CollectInto), so that a walk
// of a small table of large objects allocates no more than it holds.
func walkBuffer[T any]() []T {
	var x T
	if unsafe.Sizeof(x) > 64 {
		return nil
	}
	return make([]T, 0, 32)
}

// listShards is Select(nil) of the hash kinds, ETS's tab2list: every object,
// as All visits them, but copied once, straight from each shard (no user
// code runs there) into the result, which starts at the table's size. A
// loop over All copies each object twice, into All's buffer and then into
// the caller's slice.
func listShards[K, V any](h handle, collect collector[K, V]) []Entry[K, V] {
	var out []shard.Entry[K, V]
	if n := h.Size(); n > 0 {
		out = make([]shard.Entry[K, V], 0, n+n/16) // room for a few writes meanwhile
	}
	for pos, more := uint64(0), true; more && h.readable(); {
		out, pos, more = collect(pos, out)
	}
	if len(out) == 0 {
		return nil
	}
	return entries(out)
}

// entries returns es as the package's Entry, sharing its memory: the two
// are the same struct, a Key then a Value, which the conversion below
// checks (it compiles only while their fields are identical).
func entries[K, V any](es []shard.Entry[K, V]) []Entry[K, V] {
	_ = Entry[K, V](shard.Entry[K, V]{})
	return unsafe.Slice((*Entry[K, V])(unsafe.Pointer(unsafe.SliceData(es))), cap(es))[:len(es)]
}

// The helpers below are the Select family, written once for every kind.

// keysOf is Keys of every kind, over the kind's All.
func keysOf[K, V any](all iter.Seq2[K, V]) iter.Seq[K] {
	return func(yield func(K) bool) {
		for k := range all {
			if !yield(k) {
				return
			}
		}
	}
}

// selectFrom returns the entries of all that pred returns true for; a nil
// pred matches every entry.
func selectFrom[K, V any](all iter.Seq2[K, V], pred func(K, V) bool) []Entry[K, V] {
	var out []Entry[K, V]
	for k, v := range all {
		if pred == nil || pred(k, v) {
			out = append(out, Entry[K, V]{k, v})
		}
	}
	return out
}

// countFrom returns how many entries of all pred returns true for; a nil pred
// counts every entry.
func countFrom[K, V any](all iter.Seq2[K, V], pred func(K, V) bool) int {
	n := 0
	for k, v := range all {
		if pred == nil || pred(k, v) {
			n++
		}
	}
	return n
}

// deleteWhere and replaceWhere are the sweep functions of SelectDelete and
// SelectReplace, in an engine's Op type O, whose Keep, Store and Delete have
// the values of this package's.
func deleteWhere[O ~uint8, K, V any](pred func(K, V) bool) func(K, V) (V, O) {
	return func(k K, v V) (V, O) {
		if pred == nil || pred(k, v) {
			return v, O(Delete)
		}
		return v, O(Keep)
	}
}

func replaceWhere[O ~uint8, K, V any](fn func(K, V) (V, bool)) func(K, V) (V, O) {
	if fn == nil {
		panic("ets: SelectReplace: nil function")
	}
	return func(k K, v V) (V, O) {
		if nv, ok := fn(k, v); ok {
			return nv, O(Store)
		}
		return v, O(Keep)
	}
}

// sweepShards runs an engine's Sweep over every shard in turn, checking
// before each that the table may still be written, and returns how many
// entries were stored or deleted. A shard the write gate refuses is swept
// again after the check (the engine returns pos again), as retry does.
func sweepShards[K, V any](h handle, sweep func(pos uint64, fn func(K, V) (V, shard.Op), who *gate.Token) (int, int, uint64, bool), fn func(K, V) (V, shard.Op)) (int, error) {
	n := 0
	who := h.as.token()
	for pos, more := uint64(0), true; more; {
		if err := h.writable(); err != nil {
			return n, err
		}
		stored, deleted, next, left := sweep(pos, fn, who)
		if next == pos && left { // refused (a sweep of a shard moves on)
			if err := h.refused(); err != nil {
				return n, err
			}
		}
		pos, more = next, left
		n += stored + deleted
	}
	return n, nil
}

// paged returns the page of at most limit entries pred (nil: all) accepts
// from pos, as an engine's Page walks them, and the cursor to the next page.
// It panics if limit < 1.
func paged[K, V, P any](h handle, pos P, pred func(K, V) bool, limit int,
	page func(pos P, limit int, accept func(K, V) bool, emit func(K, V)) (P, bool)) ([]Entry[K, V], *Cursor[K, V]) {
	if limit < 1 {
		panic("ets: SelectLimit: limit must be at least 1")
	}
	if !h.readable() {
		return nil, nil
	}
	var out []Entry[K, V]
	next, more := page(pos, limit,
		func(k K, v V) bool { return pred == nil || pred(k, v) },
		func(k K, v V) { out = append(out, Entry[K, V]{k, v}) })
	if !more {
		return out, nil
	}
	return out, &Cursor[K, V]{next: func() ([]Entry[K, V], *Cursor[K, V]) { return paged(h, next, pred, limit, page) }}
}
