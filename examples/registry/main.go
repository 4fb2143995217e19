// Command registry shows an ets table used as a read-mostly registry: a
// named table loaded in bulk at start-up, created lazily on first access even
// when many goroutines race to do it, and read from many goroutines at once,
// by key or listed whole. It prints the measured latency of both.
//
// It is "ETS-backed registries" (the second seed article): the registry
// pattern, ensure_table/0's lazy initialisation, list_articles, compile-time
// data loaded at start-up, the performance section, with its GenServer
// anti-pattern for comparison, and the gotcha of untrusted keys.
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
// article's advice for read-heavy, write-rare data. Registry is generic, as
// the article's registries share one pattern: the program keeps its 1,110
// agents in one and its 28 blog articles in another.
//
// Listing is the article's list_articles: tab2list, then a sort by date,
// newest first. List walks the table with All into a slice and sorts the
// slice. With no write concurrency the table has one lock, and All copies it
// whole under that lock, so every List is a snapshot, never a mix of before
// and after a write. The program times List beside Get: on the 28 articles,
// for which the article quotes a full scan under 10 µs, and on the 1,110
// agents, since a scan (and its sort) grows with the table.
//
// Untrusted keys: the article's gotcha is atoms made from user input, which
// Erlang never frees. Go has no atoms — a string key is collected like any
// string once its object is deleted — but the reason behind the gotcha
// stands: input must not be able to exhaust or degrade a table. Every ets
// hash table hashes its keys with a seed drawn at random when the table is
// made, so keys cannot be precomputed offline to collide and turn O(1)
// lookups into a walk through one crowded shard (an OrderedSet compares keys
// and stays O(log n) whatever they are). Keep user-facing keys plain values,
// a string or a struct of strings, as the article keeps strings; do not
// intern them into something the process never frees, such as a global map
// from name to ID, which is the atom table again. (unique.Make's handles are
// reclaimed once unreferenced, but interning buys a table nothing: it hashes
// the key once per operation either way.) And as every distinct key is an
// object held until it is deleted, a table filled from requests needs a TTL
// or a bound on its size: see examples/layeredcache.
package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etsgo/ets"
)

// TableName is the agent registry's table name.
const TableName = "agent_registry"

// ArticlesTable is the article registry's table name.
const ArticlesTable = "blog_articles"

// Agent is one entry of the agent registry.
type Agent struct {
	Slug string
	Name string
	Tier int
}

// Article is one entry of the article registry.
type Article struct {
	Slug      string
	Title     string
	Published time.Time
}

// Registry reads values of type V from the named table, keyed by slug. The
// zero value is not usable; use New. Its methods are safe for concurrent use.
type Registry[V any] struct {
	name  string
	load  func() []ets.Entry[string, V]
	table atomic.Pointer[ets.Set[string, V]]
	built atomic.Int64 // how many copies of the table this process built
}

// New returns a registry of the table called name, which load fills the first
// time any goroutine needs it. Nothing is built until then.
func New[V any](name string, load func() []ets.Entry[string, V]) *Registry[V] {
	return &Registry[V]{name: name, load: load}
}

// Get returns the value with the given slug. The hot path is one atomic load
// of the kept handle and one table lookup; the name is resolved only the
// first time, and again if the table has been dropped.
func (r *Registry[V]) Get(slug string) (V, bool, error) {
	t, err := r.handle()
	if err != nil {
		var zero V
		return zero, false, err
	}
	v, ok := t.Lookup(slug)
	if !ok && t.Err() != nil { // dropped under us: find or build it again
		r.table.CompareAndSwap(t, nil)
		return r.Get(slug)
	}
	return v, ok, nil
}

// List returns every value, sorted by order: the article's list_articles,
// tab2list then a sort. The table has one lock, so All copies it whole and
// the list is a snapshot. It copies and sorts the whole table at every call,
// as list_articles does: fine for a registry, whose lists are rare next to
// its lookups.
func (r *Registry[V]) List(order func(a, b V) int) ([]V, error) {
	t, err := r.handle()
	if err != nil {
		return nil, err
	}
	vs := make([]V, 0, t.Size())
	for _, v := range t.All() {
		vs = append(vs, v)
	}
	if t.Err() != nil { // dropped during the walk: the list may be short
		r.table.CompareAndSwap(t, nil)
		return r.List(order)
	}
	slices.SortFunc(vs, order)
	return vs, nil
}

// handle returns the kept handle, or finds or builds the table.
func (r *Registry[V]) handle() (*ets.Set[string, V], error) {
	if t := r.table.Load(); t != nil {
		return t, nil
	}
	return r.ensureTable()
}

// ensureTable returns the named table, building and publishing it if it
// does not exist yet.
func (r *Registry[V]) ensureTable() (*ets.Set[string, V], error) {
	t, err := ets.Open[*ets.Set[string, V]](r.name)
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
func (r *Registry[V]) build() (*ets.Set[string, V], error) {
	t, err := ets.NewSet[string, V](
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
		return ets.Open[*ets.Set[string, V]](r.name)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// agents is the data the agent registry loads, as the article's
// compile-time module attribute: 1,110 agent definitions.
func agents() []ets.Entry[string, Agent] {
	entries := make([]ets.Entry[string, Agent], 1110)
	for i := range entries {
		slug := slugOf(i)
		entries[i] = ets.Entry[string, Agent]{Key: slug, Value: Agent{Slug: slug, Name: fmt.Sprintf("Agent %d", i), Tier: i % 3}}
	}
	return entries
}

func slugOf(i int) string { return fmt.Sprintf("agent-%04d", i) }

// articles is the data the article registry loads: the article's 28 blog
// posts, one every three days up to the article's own, 2026-03-05.
func articles() []ets.Entry[string, Article] {
	last := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	entries := make([]ets.Entry[string, Article], 28)
	for i := range entries {
		slug := fmt.Sprintf("article-%02d", i)
		entries[i] = ets.Entry[string, Article]{Key: slug, Value: Article{
			Slug: slug, Title: fmt.Sprintf("Article %d", i), Published: last.AddDate(0, 0, -3*(27-i)),
		}}
	}
	return entries
}

// newestFirst orders articles by date, newest first, then by slug.
func newestFirst(a, b Article) int {
	if c := b.Published.Compare(a.Published); c != 0 {
		return c
	}
	return cmp.Compare(a.Slug, b.Slug)
}

func bySlug(a, b Agent) int { return cmp.Compare(a.Slug, b.Slug) }

func main() {
	if err := run(os.Stdout, 1_000_000); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

// run races goroutines to create the registry, then times lookups: lookups
// spread over several goroutines, and lookups/10 through a single serving
// goroutine (the article's GenServer anti-pattern); then it times lists of
// the article registry and of the agent registry.
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
	slugs := make([]string, 1110)
	for i := range slugs {
		slugs[i] = slugOf(i)
	}
	// Slugs are chosen by a fixed stride, not a shared random source.
	direct, err := measure(lookups, workers, func(w, i int) error {
		return hit(reg.Get(slugs[(i*7+w*131)%len(slugs)]))
	})
	if err != nil {
		return err
	}
	clock := measureClock(min(lookups, 100_000))
	fmt.Fprintf(out, "%d lookups from %d goroutines: median %v, p99 %v (the clock itself: median %v)\n",
		lookups, workers, direct.median, direct.p99, clock)

	server := serve(reg)
	defer server.stop()
	viaServer, err := measure(lookups/10, workers, func(w, i int) error {
		return hit(server.get(slugs[(i*7+w*131)%len(slugs)]))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d lookups through one serving goroutine (the GenServer anti-pattern): median %v, p99 %v\n",
		lookups/10, viaServer.median, viaServer.p99)

	// Lists: the article's list_articles, and the same on the bigger table.
	posts := New(ArticlesTable, articles)
	list, err := posts.List(newestFirst)
	if err != nil {
		return err
	}
	pt, err := ets.Open[*ets.Set[string, Article]](ArticlesTable)
	if err != nil {
		return err
	}
	defer pt.Drop()
	fmt.Fprintf(out, "list %d articles, newest first: %s\n", len(list), describe(list))
	lists := max(lookups/5000, workers)
	listArticles, err := measure(lists, workers, func(int, int) error {
		list, err := posts.List(newestFirst)
		return complete(list, err, 28)
	})
	if err != nil {
		return err
	}
	listAgents, err := measure(lists, workers, func(int, int) error {
		list, err := reg.List(bySlug)
		return complete(list, err, 1110)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d lists of the 28 articles (All, then sort by date) from %d goroutines: median %v, p99 %v (the article: a full scan under 10µs; a lookup here: median %v)\n",
		lists, workers, listArticles.median, listArticles.p99, direct.median)
	fmt.Fprintf(out, "%d lists of the 1110 agents (All, then sort by slug) from %d goroutines: median %v, p99 %v (linear in the table's size)\n",
		lists, workers, listAgents.median, listAgents.p99)
	return nil
}

// hit turns a lookup's result into an error if it missed.
func hit[V any](_ V, ok bool, err error) error {
	if err == nil && !ok {
		err = errors.New("a lookup missed")
	}
	return err
}

// complete turns a list's result into an error if it does not hold n values.
func complete[V any](list []V, err error, n int) error {
	if err == nil && len(list) != n {
		err = fmt.Errorf("listed %d of %d", len(list), n)
	}
	return err
}

// describe shows the first and last of a list of articles.
func describe(list []Article) string {
	day := func(a Article) string { return a.Slug + " " + a.Published.Format(time.DateOnly) }
	var b strings.Builder
	for _, a := range list[:min(3, len(list))] {
		b.WriteString(day(a) + ", ")
	}
	b.WriteString("… " + day(list[len(list)-1]))
	return b.String()
}

type latency struct{ median, p99 time.Duration }

// measure times n calls of op, spread over workers goroutines, each call
// timed on its own; op gets its goroutine's number and the call's.
func measure(n, workers int, op func(w, i int) error) (latency, error) {
	samples := make([][]time.Duration, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, n/workers)
			for i := range n / workers {
				start := time.Now()
				err := op(w, i)
				own = append(own, time.Since(start))
				if err != nil {
					errs[w] = err
					return
				}
			}
			samples[w] = own
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return latency{}, err
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

func serve(reg *Registry[Agent]) *server {
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
