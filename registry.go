package ets

import (
	"cmp"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"weak"
)

// The registry: named tables by name (ETS named_table), and every live table
// by ID for Tables. Named tables are held strongly, as their name reaches
// them; the others weakly, so an unnamed table nobody references is freed by
// the garbage collector like any Go value. Lock order: a table's mu, then
// registry.mu.
var registry = struct {
	mu     sync.RWMutex
	byName map[string]*core
	all    map[uint64]weak.Pointer[core]
}{byName: map[string]*core{}, all: map[uint64]weak.Pointer[core]{}}

// register lists c and claims its name, if any.
func (c *core) register(name string) error {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if name != "" {
		if _, taken := registry.byName[name]; taken {
			return fmt.Errorf("%w: %q", ErrNameTaken, name)
		}
		registry.byName[name] = c
	}
	registry.all[c.id] = weak.Make(c)
	runtime.AddCleanup(c, unlist, c.id)
	return nil
}

func unlist(id uint64) {
	registry.mu.Lock()
	delete(registry.all, id)
	registry.mu.Unlock()
}

// unregister publishes next, a dropped state, and in the same hold of
// registry.mu frees c's name (held in st, the state before) and unlists it:
// whoever sees the table dropped may take its name at once, and Open never
// returns a table after it was seen dropped. The caller holds c.mu.
func (c *core) unregister(st, next *state) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	c.publish(next)
	if st.name != "" && registry.byName[st.name] == c {
		delete(registry.byName, st.name)
	}
	delete(registry.all, c.id)
}

// Rename gives the table a new name (ETS rename/2): the old name is freed and
// Open finds the table under the new one. An unnamed table becomes named.
// It needs write access (ErrAccess; a dropped table is ErrDeleted); a name
// held by another table is ErrNameTaken, an empty name ErrInvalidOption.
func (h handle) Rename(name string) error {
	if name == "" {
		return fmt.Errorf("%w: Rename to an empty name", ErrInvalidOption)
	}
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st.Load()
	if err := h.writableIn(st); err != nil {
		return err
	}
	if st.name == name {
		return nil
	}
	registry.mu.Lock()
	if _, taken := registry.byName[name]; taken {
		registry.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNameTaken, name)
	}
	registry.byName[name] = c
	if st.name != "" {
		delete(registry.byName, st.name)
	}
	// Published before the registry lets go, so that a table that Open
	// finds under its new name reports that name.
	next := *st
	next.name = name
	c.publish(&next)
	registry.mu.Unlock()
	return nil
}

// Open returns the named table as a handle acting for nobody (ETS's use of a
// named_table's name in place of its id): it reads public and protected
// tables and writes public ones. It takes a shared lock and does not
// allocate; still, a handle kept by the caller is cheaper than a lookup by
// name per operation. T is the handle type the table was made
// with, such as *ets.Set[string, int]. An unknown name is ErrNotFound; a
// table of another type is ErrWrongType, and the error names both types.
func Open[T Table](name string) (T, error) {
	var zero T
	registry.mu.RLock()
	c := registry.byName[name]
	registry.mu.RUnlock()
	if c == nil {
		return zero, fmt.Errorf("%w: no table named %q", ErrNotFound, name)
	}
	h := c.nobody
	t, ok := h.(T)
	if !ok {
		return zero, fmt.Errorf("%w: table %q is %T, not %v", ErrWrongType, name, h, reflect.TypeFor[T]())
	}
	return t, nil
}

// Tables describes every live table of the process (ETS all/0 with info/1),
// ordered by ID: named tables, and unnamed ones that are still referenced
// (by a handle, or by a live owner, which holds its tables).
// Each Info is the table's Info: private tables' sizes included, as ETS's
// info/1 and Observer show them. Each comes from one state of its table (a
// table dropped meanwhile is left out, not listed half dropped); the list
// is not a snapshot of the process.
func Tables() []Info {
	registry.mu.RLock()
	cores := make([]*core, 0, len(registry.all))
	for _, w := range registry.all {
		if c := w.Value(); c != nil {
			cores = append(cores, c)
		}
	}
	registry.mu.RUnlock()
	infos := make([]Info, 0, len(cores))
	for _, c := range cores {
		if st := c.st.Load(); !st.dropped {
			infos = append(infos, c.info(st))
		}
	}
	slices.SortFunc(infos, func(a, b Info) int { return cmp.Compare(a.ID, b.ID) })
	return infos
}
