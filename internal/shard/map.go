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
// The engine knows nothing of owners, access or names; the ets package checks
// those before it calls in, except for Get and Has, which check a token
// against the read gate the ets package sets (SetReaders), so that a lookup
// is one call.
package shard

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
	"sync/atomic"
	"unsafe"
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
}

// Map is a sharded hash table. All methods are safe for concurrent use.
type Map[K comparable, V any] struct {
	hasher[K]
	shift   uint // a hash's shard is h >> shift
	shards  []shard[K, V]
	central *counter               // nil when each shard counts its own keys
	readers atomic.Pointer[Reader] // who Get and Has answer: see SetReaders
}

// A Reader is a token a caller of Get and Has passes to say who reads; the
// Map answers only the readers SetReaders admits. (The ets package gives
// each owner one, so that a private table answers its owner's handles
// alone, with one load and a comparison inside Get rather than a check of
// the table's state in a call around it.)
type Reader struct{ _ byte }

// Everyone and Nobody are the two settings of SetReaders that admit every
// Reader (nil included) and none.
var Everyone, Nobody = new(Reader), new(Reader)

// SetReaders sets who Get and Has answer: Everyone (a new Map's setting),
// Nobody, or the one Reader r; to the others they answer as if every key
// were absent.
func (m *Map[K, V]) SetReaders(r *Reader) { m.readers.Store(r) }

// A shard is a table and the seqLock guarding it (lock.go). Writers take the
// lock through lock/unlock, which make the counter odd while they hold it,
// and publish the table's groups before they release it; holders that only
// read use rlock/runlock. Readers of one key (Get, Has) take no lock and
// write no shared memory: they note an even counter, probe the published
// groups, and retry if the counter moved; after a few tries they take the
// lock instead, so they always make progress.
//
// A shard is one cache line. Its table's groups are published on it as a
// pointer and a mask, set together under the lock, rather than only through
// the table's arrays: a reader loads the counter, the pointer and the mask
// from the one line, checks the counter again (if it did not move, the pair
// belongs together), and goes straight to the key's group, one dependent
// load fewer than through arrays. The key count is the table's own
// (tab.live), read as Get reads slots (see live).
type shard[K comparable, V any] struct {
	l    seqLock
	grp  atomic.Pointer[group[K, V]] // &tab.groups[0], nil while the table has none
	mask atomic.Uint64               // len(tab.groups)-1: see Locked.Unlock
	tab  table[K, V]
	_    [cacheLine - 16 - 8 - 8 - 24]byte
}

// lock and unlock spell out seqLock's fast paths, which the compiler would
// not inline into generic code instantiated in another package
// (golang/go#56280).
func (s *shard[K, V]) lock() {
	if x := s.l.seq.Load(); x&1 != 0 || !s.l.seq.CompareAndSwap(x, x+1) {
		s.l.lockSlow()
	}
}

func (s *shard[K, V]) unlock() { Locked[K, V]{s: s}.Unlock() }

// rlock and runlock hold the shard for a caller that does not write it.
func (s *shard[K, V]) rlock() uint64      { return s.l.rlock() }
func (s *shard[K, V]) runlock(seq uint64) { s.l.runlock(seq) }

// optimisticTries is how many times a lock-free read is attempted before
// the reader takes the lock.
const optimisticTries = 4

// Get returns the value of k, if the Map answers who (SetReaders). It takes
// no lock and writes no shared memory unless writers keep the key's shard
// busy; see the shard's comment for the protocol.
//
// Get itself is the common case only: one attempt at the key's first group,
// which holds the key, or shows it absent, in all but a few percent of
// lookups. It keeps few values live, so that they stay in registers; every
// other case (a false tag match, a longer probe, a writer in the shard, no
// arrays yet) goes to getSlow, which starts over. Both are written out in
// full, the probe's word operations included: the compiler does not inline
// small helpers into generic code instantiated in another package
// (golang/go#56280), and a read is a handful of loads that a call per helper
// would double.
//
// A candidate slot is copied, and the counter checked unchanged, before its
// key is compared: a slot torn by a concurrent writer is never compared (a
// torn string or interface could point anywhere), only discarded.
func (m *Map[K, V]) Get(k K, who *Reader) (V, bool) {
	if r := m.readers.Load(); r != Everyone && r != who {
		var zero V
		return zero, false
	}
	var h uint64 // m.Hash(k), which is not inlined
	if m.intKey {
		h = m.intHash(k)
	} else {
		h = maphash.Comparable(m.seed, k)
	}
	s := &m.shards[h>>m.shift]
	if optimisticReads {
		start := s.l.seq.Load()
		mask := s.mask.Load() // before grp: see Locked.Unlock
		p := s.grp.Load()
		if start&1 == 0 && p != nil && s.l.seq.Load() == start { // the pair is one table's: see Locked.Unlock
			// &groups[h>>7&mask] of the groups at p, of which there are mask+1.
			gr := (*group[K, V])(unsafe.Add(unsafe.Pointer(p), uintptr((h>>7)&mask)*unsafe.Sizeof(*p)))
			w := atomic.LoadUint64(&gr.ctrl)
			x := w ^ lsb*(h&0x7f)
			if b := (x - lsb) &^ x & msb; b != 0 { // the first byte of w equal to the tag (false positives possible)
				sl := gr.slots[bits.TrailingZeros64(b)>>3&(groupSize-1)]
				if s.l.seq.Load() == start && sl.key == k {
					return sl.val, true
				}
			} else if w&^(w<<6)&msb != 0 && s.l.seq.Load() == start { // no match, and an empty slot: k is absent
				var zero V
				return zero, false
			}
		}
	}
	return s.getSlow(h, k)
}

// getSlow is Get's general case: the full probe, retried a few times if
// writers move the counter, then the lock.
func (s *shard[K, V]) getSlow(h uint64, k K) (V, bool) {
	var zero V
	if optimisticReads {
	tries:
		for range optimisticTries {
			start := s.l.seq.Load()
			mask := s.mask.Load() // before grp: see Locked.Unlock
			p := s.grp.Load()
			if start&1 != 0 || s.l.seq.Load() != start {
				continue // p and mask may not belong together: see Locked.Unlock
			}
			if p == nil {
				return zero, false
			}
			g := (h >> 7) & mask
			tag := lsb * (h & 0x7f)
			for step := uint64(1); ; step++ {
				gr := (*group[K, V])(unsafe.Add(unsafe.Pointer(p), uintptr(g)*unsafe.Sizeof(*p)))
				w := atomic.LoadUint64(&gr.ctrl)
				x := w ^ tag
				for m := (x - lsb) &^ x & msb; m != 0; m &= m - 1 { // bytes of w equal to the tag (false positives possible)
					sl := gr.slots[bits.TrailingZeros64(m)>>3&(groupSize-1)]
					if s.l.seq.Load() != start {
						continue tries
					}
					if sl.key == k {
						return sl.val, true
					}
				}
				if w&^(w<<6)&msb != 0 { // matchEmpty: k is absent
					if s.l.seq.Load() != start {
						continue tries
					}
					return zero, false
				}
				if step > mask {
					continue tries // only a torn view of the groups can be this long
				}
				g = (g + step) & mask
			}
		}
	}
	return s.getLocked(h, k)
}

// getLocked looks k up under the lock.
func (s *shard[K, V]) getLocked(h uint64, k K) (V, bool) {
	defer s.runlock(s.rlock())
	if i := s.tab.find(h, k); i >= 0 {
		return s.tab.slot(i).val, true
	}
	var zero V
	return zero, false
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
	m := &Map[K, V]{
		hasher: newHasher[K](),
		shift:  uint(64 - bits.TrailingZeros(uint(n))),
		shards: make([]shard[K, V], n),
	}
	m.readers.Store(Everyone)
	if cfg.Central {
		m.central = new(counter)
	}
	return m
}

// Hash returns k's hash under this Map's seed. Callers hash a key once and
// pass the hash to every method that takes one.
func (m *Map[K, V]) Hash(k K) uint64 { return m.hash(k) }

// Shards returns the number of shards.
func (m *Map[K, V]) Shards() int { return len(m.shards) }

func (m *Map[K, V]) shardOf(h uint64) int { return int(h >> m.shift) }

// shardStart is the smallest hash held by shard i.
func (m *Map[K, V]) shardStart(i int) uint64 {
	if m.shift == 64 {
		return 0
	}
	return uint64(i) << m.shift
}

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
	n := 0
	for i := range m.shards {
		n += m.shards[i].live()
	}
	return n
}

// live returns the shard's key count. Like Get, it reads without the lock
// and retries if a writer moved the counter, so that writers need not
// publish the count with an atomic store (a third locked instruction on
// every insert and delete, after the lock's two).
func (s *shard[K, V]) live() int {
	if optimisticReads {
		for range optimisticTries {
			start := s.l.seq.Load()
			n := s.tab.live
			if start&1 == 0 && s.l.seq.Load() == start {
				return n
			}
		}
	}
	defer s.runlock(s.rlock())
	return s.tab.live
}

// Memory returns an estimate of the bytes the Map holds.
func (m *Map[K, V]) Memory() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		seq := s.rlock()
		n += s.tab.bytes()
		s.runlock(seq)
	}
	return n + len(m.shards)*int(sizeOfShard)
}

const sizeOfShard = cacheLine

// Has reports whether k is present, as Get does.
func (m *Map[K, V]) Has(k K, who *Reader) bool {
	_, ok := m.Get(k, who)
	return ok
}

// Put stores v under k and reports whether k was new.
func (m *Map[K, V]) Put(k K, v V) bool {
	l, p := m.Ref(k)
	if p != nil {
		*p = v
	} else {
		l.Insert(k, v)
	}
	l.Unlock()
	return p == nil
}

// PutNew stores v under k only if k is absent, and reports whether it did.
func (m *Map[K, V]) PutNew(k K, v V) bool {
	l, p := m.Ref(k)
	if p == nil {
		l.Insert(k, v)
	}
	l.Unlock()
	return p == nil
}

// Take removes k and returns the value it held.
func (m *Map[K, V]) Take(k K) (V, bool) {
	l, p := m.Ref(k)
	var v V
	if p != nil {
		v = *p
		l.Delete()
	}
	l.Unlock()
	return v, p != nil
}

// Update calls fn with k's value (ok reports whether k is present) while
// holding k's shard lock, then applies the Op fn returns. It returns the value
// k holds afterwards and whether it holds one. If fn panics, the table is
// left as it was and the lock is released.
func (m *Map[K, V]) Update(k K, fn func(old V, ok bool) (V, Op)) (V, bool) {
	l, p := m.Ref(k)
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
		return v, true
	case Delete:
		if p != nil {
			l.Delete()
		}
		var zero V
		return zero, false
	default:
		return old, p != nil
	}
}

// Ref hashes k, write-locks its shard, and returns the lock and a pointer to
// k's value, nil if k is absent. The pointer is valid until Insert, Delete
// or Unlock. Every single-key write goes through it; the caller must call
// Unlock.
//
// Like Get, it spells out the hash and the lock's fast path (shard.lock),
// which the compiler would not inline here (golang/go#56280).
func (m *Map[K, V]) Ref(k K) (Locked[K, V], *V) {
	var h uint64
	if m.intKey {
		h = m.intHash(k)
	} else {
		h = maphash.Comparable(m.seed, k)
	}
	s := &m.shards[h>>m.shift]
	if x := s.l.seq.Load(); x&1 != 0 || !s.l.seq.CompareAndSwap(x, x+1) {
		s.l.lockSlow()
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

// Insert adds the key, which Ref found absent, with value v; k must be the
// key given to Ref.
func (l Locked[K, V]) Insert(k K, v V) {
	l.s.tab.insert(&l.m.hasher, l.h, k, v)
	l.m.added(1)
}

// Delete removes the key, which Ref found present.
func (l Locked[K, V]) Delete() {
	l.s.tab.remove(l.i)
	l.m.added(-1)
}

// Unlock releases the lock, publishing the table's groups to lock-free
// readers first if a rehash replaced them. Readers use a pointer and a mask
// only if the lock word was the same even value before and after they
// loaded them: no writer came between, so the pair is one table's. That
// check is what keeps a reader inside the groups; it cannot be left out.
// (The pointer is stored before the mask, and readers load the mask first,
// which alone would suffice while a table only grows; but after Clear a new
// table starts small, and a reader slow enough to load the mask before the
// Clear and the pointer after the next insert would index past it. No test
// can catch that window reliably.)
//
// It is every writer's unlock (shard.unlock calls it), written here so that
// Ref's callers call it directly.
func (l Locked[K, V]) Unlock() {
	s := l.s
	if a := s.tab.arrays; a == nil {
		if s.grp.Load() != nil {
			s.grp.Store(nil)
			s.mask.Store(0)
		}
	} else if g := &a.groups[0]; s.grp.Load() != g {
		s.grp.Store(g)
		s.mask.Store(uint64(len(a.groups) - 1))
	}
	s.l.seq.Add(1)
}

// PutBatch stores the n items item(i) atomically: it locks every shard the
// hashes fall in (in shard order, so batches never deadlock each other),
// applies them in order, and unlocks. With onlyNew it first checks that no
// key is present and stores nothing if one is. It reports whether it stored.
// hashes[i] must be the hash of item i's key.
func (m *Map[K, V]) PutBatch(hashes []uint64, item func(i int) (K, V), onlyNew bool) bool {
	locked := m.lockShards(hashes)
	defer m.unlockShards(locked)
	if onlyNew && m.anyPresent(hashes, func(i int) K { k, _ := item(i); return k }) {
		return false
	}
	for i, h := range hashes {
		k, v := item(i)
		s := &m.shards[m.shardOf(h)]
		if j := s.tab.find(h, k); j >= 0 {
			s.tab.slot(j).val = v
			continue
		}
		s.tab.insert(&m.hasher, h, k, v)
		m.added(1)
	}
	return true
}

// lockShards write-locks every shard the hashes fall in, in shard order so
// that batches never deadlock each other, and returns the shards it locked.
func (m *Map[K, V]) lockShards(hashes []uint64) []int {
	locked := make([]int, len(hashes))
	for i, h := range hashes {
		locked[i] = m.shardOf(h)
	}
	slices.Sort(locked)
	locked = slices.Compact(locked)
	for _, si := range locked {
		m.shards[si].lock()
	}
	return locked
}

func (m *Map[K, V]) unlockShards(locked []int) {
	for _, si := range locked {
		m.shards[si].unlock()
	}
}

// anyPresent reports whether any key(i) is present; the caller holds the
// locks of the hashes' shards.
func (m *Map[K, V]) anyPresent(hashes []uint64, key func(i int) K) bool {
	for i, h := range hashes {
		if m.shards[m.shardOf(h)].tab.find(h, key(i)) >= 0 {
			return true
		}
	}
	return false
}

// Clear removes every key, one shard at a time.
func (m *Map[K, V]) Clear() {
	for i := range m.shards {
		s := &m.shards[i]
		s.lock()
		n := s.tab.live
		s.tab = table[K, V]{}
		m.added(-n)
		s.unlock()
	}
}

// Collect calls fn for every key of shard i under the shard's lock; fn
// must not call back into the Map. Callers copy what they need and run user
// code after Collect returns.
func (m *Map[K, V]) Collect(i int, fn func(k K, v V)) {
	s := &m.shards[i]
	defer s.runlock(s.rlock())
	s.tab.each(func(sl *slot[K, V]) { fn(sl.key, sl.val) })
}

// Sweep calls fn for every key of shard i under the shard's write lock and
// applies the Op it returns, so each key is tested and changed atomically. It
// returns how many keys were stored and deleted. If fn panics, the keys
// already swept keep their changes, the rest are untouched, and the lock is
// released.
func (m *Map[K, V]) Sweep(i int, fn func(k K, v V) (V, Op)) (stored, deleted int) {
	s := &m.shards[i]
	s.lock()
	defer s.unlock()
	s.tab.full(func(j int) {
		sl := s.tab.slot(j)
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
	return stored, deleted
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
	shard   int
	version uint64 // the shard's sequence counter when it was copied
	entries []hashed[K, V]
}

type hashed[K comparable, V any] struct {
	h uint64
	k K
	v V
}

// sortedCopy returns shard si's entries sorted by hash, reusing cached if the
// shard has not been written since it was copied.
func (m *Map[K, V]) sortedCopy(si int, cached *sortedShard[K, V]) *sortedShard[K, V] {
	s := &m.shards[si]
	if cached != nil && cached.shard == si && s.l.unchanged(cached.version) {
		return cached
	}
	out := &sortedShard[K, V]{shard: si}
	out.version = s.rlock() // even, and restored by runlock
	out.entries = make([]hashed[K, V], 0, s.tab.live)
	s.tab.each(func(sl *slot[K, V]) { out.entries = append(out.entries, hashed[K, V]{0, sl.key, sl.val}) })
	s.runlock(out.version)
	for i := range out.entries {
		out.entries[i].h = m.Hash(out.entries[i].k)
	}
	slices.SortFunc(out.entries, func(a, b hashed[K, V]) int { return cmp.Compare(a.h, b.h) })
	return out
}

// Page walks the keys from pos in hash order, calls accept for each outside
// any lock, and emit for each accepted key, until limit keys were emitted or
// the table ends. It returns the position after the last emitted key and
// whether the walk may go on (false: the table is exhausted). Each shard is
// copied under its lock when the walk reaches it (or reused from the
// previous page if no writer touched it since), so a page reads the table as
// it is when the page is taken, and a key present throughout a paged walk is
// emitted exactly once. A page costs O(limit + log n) while its shard is
// unchanged, and O(shard size) to copy and sort a shard otherwise.
func (m *Map[K, V]) Page(pos Pos[K, V], limit int, accept func(K, V) bool, emit func(K, V)) (Pos[K, V], bool) {
	taken := 0
	for si := m.shardOf(pos.H); si < len(m.shards); si++ {
		sorted := m.sortedCopy(si, pos.sorted)
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
		if si+1 == len(m.shards) {
			break
		}
		pos = Pos[K, V]{H: m.shardStart(si + 1)}
	}
	return pos, false
}
