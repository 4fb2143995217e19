// Command writebehind shows write-heavy counters kept in an ets table: many
// goroutines send their updates to one flusher goroutine, which adds them up
// in a private map and writes the sums to the table on a ticker, with one
// InsertMany per flush. Readers read the table directly, from any goroutine,
// without a lock.
//
// It is the "Write-heavy" row of the table "When to use ETS vs.
// alternatives" in "ETS-backed registries" (the second seed article):
// "GenServer with periodic ETS flush". Writers never touch the table, so
// they never contend for its locks (only for the channel, as a GenServer's
// callers share its mailbox): a thousand updates of one hot key cost the
// table one write per flush. Readers never wait for the flusher: Lookup
// takes no lock. The price is staleness: a reader sees an update only after
// the next flush, at most one interval late.
//
// A flush is one InsertMany: atomic and isolated, so a reader of any key of
// the batch sees all of the flush or none of it. The flusher keeps a total
// beside the per-key counts and writes it in the same batch, so a reader
// that reads some counts and then the total never finds counts the total
// does not include yet. (Flushing with an UpdateCounter per key would let
// it.)
//
// The flusher is an owner started with ets.Go, and the table is its own,
// Protected: every goroutine reads it, only the flusher writes it, and a
// write through any other handle is refused with ets.ErrAccess. When the
// flusher ends the table ends with it — the article's ownership gotcha —
// unless it has an heir (ets.WithHeir), which then inherits it with its last
// flush: a supervisor that keeps the counts, or that starts a new flusher
// and gives the table away to it. Close stops the writers, drains what they
// sent, flushes one last time and ends the flusher, so nothing an Add
// accepted is lost. If the flusher is killed instead (its context ends),
// what it had not flushed is lost, as a crashed GenServer's state is: at
// most one interval of updates, and those still in the channel.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etsgo/ets"
)

// Table is the kind of table the flusher writes: counts by key.
type Table = ets.Set[string, int64]

// Total is the key under which the flusher keeps the sum of every count.
const Total = "total"

// ErrClosed is returned by Add once Close has been called or the flusher has
// ended.
var ErrClosed = errors.New("writebehind: closed")

// ErrReserved is returned by Add for the key Total.
var ErrReserved = errors.New("writebehind: key reserved for the total")

// Counters is a table of counts written behind by one flusher goroutine.
// Its methods are safe for concurrent use.
type Counters struct {
	owner   *ets.Owner
	read    *Table // acts for nobody: it reads the Protected table, cannot write it
	updates chan update

	// mu orders Add against Close: Adds hold it shared while they send, and
	// Close takes it to close updates once no Add is sending. So every Add
	// that returns nil has put its update in the channel before the
	// flusher's last drain.
	mu     sync.RWMutex
	closed bool

	flushes, objects, final atomic.Int64 // flushes that wrote, objects written, and by the final flush
}

type update struct {
	key string
	n   int64
}

// Start starts the flusher, which makes the table and flushes to it every
// interval. heir, if not nil, inherits the table when the flusher ends.
// The flusher ends with Close, or when ctx ends (losing what it had not
// flushed).
func Start(ctx context.Context, every time.Duration, heir *ets.Owner) (*Counters, error) {
	c := &Counters{updates: make(chan update, 1024)}
	opts := []ets.Option{ets.WithAccess(ets.Protected)}
	if heir != nil {
		opts = append(opts, ets.WithHeir(heir, "counters"))
	}
	ready := make(chan error, 1)
	c.owner = ets.Go(ctx, func(ctx context.Context, self *ets.Owner) error {
		table, err := ets.NewSet[string, int64](append(opts, ets.WithOwner(self))...)
		if err == nil {
			c.read = table.As(nil)
		}
		ready <- err
		if err != nil {
			return err
		}
		return c.flusher(ctx, table, every)
	})
	if err := <-ready; err != nil {
		return nil, err
	}
	return c, nil
}

// flusher is the flusher's life: add up updates, flush on every tick, and
// flush the rest once updates is closed.
func (c *Counters) flusher(ctx context.Context, table *Table, every time.Duration) error {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	pending := make(map[string]int64) // private: no lock, no table write per update
	for {
		select {
		case u, ok := <-c.updates:
			if !ok { // Close: every accepted update has been received
				n, err := c.flush(table, pending)
				c.final.Store(int64(n))
				return err
			}
			pending[u.key] += u.n
		case <-ticker.C:
			if _, err := c.flush(table, pending); err != nil {
				return err
			}
		case <-ctx.Done(): // killed: pending is lost with the goroutine
			return ctx.Err()
		}
	}
}

// flush writes the pending sums and the new total in one InsertMany,
// empties pending and returns how many objects it wrote. The flusher is the
// table's only writer, so the counts it reads are the ones it wrote last.
func (c *Counters) flush(table *Table, pending map[string]int64) (int, error) {
	if len(pending) == 0 {
		return 0, nil
	}
	batch := make([]ets.Entry[string, int64], 0, len(pending)+1)
	var sum int64
	for k, n := range pending {
		old, _ := table.Lookup(k)
		batch = append(batch, ets.Entry[string, int64]{Key: k, Value: old + n})
		sum += n
	}
	total, _ := table.Lookup(Total)
	batch = append(batch, ets.Entry[string, int64]{Key: Total, Value: total + sum})
	if err := table.InsertMany(batch...); err != nil {
		return 0, err
	}
	c.flushes.Add(1)
	c.objects.Add(int64(len(batch)))
	clear(pending)
	return len(batch), nil
}

// Add adds n to key's count. It returns once the flusher has the update (or
// its channel does), before the table shows it.
func (c *Counters) Add(key string, n int64) error {
	if key == Total {
		return ErrReserved
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	select {
	case <-c.owner.Done(): // killed: nobody receives any more
		return ErrClosed
	default: // a select of both would pick at random when the channel has room
	}
	select {
	case c.updates <- update{key, n}:
		return nil // lost if the flusher is killed before its next flush
	case <-c.owner.Done():
		return ErrClosed
	}
}

// Get returns key's count as of the last flush: a lookup in the table,
// without a lock. It returns 0 once the table is gone.
func (c *Counters) Get(key string) int64 {
	n, _ := c.read.Lookup(key)
	return n
}

// Table returns a handle on the table acting for nobody: it reads, and its
// writes are refused.
func (c *Counters) Table() *Table { return c.read }

// Close refuses further Adds, waits for the flusher to flush everything it
// accepted and end, and returns why it ended if not by Close. The table is
// then the heir's, or dropped.
func (c *Counters) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.updates)
	}
	c.mu.Unlock()
	<-c.owner.Done()
	if err := c.owner.Err(); !errors.Is(err, ets.ErrOwnerDone) { // ErrOwnerDone: the flusher returned nil
		return err
	}
	return nil
}

// Stats counts the flushes that wrote something and the objects they wrote,
// and the objects of the final flush, Close's.
type Stats struct{ Flushes, Objects, Final int64 }

// Stats returns the counts so far.
func (c *Counters) Stats() Stats {
	return Stats{Flushes: c.flushes.Load(), Objects: c.objects.Load(), Final: c.final.Load()}
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "writebehind:", err)
		os.Exit(1)
	}
}

// pages are the keys the writers count.
var pages = []string{"/", "/about", "/blog", "/blog/ets", "/contact", "/docs", "/docs/api", "/login", "/pricing", "/search"}

func run(out io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The heir stands for a supervisor: it keeps the table when the flusher
	// ends. Stopping it drops what it holds.
	keeper := ets.NewOwner(ctx)
	defer keeper.Stop(nil)

	const every = 5 * time.Millisecond
	c, err := Start(ctx, every, keeper)
	if err != nil {
		return err
	}

	// Readers check the flush's atomicity as they go: the counts they read
	// first never exceed the total they read after.
	stopReaders := make(chan struct{})
	var reads, ahead atomic.Int64
	var readers sync.WaitGroup
	const nreaders = 4
	for range nreaders {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stopReaders:
					return
				default:
				}
				var sum int64
				for _, p := range pages {
					sum += c.Get(p)
				}
				if sum > c.Get(Total) {
					ahead.Add(1)
				}
				reads.Add(int64(len(pages) + 1))
				runtime.Gosched() // leave the writers and the flusher their turn on a small machine
			}
		}()
	}

	// Writers: every update goes to the flusher, none to the table.
	const writers, perWriter = 8, 5000
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := c.Add(pages[(w+i*i)%len(pages)], 1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	// The table lags the writers by up to one interval, until a tick.
	sent := int64(writers * perWriter)
	last := time.Now()
	for c.Get(Total) < sent {
		if time.Since(last) > 5*time.Second {
			return errors.New("no flush for 5s")
		}
		time.Sleep(time.Millisecond)
	}
	lag := time.Since(last).Round(time.Millisecond)
	close(stopReaders)
	readers.Wait()
	// A write that does not go through the flusher is refused.
	direct := c.Table().Insert("/", 0)
	if err := c.Close(); err != nil {
		return err
	}
	st := c.Stats()
	fmt.Fprintf(out, "%d writers sent %d updates of %d pages to one flusher; a direct write to the table: %v\n",
		writers, sent, len(pages), direct)
	fmt.Fprintf(out, "the ticker (every %v) flushed %d times, writing %d objects in all for %d updates; the table caught up %v after the last update\n",
		every, st.Flushes, st.Objects, sent, lag)
	fmt.Fprintf(out, "%d readers made %d lookups meanwhile, without a lock; reads that found counts beyond the total: %d\n",
		nreaders, reads.Load(), ahead.Load())

	// The flusher has ended: its table went to the heir, with the last flush.
	kept, err := inherit(keeper)
	if err != nil {
		return err
	}
	var sum int64
	for _, p := range pages {
		n, _ := kept.Lookup(p)
		sum += n
	}
	total, _ := kept.Lookup(Total)
	fmt.Fprintf(out, "after Close the heir holds the table: total %d, sum of the pages %d, sent %d\n", total, sum, sent)

	// Staleness, and the last flush: with an hour between ticks, only Close
	// flushes.
	slow, err := Start(ctx, time.Hour, keeper)
	if err != nil {
		return err
	}
	for range 3 {
		if err := slow.Add("/late", 1); err != nil {
			return err
		}
	}
	before := slow.Get("/late")
	if err := slow.Close(); err != nil {
		return err
	}
	late, err := inherit(keeper)
	if err != nil {
		return err
	}
	after, _ := late.Lookup("/late")
	fmt.Fprintf(out, "hourly flusher: 3 updates sent, the table shows %d; Close's final flush wrote %d objects, and the heir's table shows %d\n",
		before, slow.Stats().Final, after)

	// Without an heir the table dies with its flusher.
	orphan, err := Start(ctx, every, nil)
	if err != nil {
		return err
	}
	if err := orphan.Add("/", 1); err != nil {
		return err
	}
	if err := orphan.Close(); err != nil {
		return err
	}
	fmt.Fprintf(out, "no heir: after Close the table's Err is %v; Add: %v\n", orphan.Table().Err(), orphan.Add("/", 1))
	return nil
}

// inherit returns the next table the keeper inherits. The flusher's end
// hands its table over before Close returns, so the Transfer is already
// there or on its way; the timeout only keeps a bug from hanging the program.
func inherit(keeper *ets.Owner) (*Table, error) {
	select {
	case tr := <-keeper.Transfers():
		t, ok := tr.Table.(*Table)
		if !ok {
			return nil, fmt.Errorf("inherited a %T", tr.Table)
		}
		return t, nil
	case <-time.After(time.Second):
		return nil, errors.New("the heir has not inherited the table")
	}
}
