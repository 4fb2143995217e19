// Command layeredcache shows a hierarchical cache: a request-local memo,
// then an ets table shared by every goroutine, then a slow source — with a
// time to live on table entries and no duplicate loads when many goroutines
// miss the same key at once.
//
// It is "The Hierarchical Cache Pattern" of "ETS-backed registries" (the
// second seed article), whose layers are the process dictionary, ETS and an
// external source, plus that article's memory gotcha ("implement TTL-based
// cleanup or bounded table sizes"). Go has no process dictionary: the first
// layer is a Memo, a plain map made for one request and passed along with
// it, so it needs no lock and vanishes with the request.
//
// The library has no TTL, no bound on a table's size and no single-flight
// loading; all three are built here from table primitives:
//
//   - TTL: each entry carries its expiry. Lookup treats an expired entry as a
//     miss, and Sweep deletes expired entries with one SelectDelete, whose
//     predicate tests and deletes each entry atomically, so an entry
//     refreshed meanwhile is not lost.
//   - Single flight: on a miss a goroutine claims the key with Update, which
//     stores a pending entry (a *flight with a done channel) only if the key
//     is still missing or expired. Exactly one goroutine's Update stores its
//     flight; it loads from the source, stores the value with a second
//     Update (only if its flight is still the key's entry), and closes done.
//     Every other goroutine finds the pending entry and waits on done. A
//     failed or panicking load removes the pending entry and hands the error
//     to the waiters; errors are not cached.
//   - Bound: each stored value also carries its insertion number, from a
//     counter shared by the cache. When a store takes the table past its
//     maximum, the storing goroutine evicts the oldest values, by insertion,
//     down to nine tenths of the maximum: one walk (All) finds the cut-off
//     number, one SelectDelete deletes the values at or below it. The
//     predicate re-tests each entry under its shard's lock, so a value
//     refreshed meanwhile (a newer number) and a load in flight are kept.
//     Evicting a tenth at a time pays for the walk once per tenth of the
//     maximum in stores, not at every store. (With one TTL for all, the
//     oldest values are also the first to expire.)
//
// The bound is approximate under concurrency: a goroutine evicts after its
// store, so while loads run the table may exceed the maximum by about the
// number of goroutines storing at once (their pending entries count too),
// and Size and the walk are not snapshots while writers run. Once the loads stop, the table is within its bound: the last
// goroutine to check the size checks it after every store, and walks if it
// is over. Two goroutines evicting at once may evict a few more than needed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etsgo/ets"
)

// Source is the slow layer: a database, an HTTP service...
type Source func(ctx context.Context, key string) (string, error)

// Memo is the request-local layer. Make one per request (make(Memo)) and do
// not share it between goroutines.
type Memo map[string]string

// entry is a table value: a loaded value, its expiry and its insertion
// number, or, while the key is being loaded, the flight to wait for.
type entry struct {
	value   string
	expires time.Time
	seq     uint64 // stores so far when this one was made: orders evictions
	flight  *flight
}

// flight is one load in progress. value and err are written before done is
// closed and read after.
type flight struct {
	done  chan struct{}
	value string
	err   error
}

// ErrLoadPanicked is what waiters get when the load they waited for panicked.
var ErrLoadPanicked = errors.New("layeredcache: load panicked")

// Stats counts where Get found its values, and the values evicted to keep
// the bound.
type Stats struct{ Memo, Table, Waited, Loads, Evicted int64 }

// Cache is the table and source layers. Its methods are safe for concurrent
// use.
type Cache struct {
	table  *ets.Set[string, entry]
	ttl    time.Duration
	max    int // 0: no bound
	now    func() time.Time
	source Source
	seq    atomic.Uint64

	memo, hits, waited, loads, evicted atomic.Int64
}

// New makes a cache whose table entries live for ttl after they are loaded,
// and whose table holds at most maxEntries entries (0: no bound; see the
// package documentation for how the bound holds); now is the clock (nil:
// time.Now).
func New(ttl time.Duration, maxEntries int, source Source, now func() time.Time) (*Cache, error) {
	if maxEntries < 0 {
		return nil, fmt.Errorf("layeredcache: maxEntries %d < 0", maxEntries)
	}
	t, err := ets.NewSet[string, entry](ets.WithReadConcurrency(true))
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{table: t, ttl: ttl, max: maxEntries, now: now, source: source}, nil
}

// Close drops the table.
func (c *Cache) Close() error { return c.table.Drop() }

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	return Stats{Memo: c.memo.Load(), Table: c.hits.Load(), Waited: c.waited.Load(), Loads: c.loads.Load(), Evicted: c.evicted.Load()}
}

// Get returns key's value from the first layer that has it, filling the
// layers above. memo may be nil (no request layer).
func (c *Cache) Get(ctx context.Context, memo Memo, key string) (string, error) {
	if v, ok := memo[key]; ok {
		c.memo.Add(1)
		return v, nil
	}
	v, err := c.get(ctx, key)
	if err == nil && memo != nil {
		memo[key] = v
	}
	return v, err
}

func (c *Cache) get(ctx context.Context, key string) (string, error) {
	for {
		now := c.now()
		e, ok := c.table.Lookup(key) // the hit path: no lock taken for writing, no allocation
		switch {
		case ok && e.flight != nil:
			c.waited.Add(1)
			return e.flight.wait(ctx)
		case ok && now.Before(e.expires):
			c.hits.Add(1)
			return e.value, nil
		}
		// Missing or expired: claim the key, unless someone else just did.
		mine := &flight{done: make(chan struct{})}
		cur, _, err := c.table.Update(key, func(old entry, ok bool) (entry, ets.Op) {
			if ok && (old.flight != nil || now.Before(old.expires)) {
				return old, ets.Keep
			}
			return entry{flight: mine}, ets.Store
		})
		if err != nil {
			return "", err
		}
		if cur.flight == mine {
			v, err := c.load(ctx, key, mine)
			if err == nil && c.max > 0 && c.table.Size() > c.max {
				err = c.evict() // fails only if the cache is closed
			}
			return v, err
		}
		// Lost the claim: look again, and wait or hit.
	}
}

func (f *flight) wait(ctx context.Context) (string, error) {
	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// load fetches key for the flight this goroutine claimed, publishes the
// outcome and wakes the waiters, even if the source panics.
func (c *Cache) load(ctx context.Context, key string, f *flight) (string, error) {
	c.loads.Add(1)
	f.err = ErrLoadPanicked // stays if the source panics
	defer func() {
		expires, seq := c.now().Add(c.ttl), c.seq.Add(1)
		_, _, _ = c.table.Update(key, func(old entry, ok bool) (entry, ets.Op) {
			switch {
			case !ok || old.flight != f: // removed or replaced meanwhile
				return old, ets.Keep
			case f.err != nil: // errors are not cached
				return old, ets.Delete
			}
			return entry{value: f.value, expires: expires, seq: seq}, ets.Store
		})
		close(f.done)
	}()
	f.value, f.err = c.source(ctx, key)
	return f.value, f.err
}

// Sweep deletes the expired entries and returns how many it deleted: the
// article's TTL-based cleanup, which keeps the table from growing without
// bound. Run it from a ticker in a real program.
func (c *Cache) Sweep() (int, error) {
	now := c.now()
	return c.table.SelectDelete(func(_ string, e entry) bool {
		return e.flight == nil && !now.Before(e.expires)
	})
}

// evict deletes the oldest stored values, by insertion, until the table
// holds nine tenths of its maximum, if it holds more than the maximum.
func (c *Cache) evict() error {
	n := 0
	var seqs []uint64
	for _, e := range c.table.All() {
		n++
		if e.flight == nil {
			seqs = append(seqs, e.seq)
		}
	}
	if n <= c.max || len(seqs) == 0 { // another goroutine evicted, or only loads are in flight
		return nil
	}
	excess := min(n-(c.max-c.max/10), len(seqs))
	slices.Sort(seqs)
	cutoff := seqs[excess-1]
	deleted, err := c.table.SelectDelete(func(_ string, e entry) bool {
		return e.flight == nil && e.seq <= cutoff
	})
	c.evicted.Add(int64(deleted))
	return err
}

// Invalidate removes key from the table; a load in flight for it is not
// stored.
func (c *Cache) Invalidate(key string) error { return c.table.Delete(key) }

// clock is a clock the program moves by hand, so that TTLs expire without
// sleeping.
type clock struct{ offset atomic.Int64 }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *clock) Now() time.Time          { return epoch.Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "layeredcache:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	ctx := context.Background()
	var clk clock
	var sourceCalls sync.Map // key -> *atomic.Int64
	badGate := make(chan struct{})
	source := func(ctx context.Context, key string) (string, error) {
		n, _ := sourceCalls.LoadOrStore(key, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		if key == "user:bad" {
			<-badGate // held until every goroutine of the demo waits for this load
			return "", errors.New("source: no such user")
		}
		time.Sleep(20 * time.Millisecond) // a slow database
		return "User " + key[len("user:"):], nil
	}
	calls := func(key string) int64 {
		n, ok := sourceCalls.Load(key)
		if !ok {
			return 0
		}
		return n.(*atomic.Int64).Load()
	}
	const ttl = time.Minute
	cache, err := New(ttl, 0, source, clk.Now)
	if err != nil {
		return err
	}
	defer cache.Close()

	// A thundering herd: 100 goroutines miss the same key at once.
	const herd = 100
	results := make(chan string, herd)
	var wg sync.WaitGroup
	for range herd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := cache.Get(ctx, nil, "user:42")
			if err != nil {
				v = err.Error()
			}
			results <- v
		}()
	}
	wg.Wait()
	close(results)
	same := 0
	for v := range results {
		if v == "User 42" {
			same++
		}
	}
	fmt.Fprintf(out, "%d goroutines missed user:42 at once: source loads %d, %d got %q\n",
		herd, calls("user:42"), same, "User 42")

	// One request reads the same key three times: table once, then memo.
	before := cache.Stats()
	memo := make(Memo)
	for range 3 {
		if _, err := cache.Get(ctx, memo, "user:42"); err != nil {
			return err
		}
	}
	after := cache.Stats()
	fmt.Fprintf(out, "one request, 3 reads of user:42: %d from the table, %d from the memo, %d source loads\n",
		after.Table-before.Table, after.Memo-before.Memo, after.Loads-before.Loads)

	// The TTL: within it the table answers, past it the source is asked again.
	clk.Advance(ttl - time.Second)
	_, _ = cache.Get(ctx, nil, "user:42")
	fmt.Fprintf(out, "after %v: source loads of user:42: %d\n", ttl-time.Second, calls("user:42"))
	clk.Advance(2 * time.Second)
	v, err := cache.Get(ctx, nil, "user:42")
	fmt.Fprintf(out, "after %v (past the %v TTL): %q %v, source loads of user:42: %d\n",
		ttl+time.Second, ttl, v, err, calls("user:42"))

	// Failed loads are shared by the goroutines waiting for them, not cached.
	before = cache.Stats()
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := cache.Get(ctx, nil, "user:bad")
			errs <- err
		}()
	}
	for cache.Stats().Waited < before.Waited+9 { // one loads, nine wait
		time.Sleep(time.Millisecond)
	}
	close(badGate)
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	_, err = cache.Get(ctx, nil, "user:bad")
	fmt.Fprintf(out, "10 goroutines missed user:bad: %d failed with one source load; a later Get tries again: %v (loads %d)\n",
		failed, err, calls("user:bad"))

	// Cleanup: without a sweep, expired entries stay in the table.
	for i := range 5 {
		if _, err := cache.Get(ctx, nil, fmt.Sprintf("user:%d", i)); err != nil {
			return err
		}
	}
	size := cache.table.Size()
	clk.Advance(ttl)
	n, err := cache.Sweep()
	fmt.Fprintf(out, "sweep past the TTL: deleted %d of %d entries (%v), %d left\n", n, size, err, cache.table.Size())
	return bounded(ctx, out, clk.Now)
}

// bounded shows the bound: a table of at most 100 entries, filled in order,
// then from several goroutines at once.
func bounded(ctx context.Context, out io.Writer, now func() time.Time) error {
	const bound = 100
	cache, err := New(time.Hour, bound, func(_ context.Context, key string) (string, error) {
		return "value of " + key, nil
	}, now)
	if err != nil {
		return err
	}
	defer cache.Close()

	for i := range bound + 1 {
		if _, err := cache.Get(ctx, nil, fmt.Sprintf("item:%d", i)); err != nil {
			return err
		}
	}
	kept := func(key string) bool { return cache.table.Member(key) }
	fmt.Fprintf(out, "bound %d: item:0 to item:%d loaded in order; the last store evicted %d, the oldest (item:0 gone: %v, item:10 gone: %v, item:11 kept: %v), %d left\n",
		bound, bound, cache.Stats().Evicted, !kept("item:0"), !kept("item:10"), kept("item:11"), cache.table.Size())

	// Several goroutines load distinct keys at once; each notes the size it
	// sees after its Get, eviction included.
	before := cache.Stats().Evicted
	const loaders, each = 8, 200
	var peak atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, loaders)
	for g := range loaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := cache.Get(ctx, nil, fmt.Sprintf("key:%d:%d", g, i)); err != nil {
					errs <- err
					return
				}
				for size := int64(cache.table.Size()); ; {
					old := peak.Load()
					if size <= old || peak.CompareAndSwap(old, size) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Fprintf(out, "bound %d: %d goroutines loaded %d more keys at once: %d evicted, %d left; the largest size a goroutine saw: %d (the bound, plus up to about one per goroutine storing)\n",
		bound, loaders, loaders*each, cache.Stats().Evicted-before, cache.table.Size(), peak.Load())
	return nil
}
