package ets_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets"
	"github.com/etsgo/ets/internal/testseed"
)

// Fault injection: user code that panics (Update functions, predicates,
// SelectDelete and SelectReplace callbacks, iterator bodies) in the middle of
// concurrent work must leave the table consistent and unlocked, and Drop in
// the middle of traversals must end them cleanly.
//
// Adding a kind with one value per key: add it to uniqueKinds. The faults
// (injectFault) use only the API every kind shares (sharedTable) and Update
// where a kind has it; a kind with extra callbacks (OrderedSet's comparator,
// SelectRange) adds cases there. The bag kinds run the same tests from
// bag_fault_test.go.

// errInjected is the value every injected panic carries.
var errInjected = errors.New("injected fault")

// faultKinds names the faults injectFault can inject.
var faultKinds = []string{
	"Update fn", "Select pred", "SelectCount pred", "SelectDelete pred", "SelectReplace fn",
	"All body", "Keys body", "SelectLimit pred", "Cursor.Next pred",
}

// injectFault runs one call of kind fault whose user code panics after
// `after` calls, and reports whether it panicked with errInjected. No
// callback changes anything before it panics, so a fault never changes the
// table's contents. Fault 0, Update, needs a table with Update.
func injectFault(tab sharedTable, fault, after, key int) (panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errInjected {
				panic(r)
			}
			panicked = true
		}
	}()
	calls := 0
	boom := func() {
		if calls++; calls > after {
			panic(errInjected)
		}
	}
	pred := func(int, int) bool { boom(); return false }
	switch fault {
	case 0:
		_, _, _ = tab.(uniqueTable[int, int]).Update(key, func(old int, ok bool) (int, ets.Op) { panic(errInjected) })
	case 1:
		tab.Select(pred)
	case 2:
		tab.SelectCount(pred)
	case 3:
		_, _ = tab.SelectDelete(pred)
	case 4:
		_, _ = tab.SelectReplace(func(k, v int) (int, bool) { boom(); return v + 1, false })
	case 5:
		for range tab.All() {
			boom()
		}
	case 6:
		for range tab.Keys() {
			boom()
		}
	case 7:
		tab.SelectLimit(pred, 1+after%7)
	case 8:
		// The first page accepts everything; the predicate panics on a
		// later page.
		page := 0
		_, cur := tab.SelectLimit(func(int, int) bool {
			if page > 0 {
				boom()
			}
			return true
		}, 1+after%7)
		for page = 1; cur != nil; {
			_, cur = cur.Next()
		}
	}
	return false
}

// within runs f and fails the test with every goroutine's stack if it has
// not returned after d: a shard left locked shows up here.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%s did not finish within %v: is a shard still locked?\n%s", what, d, buf)
	}
}

// faultModel is a writer's model in the fault tests.
type faultModel interface {
	fuzzSubject
	objects() map[int][]int // every key's objects
}

func (s *mapModel) objects() map[int][]int {
	out := map[int][]int{}
	for k, v := range s.m {
		out[k] = []int{v}
	}
	return out
}

func (s bagFuzzModel) objects() map[int][]int { return s.m }

// wholeTable reports whether calls of code read or write the whole table.
func wholeTable(code fuzzOpCode) bool { return code >= fuzzClear && code <= fuzzWalkNext }

// faultWriter makes random single-key and batch calls through subject on
// keys only it uses, checking each answer against model (no other goroutine
// changes its keys, so every answer is known).
func faultWriter(subject, model fuzzSubject, seed uint64, base, calls int) error {
	r := rand.New(rand.NewPCG(seed, uint64(base)))
	raw := make([]byte, 8)
	for done := 0; done < calls; {
		for i := range raw {
			raw[i] = byte(r.Uint32())
		}
		for _, o := range decodeOps(raw) {
			if wholeTable(o.code) {
				continue
			}
			o.key += base
			for i := range o.entries {
				o.entries[i].Key += base
			}
			if got, want := subject.apply(o), model.apply(o); got != want {
				return fmt.Errorf("writer %d, call %d, %v: table %s, model %s", base, done, o, got, want)
			}
			done++
		}
	}
	return nil
}

func TestFault_PanicsAmidConcurrentWrites(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		tab := newTable()
		panicsAmidConcurrentWrites(t, faultCase{
			tab:    tab,
			faults: len(faultKinds),
			fill:   func(k, i int) error { return tab.Insert(k, i) },
			writer: func() (fuzzSubject, faultModel) { return &uniqueSubject{tab: tab}, &mapModel{m: map[int]int{}} },
		})
	})
}

// faultCase is one kind's side of the fault test.
type faultCase struct {
	tab    sharedTable
	faults int                              // the faults are faultKinds[:faults], where the kind has them
	first  int                              // and from faultKinds[first:]
	fill   func(k, i int) error             // puts the i-th fault key k's objects
	writer func() (fuzzSubject, faultModel) // a writer's handle on tab, and its model
}

// panicsAmidConcurrentWrites injects faults of every kind c has while
// writers on disjoint keys check every answer, then checks that the table is
// unlocked and equals the writers' models.
func panicsAmidConcurrentWrites(t *testing.T, c faultCase) {
	seed := testseed.Seed(t)
	tab := c.tab
	const faultBase, faultKeys, writers = 1_000_000, 200, 4
	calls := 3000
	if *long {
		calls = 100_000
	}
	// Keys only the faults touch; they must keep their objects.
	for i := range faultKeys {
		require.NoError(t, c.fill(faultBase+i, i))
	}
	want := bagContents(tab)

	var wg sync.WaitGroup
	models := make([]faultModel, writers)
	errs := make([]error, writers)
	for w := range writers {
		subject, model := c.writer()
		models[w] = model
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = faultWriter(subject, model, seed, w*1000, calls)
		}()
	}
	stop := make(chan struct{})
	injected := make([]atomic.Int64, len(faultKinds))
	var missed atomic.Int64
	var faulters sync.WaitGroup
	for f := range 2 {
		faulters.Add(1)
		go func() {
			defer faulters.Done()
			r := rand.New(rand.NewPCG(seed, uint64(f)+100))
			for {
				select {
				case <-stop:
					return
				default:
				}
				fault, key := c.first+r.IntN(c.faults-c.first), r.IntN(writers*1000)
				if r.IntN(2) == 0 {
					key = faultBase + r.IntN(faultKeys)
				}
				if injectFault(tab, fault, r.IntN(faultKeys/2), key) {
					injected[fault].Add(1)
				} else {
					missed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	faulters.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Zero(t, missed.Load(), "every injected fault must fire: the fault keys alone outnumber its trigger")

	for _, m := range models {
		for k, vs := range m.objects() {
			want[k] = vs
		}
	}
	var got map[int][]int
	within(t, 10*time.Second, "reading every shard", func() { got = bagContents(tab) })
	require.Equal(t, want, got, "seed %d: the table differs from the writers' models", seed)
	size := countObjects(want)
	require.Equal(t, size, tab.Size())
	within(t, 10*time.Second, "writing every shard", func() {
		for k := range 4096 {
			_ = tab.Insert(-1-k, k)
			_ = tab.Delete(-1 - k)
		}
		_ = tab.Insert(-1, 0)
		_, _ = tab.SelectDelete(func(k, v int) bool { return k < 0 })
	})
	require.Equal(t, size, tab.Size())

	total := int64(0)
	report := ""
	for i := c.first; i < c.faults; i++ {
		n := injected[i].Load()
		total += n
		report += fmt.Sprintf(" %s %d,", faultKinds[i], n)
	}
	t.Logf("%d faults injected amid %d checked writes:%s", total, writers*calls, report)
}

// Drop while traversals, Select calls, paged walks and sweeps run on a large
// table: each returns without a panic or a deadlock, and the table then
// answers as a dropped table.
func TestFault_DropDuringTraversals(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		dropsDuringTraversals(t, func() sharedTable { return newTable() })
	})
}

// dropsDuringTraversals runs dropDuringTraversals on tables from newTable,
// dropping each after a random wait: 3 of them, 100 under -long.
func dropsDuringTraversals(t *testing.T, newTable func() sharedTable) {
	seed := testseed.Seed(t)
	r := rand.New(rand.NewPCG(seed, seed))
	rounds := 3
	if *long {
		rounds = 100
	}
	runs := 0
	for range rounds {
		runs += dropDuringTraversals(t, newTable(), time.Duration(r.IntN(20_000))*time.Microsecond)
	}
	t.Logf("%d drops, %d traversals completed before or across them", rounds, runs)
}

// dropDuringTraversals fills tab, starts traversals of every sort, drops tab
// after wait, and returns how many traversals completed.
func dropDuringTraversals(t *testing.T, tab sharedTable, wait time.Duration) int {
	const n = 20000
	batch := make([]ets.Entry[int, int], n)
	for i := range batch {
		batch[i] = ets.Entry[int, int]{Key: i, Value: i}
	}
	require.NoError(t, tab.InsertMany(batch...))

	slow := func(i int) {
		if i%500 == 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	traversals := map[string]func(){
		"All": func() {
			i := 0
			for range tab.All() {
				slow(i)
				i++
			}
		},
		"Keys": func() {
			for k := range tab.Keys() {
				slow(k)
			}
		},
		"Select":      func() { tab.Select(func(k, v int) bool { slow(k); return k%2 == 0 }) },
		"SelectCount": func() { tab.SelectCount(func(k, v int) bool { slow(k); return true }) },
		"SelectLimit": func() {
			_, cur := tab.SelectLimit(func(k, v int) bool { slow(k); return true }, 1000)
			for cur != nil {
				_, cur = cur.Next()
			}
		},
		"SelectDelete":  func() { _, _ = tab.SelectDelete(func(k, v int) bool { return k < 0 }) },
		"SelectReplace": func() { _, _ = tab.SelectReplace(func(k, v int) (int, bool) { return v, k < 0 }) },
		"writes": func() {
			for k := n; k < n+100; k++ {
				_ = tab.Insert(k, k)
				_ = tab.Delete(k)
			}
		},
	}
	var wg sync.WaitGroup
	var runs atomic.Int64
	panics := make(chan string, len(traversals))
	for name, traverse := range traversals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					panics <- fmt.Sprintf("%s panicked: %v", name, r)
				}
			}()
			for tab.Err() == nil {
				traverse()
				runs.Add(1)
			}
			traverse() // once more, wholly after the drop
		}()
	}
	time.Sleep(wait)
	require.NoError(t, tab.Drop())
	within(t, 10*time.Second, "the traversals after Drop", wg.Wait)
	close(panics)
	for p := range panics {
		t.Error(p)
	}

	require.ErrorIs(t, tab.Err(), ets.ErrDeleted)
	require.Empty(t, bagContents(tab)) // TestUnique_Drop and TestBag_Drop check the rest of a dropped table
	return int(runs.Load())
}

// A write that passes the dropped check just before Drop may reach the
// storage after Drop has emptied it. It must not leave its object behind:
// Drop frees a table's objects, and a dropped table holds no memory for them.
func TestFault_WriteRacingDropLeavesNothing(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		writeRacingDropLeavesNothing(t, func() sharedTable { return newTable() }, func(tab sharedTable, k, i int) error {
			tab1 := tab.(uniqueTable[int, int])
			switch i % 5 {
			case 3:
				_, _, err := tab1.Update(k, func(int, bool) (int, ets.Op) { return i, ets.Store })
				return err
			case 4:
				_, err := ets.UpdateCounter(tab1, k, 1, ets.WithDefault(0))
				return err
			}
			return sharedWrite(tab, k, i)
		})
	})
}

// sharedWrite is the i-th write of writeRacingDropLeavesNothing's writers, on
// key k, with a call every kind has.
func sharedWrite(tab sharedTable, k, i int) error {
	switch i % 3 {
	case 0:
		return tab.Insert(k, i)
	case 1:
		_, err := tab.InsertNew(k, i)
		return err
	}
	return tab.InsertMany(entries(k, i)...)
}

// writeRacingDropLeavesNothing drops tables from newTable while goroutines
// write to them with write, each write on a new key, until their writes
// fail, and fails if a dropped table's storage still holds objects.
func writeRacingDropLeavesNothing(t *testing.T, newTable func() sharedTable, write func(tab sharedTable, k, i int) error) {
	rounds := 150
	if *long {
		rounds = 5000
	}
	leaks := 0
	for round := range rounds {
		tab := newTable()
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					if write(tab, g*1_000_000+i, i) != nil {
						return // dropped
					}
				}
			}()
		}
		for range round % 64 {
			runtime.Gosched()
		}
		require.NoError(t, tab.Drop())
		wg.Wait()
		if ets.StoredForTest(tab) != 0 {
			leaks++
		}
	}
	require.Zero(t, leaks, "%d of %d dropped tables still hold objects written while they were dropped", leaks, rounds)
}
