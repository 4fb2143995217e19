package shard

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/etsgo/ets/internal/gate"
	"github.com/etsgo/ets/internal/seqlock"
)

// Bag is the engine of ETS's bag and duplicate_bag: a Map whose value under
// each key is that key's objects, in insertion order. All methods are safe for
// concurrent use. Each write takes the lock of the key's shard once; Get,
// Append, Count and Has read without it, as Map.Get does.
//
// Sizes count objects, not keys. The objects are counted per range of
// hashes, as many ranges as the Bag has shards at most (Config.MaxShards,
// or Config.Shards if it is fixed), so that each range lies in one shard
// however the Bag grows, and its counter is written under that shard's lock
// (and read without it); a Bag made with Config.Central keeps one
// table-wide counter instead. A grow moves keys, never counts.
type Bag[K comparable, V comparable] struct {
	m       *Map[K, objects[V]]
	dup     bool
	cshift  uint64               // a hash's counter is objs[h>>cshift]
	objs    []objectCount        // objects per range of hashes
	central *counter             // nil when each range counts its own objects
	_       [cacheLine - 56]byte // a line of its own, read by every operation
}

type objectCount struct {
	n atomic.Int64
	_ [cacheLine - 8]byte
}

// NewBag returns an empty Bag. With duplicates, Insert keeps every copy of an
// object (duplicate_bag); without, inserting an object equal to one of the
// key's objects changes nothing (bag). It panics as New does.
func NewBag[K comparable, V comparable](cfg Config, duplicates bool) *Bag[K, V] {
	n := max(cfg.Shards, cfg.MaxShards)
	b := &Bag[K, V]{
		m:      New[K, objects[V]](Config{Shards: cfg.Shards, MaxShards: cfg.MaxShards, GrowAfter: cfg.GrowAfter}),
		dup:    duplicates,
		cshift: uint64(64 - bits.TrailingZeros(uint(n))),
		objs:   make([]objectCount, n),
	}
	if cfg.Central {
		b.central = new(counter)
	}
	return b
}

// Hash returns k's hash under this Bag's seed.
func (b *Bag[K, V]) Hash(k K) uint64 { return b.m.Hash(k) }

// Shards returns the number of shards.
func (b *Bag[K, V]) Shards() int { return b.m.Shards() }

// Len returns the number of objects. With counters per range it sums them, so
// it is not a snapshot while writers run.
func (b *Bag[K, V]) Len() int {
	if b.central != nil {
		return int(b.central.n.Load())
	}
	n := int64(0)
	for i := range b.objs {
		n += b.objs[i].n.Load()
	}
	return int(n)
}

// Memory returns an estimate of the bytes the Bag holds: the key tables, and
// each object's slot and index entry.
func (b *Bag[K, V]) Memory() int {
	perObject := 2*unsafe.Sizeof(obj[V]{}) + unsafe.Sizeof(int32(0))
	return b.m.Memory() + len(b.objs)*int(unsafe.Sizeof(objectCount{})) + b.Len()*int(perObject)
}

// counted records that the objects of a key of hash h grew by n; the lock
// of its shard is held.
func (b *Bag[K, V]) counted(h uint64, n int) {
	b.objs[h>>b.cshift].n.Add(int64(n))
	if b.central != nil {
		b.central.n.Add(int64(n))
	}
}

// uncount zeroes the counters of the ranges of shard si of d, which the
// caller has emptied under its lock.
func (b *Bag[K, V]) uncount(d dir[K, objects[V]], si int) {
	per := 1 << (d.shift - b.cshift) // ranges per shard: d has at most as many shards as ranges
	n := int64(0)
	for i := si * per; i < (si+1)*per; i++ {
		c := b.objs[i].n.Load()
		b.objs[i].n.Add(-c)
		n += c
	}
	if b.central != nil {
		b.central.n.Add(-n)
	}
}

// Insert adds v to k's objects and reports whether it did: false when the Bag
// keeps no duplicates and k already has v. Every write of a Bag takes the
// Token of its caller and changes nothing, admitted false, if the Map's
// write gate does not admit it (see Map.SetWriters).
func (b *Bag[K, V]) Insert(h uint64, k K, v V, who *gate.Token) (added, admitted bool) {
	s := b.lock(h, who)
	if s == nil {
		return false, false
	}
	defer s.unlock()
	return b.insertLocked(s, h, k, v), true
}

// lock write-locks the shard of hash h and returns it, or returns nil,
// holding no lock, if the write gate does not admit who.
func (b *Bag[K, V]) lock(h uint64, who *gate.Token) *shard[K, objects[V]] {
	d, si := b.m.lockHash(h)
	s := d.shard(si)
	if w := b.m.writers.Load(); w != nil && w != who { // gate.Admits, spelled out (see gate.Gate)
		s.unlock()
		return nil
	}
	return s
}

// insertLocked adds v under k in s, whose lock the caller holds.
func (b *Bag[K, V]) insertLocked(s *shard[K, objects[V]], h uint64, k K, v V) bool {
	if i := s.tab.find(h, k); i >= 0 {
		if !s.tab.slot(i).val.add(v, b.dup) {
			return false
		}
	} else {
		var o objects[V]
		o.add(v, b.dup)
		s.insert(&b.m.hasher, h, k, o)
		b.m.added(1)
	}
	b.counted(h, 1)
	return true
}

// InsertNew adds v under k only if k has no object, and reports whether it
// did.
func (b *Bag[K, V]) InsertNew(h uint64, k K, v V, who *gate.Token) (added, admitted bool) {
	s := b.lock(h, who)
	if s == nil {
		return false, false
	}
	defer s.unlock()
	if s.tab.find(h, k) >= 0 {
		return false, true
	}
	return b.insertLocked(s, h, k, v), true
}

// InsertBatch adds the n objects item(i), in order, atomically: it locks every
// shard the hashes fall in, applies them, and unlocks. With onlyNew it first
// checks that none of the keys has an object and adds nothing if one does. It
// reports whether it added. hashes[i] must be the hash of item i's key.
func (b *Bag[K, V]) InsertBatch(hashes []uint64, item func(i int) (K, V), onlyNew bool, who *gate.Token) (added, admitted bool) {
	d, locked := b.m.lockShards(hashes)
	defer unlockShards(d, locked)
	if !b.m.writers.Admits(who) {
		return false, false
	}
	if onlyNew && anyPresent(d, hashes, func(i int) K { k, _ := item(i); return k }) {
		return false, true
	}
	for i, h := range hashes {
		k, v := item(i)
		b.insertLocked(d.at(h), h, k, v)
	}
	return true, true
}

// view calls fn with k's objects under the lock of k's shard, or does
// nothing if k is absent.
func (b *Bag[K, V]) view(h uint64, k K, fn func(o *objects[V])) {
	s := b.m.dir().at(h)
	seq, live := s.rlock()
	for !live { // a grow retired s: k is in a shard of the new array
		s = b.m.dir().at(h)
		seq, live = s.rlock()
	}
	defer s.runlock(seq)
	if i := s.tab.find(h, k); i >= 0 {
		fn(&s.tab.slot(i).val)
	}
}

// bigObjects is the size of a key past which Append copies its objects
// without the lock once only (in its fast path or in appendSlow): a writer
// of the shard during the copy would make it copy them again.
const bigObjects = 1024

// Get returns a new slice of k's objects in insertion order, nil if k is
// absent or the read gate does not admit who. It reads as Append does.
func (b *Bag[K, V]) Get(k K, who *gate.Token) []V { return b.Append(nil, k, who) }

// Append appends k's objects to dst in insertion order and returns the
// extended slice, growing it as append does; it returns dst itself if k is
// absent or the read gate does not admit who (see SetReaders).
//
// It reads as Map.Get does, without the lock and writing no shared memory:
// it copies the objects of the list it found into the live slots past
// len(dst) (copyLive), in dst's array or a grown one, and checks the
// shard's counter again: if it has not moved, no writer changed the objects
// during the copy. Values a writer tore are only copied, never used, and a
// copy that fails the check is cleared before Append tries again or
// returns, so that nothing of it stays in dst's array; meanwhile every word
// of it is one some writer stored there, so the garbage collector finds
// only real pointers. (The index, a Go map, is never read without the
// lock.) An attempt never changes dst: an array it grew is dropped with
// the copy. If writers keep moving the counter, Append copies under the
// lock.
//
// Append itself is the common case only, written out as Map.Get's (and
// for Get's reasons: helpers are not inlined into generic code
// instantiated in another package): one attempt at the key's first group,
// whose candidate slots (tag matches) are copied and checked before their
// keys are compared. A failed copy of more than bigObjects objects goes to
// the lock (appendLocked); every other case goes to appendSlow, which
// starts over. (Registry lookups of four objects a key, 1e3 keys, one
// core: 335 instructions each through appendSlow's calls, 231 here, and
// 11% less time; see bench/README.md, "Eighteenth session".)
func (b *Bag[K, V]) Append(dst []V, k K, who *gate.Token) []V {
	m := b.m
	if r := m.readers.Load(); r != nil && r != who { // gate.Admits, spelled out (see gate.Gate)
		return dst
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
	s := (*shard[K, objects[V]])(unsafe.Add(unsafe.Pointer(base), uintptr(h>>shift)*unsafe.Sizeof(shard[K, objects[V]]{})))
	if optimisticReads {
		start := s.l.Seq.Load()
		var mask uint64 // s.groups(), spelled out (see Map.Get)
		var p *group[K, objects[V]]
		if fenced {
			mask, p = s.mask.Load(), s.grp.Load()
		} else {
			mask = *(*uint64)(unsafe.Pointer(&s.mask)) // plain loads: see shard.grp
			p = *(**group[K, objects[V]])(unsafe.Pointer(&s.grp))
		}
		if start&1 != 0 || p == nil || s.shift != shift {
			goto slow
		}
		if s.l.Seq.Load() != start {
			goto slow
		}
		{
			gr := (*group[K, objects[V]])(unsafe.Add(unsafe.Pointer(p), uintptr((h>>7)&mask)*unsafe.Sizeof(*p)))
			w := atomic.LoadUint64(&gr.ctrl)
			x := w ^ lsb*(h&0x7f|ctrlFull)
			for bm := (x - lsb) &^ x & msb; bm != 0; bm &= bm - 1 { // bytes of w equal to the tag (false positives possible)
				sl := gr.slots[bits.TrailingZeros64(bm)>>3&(groupSize-1)]
				if fenced {
					seqlock.LoadFence() // the copy before the check (seqlock's fence_arm64.go)
				}
				if s.l.Seq.Load() != start {
					// sl may be torn: never compare it. (No test fails
					// without this check: a torn int key compares
					// harmlessly, and a torn string key's compare
					// reads past a string rarely enough to go unseen.)
					goto slow
				}
				if sl.key != k {
					continue
				}
				n, live := len(dst), sl.val.live
				out := growFor(dst, live)[:n+live]
				var ok bool
				if live <= smallObjects {
					ok = copyLive(out[n:], sl.val.list)
				} else {
					ok = copyLiveCalled(out[n:], sl.val.list)
				}
				if fenced {
					seqlock.LoadFence()
				}
				if ok && s.l.Seq.Load() == start {
					return out
				}
				clear(out[n:])
				if live > bigObjects {
					return b.appendLocked(dst, h, k)
				}
				goto slow
			}
			if ^(w|w<<7)&msb != 0 && s.l.Seq.Load() == start { // no match, and an empty slot: k is absent
				return dst
			}
		}
	}
slow:
	return b.appendSlow(dst, h, k)
}

// appendSlow is Append's general case: the full probe (peek), retried a
// few times if writers move the counter, then the lock.
func (b *Bag[K, V]) appendSlow(dst []V, h uint64, k K) []V {
	n := len(dst)
	if optimisticReads {
		for range optimisticTries {
			s, start, list, live, found, valid := b.peek(h, k)
			if !valid {
				continue
			}
			if !found {
				return dst
			}
			out := growFor(dst, live)
			ok := copyLive(out[n:n+live], list)
			if fenced {
				seqlock.LoadFence() // the copy before the check (seqlock's fence_arm64.go)
			}
			if ok && s.l.Seq.Load() == start {
				return out[:n+live]
			}
			clear(out[n : n+live])
			if live > bigObjects {
				break
			}
		}
	}
	return b.appendLocked(dst, h, k)
}

// appendLocked appends k's objects to dst under the lock of k's shard.
func (b *Bag[K, V]) appendLocked(dst []V, h uint64, k K) []V {
	b.view(h, k, func(o *objects[V]) { dst = o.appendTo(dst) })
	return dst
}

// growFor returns dst with room for n more elements, as slices.Grow does;
// a nil dst (Get's, Take's) gets exactly n, in one allocation even where the
// compiler does not fuse slices.Grow's append of a make (under -race it
// does not).
func growFor[V any](dst []V, n int) []V {
	if dst == nil {
		return make([]V, 0, n)
	}
	return slices.Grow(dst, n)
}

// Count returns the number of k's objects, 0 if the read gate does not
// admit who. It reads as Get does.
func (b *Bag[K, V]) Count(h uint64, k K, who *gate.Token) int {
	if !b.m.readers.Admits(who) {
		return 0
	}
	if optimisticReads {
		for range optimisticTries {
			if _, _, _, live, _, valid := b.peek(h, k); valid {
				return live
			}
		}
	}
	n := 0
	b.view(h, k, func(o *objects[V]) { n = o.live })
	return n
}

// peek is one lock-free look at k's objects in its shard s (see
// shard.peek): the header of their list and their count, read while s's
// counter stayed start, so that the header is one list's, whose array holds
// its length. It is not valid if a writer held s or moved its counter
// meanwhile. found is false if k is absent.
func (b *Bag[K, V]) peek(h uint64, k K) (s *shard[K, objects[V]], start uint64, list []obj[V], live int, found, valid bool) {
	s = b.m.dir().at(h)
	sl, start, valid := s.peek(h, k)
	if !valid || sl == nil {
		return s, start, nil, 0, false, valid
	}
	list, live, valid = header(s, sl, start)
	return s, start, list, live, true, valid
}

// header reads the list header and the count of the objects in slot sl,
// which shard.peek found in s at counter start: valid if the counter is
// still start.
func header[K, V comparable](s *shard[K, objects[V]], sl *slot[K, objects[V]], start uint64) (list []obj[V], live int, valid bool) {
	list, live = sl.val.list, sl.val.live
	if fenced {
		seqlock.LoadFence() // the header before the check
	}
	return list, live, s.l.Seq.Load() == start
}

// Has reports whether k has any object, false if the read gate does not
// admit who.
func (b *Bag[K, V]) Has(k K, who *gate.Token) bool { return b.m.Has(k, who) }

// Take removes k and returns its objects in insertion order (nil if it had
// none).
func (b *Bag[K, V]) Take(h uint64, k K, who *gate.Token) (objects []V, admitted bool) {
	return b.remove(h, k, true, who)
}

// Delete removes k and all its objects.
func (b *Bag[K, V]) Delete(h uint64, k K, who *gate.Token) (admitted bool) {
	_, admitted = b.remove(h, k, false, who)
	return admitted
}

func (b *Bag[K, V]) remove(h uint64, k K, collect bool, who *gate.Token) ([]V, bool) {
	s := b.lock(h, who)
	if s == nil {
		return nil, false
	}
	defer s.unlock()
	i := s.tab.find(h, k)
	if i < 0 {
		return nil, true
	}
	o := &s.tab.slot(i).val
	var out []V
	if collect {
		out = o.appendTo(nil)
	}
	b.counted(h, -o.live)
	s.tab.remove(i)
	b.m.added(-1)
	s.shrink(&b.m.hasher)
	return out, true
}

// DeleteObject removes v from k's objects (every copy of it) and returns how
// many objects it removed.
func (b *Bag[K, V]) DeleteObject(h uint64, k K, v V, who *gate.Token) (removed int, admitted bool) {
	s := b.lock(h, who)
	if s == nil {
		return 0, false
	}
	defer s.unlock()
	i := s.tab.find(h, k)
	if i < 0 {
		return 0, true
	}
	o := &s.tab.slot(i).val
	n := o.remove(v, b.dup)
	b.counted(h, -n)
	if o.live == 0 {
		s.tab.remove(i)
		b.m.added(-1)
		s.shrink(&b.m.hasher)
	}
	return n, true
}

// Clear removes every key, atomically and in isolation, as Map.Clear does.
func (b *Bag[K, V]) Clear(who *gate.Token) bool { return b.m.clearAll(b.uncount, who, false) }

// Purge is Clear whatever the write gate says, as Map.Purge.
func (b *Bag[K, V]) Purge() { b.m.clearAll(b.uncount, nil, true) }

// SetWriters sets who may write, as Map.SetWriters.
func (b *Bag[K, V]) SetWriters(w *gate.Token) { b.m.SetWriters(w) }

// SetReaders sets who may read, as Map.SetReaders: Get, Append, Count and
// Has answer as if every key were absent for anyone else. (CollectInto, CollectKeys
// and Page do not ask: the ets package checks rights before it walks.)
func (b *Bag[K, V]) SetReaders(r *gate.Token) { b.m.SetReaders(r) }

// CollectInto appends every object of the shard holding hash pos to buf,
// each key's objects in insertion order, as the shard was at one moment,
// and returns buf and where the next shard starts, as Map.CollectInto.
func (b *Bag[K, V]) CollectInto(pos uint64, buf []Entry[K, V]) (_ []Entry[K, V], next uint64, more bool) {
	n0 := len(buf)
	next, more = b.m.Collect(pos, func(k K, o objects[V]) {
		o.each(func(x *obj[V]) { buf = append(buf, Entry[K, V]{k, x.v}) })
	}, func() { clear(buf[n0:]); buf = buf[:n0] })
	return buf, next, more
}

// CollectKeys calls fn once for every key of the shard holding hash pos,
// as Map.Collect.
func (b *Bag[K, V]) CollectKeys(pos uint64, fn func(k K), reset func()) (next uint64, more bool) {
	return b.m.Collect(pos, func(k K, _ objects[V]) { fn(k) }, reset)
}

// Sweep calls fn for every object of the shard holding hash pos under the
// shard's write lock and applies the Op it returns, so each object is tested
// and changed atomically. It returns how many objects were stored and
// deleted, and where the next shard starts, as Collect. In a Bag without
// duplicates, a stored value equal to an object of its key fn left alone
// merges into that object, and one equal to another stored value merges into
// the earlier (see objects.apply). If fn panics, the keys already swept keep their changes, the key
// being swept and the rest are untouched, and the lock is released.
func (b *Bag[K, V]) Sweep(pos uint64, fn func(k K, v V) (V, Op), who *gate.Token) (stored, deleted int, next uint64, more bool) {
	d, si := b.m.lockHash(pos)
	s := d.shard(si)
	defer s.unlock()
	if !b.m.writers.Admits(who) {
		return 0, 0, pos, true // as Map.Sweep
	}
	defer s.shrink(&b.m.hasher) // as in Map.Sweep
	next, more = d.next(si)
	var changes []change[V]
	s.tab.each(func(j int, sl *slot[K, objects[V]]) {
		k, o := sl.key, &sl.val
		changes = changes[:0]
		o.each(func(x *obj[V]) {
			v, op := fn(k, x.v)
			changes = append(changes, change[V]{v, op})
		})
		before := o.live
		st, del := o.apply(changes, b.dup)
		stored += st
		deleted += del
		if o.live != before {
			b.counted(b.m.hash(k), o.live-before)
		}
		if o.live == 0 {
			s.tab.remove(j)
			b.m.added(-1)
		}
	})
	return stored, deleted, next, more
}

// BagPos is a position in a paged traversal of a Bag: every key whose hash is
// below H has been passed, and so have the keys in Seen, whose hash is H, and,
// when InKey, Key's objects up to sequence number Seq. The zero BagPos is the
// start.
type BagPos[K comparable] struct {
	H     uint64
	Seen  []K
	InKey bool
	Key   K
	Seq   uint64
}

func (p *BagPos[K]) advance(h uint64, k K, seq uint64) {
	switch {
	case h != p.H:
		*p = BagPos[K]{H: h}
	case p.InKey && p.Key != k:
		p.Seen = append(slices.Clip(p.Seen), p.Key)
	}
	p.InKey, p.Key, p.Seq = true, k, seq
}

type hashedObject[K comparable, V any] struct {
	h   uint64
	seq uint64
	k   K
	v   V
	cut bool // the last object copied of its key, which has more
}

// Page walks the objects from pos in hash order, each key's objects in
// insertion order, calls accept for each outside any lock, and emit for each
// accepted object, until limit objects were emitted or the table ends. It
// returns the position after the last emitted object and whether the walk may
// go on. Each shard is copied as it was at one moment (Map.Collect) when
// the walk reaches it, from pos on: the objects a page has passed are not copied again (a key's
// sequence numbers grow along its list, so the walk finds its place in a key
// by binary search), and at most a page's worth of one key's objects is
// copied at a time, so a walk through a key of many objects costs O(objects)
// in all, not O(objects) per page. Objects carry an insertion number that
// grows along their key's list and that an object keeps while it is there
// (a number is reused only after the newest object is deleted; see
// objects.nextSeq), so a page may end inside a key's objects and the next
// page still emits every object present throughout the walk exactly once.
func (b *Bag[K, V]) Page(pos BagPos[K], limit int, accept func(K, V) bool, emit func(K, V)) (BagPos[K], bool) {
	var buf []hashedObject[K, V]
	taken := 0
	for {
		buf = buf[:0]
		perKey := max(limit-taken, 64)
		next, more := b.m.Collect(pos.H, func(k K, o objects[V]) {
			h := b.m.Hash(k)
			if h < pos.H || h == pos.H && slices.Contains(pos.Seen, k) {
				return
			}
			list := o.list
			if h == pos.H && pos.InKey && pos.Key == k {
				i, _ := slices.BinarySearchFunc(list, pos.Seq, func(x obj[V], seq uint64) int { return cmp.Compare(x.number(), seq+1) })
				list = list[i:]
			}
			n := 0
			for i := range list {
				if x := &list[i]; !x.isDead() {
					if n == perKey {
						buf[len(buf)-1].cut = true
						return
					}
					buf = append(buf, hashedObject[K, V]{h: h, seq: x.number(), k: k, v: x.v})
					n++
				}
			}
		}, func() { buf = buf[:0] })
		// Stable: a key's objects stay together and in insertion order.
		slices.SortStableFunc(buf, func(a, b hashedObject[K, V]) int { return cmp.Compare(a.h, b.h) })
		cut := false
		// buf holds no object pos has passed: the copy skipped them, and
		// pos moves forward through buf, past each key's objects in order.
		for _, e := range buf {
			ok := accept(e.k, e.v)
			pos.advance(e.h, e.k, e.seq) // past a rejected object too
			if ok {
				emit(e.k, e.v)
				if taken++; taken == limit {
					return pos, true
				}
			}
			if cut = e.cut; cut {
				break // copy the rest of the key, and the shard, from pos
			}
		}
		if cut {
			continue
		}
		if !more {
			return pos, false
		}
		pos = BagPos[K]{H: next}
	}
}
