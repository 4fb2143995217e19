// Package ordered is the ordered engine behind ets's OrderedSet: a
// contention-adapting tree (Sagonas and Winblad's CA tree, ETS's
// ordered_set with write_concurrency) whose base nodes are google/btree
// BTreeGs of key/value items, each under its own reader/writer lock.
//
// # Contention adapting
//
// An immutable routing layer, swapped atomically, maps key ranges to base
// nodes. An operation finds its base node, locks it, and retries through the
// new routing layer if the node was split or joined meanwhile (both mark the
// nodes they replace dead under their locks). Writers keep ETS's statistic
// per base node: +250 when TryLock fails, -1 when it succeeds, down to
// -1000. Two additions to ETS's: a writer whose TryLock succeeds while
// another writer waits for the lock also adds 250 (the lock has no hand-off:
// a running writer takes it before one that spins, yields or sleeps, so a
// writer that always wins would otherwise never see the contention it
// causes), and so does a read without
// the lock that meets a writer (see below), once per read. A node above 1000
// is split at its btree's root (O(log n + nodes of the lower half), the
// halves taking over its nodes), if it holds at least 128 keys and there are
// fewer than 1024 base nodes. A node that reaches -1000 (from 0, a thousand
// uncontended writes in a row) is joined with its colder neighbour, as ETS
// joins: the neighbour's lock is only tried, and if it is taken the join is
// given up; the two btrees are concatenated in O(log n), the lower one's
// root joined to the higher one's edge (btree.Concat, no comparator call).
// New nodes start at 0, a split's halves and a joined node alike, so a fresh
// node takes a thousand uncontended writes to join again, and more than four
// contended ones to split: neither undoes at once what was just done. Each
// split or join copies the routing layer, O(base nodes). A tree made without
// adapt never splits: one btree under one lock. Operations on several base
// nodes take their locks in key order (PutBatch, atomic across them; Clear,
// all of them) or one at a time (walks, sweeps, Len), resuming from a node's
// bound with a fresh seek through the current routing layer.
//
// The BTreeG is a copy of google/btree's (package btree below), with
// additions this engine's speed rests on, the first two of them: AppendAscend
// and AppendDescend copy a leaf's run of items into a batch with one append,
// comparing only to find the bounds, where BTreeG's Ascend calls a function
// per item; and a node search supplied per tree (NewSearchG), so that a tree
// of cmp.Ordered keys (NewOrdered) compares keys inline instead of calling a
// less function through a closure at every step of every binary search. Trees
// made with a comparator (NewCompare) call it once per comparison, through
// one closure. Writers of integer keys, and Get under the lock, search nodes
// without a branch on a comparison (btree.SetIntFind): a leaf block at fixed
// places, as GetSeqInt does, and other nodes by counting.
//
// # Lookups without the lock
//
// Get and Has read a base node without its lock, so that readers of one node
// do not all write its lock's line. A writer makes the node's sequence
// counter odd when it takes the write lock and even again before it lets go
// (seqRWMutex); a reader notes the counter, even, then descends the btree
// (btree.GetSeq), copying each node's slices and each item, and checking the
// counter unmoved before it uses the copy, so a torn string is discarded,
// never compared (integer keys, which a torn read only makes wrong, are
// compared first and the counter checked once a node, by btree.GetSeqInt,
// which finds a large tree's leaf keys at fixed places of its leaf block, the
// node and its items in one allocation, without waiting for the node's line).
// A reader that meets a writer tries again, and takes the read lock only
// after 64 tries: a writer holds a base node for a microsecond or so, and a
// reader waiting on the lock behind it yields the processor and then sleeps,
// which costs more. Splits and joins hold the write locks of the nodes they
// replace, so a reader of a node that dies meanwhile sees its counter move; a
// node already dead is not read at all, since the nodes that replaced it own
// its btree nodes and their writers do not move its counter. Next, Prev,
// First and Last read the same way (btree.SeekSeq), going on to the next base
// node when one has nothing beyond the key. Under the race detector, which
// rightly reports the racing copies, and on architectures whose loads may be
// reordered with later loads (arm64, for one: see optimistic.go), they all
// take the read lock.
//
// # Traversals copy bounded batches, not Clone snapshots
//
// A walk (Walk) copies a batch of items into a private buffer from one base
// node (going on to the next node while the batch has room), hands the batch
// to the caller, and resumes strictly after the last key of the batch with a
// fresh O(log n) seek. It reads each base node without its lock, as Get
// does (btree.AppendAscendSeq: node slices and compared items are copied
// and the counter checked before they are used, the runs of items copied
// whole and the counter checked once after), and under its read lock after
// four reads that failed (walkTries: a writer was in the node, or it died).
// A read that the counter validates saw the node as no writer was in it, as
// a read under the lock does; a base node's bounds do not change while it
// lives (splits and joins make new nodes), so going on from a node's upper
// bound misses no key. Readers of a node therefore write no shared memory:
// two goroutines taking ranges of 100 keys from a table of 1e3 (one base
// node) each took 218-298 ns where the read lock's shared count made it
// 333-421.
// Batches start at 128 items (a typical range query takes one seek) and
// double up to 1024 (a long walk pays one seek per thousand keys); Next and
// Prev copy one item. User code therefore never runs under the lock, a caller
// may write to the tree from inside a walk without deadlock, and btree's
// "delete during Ascend" panic cannot happen: the tree is only ever iterated
// by code of this package that does not write (under the read lock, or
// without it and validated by the node's counter).
//
// The alternative, btree's O(1) Clone, gives a whole-walk snapshot but makes
// the tree copy-on-write: every write after a Clone copies the nodes on its
// path (about log n nodes of up to 2*degree-1 items each), so a table that
// is walked often makes every writer allocate kilobytes. The benchmark
// BenchmarkTree_WriteAfterClone in this package measures it. Batches give
// the guarantee the ets package promises for every kind — a key present for
// the whole walk is seen exactly once, in order, and no key twice — without
// taxing writers.
//
// The engine knows nothing of owners, access or names.
package ordered

import (
	"cmp"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/etsgo/ets/internal/gate"
	"github.com/etsgo/ets/internal/ordered/btree"
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

// degree is the btree's minimum degree: nodes hold 63 to 127 items (2 KB
// of 16-byte items, a size class of its own). Twice google/btree's usual
// 32: a tree of 1e6 keys is one level shallower at the leaves' parents, and
// a lookup misses the cache that much less. Against degree 32 (root
// module's benchmarks, int keys, old and new binaries alternated, three
// runs): lookups of 1e6 keys 413-551 -> 380-463 ns serial and 194-248 ->
// 161-200 parallel (-cpu 2), a Range of 100 over 1e6 keys 1335-1403 ->
// 1117-1218 serial; lookups of 1e3 keys 45.5-46.9 -> 49.1-49.9 ns, the
// price of leaves twice as long; inserts and Next unchanged.
const degree = 64

// The batch sizes of a walk: the first batch, large enough for a typical
// range query in one seek, and the largest, where one O(log n) seek per
// batch costs less than a comparison per key.
const (
	firstBatch = 128
	maxBatch   = 1024
)

// Item is one key and its value (btree's, whose GetSeqInt reads the keys of
// integer-keyed trees without a call per node).
type Item[K, V any] = btree.Item[K, V]

// cacheLine is the padding that keeps a lock, which every operation writes,
// off the cache lines of fields other operations only read.
const cacheLine = 64

// The contention-adapting tree's statistics, ETS's: a write that finds its
// base node's lock taken adds contended, one that takes it at once adds
// uncontended (down to coldest), and a base node hotter than splitHeat is
// split in two, if it holds at least minSplit keys (set when the degree was
// 32; letting nodes of 32 keys split made small tables slower) and the tree
// has fewer than maxBases base nodes; one that reaches coldest is joined
// with a neighbour (ETS joins below -1000, but its statistic has no floor
// there).
const (
	contended   = 250
	uncontended = -1
	coldest     = -1000
	splitHeat   = 1000
	minSplit    = 128
	maxBases    = 1024
)

// Tree is an ordered map from K to V. All methods are safe for concurrent
// use. Keys a and b are equal when neither is less than the other.
type Tree[K, V any] struct {
	route atomic.Pointer[routing[K, V]]
	less  func(a, b Item[K, V]) bool
	mk    func() *btree.BTreeG[Item[K, V]] // makes an empty btree
	proto *btree.BTreeG[Item[K, V]]        // empty: searches the routing layer in the btrees' order
	adapt bool                             // split contended base nodes, join cold ones
	// writers is who may write: every write takes its caller's Token and
	// asks writers under the base node's lock it writes under, and changes
	// nothing if refused (see gate). Purge alone ignores it.
	writers gate.Gate
	bufs    sync.Pool  // of *[]Item[K, V]: batch buffers, reused across walks
	smu     sync.Mutex // serialises changes of the routing layer
	// cached is the most items whose leaves a lookup takes to be in the
	// processor's cache (see get); 0 if the btrees have no cached search.
	cached int
	// stepped is the most items whose leaves a walk's step halves (see
	// stepRead); 0 if the btrees have no cached search.
	stepped int
	// getSeq is btree.GetSeqInt for trees of integer keys, nil for the rest
	// (see base.getSeq).
	getSeq func(tr *btree.BTreeG[Item[K, V]], key K, seq *atomic.Uint64, start uint64, cachedLeaves bool) (Item[K, V], bool, bool)
	// lowsInt is searchLowsInt for trees of integer keys, nil for the rest
	// (see searchLows).
	lowsInt func(lows []Item[K, V], k K) (int, bool)
	// Every operation reads route: the tree fills whole cache lines (two,
	// without padding, which as the last field would take a word of its
	// own even when empty), so that no object the program writes shares
	// them (TestTreeLayout).
}

// routing is the routing layer, immutable once published: bases[i] holds the
// keys k with lows[i-1] <= k < lows[i] (no bound below for bases[0], none
// above for the last).
type routing[K, V any] struct {
	lows  []Item[K, V]
	bases []*base[K, V]
	_     [cacheLine - 48]byte // a line of its own: every operation reads it
}

// base is one base node: a btree of the keys of one range under its own
// lock.
type base[K, V any] struct {
	mu   seqRWMutex
	tr   *btree.BTreeG[Item[K, V]]
	dead bool         // split or joined: its keys live in the bases that replaced it (written under mu; lock-free readers read it)
	heat atomic.Int32 // the contention statistic, set under the write lock (a join reads its neighbours' without; readers that meet writers add to it)
	// large says whether the tree holds more than about cached items, and
	// medium more than about stepped, as the node's writers estimate it
	// (see sized): readers of the node read them, on the line of the lock
	// word they read anyway; writers store one only when it flips.
	large  atomic.Bool
	medium atomic.Bool
	_      [cacheLine]byte
}

// seqRWMutex is a base node's reader/writer lock. Writers hold a
// seqlock.Lock, a lock and the node's sequence counter in one word (odd
// while held): one compare-and-swap to take it and a release store (a plain
// store on amd64) to let it go, where the sync.RWMutex and separate counter
// it replaced took six locked instructions a write. Get, Has, Next (and so
// Prev), First, Last and walks read a base node without the lock, so without
// writing shared memory, and check the counter unchanged before they use
// what they read (btree.GetSeq, SeekSeq, AppendAscendSeq,
// AppendDescendSeq).
//
// Readers that keep meeting writers (and every reader under the race
// detector and on arm64, where reads take the lock) share the lock through
// a count, which leaves the counter alone, so that lock-free readers of the
// node go on meanwhile: a reader adds itself to readers and then checks that
// no writer holds the word, a writer takes the word and then waits for
// readers to leave. (Each side's atomic write comes before its load of the
// other's, so at least one of them sees the other.) Writers pay one more
// load, of a line they write anyway.
type seqRWMutex struct {
	l       seqlock.Lock
	readers atomic.Int32 // readers holding the lock (RLock)
	waiting atomic.Int32 // writers waiting in Lock (see Tree.lock)
}

// Lock takes the lock for a writer.
func (m *seqRWMutex) Lock() {
	m.l.Lock()
	m.drain()
}

// TryLock is Lock if the lock is free (of writers and readers); it reports
// whether it took it.
func (m *seqRWMutex) TryLock() bool {
	s, ok := m.l.TryLock()
	if ok && m.readers.Load() != 0 {
		m.l.Restore(s) // nothing written: lock-free readers need not retry
		return false
	}
	return ok
}

// drain waits, for a writer holding the word, until no reader holds the
// lock: readers copy a batch at most, so it yields, and sleeps only if they
// take long.
func (m *seqRWMutex) drain() {
	for i := 0; m.readers.Load() != 0; i++ {
		if i < 64 {
			runtime.Gosched()
		} else {
			time.Sleep(10 * time.Microsecond)
		}
	}
}

// Unlock lets a writer's lock go, the counter two past where it found it.
func (m *seqRWMutex) Unlock() { m.l.Unlock() }

// RLock takes the lock for a reader, sharing it with other readers. While a
// writer holds the word it waits as a writer would (seqlock's spin, queue
// and sleeps), takes the word, counts itself among the readers while it
// holds it, and lets it go unchanged, so that the next writer waits for it.
// (Like a writer, it has no hand-off: writers that keep taking the word
// first can keep it waiting.)
func (m *seqRWMutex) RLock() {
	m.readers.Add(1)
	if m.l.Seq.Load()&1 == 0 {
		return
	}
	m.readers.Add(-1)
	s, ok := m.l.Lock()
	if !ok {
		panic("ordered: a base node's lock word is seqlock.Retired") // never set in this package
	}
	m.readers.Add(1)
	m.l.Restore(s)
}

// RUnlock lets a reader's lock go.
func (m *seqRWMutex) RUnlock() { m.readers.Add(-1) }

// NewCompare returns an empty Tree ordered by compare, which returns a
// negative number when a < b, as cmp.Compare does. Each comparison costs one
// call of the btree's less function and one of compare. With adapt, base
// nodes whose lock writers contend for are split, and cold ones joined again
// (see the package documentation); without it the tree is one btree under
// one lock.
func NewCompare[K, V any](compare func(a, b K) int, adapt bool) *Tree[K, V] {
	less := func(a, b Item[K, V]) bool { return compare(a.Key, b.Key) < 0 }
	return newTree(func() *btree.BTreeG[Item[K, V]] { return btree.NewG(degree, less) }, less, adapt)
}

// NewOrdered returns an empty Tree ordered by cmp.Less (NaN below every
// other float, all NaNs one key). Its node searches compare keys inline, with
// no function call per comparison. adapt is NewCompare's.
func NewOrdered[K cmp.Ordered, V any](adapt bool) *Tree[K, V] {
	count := integer[K]()
	t := newTree(func() *btree.BTreeG[Item[K, V]] {
		t := btree.NewSearchG(degree, naturalLess[K, V], searchOf[K, V](), searchSeqOf[K, V]())
		if count {
			t.SetCachedSeq(countSearchSeq[K, V])
			t.SetLeafBlocks(true)     // GetSeqInt searches them (BlockBelow)
			btree.SetIntFind(t, true) // and so do writers
		}
		return t
	}, naturalLess[K, V], adapt)
	if count {
		t.cached = cachedBytes / int(unsafe.Sizeof(Item[K, V]{}))
		t.stepped = steppedItems
		t.getSeq = btree.GetSeqInt[K, V]
		t.lowsInt = searchLowsInt[K, V]
	}
	return t
}

// integer reports whether K is an integer type, whose keys countSearchSeq
// compares with < (for floats cmp.Less also orders NaN, and strings cost a
// call per comparison).
func integer[K cmp.Ordered]() bool {
	switch reflect.TypeFor[K]().Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// searchSeqOf returns the btree searchSeq of NewOrdered trees of K:
// binarySearchSeq for integer keys, which it compares before it checks the
// counter, stringSearchSeq for strings, and naturalSearchSeq for the rest
// (floats: cmp.Less orders NaN). The last two check the counter before each
// comparison (a torn string could point anywhere).
func searchSeqOf[K cmp.Ordered, V any]() func([]Item[K, V], Item[K, V], *atomic.Uint64, uint64) (int, bool, bool) {
	switch {
	case integer[K]():
		return binarySearchSeq[K, V]
	case stringKeys[K]():
		return stringSearchSeq[K, V]
	}
	return naturalSearchSeq[K, V]
}

// searchOf returns the btree search of NewOrdered trees of K (writers' and
// the routing layer's): stringSearch for strings, naturalSearch for the
// rest (writers of integer keys search by btree.SetIntFind, the routing
// layer by searchLowsInt).
func searchOf[K cmp.Ordered, V any]() func([]Item[K, V], Item[K, V]) (int, bool) {
	if stringKeys[K]() {
		return stringSearch[K, V]
	}
	return naturalSearch[K, V]
}

// cachedBytes is how many bytes of items a tree may hold and still have its
// leaves searched as if in the cache (btree.GetSeqInt's cachedLeaves, and
// the append walks' through btree.SetCachedSeq). Lookups of random int64
// keys with countSearchSeq on the leaves against a binary search
// (naturalSearchSeq then; binarySearchSeq since the twentieth session)
// (BenchmarkTree_GetLeaves, one goroutine, two runs): 1e3 keys 46-47 ns
// against 63, 1e4 63 against 83, 3e4 81-85 against 106, 1e5 111-120
// against 127, 3e5 193-210 against 212-234, 1e6 461-475 against 410-415
// (at degree 32; at 64, 1e5 122-139 against 142-148, 3e5 188-213 against
// 189-211, 1e6 482-574 against 395-425). At 16 bytes an item (and leaves
// about two-thirds full) 1e5 keys fill about 2.4 MB of leaves; the bound
// is set below the crossing, where the gain is small anyway. Against
// binarySearchSeq (twentieth session, four runs): 1e5 keys 121 ns against
// 134, 3e5 173-207 against 163-174, the crossing where it was. Against
// btree.RunBelow, what large trees use since the twenty-first session
// (BenchmarkTree_LeafSearches, the searches taking turns within one
// process, so more trustworthy than the separate runs above), time against
// a binary search, one goroutine and two: 1e5 keys counting 0.82 and 0.83,
// the run search 0.92 and 0.93; 3e5 0.86 and 0.93, 0.93 and 0.81 (level in
// total time on one goroutine); 1e6 0.97 and 0.97, 0.90 and 0.89. The
// crossing was between 1e5 and 3e5 keys then, and the bound stayed at 2 MB.
// With GetSeqInt (twenty-second session; the same benchmark, now comparing
// GetSeqInt's two leaf searches against btree.GetSeq, each variant reading
// its own samples; two runs, samples of 2^16 and 2^20 keys, one goroutine
// and two): counting 0.67-0.74 at 3e5 keys against the run search's
// 0.73-0.77, 0.72-0.85 at 5e5 against 0.76-0.80 (level), 0.77-0.89 at 7e5
// against 0.79-0.86, and 0.88-0.93 at 1e6 against 0.80-0.85. The crossing
// is now near 5e5 keys: 8 MB, 524,288 items of 16 bytes. It is this
// machine's (its share of the processor's last-level cache), and moves
// between runs of this VM. With leaf blocks (twenty-third session), against
// btree.BlockBelow, counting on the same tree of full blocks, the two in
// turns (BenchmarkTree_LeafSearches with only the block and count-blocks
// variants, given one tree): 1e5 keys 0.83-0.85 of its time, 3e5
// 0.90-0.98, 5e5 0.96-1.06, 7e5 0.99-1.04, 1e6 1.03-1.27. The crossing
// stays near 5e5 keys.
const cachedBytes = 8 << 20

// steppedItems is the most items a tree of integer keys may hold and still
// have a walk's steps halve its leaves (see stepRead). 100 Next calls from
// random keys of an int64 tree, the leaves halved and counted in turns
// within one process (BenchmarkTree_StepSearches, one goroutine, four runs),
// time counting against halving: 1e3 keys 1.17-1.22, 2e3 1.00-1.04, 3e3
// 0.86-0.90, 5e3 0.76-0.78, 1e4 0.71-0.72, 3e4 0.71-0.76, 1e5 0.76-0.80,
// 3e5 0.80-0.84, 5e5 0.81-0.85, 1e6 0.85-0.89.
const steppedItems = 2048

// countSearchSeq is naturalSearchSeq for integer keys, by counting
// (btree.CountBelow), the btree's cached search (btree.SetCachedSeq): the
// append walks' search of inner nodes, and of the leaves of trees small enough
// to be in the cache (cachedBytes); a step's search of the leaves of trees
// above steppedItems (SeekSeq's countLeaves, see stepRead). An integer read
// while a writer stores it is a wrong number, never a fault, so the counter is
// checked once, after the search, rather than before each comparison as
// naturalSearchSeq must.
func countSearchSeq[K cmp.Ordered, V any](s []Item[K, V], item Item[K, V], seq *atomic.Uint64, start uint64) (int, bool, bool) {
	i := btree.CountBelow(s, item.Key)
	found := i < len(s) && s[i].Key == item.Key
	if seq.Load() != start {
		return 0, false, false
	}
	return i, found, true
}

// binarySearchSeq is naturalSearchSeq for integer keys (the btree's
// searchSeq, see searchSeqOf): as countSearchSeq, it checks the counter
// once, after the search, since a torn integer is a wrong number, never a
// fault. It searches the nodes countSearchSeq does not: a step's inner
// nodes and the leaves of the smallest trees, the append walks' leaves of
// large trees (lookups go through btree.GetSeqInt, with searches of its
// own). Its branches let the processor start the next probe's load before
// the comparison it waits on is done, where countSearchSeq's loads wait on
// no comparison but are twice as many. Its loop is naturalSearch's, spelled
// out: calling naturalSearch instead costs 50 instructions a lookup of 1e6
// keys (1,091 -> 1,141, callgrind), since the call is not inlined into
// generic code instantiated in another package (golang/go#56280).
func binarySearchSeq[K cmp.Ordered, V any](s []Item[K, V], item Item[K, V], seq *atomic.Uint64, start uint64) (int, bool, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m].Key < item.Key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	found := lo < len(s) && s[lo].Key == item.Key
	if seq.Load() != start {
		return 0, false, false
	}
	return lo, found, true
}

func naturalLess[K cmp.Ordered, V any](a, b Item[K, V]) bool { return cmp.Less(a.Key, b.Key) }

// naturalSearch is the binary search of a node of a NewOrdered tree: the
// index of the first item whose key is not less than item's, and whether
// the keys are equal. Writers of integer keys search otherwise (SetIntFind).
func naturalSearch[K cmp.Ordered, V any](s []Item[K, V], item Item[K, V]) (int, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmp.Less(s[m].Key, item.Key) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s) && !cmp.Less(item.Key, s[lo].Key)
}

// naturalSearchSeq is naturalSearch for a reader without the lock (see
// btree.GetSeq): each item is copied, and seq checked unchanged, before its
// key is compared, since a torn string could point anywhere.
func naturalSearchSeq[K cmp.Ordered, V any](s []Item[K, V], item Item[K, V], seq *atomic.Uint64, start uint64) (int, bool, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		k := s[m].Key
		if seq.Load() != start {
			return 0, false, false
		}
		if cmp.Less(k, item.Key) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(s) {
		return lo, false, true
	}
	k := s[lo].Key
	if seq.Load() != start {
		return 0, false, false
	}
	return lo, !cmp.Less(item.Key, k), true
}

// newTree returns a Tree of one empty base node; mk makes an empty btree.
func newTree[K, V any](mk func() *btree.BTreeG[Item[K, V]], less func(a, b Item[K, V]) bool, adapt bool) *Tree[K, V] {
	t := &Tree[K, V]{less: less, mk: mk, proto: mk(), adapt: adapt}
	t.route.Store(&routing[K, V]{bases: []*base[K, V]{{tr: mk()}}})
	return t
}

// index returns the index of the base node of r that holds it.
func (t *Tree[K, V]) index(r *routing[K, V], it Item[K, V]) int {
	if len(r.lows) == 0 {
		return 0
	}
	i, found := t.searchLows(r.lows, it.Key)
	if found {
		i++
	}
	return i
}

// searchLows searches a routing layer's lows for k: the index of the first
// low not less than k, and whether it equals k.
func (t *Tree[K, V]) searchLows(lows []Item[K, V], k K) (int, bool) {
	if t.lowsInt != nil {
		return t.lowsInt(lows, k)
	}
	return t.proto.Search(lows, Item[K, V]{Key: k})
}

// searchLowsInt is searchLows for integer keys, by counting (btree.CountBelow)
// where the btrees' search of a NewOrdered tree is a binary search that
// mispredicts about half of its comparisons: 10 ns against 28 on a routing
// layer of 15 lows, 18 against 43 on 127, 34 against 60 on 1023
// (BenchmarkRouteSearch, benchstat of 4 runs). A tree of 1e3 keys that contention split into 15
// base nodes spent 15 of the 180 processor-ns of an operation of the
// 10/10/80 mix at -cpu 2 in that search (perf).
func searchLowsInt[K cmp.Ordered, V any](lows []Item[K, V], k K) (int, bool) {
	i := btree.CountBelow(lows, k)
	return i, i < len(lows) && lows[i].Key == k
}

// start returns the index of the base node of r where a walk of s begins:
// the one holding From, except that a descending walk strictly below a From
// that is the lowest key of its base node begins in the node before.
func (t *Tree[K, V]) start(r *routing[K, V], s Span[K], desc bool) int {
	switch {
	case !s.HasFrom && desc:
		return len(r.bases) - 1
	case !s.HasFrom || len(r.lows) == 0:
		return 0
	}
	i, found := t.searchLows(r.lows, s.From)
	if found && !(desc && s.After) {
		i++
	}
	return i
}

// rlock read-locks the live base node that holds it.
func (t *Tree[K, V]) rlock(it Item[K, V]) *base[K, V] {
	for {
		r := t.route.Load()
		b := r.bases[t.index(r, it)]
		b.mu.RLock()
		if !b.dead {
			return b
		}
		b.mu.RUnlock()
	}
}

// lock write-locks the live base node that holds it, updates its contention
// statistic, and reports whether it should now be split or joined (see
// reshape). It returns nil, holding no lock, if the write gate does not
// admit who.
func (t *Tree[K, V]) lock(it Item[K, V], who *gate.Token) (b *base[K, V], reshape bool) {
	for {
		r := t.route.Load()
		b = r.bases[t.index(r, it)]
		busy := !b.mu.TryLock()
		switch {
		case busy:
			b.mu.waiting.Add(1)
			b.mu.Lock()
			b.mu.waiting.Add(-1)
		case b.mu.waiting.Load() != 0:
			// Another writer waits for the lock: contended, though the
			// lock was free. Without this, a writer that keeps winning
			// TryLock while the other yields or sleeps (the lock has no
			// hand-off) never sees contention, and the node never splits.
			busy = true
		}
		if b.dead {
			b.mu.Unlock()
			continue
		}
		if w := t.writers.Load(); w != nil && w != who { // gate.Admits, spelled out (see gate.Gate)
			b.mu.Unlock()
			return nil, false
		}
		t.sized(b, len(r.bases))
		if !t.adapt {
			return b, false
		}
		h := b.heat.Load()
		switch {
		case busy:
			h = min(h+contended, splitHeat+contended)
		case h > coldest:
			h += uncontended
		}
		b.heat.Store(h)
		n := len(r.bases)
		return b, h > splitHeat && b.tr.Len() >= minSplit && n < maxBases || h <= coldest && n > 1
	}
}

// sized updates b.large and b.medium from base node b, write-locked (or
// not yet published), and n, the number of base nodes: the tree's items are
// estimated as b's times n. Each node keeps its own estimate: one flag for
// the whole tree, on the line of route that every operation reads, flipped
// at every write that alternated between a large node and a small one (999
// times in 1000 writes), moving that line between cores. Lookups used to
// make that estimate themselves, reading b's length without the lock;
// every insert and delete writes the length, so in a tree written from
// another core that read moved a cache line between the cores on most
// lookups (the 10/10/80 mix on 1e3 keys at -cpu 2 took 124 ns an operation
// with it, 92 without, with btree.BTreeG's length moved off the line of its
// root). Writers of one key (lock), batches and Clear call it; a tree that
// shrinks by sweeps keeps its flags until its next write.
func (t *Tree[K, V]) sized(b *base[K, V], n int) {
	if t.cached == 0 {
		return
	}
	size := b.tr.Len() * n
	estimate(&b.large, size, t.cached)
	estimate(&b.medium, size, t.stepped)
}

// estimate sets f once size is above bound and clears it once size is below
// half of bound, so that a tree whose size hovers at the bound does not
// store f at every write.
func estimate(f *atomic.Bool, size, bound int) {
	if on := f.Load(); !on && size > bound {
		f.Store(true)
	} else if on && size < bound/2 {
		f.Store(false)
	}
}

// reshape splits base node b if it is hot, or joins it with a neighbour if
// it is cold, as its statistic says once the writer that found it so has
// released it. It takes b's write lock again.
func (t *Tree[K, V]) reshape(b *base[K, V]) {
	t.change(b, func(r *routing[K, V], i int) {
		switch h := b.heat.Load(); {
		case h > splitHeat:
			t.splitLocked(r, i)
		case h <= coldest:
			t.joinLocked(r, i)
		}
	})
}

// change calls fn with the routing layer and b's index in it while holding
// b's write lock and smu, so that the routing layer is the current one and
// all its base nodes are live (a base node dies only under smu). It does
// nothing if b has died since the caller found it.
func (t *Tree[K, V]) change(b *base[K, V], fn func(r *routing[K, V], i int)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dead {
		return
	}
	t.smu.Lock()
	defer t.smu.Unlock()
	r := t.route.Load()
	fn(r, slices.Index(r.bases, b)) // live, so in the current routing layer
}

// replace publishes a routing layer in which the n base nodes of r from
// index i are replaced by bs, with the bounds lows between them, and marks
// the replaced nodes dead, so that operations that found them retry through
// the new layer. The caller holds smu and the replaced nodes' write locks.
func (t *Tree[K, V]) replace(r *routing[K, V], i, n int, lows []Item[K, V], bs ...*base[K, V]) {
	for j := range lows {
		lows[j].Value = *new(V) // a bound keeps no value alive
	}
	next := &routing[K, V]{
		lows:  slices.Concat(r.lows[:i], lows, r.lows[i+n-1:]),
		bases: slices.Concat(r.bases[:i], bs, r.bases[i+n:]),
	}
	for _, b := range bs {
		t.sized(b, len(next.bases)) // not yet published
	}
	t.route.Store(next)
	for _, b := range r.bases[i : i+n] {
		b.dead = true
	}
}

// split replaces base node b by two base nodes holding its lower and upper
// halves, unless b has died meanwhile (see change).
func (t *Tree[K, V]) split(b *base[K, V]) { t.change(b, t.splitLocked) }

// splitLocked replaces base node i of r, the current routing layer, by two
// base nodes holding its lower and upper halves, if the tree has room for
// one more. The halves take over the node's btree nodes (btree.Split), and
// nothing from the split on calls the comparator, so no panic can leave a
// node half split. The halves' statistics start at 0.
func (t *Tree[K, V]) splitLocked(r *routing[K, V], i int) {
	if len(r.bases) >= maxBases {
		return
	}
	left, right, pivot, ok := r.bases[i].tr.Split()
	if !ok {
		return
	}
	t.replace(r, i, 1, []Item[K, V]{pivot}, &base[K, V]{tr: left}, &base[K, V]{tr: right})
}

// join joins base node b with a neighbour, unless b has died meanwhile (see
// change).
func (t *Tree[K, V]) join(b *base[K, V]) { t.change(b, t.joinLocked) }

// joinLocked replaces base node i of r, the current routing layer, and its
// colder neighbour by one base node holding the keys of both, as ETS joins a
// cold base node with its neighbour. The caller holds node i's lock and smu
// but not the neighbour's, which it only tries to take: blocking there could
// deadlock with PutBatch, which locks in key order. Like ETS, if there is no
// neighbour or its lock is taken it gives up and resets the node's statistic
// to 0, so that the next writers do not retry at once. The neighbours' key
// ranges are adjacent, so the btrees are concatenated (btree.Concat, O(log
// n)) without calling the comparator: no panic can leave them half joined.
// The joined node's statistic starts at 0.
func (t *Tree[K, V]) joinLocked(r *routing[K, V], i int) {
	b := r.bases[i]
	j := i + 1 // the colder neighbour: the one less likely to be split again
	if i == len(r.bases)-1 || i > 0 && r.bases[i-1].heat.Load() < r.bases[i+1].heat.Load() {
		j = i - 1
	}
	if j < 0 || !r.bases[j].mu.TryLock() {
		b.heat.Store(0)
		return
	}
	defer r.bases[j].mu.Unlock()
	lo := min(i, j)
	tr := btree.Concat(r.bases[lo].tr, r.bases[lo+1].tr)
	t.replace(r, lo, 2, nil, &base[K, V]{tr: tr})
}

// SplitAt makes k the lowest key of a base node of its own, splitting the
// base node that holds k, if the tree adapts to contention; otherwise it does
// nothing. It costs O(n log n) for the n keys of that base node. It exists for
// tests, which need base nodes without waiting for contention to make them.
func (t *Tree[K, V]) SplitAt(k K) {
	if !t.adapt {
		return
	}
	at := Item[K, V]{Key: k}
	var b *base[K, V]
	for b == nil { // lock's loop, without its gate and statistic: a split is not a write
		r := t.route.Load()
		b = r.bases[t.index(r, at)]
		b.mu.Lock()
		if b.dead {
			b.mu.Unlock()
			b = nil
		}
	}
	defer b.mu.Unlock()
	t.smu.Lock()
	defer t.smu.Unlock()
	r := t.route.Load()
	i := t.index(r, at)
	if i > 0 && !t.less(r.lows[i-1], at) {
		return // k is already the lowest key of base node i
	}
	left, right := t.mk(), t.mk()
	b.tr.Ascend(func(it Item[K, V]) bool {
		if t.less(it, at) {
			left.ReplaceOrInsert(it)
		} else {
			right.ReplaceOrInsert(it)
		}
		return true
	})
	t.replace(r, i, 1, []Item[K, V]{at}, &base[K, V]{tr: left}, &base[K, V]{tr: right})
}

// lockAll write-locks every base node of the current routing layer, in key
// order, and returns it.
func (t *Tree[K, V]) lockAll() *routing[K, V] {
	for {
		r := t.route.Load()
		if t.lockBases(r.bases) {
			return r
		}
	}
}

// lockBases write-locks bs in order and reports true if they are all live;
// otherwise it unlocks them and reports false.
func (t *Tree[K, V]) lockBases(bs []*base[K, V]) bool {
	for i, b := range bs {
		b.mu.Lock()
		if b.dead {
			for _, b := range bs[:i+1] {
				b.mu.Unlock()
			}
			return false
		}
	}
	return true
}

func unlockBases[K, V any](bs []*base[K, V]) {
	for _, b := range bs {
		b.mu.Unlock()
	}
}

// Len returns the number of keys: O(base nodes), each read under its lock.
// With writers running, it is a count of each base node at a different
// moment.
func (t *Tree[K, V]) Len() int {
	for {
		r := t.route.Load()
		n, live := 0, true
		for _, b := range r.bases {
			b.mu.RLock()
			// A dead node's btree and its nodes may live on in the node
			// that replaced it (a join hands them on), written under that
			// node's lock, not this one's: read it only if live.
			if live = !b.dead; live {
				n += b.tr.Len()
			}
			b.mu.RUnlock()
			if !live {
				break
			}
		}
		if live {
			return n
		}
	}
}

// Shards returns the number of base nodes, each a lock writers spread over.
func (t *Tree[K, V]) Shards() int { return len(t.route.Load().bases) }

// Memory estimates the bytes the tree holds: its items, with nodes assumed
// three quarters full, and one node header per node. Memory that keys and
// values point to is not counted.
func (t *Tree[K, V]) Memory() int {
	const nodeHeader = 64 // two slice headers and a cow pointer, rounded up
	n := t.Len()
	item := int(unsafe.Sizeof(Item[K, V]{}))
	nodes := n/(3*degree/2) + 1
	return n*item*4/3 + nodes*(nodeHeader+8*2*degree)
}

// Clear removes every key: holding every base node's lock at once, it
// replaces them all by one empty base node. Keeping the nodes, as it did,
// left a tree of empty ranges that only writes to each could join again:
// every First, Last, Next and Prev then stepped over them (a First on a
// cleared tree of 40 nodes read all 40). Contention splits the new node
// again as the tree refills.
//
// It reports false, and clears nothing, if the write gate does not admit
// who.
func (t *Tree[K, V]) Clear(who *gate.Token) bool { return t.clear(who, false) }

// Purge is Clear whatever the write gate says: the last step of dropping a
// table, whose gate then admits nobody.
func (t *Tree[K, V]) Purge() { t.clear(nil, true) }

// SetWriters sets who may write: everyone (gate.Everyone, a new Tree's
// setting), nobody (gate.Nobody), or the one caller whose Token w is.
func (t *Tree[K, V]) SetWriters(w *gate.Token) { t.writers.Store(w) }

func (t *Tree[K, V]) clear(who *gate.Token, purge bool) bool {
	r := t.lockAll()
	defer unlockBases(r.bases)
	if !purge && !t.writers.Admits(who) {
		return false
	}
	b := &base[K, V]{tr: t.mk()}
	t.smu.Lock()
	defer t.smu.Unlock()
	t.replace(r, 0, len(r.bases), nil, b)
	return true
}

// getSeq is btree.GetSeq in b, without b's lock, or intSeq if not nil (the
// tree's getSeq, btree.GetSeqInt), told whether b's leaves are likely
// cached: valid is false if a writer was in b or b is dead, and the result
// must then be discarded. A dead node's btree nodes belong to the nodes that
// replaced it, whose writers do not move b's counter, so b is read only if
// it was live when the counter was read: any death after that moves the
// counter.
func (b *base[K, V]) getSeq(intSeq func(*btree.BTreeG[Item[K, V]], K, *atomic.Uint64, uint64, bool) (Item[K, V], bool, bool), key Item[K, V], cachedLeaves bool) (it Item[K, V], ok, valid bool) {
	start, readable := b.readStart()
	if !readable {
		return it, false, false
	}
	if intSeq != nil {
		return intSeq(b.tr, key.Key, &b.mu.l.Seq, start, cachedLeaves)
	}
	return b.tr.GetSeq(key, &b.mu.l.Seq, start)
}

// readStart returns the counter a read of b without its lock starts from,
// and false if b cannot be read that way now: a writer holds it, or it is
// dead (see getSeq). getSeq, seekSeq and copySeq start with it.
func (b *base[K, V]) readStart() (start uint64, readable bool) {
	start = b.mu.l.Seq.Load()
	return start, start&1 == 0 && !b.dead
}

// seekSeq is getSeq for btree.SeekSeq: the first item of s in b, or the
// last if desc, and the counter the read was validated against. countLeaves
// is SeekSeq's.
func (b *base[K, V]) seekSeq(s Span[K], desc, countLeaves bool) (it Item[K, V], ok, valid bool, start uint64) {
	start, readable := b.readStart()
	if !readable {
		return it, false, false, start
	}
	it, ok, valid = b.tr.SeekSeq(Item[K, V]{Key: s.From}, s.HasFrom, s.After, desc, &b.mu.l.Seq, start, countLeaves)
	return it, ok, valid, start
}

// optimisticTries is how many reads without the lock, each failed because
// a writer was in the base node, a reader makes before it takes the read
// lock. A writer holds a base node for a microsecond or so; a reader that
// waits on the lock behind it yields the processor, then sleeps, which costs
// more than trying again. (The figures below were taken when the lock was a
// sync.RWMutex, whose waiters the operating system woke.) With four tries,
// two goroutines on 1e6 keys with 1% and 20% writes took 314 and 396 ns/op,
// one goroutine asleep a third of the time. Yielding the processor between tries (runtime.Gosched) was
// worse still on small tables: 170-180 ns/op against 96-99 for the 10/10/80
// mix on 1e3 keys, the two processors contending for the global run queue.
const optimisticTries = 64

// readFailed is what a reader does after its try-th read (from 0) of base
// node b without the lock failed: the first failure counts towards b's
// contention statistic, as a writer's wait does, since a reader that keeps
// meeting writers in b waits for them too, and a split would spare it.
func (t *Tree[K, V]) readFailed(b *base[K, V], try int) {
	if try == 0 && t.adapt && !b.dead {
		if h := b.heat.Load(); h <= splitHeat {
			b.heat.CompareAndSwap(h, h+contended) // lost to a writer's store, at worst
		}
	}
}

// Get returns the value of k. It writes no shared memory unless writers
// keep k's base node busy (see seqRWMutex).
func (t *Tree[K, V]) Get(k K) (V, bool) {
	it, ok := t.get(Item[K, V]{Key: k})
	return it.Value, ok
}

// Has reports whether k is present, as Get.
func (t *Tree[K, V]) Has(k K) bool {
	_, ok := t.get(Item[K, V]{Key: k})
	return ok
}

// get is Get: up to optimisticTries reads without the lock, then one under
// it.
func (t *Tree[K, V]) get(key Item[K, V]) (Item[K, V], bool) {
	if optimisticReads {
		for try := range optimisticTries {
			r := t.route.Load()
			b := r.bases[t.index(r, key)]
			if it, ok, valid := b.getSeq(t.getSeq, key, !b.large.Load()); valid {
				return it, ok
			}
			t.readFailed(b, try)
		}
	}
	b := t.rlock(key)
	defer b.mu.RUnlock()
	return b.tr.Get(key)
}

// Put stores k and v, replacing the item of any key equal to k (key
// included, as ETS replaces the whole object). Put and every other write
// change nothing, admitted false, if the write gate does not admit who.
func (t *Tree[K, V]) Put(k K, v V, who *gate.Token) (admitted bool) {
	b, reshape := t.lock(Item[K, V]{Key: k}, who)
	if b == nil {
		return false
	}
	put(b, Item[K, V]{Key: k, Value: v})
	if reshape {
		t.reshape(b)
	}
	return true
}

func put[K, V any](b *base[K, V], it Item[K, V]) {
	defer b.mu.Unlock()
	b.tr.ReplaceOrInsert(it)
}

// PutNew stores k and v only if no key equal to k is present, and reports
// whether it did.
func (t *Tree[K, V]) PutNew(k K, v V, who *gate.Token) (stored, admitted bool) {
	b, reshape := t.lock(Item[K, V]{Key: k}, who)
	if b == nil {
		return false, false
	}
	ok := putNew(b, Item[K, V]{Key: k, Value: v})
	if reshape {
		t.reshape(b)
	}
	return ok, true
}

func putNew[K, V any](b *base[K, V], it Item[K, V]) bool {
	defer b.mu.Unlock()
	if b.tr.Has(it) {
		return false
	}
	b.tr.ReplaceOrInsert(it)
	return true
}

// PutBatch stores the n items item(i) in order, atomically: it holds the
// write locks of every base node the keys fall in, taken in key order. With
// onlyNew it first checks that no key is present and stores nothing if one
// is. It reports whether it stored.
func (t *Tree[K, V]) PutBatch(n int, item func(i int) (K, V), onlyNew bool, who *gate.Token) (stored, admitted bool) {
	for {
		r := t.route.Load()
		var bs []*base[K, V]
		if len(r.bases) == 1 {
			bs = r.bases
		} else {
			idx := make([]int, n)
			for i := range n {
				k, _ := item(i)
				idx[i] = t.index(r, Item[K, V]{Key: k})
			}
			slices.Sort(idx)
			for _, i := range slices.Compact(idx) {
				bs = append(bs, r.bases[i])
			}
		}
		if !t.lockBases(bs) {
			continue
		}
		if !t.writers.Admits(who) {
			unlockBases(bs)
			return false, false
		}
		return t.putBatch(r, bs, n, item, onlyNew), true
	}
}

// putBatch is PutBatch for a caller holding the locks of bs, every base node
// of r that the items fall in. It releases them.
func (t *Tree[K, V]) putBatch(r *routing[K, V], bs []*base[K, V], n int, item func(i int) (K, V), onlyNew bool) bool {
	defer unlockBases(bs)
	if onlyNew {
		for i := range n {
			k, _ := item(i)
			it := Item[K, V]{Key: k}
			if r.bases[t.index(r, it)].tr.Has(it) {
				return false
			}
		}
	}
	for i := range n {
		k, v := item(i)
		it := Item[K, V]{Key: k, Value: v}
		r.bases[t.index(r, it)].tr.ReplaceOrInsert(it)
	}
	for _, b := range bs {
		t.sized(b, len(r.bases))
	}
	return true
}

// Take removes k and returns the value it held.
func (t *Tree[K, V]) Take(k K, who *gate.Token) (_ V, ok, admitted bool) {
	b, reshape := t.lock(Item[K, V]{Key: k}, who)
	if b == nil {
		var zero V
		return zero, false, false
	}
	v, ok, emptied := t.take(b, Item[K, V]{Key: k})
	if reshape || emptied {
		t.reshape(b)
	}
	return v, ok, true
}

func (t *Tree[K, V]) take(b *base[K, V], it Item[K, V]) (V, bool, bool) {
	defer b.mu.Unlock()
	it, ok := b.tr.Delete(it)
	return it.Value, ok, ok && t.emptied(b)
}

// emptied reports whether a delete has just left base node b, write-locked,
// empty in a tree of more than one base node, and if so makes b coldest, so
// that the caller's reshape joins it with a neighbour at once. A node joins
// when writes to it find it cold, and an emptied node may get no more
// writes: the head of a queue (puts at the tail, takes at the head) left
// one empty node behind after another, up to maxBases (785 empty of 794
// after 400,000 operations, with the tail split by contention), each one
// passed by every First and Next, and past maxBases no node could split.
func (t *Tree[K, V]) emptied(b *base[K, V]) bool {
	if !t.adapt || b.tr.Len() != 0 || len(t.route.Load().bases) == 1 {
		return false
	}
	b.heat.Store(coldest)
	return true
}

// Update calls fn with k's value (ok reports whether k is present) while
// holding the write lock of k's base node, then applies the Op fn returns. A
// Store to a present key keeps the stored key and replaces its value. Update
// returns the value k holds afterwards and whether it holds one. If fn
// panics, the tree is left as it was and the lock is released.
func (t *Tree[K, V]) Update(k K, fn func(old V, ok bool) (V, Op), who *gate.Token) (_ V, ok, admitted bool) {
	b, reshape := t.lock(Item[K, V]{Key: k}, who)
	if b == nil {
		var zero V
		return zero, false, false
	}
	v, ok, emptied := t.update(b, k, fn)
	if reshape || emptied {
		t.reshape(b)
	}
	return v, ok, true
}

func (t *Tree[K, V]) update(b *base[K, V], k K, fn func(old V, ok bool) (V, Op)) (_ V, _, emptied bool) {
	defer b.mu.Unlock()
	old, ok := b.tr.Get(Item[K, V]{Key: k})
	v, op := fn(old.Value, ok)
	switch op {
	case Store:
		if ok {
			k = old.Key
		}
		b.tr.ReplaceOrInsert(Item[K, V]{Key: k, Value: v})
		return v, true, false
	case Delete:
		if ok {
			b.tr.Delete(old)
		}
		var zero V
		return zero, false, ok && t.emptied(b)
	}
	return old.Value, ok, false
}

// First returns the smallest item.
func (t *Tree[K, V]) First() (Item[K, V], bool) { return t.step(Span[K]{}, false) }

// Last returns the largest item.
func (t *Tree[K, V]) Last() (Item[K, V], bool) { return t.step(Span[K]{}, true) }

// Next returns the item with the smallest key greater than k (with the
// largest key smaller than k if desc).
func (t *Tree[K, V]) Next(k K, desc bool) (Item[K, V], bool) {
	return t.step(Span[K]{From: k, HasFrom: true, After: true}, desc)
}

// step returns the first item of s, or the last if desc, atomically: the
// item (or its absence) is what the whole tree held at one moment. It reads
// the base node where s starts and, when that node has no item of s, the
// next ones in turn; a node found empty may gain an item of s while a later
// node is read, so each empty node's counter is kept and checked again once
// the answer is found, and the step starts over if a writer has been in one
// since (a First that returned a key while a smaller one was present all
// along, or nothing while the table was never empty, would not be
// atomic). The reads are made without the nodes' locks, as Get's
// (btree.SeekSeq), for optimisticTries tries, then under each node's read
// lock for as many more; a step that still meets writers in the nodes it
// passed then reads with every base node locked (stepLocked).
func (t *Tree[K, V]) step(s Span[K], desc bool) (Item[K, V], bool) {
	for try := range 2 * optimisticTries {
		locked := !optimisticReads || try >= optimisticTries
		r := t.route.Load()
		i := t.start(r, s, desc)
		b := r.bases[i]
		var it Item[K, V]
		var ok, valid bool
		var seq uint64
		if locked {
			it, ok, valid, seq = t.stepRead(b, s, desc, true, try)
		} else {
			// The common case, spelled out here rather than through
			// stepRead (see there for medium): a call fewer per Next.
			if it, ok, valid, seq = b.seekSeq(s, desc, b.medium.Load()); !valid {
				t.readFailed(b, try)
			} else if ok && !desc && s.HasTo && !t.less(it, Item[K, V]{Key: s.To}) {
				return Item[K, V]{}, false
			}
		}
		switch {
		case !valid:
			continue
		case ok:
			return it, true
		}
		if it, ok, done := t.stepOn(r, i, b, seq, s, desc, locked, try); done {
			return it, ok
		}
	}
	return t.stepLocked(s, desc)
}

// stepRead reads the first item of s in base node b (the last if desc),
// under b's read lock if locked and otherwise without it, and returns b's
// counter as it read it. valid is false if the read failed: a writer was in
// b, or b is dead. An item past s's end (To) is reported as none.
func (t *Tree[K, V]) stepRead(b *base[K, V], s Span[K], desc, locked bool, try int) (it Item[K, V], ok, valid bool, seq uint64) {
	if locked {
		b.mu.RLock()
		defer b.mu.RUnlock()
		if b.dead {
			return it, false, false, 0
		}
		seq = b.mu.l.Seq.Load() // odd if a writer took the node after RLock's check: see stepOn
		var one [1]Item[K, V]
		if buf := copyLocked(b, one[:0], s, desc, 1); len(buf) == 1 {
			return buf[0], true, true, seq
		}
		return it, false, true, seq
	}
	// Leaves of all but the smallest trees (steppedItems) are searched by
	// counting, those of the smallest by halving. A step is most often one
	// of a walk (ets:next), whose previous step brought the leaf into the
	// cache: counting reads every eighth key's line, so the next step's
	// search, a few keys on, finds its lines there, where a binary search
	// ends on lines the previous one did not read, which in a large tree
	// are misses; and counting has no branch to mispredict, where a binary
	// search mispredicts about half its branches once the tree holds more
	// keys than the processor's predictor learns (beyond about 2,000 here).
	// Until the twenty-second session only large trees' (cachedBytes) were
	// counted, from measurements at 1e3 and 1e6 keys: walks of the trees
	// between take 0.71-0.90 of the time with counting (steppedItems).
	if it, ok, valid, seq = b.seekSeq(s, desc, b.medium.Load()); !valid {
		t.readFailed(b, try)
		return it, false, false, seq
	}
	if ok && !desc && s.HasTo && !t.less(it, Item[K, V]{Key: s.To}) {
		return Item[K, V]{}, false, true, seq
	}
	return it, ok, true, seq
}

// passed is a base node a step found without an item of its span, with the
// node's counter as the step read it.
type passed[K, V any] struct {
	b   *base[K, V]
	seq uint64
}

// passedOnStack is how many empty base nodes a step records without
// allocating; past them its record moves to the heap. Base nodes a Clear or
// a queue's takes emptied stay until they join (a node joins only after
// writes), so a step may pass many.
const passedOnStack = 64

// stepOn goes on with a step from base node i of r, b, which had no item of s
// when its counter was seq: it reads the next nodes in turn, and once it has
// the answer checks that no writer has been in a node it passed since it
// read it (a node that died was written when it died). done is false if a
// read failed or a passed node changed: the step starts over.
func (t *Tree[K, V]) stepOn(r *routing[K, V], i int, b *base[K, V], seq uint64, s Span[K], desc, locked bool, try int) (it Item[K, V], ok, done bool) {
	var onStack [passedOnStack]passed[K, V]
	ps := onStack[:0]
	unchanged := func() bool {
		for _, p := range ps {
			if p.b.mu.l.Seq.Load() != p.seq {
				return false
			}
		}
		return true
	}
	for {
		var more bool
		if s, more = t.beyond(r, i, s, desc); !more {
			return Item[K, V]{}, false, unchanged()
		}
		// Only an even counter proves the node was as read: an odd one
		// may be a writer that took the node just after the reader's
		// check (a locked read records it after taking the read lock),
		// which can publish a split, whose halves take writes, before
		// the counter moves on.
		if seq&1 != 0 {
			return it, false, false
		}
		ps = append(ps, passed[K, V]{b, seq})
		i = t.start(r, s, desc)
		b = r.bases[i]
		var valid bool
		if it, ok, valid, seq = t.stepRead(b, s, desc, locked, try); !valid {
			return it, false, false
		}
		if ok {
			return it, true, unchanged()
		}
	}
}

// stepLocked is step with every base node write-locked, in key order as
// Clear takes them: the last resort of a step whose nodes writers keep
// changing.
func (t *Tree[K, V]) stepLocked(s Span[K], desc bool) (Item[K, V], bool) {
	r := t.lockAll()
	defer unlockBases(r.bases)
	for i := t.start(r, s, desc); ; {
		var one [1]Item[K, V]
		if buf := copyLocked(r.bases[i], one[:0], s, desc, 1); len(buf) == 1 {
			return buf[0], true
		}
		var more bool
		if s, more = t.beyond(r, i, s, desc); !more {
			return Item[K, V]{}, false
		}
		i = t.start(r, s, desc)
	}
}

// beyond returns what remains of s past base node i of r, in the walk's
// direction, and false if nothing does.
func (t *Tree[K, V]) beyond(r *routing[K, V], i int, s Span[K], desc bool) (Span[K], bool) {
	switch {
	case desc && i == 0, !desc && i == len(r.bases)-1:
		return s, false
	case desc:
		s.From, s.HasFrom, s.After = r.lows[i-1].Key, true, true
	case s.HasTo && !t.less(r.lows[i], Item[K, V]{Key: s.To}):
		return s, false
	default:
		s.From, s.HasFrom, s.After = r.lows[i].Key, true, false
	}
	return s, true
}

// Span is the part of the tree a walk covers. The zero Span is every key.
type Span[K any] struct {
	From    K    // the first key, if HasFrom
	HasFrom bool //
	After   bool // start strictly after From (else at From)
	To      K    // an ascending walk stops before To, if HasTo
	HasTo   bool // (descending walks ignore To)
}

// spanBounds is s as the btree's appends take it.
func spanBounds[K, V any](s Span[K]) btree.Bounds[Item[K, V]] {
	return btree.Bounds[Item[K, V]]{
		From: Item[K, V]{Key: s.From}, HasFrom: s.HasFrom, After: s.After,
		To: Item[K, V]{Key: s.To}, HasTo: s.HasTo,
	}
}

// Walk calls yield for the items of s in ascending order (descending if
// desc) until yield returns false. It copies up to a batch of items (copy)
// and calls yield outside any lock, so yield may call the tree
// (see the package documentation). A key present for the whole walk is
// yielded exactly once; no key is yielded twice.
func (t *Tree[K, V]) Walk(s Span[K], desc bool, yield func(K, V) bool) {
	t.WalkWhile(s, desc, firstBatch, nil, yield)
}

// WalkWhile is Walk with a first batch of first items (at most firstBatch,
// which is also what first <= 0 asks for; later batches double, up to
// maxBatch), for a caller that wants only a few items, and a check, more,
// that runs before each batch is copied: the walk ends when it returns
// false. A nil more always goes on.
func (t *Tree[K, V]) WalkWhile(s Span[K], desc bool, first int, more func() bool, yield func(K, V) bool) {
	p := t.buffer()
	// used is how many items of the buffer may hold objects: what recycle
	// must clear. While a batch is copied it counts the whole batch, so that
	// a panic during the copy (in a compare function) is covered; after it,
	// only what the batches filled, so that a short walk clears a few items
	// rather than the first batch's 128.
	used, filled := 0, 0
	defer func() { t.recycle(p, used) }()
	n := firstBatch
	if first > 0 {
		n = min(first, firstBatch)
	}
	for ; ; n = min(2*n, maxBatch) {
		if more != nil && !more() {
			return
		}
		*p, used = slices.Grow((*p)[:0], n), n // batches only grow: n >= filled
		buf := t.copy(*p, s, desc, n, 0)
		filled = max(filled, len(buf))
		used = filled
		for _, it := range buf {
			if !yield(it.Key, it.Value) {
				return
			}
		}
		if len(buf) < n {
			return
		}
		s.From, s.HasFrom, s.After = buf[len(buf)-1].Key, true, true
	}
}

// buffer returns an empty batch buffer. Walks reuse buffers, so that a range
// query does not allocate one each time.
func (t *Tree[K, V]) buffer() *[]Item[K, V] {
	if p, ok := t.bufs.Get().(*[]Item[K, V]); ok {
		return p
	}
	return new([]Item[K, V])
}

// recycle clears the first used items of a buffer, all a walk may have
// filled (used is the largest batch it asked for, counted before the batch,
// so a panic during the batch is covered), so that it keeps nothing alive,
// and keeps it for the next walk.
func (t *Tree[K, V]) recycle(p *[]Item[K, V], used int) {
	clear((*p)[:used])
	*p = (*p)[:0]
	t.bufs.Put(p)
}

// copy appends to buf up to n items of s, in order. It reads one base node
// at a time and goes on to the next one while it has room: so a key present
// throughout is copied, and in order, as a base node's bounds do not change
// while it lives. It reads each base node without its lock first
// (copySeq), as Get does, so that readers of one node do not all write its
// lock's line, and under its read lock after walkTries reads that failed.
// tries is how many the caller has made already: step, which has made
// optimisticTries of its own, passes walkTries, so that its fallback takes
// the locks at once (and counts no contention twice).
func (t *Tree[K, V]) copy(buf []Item[K, V], s Span[K], desc bool, n, tries int) []Item[K, V] {
	limit, made := len(buf)+n, tries
	for {
		r := t.route.Load()
		i := t.start(r, s, desc)
		b := r.bases[i]
		if optimisticReads && tries < walkTries {
			var valid bool
			if buf, valid = b.copySeq(buf, s, desc, limit, !b.large.Load()); !valid {
				t.readFailed(b, tries)
				tries++
				continue
			}
		} else {
			b.mu.RLock()
			if b.dead {
				b.mu.RUnlock()
				continue
			}
			buf = copyFrom(b, buf, s, desc, limit)
		}
		if len(buf) >= limit {
			return buf
		}
		var more bool
		if s, more = t.beyond(r, i, s, desc); !more {
			return buf
		}
		tries = made
	}
}

// walkTries is how many reads of a base node without its lock, each failed
// (a writer was in the node, or it died), a walk's copy makes before it
// takes the read lock: fewer than a lookup's optimisticTries, as a batch takes longer
// to copy than a key to find, and a long batch that keeps meeting writers
// is better read under the lock than again.
const walkTries = 4

// copySeq is copyLocked for a reader without b's lock, validated as getSeq
// is: valid is false if a writer was in b or b is dead, and buf is then
// returned as it was given, the items the read appended cleared, so that a
// pooled buffer holds nothing beyond what its walk counts as filled.
// cachedLeaves is getSeq's.
func (b *base[K, V]) copySeq(buf []Item[K, V], s Span[K], desc bool, limit int, cachedLeaves bool) (out []Item[K, V], valid bool) {
	start, readable := b.readStart()
	if !readable {
		return buf, false
	}
	bd := spanBounds[K, V](s)
	if desc {
		out, valid = b.tr.AppendDescendSeq(buf, &bd, limit, &b.mu.l.Seq, start, cachedLeaves)
	} else {
		out, valid = b.tr.AppendAscendSeq(buf, &bd, limit, &b.mu.l.Seq, start, cachedLeaves)
	}
	if !valid {
		clear(out[len(buf):])
		return out[:len(buf)], false
	}
	return out, true
}

// copyFrom appends to buf the items of s in base node b, read-locked by the
// caller, until buf holds limit items, and unlocks b.
func copyFrom[K, V any](b *base[K, V], buf []Item[K, V], s Span[K], desc bool, limit int) []Item[K, V] {
	defer b.mu.RUnlock()
	return copyLocked(b, buf, s, desc, limit)
}

// copyLocked is copyFrom for a caller holding b's lock and keeping it. The
// btree copies each leaf's run of items with one append and compares only to
// find the bounds.
func copyLocked[K, V any](b *base[K, V], buf []Item[K, V], s Span[K], desc bool, limit int) []Item[K, V] {
	bd := spanBounds[K, V](s)
	if desc {
		return b.tr.AppendDescend(buf, &bd, limit)
	}
	return b.tr.AppendAscend(buf, &bd, limit)
}

// Sweep calls fn for every item in key order and applies the Op it returns,
// so each key is tested and changed atomically. It works a batch of keys of
// one base node at a time under that node's write lock, calling more before
// each batch and stopping when more returns false. It returns how many keys
// were stored and deleted. If fn panics, the keys already swept keep their
// changes, the rest are untouched, and the lock is released. A batch the
// write gate refuses changes nothing, and is tried again after more, which
// is where the caller checks its rights.
func (t *Tree[K, V]) Sweep(fn func(k K, v V) (V, Op), more func() bool, who *gate.Token) (stored, deleted int) {
	var s Span[K]
	p := t.buffer()
	used := 0
	defer func() { t.recycle(p, used) }()
	for n := firstBatch; more(); n = min(2*n, maxBatch) {
		var st, del int
		var done bool
		*p, used = slices.Grow((*p)[:0], n), max(used, n)
		*p, s, st, del, done = t.sweepBatch(*p, s, n, fn, who)
		stored, deleted = stored+st, deleted+del
		if done {
			break
		}
	}
	return stored, deleted
}

// sweepBatch sweeps up to n items of s in one base node, under its write
// lock, and returns the span left to sweep, or done. It copies the items out
// first, because the btree must not change while it iterates.
func (t *Tree[K, V]) sweepBatch(buf []Item[K, V], s Span[K], n int, fn func(k K, v V) (V, Op), who *gate.Token) (_ []Item[K, V], next Span[K], stored, deleted int, done bool) {
	for {
		r := t.route.Load()
		i := 0
		if s.HasFrom {
			i = t.index(r, Item[K, V]{Key: s.From})
		}
		b := r.bases[i]
		b.mu.Lock()
		if b.dead {
			b.mu.Unlock()
			continue
		}
		if !t.writers.Admits(who) {
			b.mu.Unlock()
			runtime.Gosched() // the caller's more checks its rights again: let the change that closed the gate finish
			return buf, s, 0, 0, false
		}
		var emptied bool
		buf, stored, deleted, emptied = t.sweepLocked(b, buf, s, n, fn)
		if emptied {
			t.reshape(b)
		}
		switch {
		case len(buf) == n:
			return buf, Span[K]{From: buf[n-1].Key, HasFrom: true, After: true}, stored, deleted, false
		case i == len(r.bases)-1:
			return buf, s, stored, deleted, true
		}
		return buf, Span[K]{From: r.lows[i].Key, HasFrom: true}, stored, deleted, false
	}
}

// sweepLocked sweeps up to n items of s in b, write-locked by the caller,
// and unlocks b. emptied reports that its deletes left b empty (see
// Tree.emptied).
func (t *Tree[K, V]) sweepLocked(b *base[K, V], buf []Item[K, V], s Span[K], n int, fn func(k K, v V) (V, Op)) (_ []Item[K, V], stored, deleted int, emptied bool) {
	defer b.mu.Unlock()
	buf = copyLocked(b, buf, s, false, len(buf)+n)
	for _, it := range buf {
		v, op := fn(it.Key, it.Value)
		switch op {
		case Store:
			b.tr.ReplaceOrInsert(Item[K, V]{Key: it.Key, Value: v})
			stored++
		case Delete:
			b.tr.Delete(it)
			deleted++
		}
	}
	return buf, stored, deleted, deleted > 0 && t.emptied(b)
}
