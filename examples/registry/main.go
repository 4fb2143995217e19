// Command registry shows an ets table used as a read-mostly registry: a
// named table loaded in bulk at start-up, created lazily on first access even
// when many goroutines race to do it, and read from many goroutines at once.
// It prints the measured lookup latency.
//
// It is "ETS-backed registries" (the second seed article): the registry
// pattern, ensure_table/0's lazy initialisation, compile-time data loaded at
// start-up, and the performance section, with its GenServer anti-pattern for
// comparison.
//
// Lazy creation, the ETS way: look the name up (ets:whereis); if it is
// unknown, build the table unnamed, load it with one InsertMany, and only
// then publish it under the name with Rename. When several goroutines race,
// every one of them may build a copy, but the registry's name goes to exactly
// one: the others get ErrNameTaken from Rename, drop their copy and Open the
// winner's. Because a table is named only once it is full, no reader can
// ever see a half-loaded registry — which is what the article's ensure_table
// followed by a separate load would allow, and what a plain ErrNameTaken
// check after NewSet(WithName) would allow too. The cost of losing a race is
// one wasted build, paid once per process. (sync.Once would serialise the
// creation instead, but only among the users of one Once value; the name
// settles the race between any code that uses the name, as ETS's named
// tables do — two Registry values, or two packages, included.)
//
// The table has no owner, so it lives until it is dropped, whichever
// goroutine first touched it — the article's ownership gotcha does not
// apply. It is made with read concurrency and no write concurrency, the
// article's advice for read-heavy, write-rare data.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etsgo/ets"
)

// TableName is the registry's table name.
const TableName = "agent_registry"

// Agent is one registry entry.
type Agent struct {
	Slug string
	Name string
	Tier int
}

// Registry reads agents from the named table. The zero value is not usable;
// use New. Its methods are safe for concurrent use.
type Registry struct {
	name  string
	load  func() []ets.Entry[string, Agent]
	table atomic.Pointer[ets.Set[string, Agent]]
	built atomic.Int64 // how many copies of the table this process built
}

// New returns a registry of the table called name, which load fills the first
// time any goroutine needs it. Nothing is built until then.
func New(name string, load func() []ets.Entry[string, Agent]) *Registry {
	return &Registry{name: name, load: load}
}

// Get returns the agent with the given slug. The hot path is one atomic load
// of the kept handle and one table lookup; the name is resolved only the
// first time, and again if the table has been dropped.
func (r *Registry) Get(slug string) (Agent, bool, error) {
	t := r.table.Load()
	if t == nil {
		var err error
		if t, err = r.ensureTable(); err != nil {
			return Agent{}, false, err
		}
	}
	a, ok := t.Lookup(slug)
	if !ok && t.Err() != nil { // dropped under us: find or build it again
		r.table.CompareAndSwap(t, nil)
		return r.Get(slug)
	}
	return a, ok, nil
}

// ensureTable returns the named table, building and publishing it if it
// does not exist yet.
func (r *Registry) ensureTable() (*ets.Set[string, Agent], error) {
	t, err := ets.Open[*ets.Set[string, Agent]](r.name)
	if errors.Is(err, ets.ErrNotFound) {
		t, err = r.build()
	}
	if err != nil {
		return nil, err
	}
	r.table.Store(t)
	return t, nil
}

// build loads a private copy and publishes it under the registry's name,
// unless another goroutine published first: then it drops the copy and
// opens the winner.
func (r *Registry) build() (*ets.Set[string, Agent], error) {
	t, err := ets.NewSet[string, Agent](
		ets.WithReadConcurrency(true), ets.WithWriteConcurrency(ets.WriteConcurrencyOff))
	if err != nil {
		return nil, err
	}
	r.built.Add(1)
	if err := t.InsertMany(r.load()...); err != nil {
		return nil, err
	}
	err = t.Rename(r.name) // publish: from now on Open finds a full table
	if errors.Is(err, ets.ErrNameTaken) {
		_ = t.Drop()
		return ets.Open[*ets.Set[string, Agent]](r.name)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// agents is the data the registry loads, as the article's compile-time
// module attribute: 1,110 agent definitions.
func agents() []ets.Entry[string, Agent] {
	entries := make([]ets.Entry[string, Agent], 1110)
	for i := range entries {
		slug := slugOf(i)
		entries[i] = ets.Entry[string, Agent]{Key: slug, Value: Agent{Slug: slug, Name: fmt.Sprintf("Agent %d", i), Tier: i % 3}}
	}
	return entries
}

func slugOf(i int) string { return fmt.Sprintf("agent-%04d", i) }

func main() {
	if err := run(os.Stdout, 1_000_000); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

// run races goroutines to create the registry, then times lookups: lookups
// spread over several goroutines, and lookups/10 through a single serving
// goroutine (the article's GenServer anti-pattern).
func run(out io.Writer, lookups int) error {
	reg := New(TableName, agents)

	// Lazy creation: many goroutines hit a cold registry at once.
	const racers = 64
	var wg sync.WaitGroup
	var found atomic.Int64
	errs := make(chan error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, ok, err := reg.Get(slugOf(i))
			if err != nil {
				errs <- err
				return
			}
			if ok && a.Slug == slugOf(i) {
				found.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	named, size := 0, 0
	for _, info := range ets.Tables() {
		if info.Name == TableName {
			named, size = named+1, info.Size
		}
	}
	if named != 1 {
		return fmt.Errorf("%d tables named %q", named, TableName)
	}
	fmt.Fprintf(out, "%d goroutines raced to create %q: %d found their agent; tables with the name: %d, size %d (copies built: %d, the losers dropped theirs)\n",
		racers, TableName, found.Load(), named, size, reg.built.Load())
	t, err := ets.Open[*ets.Set[string, Agent]](TableName)
	if err != nil {
		return err
	}
	defer t.Drop()

	a, ok, err := reg.Get("agent-0042")
	fmt.Fprintf(out, "get agent-0042: %+v %v %v\n", a, ok, err)
	_, ok, err = reg.Get("no-such-agent")
	fmt.Fprintf(out, "get no-such-agent: %v %v\n", ok, err)

	workers := max(2, runtime.GOMAXPROCS(0))
	direct, err := measure(lookups, workers, reg.Get)
	if err != nil {
		return err
	}
	clock := measureClock(min(lookups, 100_000))
	fmt.Fprintf(out, "%d lookups from %d goroutines: median %v, p99 %v (the clock itself: median %v)\n",
		lookups, workers, direct.median, direct.p99, clock)

	server := serve(reg)
	defer server.stop()
	viaServer, err := measure(lookups/10, workers, server.get)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d lookups through one serving goroutine (the GenServer anti-pattern): median %v, p99 %v\n",
		lookups/10, viaServer.median, viaServer.p99)
	return nil
}

type latency struct{ median, p99 time.Duration }

// measure times n calls of get, spread over workers goroutines, each call
// timed on its own. Slugs are chosen by a fixed stride, not a shared random
// source.
func measure(n, workers int, get func(string) (Agent, bool, error)) (latency, error) {
	slugs := make([]string, 1110)
	for i := range slugs {
		slugs[i] = slugOf(i)
	}
	samples := make([][]time.Duration, workers)
	var misses atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, n/workers)
			for i := range n / workers {
				slug := slugs[(i*7+w*131)%len(slugs)]
				start := time.Now()
				_, ok, err := get(slug)
				own = append(own, time.Since(start))
				if !ok || err != nil {
					misses.Add(1)
				}
			}
			samples[w] = own
		}()
	}
	wg.Wait()
	if m := misses.Load(); m > 0 {
		return latency{}, fmt.Errorf("%d lookups missed", m)
	}
	all := slices.Concat(samples...)
	slices.Sort(all)
	return latency{median: all[len(all)/2], p99: all[len(all)*99/100]}, nil
}

// measureClock returns the median of n empty timings: the floor under every
// figure measure reports.
func measureClock(n int) time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		start := time.Now()
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return d[n/2]
}

// server is the article's anti-pattern: every lookup is a request to one
// goroutine.
type server struct {
	requests chan serverRequest
	done     chan struct{}
}

type serverRequest struct {
	slug  string
	reply chan Agent
}

func serve(reg *Registry) *server {
	s := &server{requests: make(chan serverRequest), done: make(chan struct{})}
	go func() {
		for {
			select {
			case req := <-s.requests:
				a, _, _ := reg.Get(req.slug)
				req.reply <- a
			case <-s.done:
				return
			}
		}
	}()
	return s
}

func (s *server) get(slug string) (Agent, bool, error) {
	reply := make(chan Agent, 1)
	s.requests <- serverRequest{slug, reply}
	a := <-reply
	return a, a.Slug == slug, nil
}

func (s *server) stop() { close(s.done) }
