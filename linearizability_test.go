package ets_test

import (
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets"
)

var long = flag.Bool("long", false, "run the long versions of the linearizability and fault tests")

// Linearizability. Goroutines run short random operation sequences on a
// fresh table over a tiny key space, each call stamped with a shared clock
// before it starts and after it returns; porcupine then searches for a
// sequential order, consistent with those stamps, in which a model of the
// table gives every answer the table gave.
//
// Adding a kind with one value per key: add it to uniqueKinds (suite_test.go)
// and TestLinearizability_Unique checks it with linModel. A kind with another
// shape (Bag, DuplicateBag) needs its own linApply, state and model step; the
// recorder and the checking loop (checkLinearizable) are shared.

const linKeys = 3

// linOps are the calls histories are made of: every single-key call and the
// batches, named as in the fuzz decoder.
var linOps = []fuzzOpCode{
	fuzzInsert, fuzzInsertMany, fuzzInsertNew, fuzzInsertNewMany, fuzzLookup, fuzzMember,
	fuzzDelete, fuzzTake, fuzzUpdate, fuzzUpdateCounter,
}

// linInput is one call of a history.
type linInput struct {
	op      fuzzOpCode
	key     int
	val     int                   // the value stored, Update's increment, the counter's increment
	entries []ets.Entry[int, int] // InsertMany, InsertNewMany
	choice  ets.Op                // Update
	// UpdateCounter: WithDefault(0) and WithThreshold(6, 0).
	withDefault, withThreshold bool
}

func (in linInput) String() string {
	name := fuzzOpNames[in.op]
	switch in.op {
	case fuzzInsertMany, fuzzInsertNewMany:
		return fmt.Sprintf("%s(%v)", name, in.entries)
	case fuzzInsert, fuzzInsertNew:
		return fmt.Sprintf("%s(%d, %d)", name, in.key, in.val)
	case fuzzUpdate:
		return fmt.Sprintf("%s(%d, old+%d, op %d)", name, in.key, in.val, in.choice)
	case fuzzUpdateCounter:
		return fmt.Sprintf("%s(%d, %d, default %v, threshold %v)", name, in.key, in.val, in.withDefault, in.withThreshold)
	}
	return fmt.Sprintf("%s(%d)", name, in.key)
}

// keys returns the keys the call touches.
func (in linInput) keys() []int {
	if in.op != fuzzInsertMany && in.op != fuzzInsertNewMany {
		return []int{in.key}
	}
	var ks []int
	for _, e := range in.entries {
		ks = append(ks, e.Key)
	}
	return ks
}

// linOutput is what a call returned.
type linOutput struct {
	v   int
	ok  bool
	err string
}

func (o linOutput) String() string { return fmt.Sprintf("(%d, %v, %s)", o.v, o.ok, o.err) }

// randomLinInput draws a call over the keys 0..linKeys-1.
func randomLinInput(r *rand.Rand) linInput {
	in := linInput{op: linOps[r.IntN(len(linOps))], key: r.IntN(linKeys), val: r.IntN(5)}
	switch in.op {
	case fuzzInsertMany, fuzzInsertNewMany:
		in.entries = make([]ets.Entry[int, int], 1+r.IntN(linKeys))
		for i := range in.entries {
			in.entries[i] = ets.Entry[int, int]{Key: r.IntN(linKeys), Value: r.IntN(10)}
		}
	case fuzzUpdate:
		in.choice = ets.Op(r.IntN(3))
	case fuzzUpdateCounter:
		in.withDefault, in.withThreshold = r.IntN(4) != 0, r.IntN(2) == 0
	}
	return in
}

// linApply runs one call on a table with one value per key.
func linApply(tab uniqueTable[int, int], in linInput) linOutput {
	var out linOutput
	var err error
	switch in.op {
	case fuzzInsert:
		err = tab.Insert(in.key, in.val)
	case fuzzInsertMany:
		err = tab.InsertMany(in.entries...)
	case fuzzInsertNew:
		out.ok, err = tab.InsertNew(in.key, in.val)
	case fuzzInsertNewMany:
		out.ok, err = tab.InsertNewMany(in.entries...)
	case fuzzLookup:
		out.v, out.ok = tab.Lookup(in.key)
	case fuzzMember:
		out.ok = tab.Member(in.key)
	case fuzzDelete:
		err = tab.Delete(in.key)
	case fuzzTake:
		out.v, out.ok, err = tab.Take(in.key)
	case fuzzUpdate:
		out.v, out.ok, err = tab.Update(in.key, func(old int, _ bool) (int, ets.Op) { return old + in.val, in.choice })
	case fuzzUpdateCounter:
		var opts []ets.CounterOption[int]
		if in.withDefault {
			opts = append(opts, ets.WithDefault(0))
		}
		if in.withThreshold {
			opts = append(opts, ets.WithThreshold(6, 0))
		}
		out.v, err = ets.UpdateCounter(tab, in.key, in.val, opts...)
	}
	out.err = errName(err)
	return out
}

// linCell is one key of the model: its value, and whether it is present.
type linCell struct {
	v  int
	ok bool
}

// linState is the model's whole table. It is an array, so states compare
// with == and porcupine's default equality works.
type linState [linKeys]linCell

// linStep is the sequential specification of the kinds with one value per
// key: the state after in, and the output in must give.
func linStep(s linState, in linInput) (linState, linOutput) {
	nilErr := errName(nil)
	cell := s[in.key]
	switch in.op {
	case fuzzInsert:
		s[in.key] = linCell{in.val, true}
		return s, linOutput{err: nilErr}
	case fuzzInsertMany:
		for _, e := range in.entries {
			s[e.Key] = linCell{e.Value, true}
		}
		return s, linOutput{err: nilErr}
	case fuzzInsertNew:
		if !cell.ok {
			s[in.key] = linCell{in.val, true}
		}
		return s, linOutput{ok: !cell.ok, err: nilErr}
	case fuzzInsertNewMany:
		for _, e := range in.entries {
			if s[e.Key].ok {
				return s, linOutput{ok: false, err: nilErr}
			}
		}
		for _, e := range in.entries {
			s[e.Key] = linCell{e.Value, true}
		}
		return s, linOutput{ok: true, err: nilErr}
	case fuzzLookup:
		return s, linOutput{v: cell.v, ok: cell.ok, err: nilErr}
	case fuzzMember:
		return s, linOutput{ok: cell.ok, err: nilErr}
	case fuzzDelete:
		s[in.key] = linCell{}
		return s, linOutput{err: nilErr}
	case fuzzTake:
		s[in.key] = linCell{}
		return s, linOutput{v: cell.v, ok: cell.ok, err: nilErr}
	case fuzzUpdate:
		switch in.choice {
		case ets.Store:
			s[in.key] = linCell{cell.v + in.val, true}
		case ets.Delete:
			s[in.key] = linCell{}
		}
		return s, linOutput{v: s[in.key].v, ok: s[in.key].ok, err: nilErr}
	case fuzzUpdateCounter:
		if !cell.ok && !in.withDefault {
			return s, linOutput{err: errName(ets.ErrNotFound)}
		}
		v := cell.v + in.val // an absent key starts from the default, 0
		if in.withThreshold && v > 6 {
			v = 0
		}
		s[in.key] = linCell{v, true}
		return s, linOutput{v: v, err: nilErr}
	}
	panic("linStep: unknown operation")
}

// linModel is linStep as a porcupine model. Histories of single-key calls
// are checked one key at a time; a history with a batch (which spans keys) is
// checked whole.
var linModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		for _, op := range history {
			keys := op.Input.(linInput).keys()
			if len(keys) != 1 {
				return [][]porcupine.Operation{history}
			}
			byKey[keys[0]] = append(byKey[keys[0]], op)
		}
		var parts [][]porcupine.Operation
		for _, k := range slices.Sorted(maps.Keys(byKey)) {
			parts = append(parts, byKey[k])
		}
		return parts
	},
	Init: func() any { return linState{} },
	Step: func(state, input, output any) (bool, any) {
		next, want := linStep(state.(linState), input.(linInput))
		return want == output.(linOutput), next
	},
	DescribeOperation: func(input, output any) string {
		return fmt.Sprintf("%v -> %v", input, output)
	},
	DescribeState: func(state any) string { return fmt.Sprint(state) },
}

// linRecorder stamps calls with a shared logical clock: a call that returned
// before another was made has a smaller return stamp than the other's call
// stamp, which is all porcupine needs of time.
type linRecorder struct {
	clock atomic.Int64
	ops   [][]porcupine.Operation // per client, so recording adds no synchronisation
}

func newLinRecorder(clients int) *linRecorder {
	return &linRecorder{ops: make([][]porcupine.Operation, clients)}
}

func (r *linRecorder) do(client int, tab uniqueTable[int, int], in linInput) {
	r.doYielding(client, tab, in, false)
}

// doYielding records one call; with yield, the goroutine yields the processor
// between taking the call stamp and making the call, so that other clients'
// calls fall inside this one's interval.
func (r *linRecorder) doYielding(client int, tab uniqueTable[int, int], in linInput, yield bool) {
	call := r.clock.Add(1)
	if yield {
		runtime.Gosched()
	}
	out := linApply(tab, in)
	ret := r.clock.Add(1)
	r.ops[client] = append(r.ops[client], porcupine.Operation{
		ClientId: client, Input: in, Call: call, Output: out, Return: ret,
	})
}

func (r *linRecorder) history() []porcupine.Operation {
	return slices.Concat(r.ops...)
}

// recordHistory runs 2 to 8 goroutines, each making a few random calls on
// tab, and returns the history. The goroutines wait for each other before
// their first call, and yield the processor between calls now and then, so
// that calls overlap even on few cores.
func recordHistory(tab uniqueTable[int, int], r *rand.Rand) []porcupine.Operation {
	clients := 2 + r.IntN(7)
	calls := make([][]linInput, clients)
	yields := make([][]bool, clients)
	for c := range calls {
		calls[c] = make([]linInput, 2+r.IntN(5))
		yields[c] = make([]bool, len(calls[c]))
		for i := range calls[c] {
			calls[c][i] = randomLinInput(r)
			yields[c][i] = r.IntN(2) == 0
		}
	}
	rec := newLinRecorder(clients)
	var ready atomic.Int32
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready.Add(1)
			for ready.Load() < int32(clients) {
				runtime.Gosched()
			}
			for i, in := range calls[c] {
				rec.doYielding(c, tab, in, yields[c][i])
			}
		}()
	}
	wg.Wait()
	return rec.history()
}

// overlapping counts the calls of a history that overlap another call.
func overlapping(history []porcupine.Operation) int {
	n := 0
	for i, a := range history {
		for j, b := range history {
			if i != j && a.Call < b.Return && b.Call < a.Return {
				n++
				break
			}
		}
	}
	return n
}

// describeHistory lists a history in call order, for failure messages.
func describeHistory(history []porcupine.Operation) string {
	history = slices.Clone(history)
	slices.SortFunc(history, func(a, b porcupine.Operation) int { return int(a.Call - b.Call) })
	var sb strings.Builder
	for _, op := range history {
		fmt.Fprintf(&sb, "  [%3d,%3d] client %d: %v -> %v\n", op.Call, op.Return, op.ClientId, op.Input, op.Output)
	}
	return sb.String()
}

// linHistories is how many histories each kind and engine option set is
// checked with.
func linHistories() int {
	if *long {
		return 200_000
	}
	return 1000
}

// checkLinearizable records n histories on fresh tables from newTable and
// returns how many porcupine found not linearizable, and the first such.
func checkLinearizable(r *rand.Rand, n int, newTable func() uniqueTable[int, int]) (rejected int, first string, calls, overlapped int) {
	for range n {
		tab := newTable()
		history := recordHistory(tab, r)
		calls += len(history)
		overlapped += overlapping(history)
		if !porcupine.CheckOperations(linModel, history) {
			if rejected == 0 {
				first = describeHistory(history)
			}
			rejected++
		}
		_ = tab.Drop()
	}
	return rejected, first, calls, overlapped
}

func TestLinearizability_Unique(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		seed := testSeed(t)
		r := rand.New(rand.NewPCG(seed, seed))
		n := linHistories()
		rejected, first, calls, overlapped := checkLinearizable(r, n, newTable)
		require.Zero(t, rejected, "%d of %d histories not linearizable (seed %d); the first:\n%s", rejected, n, seed, first)
		t.Logf("%d histories linearizable: %d calls, %d of them concurrent with another", n, calls, overlapped)
	})
}

// staleLookup is a broken table: Lookup answers from a cache filled on the
// first lookup of each key and never invalidated.
type staleLookup struct {
	uniqueTable[int, int]
	mu    sync.Mutex
	cache map[int]linCell
}

func (s *staleLookup) Lookup(k int) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cache[k]; ok {
		return c.v, c.ok
	}
	v, ok := s.uniqueTable.Lookup(k)
	s.cache[k] = linCell{v, ok}
	return v, ok
}

// The checker must be able to fail: on a table whose Lookup returns stale
// values, the same recording and checking reject histories.
func TestLinearizability_RejectsStaleLookup(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, seed))
	const n = 200
	rejected, first, _, _ := checkLinearizable(r, n, func() uniqueTable[int, int] {
		return &staleLookup{uniqueTable: uniqueKinds[0].make(t), cache: map[int]linCell{}}
	})
	require.Positive(t, rejected, "porcupine accepted all %d histories of a table with stale lookups (seed %d)", n, seed)
	t.Logf("%d of %d histories of the stale table rejected; the first:\n%s", rejected, n, first)
}

// tornInsertMany is a broken table: InsertMany stores its entries one at a
// time and, after the first, waits until the test lets it go on.
type tornInsertMany struct {
	uniqueTable[int, int]
	halfway, resume chan struct{}
}

func (s *tornInsertMany) InsertMany(es ...ets.Entry[int, int]) error {
	for i, e := range es {
		if err := s.uniqueTable.Insert(e.Key, e.Value); err != nil {
			return err
		}
		if i == 0 {
			close(s.halfway)
			<-s.resume
		}
	}
	return nil
}

// A batch whose first key a reader sees while its second is still missing
// is rejected.
func TestLinearizability_RejectsTornInsertMany(t *testing.T) {
	for _, k := range uniqueKinds {
		t.Run(k.name, func(t *testing.T) {
			tab := &tornInsertMany{uniqueTable: k.make(t), halfway: make(chan struct{}), resume: make(chan struct{})}
			rec := newLinRecorder(2)
			done := make(chan struct{})
			go func() {
				defer close(done)
				rec.do(0, tab, linInput{op: fuzzInsertMany, entries: entries(0, 1, 1, 1)})
			}()
			<-tab.halfway
			rec.do(1, tab, linInput{op: fuzzLookup, key: 0})
			rec.do(1, tab, linInput{op: fuzzLookup, key: 1})
			close(tab.resume)
			<-done
			history := rec.history()
			require.False(t, porcupine.CheckOperations(linModel, history),
				"porcupine accepted a torn batch:\n%s", describeHistory(history))

			// The same calls on the real table, in the same order, are accepted.
			real := newLinRecorder(2)
			good := k.make(t)
			real.do(0, good, linInput{op: fuzzInsertMany, entries: entries(0, 1, 1, 1)})
			real.do(1, good, linInput{op: fuzzLookup, key: 0})
			real.do(1, good, linInput{op: fuzzLookup, key: 1})
			require.True(t, porcupine.CheckOperations(linModel, real.history()))
		})
	}
}
