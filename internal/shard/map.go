// Package shard is the sharded hash engine behind ets's hash tables.
//
// A Map splits its keys over a power-of-two number of shards, each a lock
// (lock.go) and an open-addressing table (table.go). A key is hashed once
// per operation with a seed drawn at random for each Map (hash.go), so no
// key set crafted offline can pile onto one shard or one probe sequence.
// The shard of a key is chosen by the top bits of its hash, so every shard covers a contiguous
// range of hash values: a traversal that walks shards in order, and a cursor
// that remembers a hash value, stay exact whatever the writers do.
//
// A Map made with room to grow (Config.MaxShards) starts with fewer shards
// and splits each into several when its writers wait for locks (grow). The
// new shards refine the old ranges, so traversals that go by hash value
// (Collect, Sweep and Page take a position, not a shard number) stay exact
// across a grow too.
//
// The engine knows nothing of owners, access or names; the ets package checks
// those before it calls in. The engine asks gates it sets too (package
// gate): Get and Has check the caller's Token against the read gate
// (SetReaders), so that a lookup is one call, and every write checks it
// against the write gate (SetWriters) under the lock it writes under.
package shard

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/etsgo/ets/internal/gate"
	"github.com/etsgo/ets/internal/seqlock"
)

// Op tells Update and Sweep what to do with a key once the callback returns.
type Op uint8

// The operations a callback may ask for.
const (
	Keep   Op = iota // leave the key as it was
	Store            // store the returned value
	Delete           // remove the key
)

// MaxShards bounds the shard count a Map accepts.
const MaxShards = 1 << 16

const cacheLine = 64

// Config fixes a Map's shape when it is made.
type Config struct {
	Shards  int  // a power of two between 1 and MaxShards
	Central bool // keep one table-wide size counter instead of one per shard
	// MaxShards, if more than Shards, lets the Map grow to that many shards
	// (a power of two up to the constant MaxShards) when its writers wait
	// for locks; the Map then grows once its writers have waited GrowAfter
	// times per shard since it last grew (0: growAfter).
	MaxShards int
	GrowAfter int
}

// growAfter is how many times per shard writers wait for a lock before a
// Map with room to grow splits its shards.
const growAfter = 16

// growWindow is the time within which writers must wait growAfter times
// per shard for the Map to grow: waits further apart start the count over.
// (A variable for tests.)
var growWindow = time.Second

// growPatience is how long a grow waits for each shard before it gives up.
const growPatience = time.Millisecond

// epoch is the origin of growth.since, on the monotonic clock.
var epoch = time.Now()

// growPause, if set, runs at two moments of a grow, so that tests can hold
// it there: growFrozen, once every old shard is frozen and before the keys
// are copied (readers must go on, writers wait), and growStores, between
// the stores of base and shift (a window in which readers and writers pair
// the old shift with the new array, so that a missed check shows).
var growPause func(stage int)

const (
	growFrozen = iota
	growStores
)

// growBits is how many times a grow multiplies the shard count, as a
// power of two: 4, so that a table reaches its most shards in few grows.
const growBits = 2

// Map is a sharded hash table. All methods are safe for concurrent use.
type Map[K comparable, V any] struct {
	hasher[K]
	// The shards: an array of 1<<(64-shift) of them (one when shift is 64),
	// replaced by a larger one when the Map grows. A key's shard is h >>
	// shift. grow stores base before shift, and every reader loads shift
	// before base, so the index it computes is within the array it loads;
	// but it may pair an older shift with a newer array, which the shard
	// tells, as every shard records its array's shift (see dir).
	shift   atomic.Uint64
	base    atomic.Pointer[shard[K, V]]
	readers gate.Gate // who Get and Has answer: see SetReaders
	writers gate.Gate // who writes: see SetWriters
	central *counter  // nil when each shard counts its own keys
	// The fields above fill the first cache line, which every Get and Ref
	// reads; growth, which only waiting writers read, starts the second.
	growth *growth // nil when the shard count is fixed
	_      [cacheLine - 8]byte
}

// growth is the state of a Map that may grow, away from the Map's fields
// that every operation reads: waits is written by writers that waited.
type growth struct {
	_        [cacheLine]byte
	waits    atomic.Int64 // lock acquisitions that waited since counting began
	since    atomic.Int64 // when counting began, in nanoseconds from epoch
	mu       sync.Mutex   // held while the Map grows
	minShift uint64       // the shift of the most shards the Map grows to
	after    int64        // waits per shard that make the Map grow
	_        [cacheLine]byte
}

// dir is one view of a Map's shards: an array and the shift it was made for.
type dir[K comparable, V any] struct {
	base  *shard[K, V]
	shift uint64
}

// dir returns the Map's current shards.
func (m *Map[K, V]) dir() dir[K, V] {
	for {
		shift := m.shift.Load() // before base: see Map
		d := dir[K, V]{m.base.Load(), shift}
		if d.base.shift == shift {
			return d
		}
		runtime.Gosched() // a grow is between its two stores: let it finish
	}
}

// checkIndex panics if i is past the array at base, whose first shard
// records its shift (see checkIndexes).
func checkIndex[K comparable, V any](i uint64, base *shard[K, V]) {
	if i >= 1<<(64-base.shift) {
		panic("shard: a shard index past its array: grow's stores or a reader's loads are out of order")
	}
}

func (d dir[K, V]) len() int                 { return 1 << (64 - d.shift) }
func (d dir[K, V]) index(h uint64) int       { return int(h >> d.shift) }
func (d dir[K, V]) at(h uint64) *shard[K, V] { return d.shard(d.index(h)) }
func (d dir[K, V]) shard(i int) *shard[K, V] {
	return (*shard[K, V])(unsafe.Add(unsafe.Pointer(d.base), uintptr(i)*unsafe.Sizeof(shard[K, V]{})))
}

// next returns the smallest hash of the shard after shard i, and false if
// shard i is the last.
func (d dir[K, V]) next(i int) (uint64, bool) {
	if i+1 == d.len() {
		return 0, false
	}
	return uint64(i+1) << d.shift, true
}

// SetReaders sets who Get and Has answer: everyone (gate.Everyone, a new
// Map's setting), nobody (gate.Nobody), or the one caller whose Token r is;
// to the others they answer as if every key were absent. (The ets package
// gives each owner a Token, so that a private table answers its owner's
// handles alone, with one load and a comparison inside Get rather than a
// check of the table's state in a call around it.)
func (m *Map[K, V]) SetReaders(r *gate.Token) { m.readers.Store(r) }

// SetWriters sets who may write, as SetReaders sets who may read: every
// write (Put, PutNew, Take, Update, PutBatch, Sweep, Clear) takes its
// caller's Token and asks the gate under the lock it writes under, and a
// write the gate refuses changes nothing. Ref leaves the question to its
// caller (see Ref); Purge alone ignores the gate.
func (m *Map[K, V]) SetWriters(w *gate.Token) { m.writers.Store(w) }

// A shard is a table and the seqLock guarding it (lock.go). Writers take the
// lock through lock/unlock, which make the counter odd while they hold it,
// and publish the table's groups whenever they replace them (insert,
// clear), before they release it; holders that only
// read use rlock/runlock. Readers of one key (Get, Has) take no lock and
// write no shared memory: they note an even counter, probe the published
// groups, and retry if the counter moved; after a few tries they take the
// lock instead, so they always make progress. (That is on amd64, 386, s390x
// and arm64, with barriers on arm64: elsewhere, and under the race
// detector, they take the lock; see optimistic.go.)
//
// A shard that a grow replaced is retired: its counter holds the odd value
// retired for good, so readers never accept it and writers that wait for
// it give up (lockSlow) and look their key's shard up again.
//
// A shard is four cache lines: the lock word and the inline group (inl) on
// the first ones, the table's fields, which writers change, on the third,
// and what lock-free readers load besides the lock word on the fourth. Its
// table's groups are published on it as a pointer and a mask, set together
// under the lock, rather than only through the table's arrays: a reader
// loads the counter, the pointer and the mask, checks the counter again (if
// it did not move, the pair belongs together), and goes straight to the
// key's group, one dependent load fewer than through arrays. The key count
// is the table's own (tab.live), read as Get reads slots (see live).
type shard[K comparable, V any] struct {
	l seqLock
	// inl is the shard's first group, when the Map's keys and values hold
	// no pointers and a group fits (inlineFits): a table of one group lives
	// here, on the lock word's cache line, and a write to a key in one of
	// its first slots touches one line instead of two. Two cores
	// incrementing 64 hot counters (bench/ HotCounters, -cpu 2) took 35-40
	// ns per increment with it, 48-57 without. It is raw words, so that the
	// shard's layout is the same for every K and V; that is why it is only
	// for groups without pointers, which the garbage collector need not
	// see. (Its contents outlive the table that used them: they are
	// copies, and hold no pointers.)
	inl [inlineWords]uint64
	tab table[K, V]
	_   [16]byte
	// grp and mask are the table's groups for lock-free readers (see
	// publish). Writers store them atomically; readers (Get, peek through
	// groups, Bag.Append) load them with plain loads through unsafe
	// casts, since the compiler does not fold an index into an atomic
	// load's address and spent two LEAQs on each (4% of a lookup of 1e3
	// int keys, 6% of 1e6, in bench/README.md's twenty-fifth session).
	// Like a slot's copy, what they load is used only once the counter,
	// checked again after them, shows no writer came between. On arm64
	// (fenced) they keep the atomic loads: acquire loads stay before the
	// check by themselves, where plain loads would need a LoadFence, a
	// call and a barrier per lookup. TestPlainLoads checks that the casts
	// read the fields.
	grp   atomic.Pointer[group[K, V]] // &tab.groups[0], nil while the table has none
	mask  atomic.Uint64               // len(tab.groups)-1
	shift uint64                      // the shift of the array the shard is in: see Map
	_     [40]byte
}

// inlineWords is the size of a shard's inline group, in words: an
// int64-to-int64 group (136 bytes), whose control word and first two slots
// then share the lock word's line.
const inlineWords = 17

// inlineFits reports whether a shard of a Map of K and V may keep its first
// group in line: K and V hold no pointers, and a group fits.
func inlineFits[K comparable, V any]() bool {
	return unsafe.Sizeof(group[K, V]{}) <= inlineWords*8 &&
		unsafe.Alignof(group[K, V]{}) <= 8 &&
		pointerFree(reflect.TypeFor[K]()) && pointerFree(reflect.TypeFor[V]())
}

// pointerFree reports whether values of t hold no pointers.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// inlineGroup returns the shard's inline group; only a Map whose hasher's
// inline is set (inlineFits) may call it.
func (s *shard[K, V]) inlineGroup() *group[K, V] { return (*group[K, V])(unsafe.Pointer(&s.inl)) }

func (s *shard[K, V]) unlock() { Locked[K, V]{s: s}.Unlock() }

// rlock and runlock hold the shard for a caller that does not write it;
// rlock fails if the shard is retired.
func (s *shard[K, V]) rlock() (uint64, bool) { return s.l.Lock() }
func (s *shard[K, V]) runlock(seq uint64)    { s.l.Restore(seq) }

// lockHash write-locks the shard of hash h and returns it with the view it
// is in and its index there.
func (m *Map[K, V]) lockHash(h uint64) (dir[K, V], int) {
	for {
		d := m.dir()
		si := d.index(h)
		s := d.shard(si)
		if x := s.l.Seq.Load(); x&1 == 0 && s.l.Seq.CompareAndSwap(x, x+1) {
			if fenced {
				seqlock.StoreFence() // the odd counter before the writes (seqlock's fence_arm64.go)
			}
			return d, si
		}
		if m.lockSlow(s, d.shift) {
			return d, si
		}
	}
}

// lockSlow takes s's lock after the fast path failed, for a caller that
// holds no other lock of the Map, and counts the wait. It returns false,
// without the lock, if s is retired or if the wait made the Map grow; the
// caller then looks its shard up again.
func (m *Map[K, V]) lockSlow(s *shard[K, V], shift uint64) bool {
	seq, ok := s.l.LockSlow()
	if !ok {
		return false
	}
	g := m.growth
	if g == nil || shift <= g.minShift || g.waits.Add(1) < g.after<<(64-shift) {
		return true
	}
	since := g.since.Load()
	if now := sinceEpoch(); now-since > int64(growWindow) {
		if g.since.CompareAndSwap(since, now) { // one of the waiters starts the count over
			g.waits.Store(0)
		}
		return true // too few waits too long apart
	}
	s.runlock(seq)
	m.grow(shift, since, false)
	return false
}

func sinceEpoch() int64 { return int64(time.Since(epoch)) }

// restart begins counting waits again, from now.
func (g *growth) restart() {
	g.waits.Store(0)
	g.since.Store(sinceEpoch())
}

// optimisticTries is how many times a lock-free read is attempted before
// the reader takes the lock.
const optimisticTries = 4

// Get returns the value of k, if the Map answers who (SetReaders). It takes
// no lock and writes no shared memory unless writers keep the key's shard
// busy; see the shard's comment for the protocol.
//
// Get itself is the common case only: one attempt at the key's first group,
// which holds the key, or shows it absent, in all but a few percent of
// lookups (one in 64 at 1e3 int keys, for probes longer than a group). It
// tries every slot of the group whose tag matches: trying the first only
// sent another key of the same tag to getSlow too (one lookup in 30). It
// keeps few values live, so that they stay in registers; every other case
// (a longer probe, a writer in the shard, no arrays yet) goes to getSlow,
// which starts over. Its checks branch to getSlow one by one: written as
// one condition of &&s, they were computed into a flag and tested again.
// (With both, 128 -> 117 instructions a Read100 lookup of 1e3 int keys
// through the bench module's wrapper, callgrind.) Get and getSlow are
// written out in full, the probe's word operations included: the compiler
// does not inline small helpers into generic code instantiated in another
// package (golang/go#56280), and a read is a handful of loads that a call
// per helper would double.
//
// A candidate slot is copied, and the counter checked unchanged, before its
// key is compared: a slot torn by a concurrent writer is never compared (a
// torn string or interface could point anywhere), only discarded.
func (m *Map[K, V]) Get(k K, who *gate.Token) (V, bool) {
	if r := m.readers.Load(); r != nil && r != who { // gate.Admits, spelled out (see gate.Gate)
		var zero V
		return zero, false
	}
	var h uint64 // m.Hash(k), which is not inlined
	if m.intKey {
		h = m.intHash(k)
	} else {
		h = maphash.Comparable(m.seed, k)
	}
	shift := m.shift.Load() // before base: see Map
	base := m.base.Load()
	if checkIndexes {
		checkIndex(h>>shift, base)
	}
	s := (*shard[K, V])(unsafe.Add(unsafe.Pointer(base), uintptr(h>>shift)*unsafe.Sizeof(shard[K, V]{})))
	if optimisticReads {
		start := s.l.Seq.Load()
		var mask uint64 // s.groups(), spelled out
		var p *group[K, V]
		if fenced {
			mask, p = s.mask.Load(), s.grp.Load()
		} else {
			mask = *(*uint64)(unsafe.Pointer(&s.mask)) // plain loads: see shard.grp
			p = *(**group[K, V])(unsafe.Pointer(&s.grp))
		}
		// s is the key's shard if its array is the one shift was loaded
		// for (see Map); the pair p, mask is one table's if the counter
		// did not move (see shard.publish).
		if start&1 != 0 || p == nil || s.shift != shift {
			goto slow
		}
		if s.l.Seq.Load() != start {
			goto slow
		}
		{
			// &groups[h>>7&mask] of the groups at p, of which there are mask+1.
			gr := (*group[K, V])(unsafe.Add(unsafe.Pointer(p), uintptr((h>>7)&mask)*unsafe.Sizeof(*p)))
			w := atomic.LoadUint64(&gr.ctrl)
			x := w ^ lsb*(h&0x7f|ctrlFull)
			for b := (x - lsb) &^ x & msb; b != 0; b &= b - 1 { // bytes of w equal to the tag (false positives possible)
				sl := gr.slots[bits.TrailingZeros64(b)>>3&(groupSize-1)]
				if fenced {
					seqlock.LoadFence() // the copy before the check (seqlock's fence_arm64.go)
				}
				if s.l.Seq.Load() != start {
					goto slow // sl may be torn: never compare it
				}
				if sl.key == k {
					return sl.val, true
				}
			}
			if ^(w|w<<7)&msb != 0 && s.l.Seq.Load() == start { // no match, and an empty slot: k is absent
				var zero V
				return zero, false
			}
		}
	}
slow:
	return m.getSlow(h, k)
}

// getSlow is Get's general case: the full probe, retried a few times if
// writers move the counter, then the lock; all over again in the shard
// that replaced the key's, if a grow retired it.
func (m *Map[K, V]) getSlow(h uint64, k K) (V, bool) {
	for {
		if v, ok, live := m.dir().at(h).get(h, k); live {
			return v, ok
		}
	}
}

// get looks k up in s, as getSlow; live is false if s is retired.
func (s *shard[K, V]) get(h uint64, k K) (v V, ok, live bool) {
	if optimisticReads {
		for range optimisticTries {
			sl, start, valid := s.peek(h, k)
			if !valid {
				continue
			}
			if sl == nil {
				return v, false, true // v is still zero
			}
			x := sl.val // not v: a copy that fails the check must not be returned as an absent key's value
			if fenced {
				seqlock.LoadFence() // the copy before the check (seqlock's fence_arm64.go)
			}
			if s.l.Seq.Load() == start {
				return x, true, true
			}
		}
	}
	return s.getLocked(h, k)
}

// peek is one lock-free probe for k in s. It is valid if no writer held s
// or moved its counter while it probed, and then returns k's slot (nil if k
// is absent) as of the counter start. The slot is only a place: a reader
// copies what it needs from it, then checks that the counter is still
// start (get, Bag.appendSlow). It is never valid for a retired shard, whose
// counter is odd for good.
func (s *shard[K, V]) peek(h uint64, k K) (sl *slot[K, V], start uint64, valid bool) {
	start = s.l.Seq.Load()
	mask, p := s.groups()
	if !readable(start) || s.l.Seq.Load() != start {
		return nil, start, false // p and mask may not belong together: see shard.publish
	}
	if p == nil {
		return nil, start, true
	}
	g := (h >> 7) & mask
	tag := lsb * (h&0x7f | ctrlFull)
	for step := uint64(1); ; step++ {
		gr := (*group[K, V])(unsafe.Add(unsafe.Pointer(p), uintptr(g)*unsafe.Sizeof(*p)))
		w := atomic.LoadUint64(&gr.ctrl)
		x := w ^ tag
		for m := (x - lsb) &^ x & msb; m != 0; m &= m - 1 { // bytes of w equal to the tag (false positives possible)
			sl := &gr.slots[bits.TrailingZeros64(m)>>3&(groupSize-1)]
			key := sl.key
			if fenced {
				seqlock.LoadFence()
			}
			if s.l.Seq.Load() != start {
				return nil, start, false // key may be torn: never compare it
			}
			if key == k {
				return sl, start, true
			}
		}
		if ^(w|w<<7)&msb != 0 { // matchEmpty: k is absent
			return nil, start, s.l.Seq.Load() == start
		}
		if step > mask {
			return nil, start, false // only a torn view of the groups can be this long
		}
		g = (g + step) & mask
	}
}

// getLocked looks k up under the lock, unless s is retired (live false).
func (s *shard[K, V]) getLocked(h uint64, k K) (v V, ok, live bool) {
	seq, live := s.rlock()
	if !live {
		return v, false, false
	}
	defer s.runlock(seq)
	if i := s.tab.find(h, k); i >= 0 {
		return s.tab.slot(i).val, true, true
	}
	return v, false, true
}

type counter struct {
	_ [cacheLine]byte
	n atomic.Int64
	_ [cacheLine]byte
}

// New returns an empty Map. It panics if cfg.Shards is not a power of two in
// range; the ets package validates options before it calls New.
func New[K comparable, V any](cfg Config) *Map[K, V] {
	n := cfg.Shards
	if n < 1 || n > MaxShards || n&(n-1) != 0 {
		panic("shard: shard count must be a power of two in [1, MaxShards]")
	}
	m := &Map[K, V]{hasher: newHasher[K]()}
	m.hasher.inline = inlineFits[K, V]()
	shift := uint64(64 - bits.TrailingZeros(uint(n)))
	shards := make([]shard[K, V], n)
	for i := range shards {
		shards[i].shift = shift
	}
	m.base.Store(&shards[0])
	m.shift.Store(shift)
	if cfg.Central {
		m.central = new(counter)
	}
	if max := cfg.MaxShards; max > n {
		if max > MaxShards || max&(max-1) != 0 {
			panic("shard: MaxShards must be a power of two up to MaxShards")
		}
		after := cfg.GrowAfter
		if after < 1 {
			after = growAfter
		}
		m.growth = &growth{minShift: uint64(64 - bits.TrailingZeros(uint(max))), after: int64(after)}
		m.growth.restart()
	}
	return m
}

// Grow splits every shard in four (fewer if the Map would pass its
// MaxShards) and reports whether it did: false for a Map that is fixed or
// has its most shards already. A Map grows by itself when its writers wait
// for locks; Grow is for tests that want grows at chosen moments.
func (m *Map[K, V]) Grow() bool {
	if m.growth == nil {
		return false
	}
	return m.grow(m.dir().shift, m.growth.since.Load(), true)
}

// grow replaces the shards of the array made for shift, unless the Map
// grew since:
//   - It locks the old shards in order and freezes each: writers wait, but
//     readers go on reading it (see freeze), since nothing
//     writes it any more. If a shard stays busy for more than a moment (a
//     slow Update callback; a traversal copying it under the lock, which
//     walks take only when writers keep them from reading without it, and
//     always under -race), grow puts back the
//     words of the shards it froze and gives up, so that one slow holder
//     never holds up the whole table.
//   - It copies every key into an array of four times as many shards (each
//     old shard's range split in four; fewer at MaxShards), retires the old
//     shards, whose waiters then look their key's shard up again
//     (lockSlow), and publishes the new array. (Either order would do: a
//     reader reaches an old shard only with a shift it loaded before the
//     new array was published, before any write to it, and its read takes
//     effect there.)
//
// The old shards' groups are dropped once the new array is published;
// readers still in them hold them. A grow costs a rehash of the whole
// table, during which writers wait.
func (m *Map[K, V]) grow(shift uint64, since int64, force bool) bool {
	g := m.growth
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if m.shift.Load() != shift || shift <= g.minShift {
		return false // grown since the caller looked, or grown to the most
	}
	if !force && (g.since.Load() != since || g.waits.Load() < g.after<<(64-shift)) {
		return false // the count started over since the caller counted: a grow, a give-up, or waits too far apart
	}
	defer g.restart() // count waits afresh, grown or not
	old := m.dir()
	for i := range old.len() {
		l := &old.shard(i).l
		w, ok := l.LockWithin(growPatience)
		if !ok {
			for j := range i {
				l := &old.shard(j).l
				l.Seq.Store(thaw(l.Seq.Load())) // nothing was written: readers need not retry
			}
			return false
		}
		l.Seq.Store(freeze(w))
	}
	if growPause != nil {
		growPause(growFrozen)
	}
	next := max(shift-growBits, g.minShift)
	shards := make([]shard[K, V], 1<<(64-next))
	split := int(shift - next) // each old shard's range splits in 1<<split
	for i := range shards {
		s := &shards[i]
		s.shift = next
		s.l.Seq.Store(1) // locked until its keys are in
		// Room for an uneven split, so that the copy rarely rehashes; a
		// table that one group holds is left to insert, which puts it in
		// line when it can.
		if n := old.shard(i>>split).tab.live >> split; n > 0 && (!m.inline || n+n/8 > capacityOf(1)) {
			s.tab.reserve(n + n/8)
			s.publish()
		}
	}
	for i := range old.len() {
		old.shard(i).tab.each(func(_ int, sl *slot[K, V]) {
			h := m.hash(sl.key)
			shards[h>>next].insert(&m.hasher, h, sl.key, sl.val)
		})
	}
	for i := range shards {
		shards[i].unlock()
	}
	for i := range old.len() {
		old.shard(i).l.Seq.Store(retired)
	}
	m.base.Store(&shards[0]) // before shift: see Map
	if growPause != nil {
		growPause(growStores)
	}
	m.shift.Store(next)
	// Let the old shards' groups go. A paged walk's Pos points at the
	// shard it stopped in, and a user may keep it (an ets Cursor) as long
	// as they like: through that shard it kept the whole old table alive.
	// A reader still in an old shard holds its own pointer to the groups
	// it reads, which keeps them alive while it reads, and then finds the
	// shard retired; nobody else reads a retired shard's table.
	if fenced {
		// clear's plain stores (the table's count, which shard.live reads
		// without the lock) after the retired words: on arm64 a later
		// store may pass a store-release, and a reader that saw the count
		// zeroed but the shard still frozen would accept it.
		seqlock.StoreFence()
	}
	for i := range old.len() {
		old.shard(i).clear()
	}
	return true
}

// Hash returns k's hash under this Map's seed. Callers hash a key once and
// pass the hash to every method that takes one.
func (m *Map[K, V]) Hash(k K) uint64 { return m.hash(k) }

// Shards returns the number of shards, which grows with a Map that has room
// to grow.
func (m *Map[K, V]) Shards() int { return m.dir().len() }

// added counts n keys added (removed, if negative) in the table-wide
// counter, if the Map keeps one; per-shard counts are the tables' own.
func (m *Map[K, V]) added(n int) {
	if m.central != nil {
		m.central.n.Add(int64(n))
	}
}

// Len returns the number of keys. With per-shard counters it sums them, so it
// is not a snapshot while writers run.
func (m *Map[K, V]) Len() int {
	if m.central != nil {
		return int(m.central.n.Load())
	}
	return m.sum(func(s *shard[K, V]) (int, bool) { return s.live() })
}

// sum adds up f over the shards, starting over if one was retired (f
// returns false).
func (m *Map[K, V]) sum(f func(s *shard[K, V]) (int, bool)) int {
next:
	for {
		d := m.dir()
		n := 0
		for i := range d.len() {
			c, ok := f(d.shard(i))
			if !ok {
				continue next
			}
			n += c
		}
		return n
	}
}

// live returns the shard's key count, or false if the shard is retired.
// Like Get, it reads without the lock and retries if a writer moved the
// counter, so that writers need not publish the count with an atomic store
// (a third locked instruction on every insert and delete, after the lock's
// two).
func (s *shard[K, V]) live() (int, bool) {
	if optimisticReads {
		for range optimisticTries {
			start := s.l.Seq.Load()
			n := s.tab.live
			if fenced {
				seqlock.LoadFence()
			}
			if readable(start) && s.l.Seq.Load() == start {
				return n, true
			}
		}
	}
	seq, ok := s.rlock()
	if !ok {
		return 0, false
	}
	n := s.tab.live
	s.runlock(seq)
	return n, true
}

// Memory returns an estimate of the bytes the Map holds.
func (m *Map[K, V]) Memory() int {
	return m.sum(func(s *shard[K, V]) (int, bool) {
		seq, ok := s.rlock()
		if !ok {
			return 0, false
		}
		n := s.tab.bytes() + int(unsafe.Sizeof(*s))
		if a := s.tab.arrays; a != nil && unsafe.Pointer(&a.groups[0]) == unsafe.Pointer(&s.inl) {
			n -= int(unsafe.Sizeof(group[K, V]{})) // counted in the shard
		}
		s.runlock(seq)
		return n, true
	})
}

// Has reports whether k is present, as Get does.
func (m *Map[K, V]) Has(k K, who *gate.Token) bool {
	_, ok := m.Get(k, who)
	return ok
}

// Put stores v under k and reports whether k was new. Put, PutNew, Take
// and Update change nothing, admitted false, if the write gate does not
// admit who (see Ref).
func (m *Map[K, V]) Put(k K, v V, who *gate.Token) (added, admitted bool) {
	l, p := m.Ref(k)
	if w := m.writers.Load(); w != nil && w != who { // the write gate, as gate.Admits (see Ref)
		l.Unlock()
		return false, false
	}
	if p != nil {
		*p = v
	} else {
		l.Insert(k, v)
	}
	l.Unlock()
	return p == nil, true
}

// PutNew stores v under k only if k is absent, and reports whether it did.
func (m *Map[K, V]) PutNew(k K, v V, who *gate.Token) (stored, admitted bool) {
	l, p := m.Ref(k)
	if w := m.writers.Load(); w != nil && w != who { // the write gate, as gate.Admits (see Ref)
		l.Unlock()
		return false, false
	}
	if p == nil {
		l.Insert(k, v)
	}
	l.Unlock()
	return p == nil, true
}

// Take removes k and returns the value it held.
func (m *Map[K, V]) Take(k K, who *gate.Token) (v V, ok, admitted bool) {
	l, p := m.Ref(k)
	if w := m.writers.Load(); w != nil && w != who {
		l.Unlock()
		return v, false, false
	}
	if p != nil {
		v = *p
		l.Delete()
	}
	l.Unlock()
	return v, p != nil, true
}

// Update calls fn with k's value (ok reports whether k is present) while
// holding k's shard lock, then applies the Op fn returns. It returns the value
// k holds afterwards and whether it holds one. If fn panics, the table is
// left as it was and the lock is released.
func (m *Map[K, V]) Update(k K, fn func(old V, ok bool) (V, Op), who *gate.Token) (_ V, ok, admitted bool) {
	l, p := m.Ref(k)
	if w := m.writers.Load(); w != nil && w != who {
		l.Unlock()
		var zero V
		return zero, false, false
	}
	defer l.Unlock()
	var old V
	if p != nil {
		old = *p
	}
	v, op := fn(old, p != nil)
	switch op {
	case Store:
		if p != nil {
			*p = v
		} else {
			l.Insert(k, v)
		}
		return v, true, true
	case Delete:
		if p != nil {
			l.Delete()
		}
		var zero V
		return zero, false, true
	default:
		return old, p != nil, true
	}
}

// Ref hashes k, write-locks its shard, and returns the lock and a pointer to
// k's value, nil if k is absent. The pointer is valid until Insert, Delete
// or Unlock. Every single-key write goes through it; the caller must call
// Unlock. Ref does not ask the write gate: its caller must, under the lock,
// before it writes (Put, PutNew, Take and Update do; Set.Insert and
// Set.updateCounter with the gate WriteGate returns), and spells the check out, as gate.Admits is not
// inlined here. Asked in Ref, with the caller's Token kept live across the
// lock's slow path, an overwrite of an int key at 1e3 keys took 15.2 ns
// rather than 14.0 (-cpu 1).
//
// Like Get, it spells out the hash and the lock's fast path (lockHash),
// which the compiler would not inline here (golang/go#56280).
func (m *Map[K, V]) Ref(k K) (Locked[K, V], *V) {
	var h uint64
	if m.intKey {
		h = m.intHash(k)
	} else {
		h = maphash.Comparable(m.seed, k)
	}
	var s *shard[K, V]
	for {
		shift := m.shift.Load() // before base: see Map
		base := m.base.Load()
		if checkIndexes {
			checkIndex(h>>shift, base)
		}
		s = (*shard[K, V])(unsafe.Add(unsafe.Pointer(base), uintptr(h>>shift)*unsafe.Sizeof(shard[K, V]{})))
		if s.shift != shift {
			runtime.Gosched() // base is newer than shift: let the grow finish
			continue
		}
		if x := s.l.Seq.Load(); x&1 == 0 && s.l.Seq.CompareAndSwap(x, x+1) {
			if fenced {
				seqlock.StoreFence()
			}
			break
		}
		if m.lockSlow(s, shift) {
			break
		}
	}
	// The key's first group, spelled out as in Get (find, a call, is the
	// general case): it holds the key, or shows it absent, in all but a few
	// percent of writes. It took Write100 int 1e3 -cpu 1 from 15.1 to 13.7
	// ns, and HotCounters -cpu 2 from 54-58 to 45-52 (bench/).
	if t := &s.tab; t.arrays != nil {
		g := (h >> 7) & uint64(len(t.groups)-1)
		gr := &t.groups[g]
		w := gr.ctrl
		x := w ^ lsb*(h&0x7f|ctrlFull)
		for b := (x - lsb) &^ x & msb; b != 0; b &= b - 1 {
			j := bits.TrailingZeros64(b) >> 3 & (groupSize - 1)
			if sl := &gr.slots[j]; sl.key == k {
				return Locked[K, V]{m, s, h, int(g)*groupSize + int(j)}, &sl.val
			}
		}
		if ^(w|w<<7)&msb != 0 {
			return Locked[K, V]{m, s, h, -1}, nil
		}
	}
	i := s.tab.find(h, k)
	l := Locked[K, V]{m, s, h, i}
	if i < 0 {
		return l, nil
	}
	return l, &s.tab.slot(i).val
}

// Locked is the shard of one key, write-locked by Ref, for callers that
// read and write the key in place.
type Locked[K comparable, V any] struct {
	m *Map[K, V]
	s *shard[K, V]
	h uint64
	i int // the key's slot, -1 if absent
}

// WriteGate returns the Map's write gate, for callers of Ref (see Ref).
func (m *Map[K, V]) WriteGate() *gate.Gate { return &m.writers }

// Insert adds the key, which Ref found absent, with value v; k must be the
// key given to Ref.
func (l Locked[K, V]) Insert(k K, v V) {
	l.s.insert(&l.m.hasher, l.h, k, v)
	l.m.added(1)
}

// Delete removes the key, which Ref found present.
func (l Locked[K, V]) Delete() {
	t := &l.s.tab
	t.remove(l.i)
	l.m.added(-1)
	if n := len(t.groups); t.live*8 < n*groupSize*7/8 && n > shrinkFloor { // sparse (see shrink), spelled out
		l.s.shrink(&l.m.hasher)
	}
}

// Unlock releases the lock. It is every writer's unlock (shard.unlock calls
// it), written here so that Ref's callers call it directly. It makes the
// counter even with a release store (only the holder writes an odd
// counter), which on amd64 is a plain store, not a locked add (see
// seqlock.StoreRelease; it is spelled out here, since the compiler does not
// inline it into generic code instantiated in another package,
// golang/go#56280).
func (l Locked[K, V]) Unlock() {
	p := &l.s.l.Seq
	if plainRelease {
		*(*uint64)(unsafe.Pointer(p)) = p.Load() + 1
	} else {
		p.Store(p.Load() + 1)
	}
}

// insert adds k, which the caller found absent, to the shard's table, whose
// lock the caller holds, and publishes the table's groups if a rehash
// replaced them. Every insert goes through it, and every clear through
// clear, so that the groups readers see are always the table's and Unlock
// has nothing to check.
func (s *shard[K, V]) insert(hs *hasher[K], h uint64, k K, v V) {
	a := s.tab.arrays
	if a == nil && hs.inline {
		// The table's first group is the shard's own (see inl). A reader
		// may still be looking at it, through the pointer published before
		// a clear, but the counter is odd: it will not accept what it read.
		g := s.inlineGroup()
		atomic.StoreUint64(&g.ctrl, 0) // every slot empty
		s.tab.use(unsafe.Slice(g, 1))
	}
	s.tab.insert(hs, h, k, v)
	if s.tab.arrays != a {
		s.publish()
	}
}

// shrink gives the shard's table smaller arrays, and publishes them, once
// deletes have left it less than an eighth full: the smallest, halving,
// that the keys fill to at most a quarter, and no smaller than shrinkFloor
// groups. A table grows again only after a quarter of its capacity in
// inserts; a rebuild costs O(its groups), paid for by the deletes since it
// last changed size (after a sweep that deleted in bulk, two rebuilds may
// follow each other). Without it a table kept the arrays of the most keys
// it ever held (ETS's hash tables shrink too; Go's maps do not). The caller
// holds the lock, and calls it after its deletes, never during a walk of
// the table's slots (full).
func (s *shard[K, V]) shrink(hs *hasher[K]) {
	t := &s.tab
	if t.arrays == nil || len(t.groups) <= shrinkFloor || t.live*8 >= capacityOf(len(t.groups)) {
		return
	}
	old := t.arrays
	groups := len(old.groups)
	for groups > shrinkFloor && t.live*4 <= capacityOf(groups/2) {
		groups /= 2
	}
	t.reset(groups)
	for g := range old.groups {
		gr := &old.groups[g]
		for m := matchFull(gr.ctrl); m != 0; m &= m - 1 {
			sl := &gr.slots[bits.TrailingZeros64(m)>>3]
			t.insert(hs, hs.hash(sl.key), sl.key, sl.val)
		}
	}
	s.publish()
}

// shrinkFloor is the fewest groups shrink leaves a table: a table of at
// most eight groups (56 keys, about 1 KB of int64 pairs) is never shrunk,
// so that a shard whose few keys come and go does not reallocate its
// arrays at every turn (one of two groups did, at every eighth write).
const shrinkFloor = 8

// clear empties the shard's table, whose lock the caller holds.
func (s *shard[K, V]) clear() {
	s.tab = table[K, V]{}
	s.publish()
}

// publish stores the table's groups, as a pointer and a mask, for lock-free
// readers; the caller holds the lock. Readers use the pair only if the lock
// word was the same even value before and after they loaded it: no writer
// came between, so the pair is one table's. That check is what keeps a
// reader inside the groups; it cannot be left out. (Readers load the two
// in no set order (plain loads: see shard.grp), so the order of the
// stores gives nothing: a reader that paired one table's mask with
// another's pointer, a small one after a Clear, would index past it. No
// test can catch that window reliably.)
func (s *shard[K, V]) publish() {
	if a := s.tab.arrays; a != nil {
		s.grp.Store(&a.groups[0])
		s.mask.Store(uint64(len(a.groups) - 1))
		return
	}
	s.grp.Store(nil)
	s.mask.Store(0)
}

// groups loads the table's groups as publish stored them, for a lock-free
// reader, who uses them only if the counter did not move meanwhile: plain
// loads but on arm64 (see shard.grp). Get and Bag.Append spell it out.
func (s *shard[K, V]) groups() (mask uint64, p *group[K, V]) {
	if fenced {
		return s.mask.Load(), s.grp.Load()
	}
	return *(*uint64)(unsafe.Pointer(&s.mask)), *(**group[K, V])(unsafe.Pointer(&s.grp))
}

// PutBatch stores the n items item(i) atomically: it locks every shard the
// hashes fall in (in shard order, so batches never deadlock each other),
// applies them in order, and unlocks. With onlyNew it first checks that no
// key is present and stores nothing if one is. It reports whether it stored.
// hashes[i] must be the hash of item i's key. If the write gate does not
// admit who, it stores nothing and admitted is false.
func (m *Map[K, V]) PutBatch(hashes []uint64, item func(i int) (K, V), onlyNew bool, who *gate.Token) (stored, admitted bool) {
	d, locked := m.lockShards(hashes)
	defer unlockShards(d, locked)
	if !m.writers.Admits(who) {
		return false, false
	}
	if onlyNew && anyPresent(d, hashes, func(i int) K { k, _ := item(i); return k }) {
		return false, true
	}
	for i, h := range hashes {
		k, v := item(i)
		s := d.at(h)
		if j := s.tab.find(h, k); j >= 0 {
			s.tab.slot(j).val = v
			continue
		}
		s.insert(&m.hasher, h, k, v)
		m.added(1)
	}
	return true, true
}

// lockShards write-locks every shard the hashes fall in, in shard order so
// that batches never deadlock each other, and returns the view they are in
// and their indexes. If a shard is retired, it lets go of the others and
// starts over; it never makes the Map grow, which would wait for the locks
// it holds.
func (m *Map[K, V]) lockShards(hashes []uint64) (dir[K, V], []int) {
	all := make([]int, len(hashes))
	for {
		d := m.dir()
		for i, h := range hashes {
			all[i] = d.index(h)
		}
		slices.Sort(all)
		locked := slices.Compact(all)
		n := 0
		for _, si := range locked {
			if _, ok := d.shard(si).l.Lock(); !ok {
				break
			}
			n++
		}
		if n == len(locked) {
			return d, locked
		}
		unlockShards(d, locked[:n])
		all = all[:len(hashes)]
	}
}

func unlockShards[K comparable, V any](d dir[K, V], locked []int) {
	for _, si := range locked {
		d.shard(si).unlock()
	}
}

// anyPresent reports whether any key(i) is present; the caller holds the
// locks of the hashes' shards in d.
func anyPresent[K comparable, V any](d dir[K, V], hashes []uint64, key func(i int) K) bool {
	for i, h := range hashes {
		if d.at(h).tab.find(h, key(i)) >= 0 {
			return true
		}
	}
	return false
}

// Clear removes every key, atomically and in isolation (ETS
// delete_all_objects): it holds every shard's lock at once, so no reader
// sees some shards emptied and others not, and no write lands between two
// shards' clears. Emptying a shard drops its arrays, so the locks are held
// for O(shards). It reports false, and clears nothing, if the write gate
// does not admit who.
func (m *Map[K, V]) Clear(who *gate.Token) bool { return m.clearAll(nil, who, false) }

// Purge is Clear whatever the write gate says: the last step of dropping a
// table, whose gate then admits nobody.
func (m *Map[K, V]) Purge() { m.clearAll(nil, nil, true) }

// clearAll is Clear (Purge if purge); emptied, if not nil, runs for each
// shard of d once it is emptied, with every lock still held (a Bag's
// counters).
func (m *Map[K, V]) clearAll(emptied func(d dir[K, V], si int), who *gate.Token, purge bool) bool {
	d := m.lockAll()
	if !purge && !m.writers.Admits(who) {
		unlockAll(d)
		return false
	}
	n := 0
	for si := range d.len() {
		s := d.shard(si)
		n += s.tab.live
		s.clear()
		if emptied != nil {
			emptied(d, si)
		}
	}
	m.added(-n)
	unlockAll(d)
	return true
}

// lockAll write-locks every shard, in shard order as lockShards does (so it
// never deadlocks a batch), and returns the view they are in. If a shard is
// retired, it lets go of the others and starts over; it never makes the Map
// grow.
func (m *Map[K, V]) lockAll() dir[K, V] {
	for {
		d := m.dir()
		n := 0
		for ; n < d.len(); n++ {
			if _, ok := d.shard(n).l.Lock(); !ok {
				break
			}
		}
		if n == d.len() {
			return d
		}
		for si := range n {
			d.shard(si).unlock()
		}
	}
}

// unlockAll releases the locks lockAll took.
func unlockAll[K comparable, V any](d dir[K, V]) {
	for si := range d.len() {
		d.shard(si).unlock()
	}
}

// Collect calls fn for every key of the shard holding hash pos, as the
// shard was at one moment, and returns the smallest hash of the next shard,
// or false if it was the last: a traversal starts at 0 and goes on from
// there. It reads the shard without its lock, as Get does, unless writers
// keep the shard busy (then it takes the lock, as Get does); if a writer
// moves the shard's counter during a lock-free read, Collect calls reset
// and reads the shard again. So fn must only buffer what it is given, and
// reset must drop everything fn was given since Collect was called. fn is
// given each key and value only once their copy is checked against the
// counter, so it may follow the pointers they hold (a bag's list of
// objects), but what it reads through them may be torn until Collect
// returns. fn must not call back into the Map. Callers run user code after
// Collect returns.
func (m *Map[K, V]) Collect(pos uint64, fn func(k K, v V), reset func()) (next uint64, more bool) {
	for {
		d := m.dir()
		si := d.index(pos)
		if _, _, ok := d.shard(si).collect(nil, fn, reset); ok {
			return d.next(si)
		}
	}
}

// Entry is a key and its value, as CollectInto copies them.
type Entry[K, V any] struct {
	Key   K
	Value V
}

// CollectInto is Collect appending the shard's keys and values to buf
// (grown once to the shard's size if it lacks room) rather than handing
// them to a function, which costs a call a key. It returns buf with what it
// appended.
func (m *Map[K, V]) CollectInto(pos uint64, buf []Entry[K, V]) (_ []Entry[K, V], next uint64, more bool) {
	for {
		d := m.dir()
		si := d.index(pos)
		var ok bool
		if buf, _, ok = d.shard(si).collect(buf, nil, nil); ok {
			next, more = d.next(si)
			return buf, next, more
		}
	}
}

// collect hands on every key of s as of one moment, as Collect, and
// returns the shard's counter at that moment (the word a locked copy found
// and put back), or false if s is retired (having dropped anything handed
// on: a frozen shard read while a grow retires it). If fn is nil it
// appends each key and value to buf and returns buf (dropping means
// truncating it back; reset is not called), otherwise it gives them to fn:
// one loop for CollectInto and Collect. fn and reset must both be nil or
// both be given: dropping truncates buf only when reset is nil.
//
// A lock-free copy moves no shared memory, so walks do not stall Get (a
// reader meeting a held shard retries, then waits for its lock) and
// concurrent walks do not take turns; it copies each slot, checks the
// counter, and only then hands it on, and checks the counter again at the
// end, which covers the control words it read and whatever fn read through
// the slots. Its loop is its own, not table.each's (which reads the table
// under the lock), and appends or calls fn directly, as the compiler
// inlines neither each nor its callback (cost 135 of 80): All over a
// 1e3-key table took 16.5 ns a key with a defer per shard, two helper calls
// and two closures per key, 8.7-9.0 through each, 6.6-7.2 with the loop
// spelled out, under the lock (a map's range under its RLock 8.1-8.5,
// xsync's Range 9.3-9.8; -cpu 1, pinned). Appending rather than calling a
// closure took the ets package's Set.All over 1e3 int keys from 6.1-6.8 us
// to 4.5-4.7, with its buffer presized and the walk inlined into the
// caller's loop (see Set.All and walkBuffer there).
func (s *shard[K, V]) collect(buf []Entry[K, V], fn func(k K, v V), reset func()) (_ []Entry[K, V], version uint64, ok bool) {
	n0 := len(buf) // where a failed copy truncates buf back to
	if optimisticReads {
	tries:
		for range optimisticTries {
			start := s.l.Seq.Load()
			mask, p := s.groups()
			if !readable(start) || s.l.Seq.Load() != start {
				continue // p and mask may not belong together: see shard.publish
			}
			if fn == nil && p != nil {
				// Room for the shard's keys at once, as append would grow buf
				// a quarter at a time past 256 (a walk of 1e6 keys made 15
				// allocations). live is unchecked but only a size: bounded
				// by the slots, it is right unless a writer moved it.
				buf = slices.Grow(buf, min(s.tab.live, int(mask+1)*groupSize))
			}
			for g := uintptr(0); p != nil && g <= uintptr(mask); g++ {
				gr := (*group[K, V])(unsafe.Add(unsafe.Pointer(p), g*unsafe.Sizeof(*p)))
				for b := atomic.LoadUint64(&gr.ctrl) & msb; b != 0; b &= b - 1 { // matchFull, spelled out
					sl := gr.slots[bits.TrailingZeros64(b)>>3&(groupSize-1)]
					if fenced {
						seqlock.LoadFence() // the copy before the check (seqlock's fence_arm64.go)
					}
					if s.l.Seq.Load() != start {
						buf = dropped(buf, n0, reset) // sl may be torn: never hand it on
						continue tries
					}
					if fn == nil {
						buf = append(buf, Entry[K, V]{sl.key, sl.val})
					} else {
						fn(sl.key, sl.val)
					}
				}
			}
			if fenced {
				seqlock.LoadFence()
			}
			if s.l.Seq.Load() == start {
				return buf, start, true
			}
			buf = dropped(buf, n0, reset)
		}
	}
	if fn == nil {
		return s.collectLockedInto(buf)
	}
	version, ok = s.collectLocked(fn)
	return buf, version, ok
}

// dropped drops what a failed copy handed on: buf truncated back to n0 (and
// cleared beyond, so it holds no stale pointers), or reset called.
func dropped[K, V any](buf []Entry[K, V], n0 int, reset func()) []Entry[K, V] {
	if reset != nil {
		reset()
		return buf
	}
	clear(buf[n0:])
	return buf[:n0]
}

// collectLockedInto is collectLocked appending to buf.
func (s *shard[K, V]) collectLockedInto(buf []Entry[K, V]) (_ []Entry[K, V], version uint64, ok bool) {
	version, ok = s.collectLocked(func(k K, v V) { buf = append(buf, Entry[K, V]{k, v}) })
	return buf, version, ok
}

// collectLocked is collect under the shard's lock, the fallback of the
// lock-free copy (and the walk itself under -race and where reads lock):
// table.each, whose closure per key costs about 2 ns more a key than
// collect's loop. A function of its own so that its defer is not in a loop,
// where it would be allocated.
func (s *shard[K, V]) collectLocked(fn func(k K, v V)) (version uint64, ok bool) {
	seq, ok := s.rlock()
	if !ok {
		return 0, false
	}
	defer s.runlock(seq)
	s.tab.each(func(_ int, sl *slot[K, V]) { fn(sl.key, sl.val) })
	return seq, true
}

// Sweep calls fn for every key of the shard holding hash pos under the
// shard's write lock and applies the Op it returns, so each key is tested
// and changed atomically. It returns how many keys were stored and deleted,
// and where the next shard starts, as Collect. If fn panics, the keys
// already swept keep their changes, the rest are untouched, and the lock is
// released. If the write gate does not admit who, it changes nothing and
// returns pos and true: the caller, which checks its rights before each
// shard, tries the shard again or stops.
func (m *Map[K, V]) Sweep(pos uint64, fn func(k K, v V) (V, Op), who *gate.Token) (stored, deleted int, next uint64, more bool) {
	d, si := m.lockHash(pos)
	s := d.shard(si)
	defer s.unlock()
	if !m.writers.Admits(who) {
		return 0, 0, pos, true
	}
	defer s.shrink(&m.hasher) // after the walk, and if fn panics too
	next, more = d.next(si)
	s.tab.each(func(j int, sl *slot[K, V]) {
		v, op := fn(sl.key, sl.val)
		switch op {
		case Store:
			sl.val = v
			stored++
		case Delete:
			s.tab.remove(j)
			m.added(-1)
			deleted++
		}
	})
	return stored, deleted, next, more
}

// Pos is a position in a paged traversal: every key whose hash is below H has
// been passed, and so have the keys in Seen, whose hash is H. The zero Pos is
// the start.
type Pos[K comparable, V any] struct {
	H    uint64
	Seen []K
	// sorted is the copy of the shard the last page stopped in, kept so the
	// next page need not copy and sort it again if the shard is unchanged.
	sorted *sortedShard[K, V]
}

type sortedShard[K comparable, V any] struct {
	shard   *shard[K, V]
	version uint64 // the shard's sequence counter when it was copied
	entries []hashed[K, V]
}

type hashed[K comparable, V any] struct {
	h uint64
	k K
	v V
}

// sortedCopy returns s's entries sorted by hash, reusing cached if s has not
// been written since it was copied, or false if s is retired.
func (m *Map[K, V]) sortedCopy(s *shard[K, V], cached *sortedShard[K, V]) (*sortedShard[K, V], bool) {
	if cached != nil && cached.shard == s && s.l.Unchanged(cached.version) {
		return cached, true
	}
	out := &sortedShard[K, V]{shard: s}
	if n, _ := s.live(); n > 0 {
		out.entries = make([]hashed[K, V], 0, n) // enough unless writers add keys meanwhile
	}
	var ok bool
	_, out.version, ok = s.collect(nil,
		func(k K, v V) { out.entries = append(out.entries, hashed[K, V]{0, k, v}) },
		func() { out.entries = out.entries[:0] })
	if !ok {
		return nil, false
	}
	for i := range out.entries {
		out.entries[i].h = m.Hash(out.entries[i].k)
	}
	slices.SortFunc(out.entries, func(a, b hashed[K, V]) int { return cmp.Compare(a.h, b.h) })
	return out, true
}

// Page walks the keys from pos in hash order, calls accept for each outside
// any lock, and emit for each accepted key, until limit keys were emitted or
// the table ends. It returns the position after the last emitted key and
// whether the walk may go on (false: the table is exhausted). Each shard is
// copied as it was at one moment (collect) when the walk reaches it (or
// reused from the previous page if no writer touched it since), so a page
// reads the table as it is when the page is taken, and a key present
// throughout a paged walk is emitted exactly once. A page costs O(limit + log n) while its shard is
// unchanged, and O(shard size) to copy and sort a shard otherwise.
func (m *Map[K, V]) Page(pos Pos[K, V], limit int, accept func(K, V) bool, emit func(K, V)) (Pos[K, V], bool) {
	taken := 0
	for {
		d := m.dir()
		si := d.index(pos.H)
		sorted, ok := m.sortedCopy(d.shard(si), pos.sorted)
		if !ok {
			continue // retired: look again
		}
		es := sorted.entries
		from, _ := slices.BinarySearchFunc(es, pos.H, func(e hashed[K, V], h uint64) int { return cmp.Compare(e.h, h) })
		for _, e := range es[from:] {
			if e.h == pos.H && slices.Contains(pos.Seen, e.k) {
				continue
			}
			if !accept(e.k, e.v) {
				continue
			}
			emit(e.k, e.v)
			if e.h != pos.H {
				pos = Pos[K, V]{H: e.h}
			}
			pos.Seen = append(slices.Clip(pos.Seen), e.k)
			if taken++; taken == limit {
				pos.sorted = sorted
				return pos, true
			}
		}
		next, more := d.next(si)
		if !more {
			return pos, false
		}
		pos = Pos[K, V]{H: next}
	}
}
