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
// shard is copied under its lock and the copy is handed to your code after
// the lock is released, so you may write to the table from inside the loop,
// and a traversal never blocks writers for longer than one shard's worth of
// copying. While writers run, every key present for the whole traversal is
// visited exactly once and no key is visited twice (ETS's safe_fixtable
// guarantee, always on). Keys added or removed during the walk may or may not
// be seen. A Set made with WriteConcurrencyOff has a single shard, so its
// traversals are snapshots. An OrderedSet walks in key order, copying a
// bounded batch of keys at a time in the same way (see OrderedSet).
//
// # Errors
//
// Mutations return an error when they do not apply, never silently: a
// dropped table gives ErrDeleted. Reads that cannot proceed return
// "not found" and the handle's Err says why.
package ets

import (
	"errors"
	"fmt"
	"iter"
	"reflect"
	"sync"
	"sync/atomic"
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
	ErrInvalidOption = errors.New("ets: invalid option")
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

// Op tells Update what to do with the key once its function returns.
type Op uint8

// The outcomes of an Update function.
const (
	Keep   Op = iota // leave the key as it was (absent stays absent)
	Store            // store the returned value, inserting the key if absent
	Delete           // remove the key if present
)

// Info describes a table, as ETS's info/1.
type Info struct {
	ID                    uint64 // unique in the process, never reused
	Name                  string // "" for an unnamed table
	Kind                  Kind
	KeyType               string // the key type parameter, as fmt's %v of its reflect.Type
	ValueType             string
	Size                  int // objects; 0 when the handle may not read the table
	Memory                int // approximate bytes held by the table's storage
	ReadConcurrency       bool
	WriteConcurrency      WriteConcurrency
	Shards                int // locks the table's writers spread over
	DecentralizedCounters bool
}

// engine is what the lifecycle core needs of a table's storage.
type engine interface {
	Len() int
	Memory() int
	Clear()
}

var lastID atomic.Uint64

// core is the state one table shares between all its handles: identity,
// configuration and lifecycle. Every kind embeds a handle pointing at one.
type core struct {
	id        uint64
	kind      Kind
	keyType   string
	valueType string
	cfg       config
	shards    int
	eng       engine

	mu sync.Mutex // serialises lifecycle changes; readers use st
	st atomic.Pointer[state]
}

// state is the part of a table's lifecycle that changes. It is immutable once
// published: a change stores a new state, so an operation checks its rights
// with one atomic load.
type state struct {
	dropped bool
}

func newCore[K, V any](kind Kind, cfg config, shards int, eng engine) *core {
	c := &core{
		id:        lastID.Add(1),
		kind:      kind,
		keyType:   typeName[K](),
		valueType: typeName[V](),
		cfg:       cfg,
		shards:    shards,
		eng:       eng,
	}
	c.st.Store(&state{})
	return c
}

func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// handle is a table reference as one kind's methods see it. The methods
// defined here are shared by every kind.
type handle struct {
	c *core
}

// readable reports whether the handle may read the table now.
func (h handle) readable() bool {
	return !h.c.st.Load().dropped
}

// writable returns nil if the handle may write the table now, and otherwise
// the error the write must return.
func (h handle) writable() error {
	if h.c.st.Load().dropped {
		return ErrDeleted
	}
	return nil
}

// Err returns why the handle can neither read nor write the table: ErrDeleted
// once the table is dropped, and nil while it is usable. Reads return
// not-found rather than an error; Err tells a missing key from a table that
// cannot be read.
func (h handle) Err() error {
	return h.writable()
}

// Size returns the number of objects in the table (ETS info(T, size)): O(1)
// with a central counter, O(shards) with decentralized counters, and not a
// snapshot while writers run. It returns 0 when the table cannot be read.
func (h handle) Size() int {
	if !h.readable() {
		return 0
	}
	return h.c.eng.Len()
}

// Info returns the table's description (ETS info/1). It costs O(shards).
func (h handle) Info() Info {
	c := h.c
	return Info{
		ID:                    c.id,
		Kind:                  c.kind,
		KeyType:               c.keyType,
		ValueType:             c.valueType,
		Size:                  h.Size(),
		Memory:                c.eng.Memory(),
		ReadConcurrency:       c.cfg.readConcurrency,
		WriteConcurrency:      c.cfg.writeConcurrency,
		Shards:                c.shards,
		DecentralizedCounters: c.cfg.decentralizedCounters(),
	}
}

// Clear removes every object (ETS delete_all_objects/1). It empties one shard
// at a time, each atomically; a concurrent writer's object may survive if it
// lands in a shard already cleared.
func (h handle) Clear() error {
	if err := h.writable(); err != nil {
		return err
	}
	h.c.eng.Clear()
	return nil
}

// Drop deletes the table (ETS delete/1): its objects are freed, every later
// mutation through any handle returns ErrDeleted, reads return not-found and
// Err returns ErrDeleted. Dropping a dropped table returns ErrDeleted.
func (h handle) Drop() error {
	c := h.c
	c.mu.Lock()
	st := c.st.Load()
	if st.dropped {
		c.mu.Unlock()
		return ErrDeleted
	}
	next := *st
	next.dropped = true
	c.st.Store(&next)
	c.mu.Unlock()
	c.eng.Clear()
	return nil
}

// keysOf, selectFrom and countIn are Keys, Select and SelectCount of every
// kind, over the kind's All (or, for SelectRange, its Range).
func keysOf[K, V any](all iter.Seq2[K, V]) iter.Seq[K] {
	return func(yield func(K) bool) {
		for k := range all {
			if !yield(k) {
				return
			}
		}
	}
}

func selectFrom[K, V any](all iter.Seq2[K, V], pred func(K, V) bool) []Entry[K, V] {
	var out []Entry[K, V]
	for k, v := range all {
		if pred == nil || pred(k, v) {
			out = append(out, Entry[K, V]{k, v})
		}
	}
	return out
}

func countIn[K, V any](all iter.Seq2[K, V], pred func(K, V) bool) int {
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
	return func(k K, v V) (V, O) {
		if nv, ok := fn(k, v); ok {
			return nv, O(Store)
		}
		return v, O(Keep)
	}
}
