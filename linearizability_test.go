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
	"github.com/etsgo/ets/internal/testseed"
)

var long = flag.Bool("long", false, "run the long versions of the linearizability, fault and churn tests")

// Linearizability. Goroutines run short random operation sequences on a
// fresh table over a tiny key space, each call stamped with a shared clock
// before it starts and after it returns; porcupine then searches for a
// sequential order, consistent with those stamps, in which a model of the
// table gives every answer the table gave.
//
// Adding a kind with one value per key: add it to uniqueKinds (suite_test.go)
// and TestLinearizability_Unique checks it with linModel. A kind with another
// shape has its own apply, state and model step (the bags' are in
// bag_linearizability_test.go); the recorder, the checking loop
// (checkLinearizable) and the broken tables are shared.

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

// The whole-table calls of TestLinearizability_WholeTable beyond the fuzz
// decoder's: an OrderedSet's steps.
const (
	linFirst = fuzzOpCount + iota
	linLast
	linNext
	linPrev
)

func (in linInput) String() string {
	switch in.op {
	case fuzzAll, fuzzSelect, fuzzSelectLimit, fuzzSelectDelete, fuzzSelectReplace:
		return fmt.Sprintf("%s, at key %d", fuzzOpNames[in.op], in.key)
	case fuzzClear:
		return "Clear()"
	case linFirst:
		return "First()"
	case linLast:
		return "Last()"
	case linNext:
		return fmt.Sprintf("Next(%d)", in.key)
	case linPrev:
		return fmt.Sprintf("Prev(%d)", in.key)
	}
	name := fuzzOpNames[in.op]
	switch in.op {
	case fuzzInsertMany, fuzzInsertNewMany:
		return fmt.Sprintf("%s(%v)", name, in.entries)
	case fuzzInsert, fuzzInsertNew, fuzzDeleteObject:
		return fmt.Sprintf("%s(%d, %d)", name, in.key, in.val)
	case fuzzUpdate:
		return fmt.Sprintf("%s(%d, old+%d, op %d)", name, in.key, in.val, in.choice)
	case fuzzUpdateCounter:
		return fmt.Sprintf("%s(%d, %d, default %v, threshold %v)", name, in.key, in.val, in.withDefault, in.withThreshold)
	}
	return fmt.Sprintf("%s(%d)", name, in.key)
}

// keys returns the keys the call touches (every key, for a whole-table
// call).
func (in linInput) keys() []int {
	switch in.op {
	case fuzzClear, linFirst, linLast, linNext, linPrev:
		return []int{0, 1, 2}
	}
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
	k   int // the key a step found; the times a traversal visited the key
	v   int
	ok  bool
	err string
}

func (o linOutput) String() string { return fmt.Sprintf("(%d, %d, %v, %s)", o.k, o.v, o.ok, o.err) }

// linVisits is what a traversal (All, Select, SelectLimit followed to its
// last page, SelectDelete, SelectReplace) answered about each key: how many
// times it was visited (k), with what value (v), and the call's error. A
// traversal is not atomic: it takes each key at a moment of its own within
// the call (ETS's safe_fixtable guarantee). So the recorder splits it into
// one call per key, with the traversal's stamps, and the model checks each as
// a single-key call: a key present throughout is visited exactly once, with
// its value at a moment within the call, and swept (SelectDelete deletes odd
// values, SelectReplace adds 1 to even ones) at that moment.
type linVisits [linKeys]linOutput

// perKey is the recorder's split of a traversal into single-key calls.
func (vs linVisits) perKey() []any { return perKey(vs) }

// perKey returns the outputs of a traversal's single-key calls, by key.
func perKey[O any](vs [linKeys]O) []any {
	out := make([]any, len(vs))
	for k, v := range vs {
		out[k] = v
	}
	return out
}

// withTraversals returns a draw of calls for a traversal test: a third of
// them one of traversals, the rest single-key calls drawn by random. No
// batches: a history with one is checked whole, which takes porcupine 20
// times longer here.
func withTraversals(traversals []fuzzOpCode, random func(*rand.Rand) linInput) func(*rand.Rand) linInput {
	return func(r *rand.Rand) linInput {
		if r.IntN(3) == 0 {
			return linInput{op: traversals[r.IntN(len(traversals))]}
		}
		for {
			if in := random(r); len(in.keys()) == 1 {
				return in
			}
		}
	}
}

// linTraversals are the traversals linVisits describes.
var linTraversals = []fuzzOpCode{fuzzAll, fuzzSelect, fuzzSelectLimit, fuzzSelectDelete, fuzzSelectReplace}

// linTraverse runs the traversal in.op on tab and returns what it saw.
func linTraverse(tab sharedTable, in linInput) linVisits {
	var out linVisits
	err := traverse(tab, in.op, func(k, v int) {
		out[k].k++
		out[k].v, out[k].ok = v, true
	}, func(v int) bool { return v%2 != 0 }, func(v int) (int, bool) { return v + 1, v%2 == 0 })
	for k := range out {
		out[k].err = errName(err)
	}
	return out
}

// traverse runs the traversal op on tab: visit sees each object it reaches,
// SelectDelete deletes the values del accepts, SelectReplace stores what
// replace returns. It returns the traversal's error.
func traverse(tab sharedTable, op fuzzOpCode, visit func(k, v int), del func(v int) bool, replace func(v int) (int, bool)) error {
	seen := func(k, v int) {
		visit(k, v)
		// Let other clients run here: inside a sweep's function, under
		// the lock, where they must wait for it, and between the keys
		// of the other traversals, where they may write what the
		// traversal is about to reach.
		runtime.Gosched()
	}
	switch op {
	case fuzzAll:
		for k, v := range tab.All() {
			seen(k, v)
		}
	case fuzzSelect:
		for _, e := range tab.Select(nil) {
			seen(e.Key, e.Value)
		}
	case fuzzSelectLimit:
		page, cur := tab.SelectLimit(nil, 1)
		for {
			for _, e := range page {
				seen(e.Key, e.Value)
			}
			if cur == nil {
				break
			}
			page, cur = cur.Next()
		}
	case fuzzSelectDelete:
		_, err := tab.SelectDelete(func(k, v int) bool {
			seen(k, v)
			return del(v)
		})
		return err
	case fuzzSelectReplace:
		_, err := tab.SelectReplace(func(k, v int) (int, bool) {
			seen(k, v)
			return replace(v)
		})
		return err
	default:
		panic("traverse: not a traversal")
	}
	return nil
}

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

// linApplyShared runs the calls whose signature every kind shares, which
// answer with a bool and an error (named as in the outputs), and reports
// whether in was one.
func linApplyShared(tab sharedTable, in linInput) (ok bool, errs string, done bool) {
	var err error
	switch in.op {
	case fuzzInsert:
		err = tab.Insert(in.key, in.val)
	case fuzzInsertMany:
		err = tab.InsertMany(in.entries...)
	case fuzzInsertNew:
		ok, err = tab.InsertNew(in.key, in.val)
	case fuzzInsertNewMany:
		ok, err = tab.InsertNewMany(in.entries...)
	case fuzzMember:
		ok = tab.Member(in.key)
	case fuzzDelete:
		err = tab.Delete(in.key)
	default:
		return false, "", false
	}
	return ok, errName(err), true
}

// orderedSteps is an OrderedSet's steps, for the whole-table check.
type orderedSteps interface {
	First() (int, int, bool)
	Last() (int, int, bool)
	Next(int) (int, int, bool)
	Prev(int) (int, int, bool)
}

// linApply runs one call on a table with one value per key.
func linApply(tab uniqueTable[int, int], in linInput) linOutput {
	if ok, errs, done := linApplyShared(tab, in); done {
		return linOutput{ok: ok, err: errs}
	}
	var out linOutput
	var err error
	switch in.op {
	case fuzzClear:
		err = tab.Clear()
	case linFirst:
		out.k, out.v, out.ok = tab.(orderedSteps).First()
	case linLast:
		out.k, out.v, out.ok = tab.(orderedSteps).Last()
	case linNext:
		out.k, out.v, out.ok = tab.(orderedSteps).Next(in.key)
	case linPrev:
		out.k, out.v, out.ok = tab.(orderedSteps).Prev(in.key)
	case fuzzLookup:
		out.v, out.ok = tab.Lookup(in.key)
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

// linTable is a table under check: apply makes one call and returns its
// output, which the kind's model compares with ==.
type linTable struct {
	apply func(in linInput) any
	drop  func() error
}

func uniqueLin(tab uniqueTable[int, int]) linTable {
	return linTable{apply: func(in linInput) any {
		if slices.Contains(linTraversals, in.op) {
			return linTraverse(tab, in)
		}
		return linApply(tab, in)
	}, drop: tab.Drop}
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
	// step answers a step from key from, by d (1 or -1): the first present
	// key past it.
	step := func(from, d int) linOutput {
		for k := from + d; k >= 0 && k < linKeys; k += d {
			if s[k].ok {
				return linOutput{k: k, v: s[k].v, ok: true, err: nilErr}
			}
		}
		return linOutput{err: nilErr}
	}
	switch in.op {
	case fuzzClear:
		return linState{}, linOutput{err: nilErr}
	case linFirst:
		return s, step(-1, 1)
	case linLast:
		return s, step(linKeys, -1)
	case linNext:
		return s, step(in.key, 1)
	case linPrev:
		return s, step(in.key, -1)
	}
	cell := s[in.key]
	switch in.op {
	case fuzzAll, fuzzSelect, fuzzSelectLimit, fuzzSelectDelete, fuzzSelectReplace:
		if !cell.ok {
			return s, linOutput{err: nilErr}
		}
		switch {
		case in.op == fuzzSelectDelete && cell.v%2 != 0:
			s[in.key] = linCell{}
		case in.op == fuzzSelectReplace && cell.v%2 == 0:
			s[in.key] = linCell{cell.v + 1, true}
		}
		return s, linOutput{k: 1, v: cell.v, ok: true, err: nilErr}
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

func (r *linRecorder) do(client int, tab linTable, in linInput) {
	r.doYielding(client, tab, in, false)
}

// doYielding records one call; with yield, the goroutine yields the processor
// between taking the call stamp and making the call, so that other clients'
// calls fall inside this one's interval.
func (r *linRecorder) doYielding(client int, tab linTable, in linInput, yield bool) {
	call := r.clock.Add(1)
	if yield {
		runtime.Gosched()
	}
	out := tab.apply(in)
	ret := r.clock.Add(1)
	if visits, ok := out.(interface{ perKey() []any }); ok {
		for k, o := range visits.perKey() {
			in.key = k
			r.ops[client] = append(r.ops[client], porcupine.Operation{
				ClientId: client, Input: in, Call: call, Output: o, Return: ret,
			})
		}
		return
	}
	r.ops[client] = append(r.ops[client], porcupine.Operation{
		ClientId: client, Input: in, Call: call, Output: out, Return: ret,
	})
}

func (r *linRecorder) history() []porcupine.Operation {
	return slices.Concat(r.ops...)
}

// recordHistory runs 2 to 8 goroutines, each making a few calls drawn by
// random on tab, and returns the history. The goroutines wait for each other
// before their first call, and yield the processor between calls now and
// then, so that calls overlap even on few cores.
func recordHistory(tab linTable, r *rand.Rand, random func(*rand.Rand) linInput) []porcupine.Operation {
	clients := 2 + r.IntN(7)
	calls := make([][]linInput, clients)
	yields := make([][]bool, clients)
	for c := range calls {
		calls[c] = make([]linInput, 2+r.IntN(5))
		yields[c] = make([]bool, len(calls[c]))
		for i := range calls[c] {
			calls[c][i] = random(r)
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

// linCheck is what checkLinearizable checks: the kind's model, how calls
// are drawn, and fresh tables.
type linCheck struct {
	model    porcupine.Model
	random   func(*rand.Rand) linInput
	newTable func() linTable
}

// uniqueCheck is the linCheck of the kinds with one value per key.
func uniqueCheck(newTable func() uniqueTable[int, int]) linCheck {
	return linCheck{model: linModel, random: randomLinInput, newTable: func() linTable { return uniqueLin(newTable()) }}
}

// checkLinearizable records n histories on fresh tables and returns how many
// porcupine found not linearizable, and the first such.
func checkLinearizable(r *rand.Rand, n int, c linCheck) (rejected int, first string, calls, overlapped int) {
	for range n {
		tab := c.newTable()
		history := recordHistory(tab, r, c.random)
		calls += len(history)
		overlapped += overlapping(history)
		if !porcupine.CheckOperations(c.model, history) {
			if rejected == 0 {
				first = describeHistory(history)
			}
			rejected++
		}
		_ = tab.drop()
	}
	return rejected, first, calls, overlapped
}

func TestLinearizability_Unique(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		requireLinearizable(t, uniqueCheck(newTable))
	})
}

// TestLinearizability_WholeTable adds the calls that span the whole table
// to the histories: Clear on every kind, and First, Last, Next and Prev on
// an OrderedSet (whose keys 0, 1 and 2 sit in base nodes of their own, so
// that a step crosses nodes, and deletes that empty a node join it). Such a
// history is checked whole rather than key by key. Clear being atomic to
// readers and the steps being atomic across base nodes had tests of their
// own, not a model (a review of the suite asked for one).
func TestLinearizability_WholeTable(t *testing.T) {
	forEachKind(t, func(t *testing.T, k uniqueKind, newTable func() uniqueTable[int, int]) {
		ops := append(slices.Clip(linOps), fuzzClear)
		if k.ordered {
			ops = append(ops, linFirst, linLast, linNext, linNext, linPrev, linPrev)
		}
		c := uniqueCheck(newTable)
		c.random = func(r *rand.Rand) linInput {
			if op := ops[r.IntN(len(ops))]; op == fuzzClear || op >= linFirst {
				return linInput{op: op, key: r.IntN(linKeys)}
			}
			return randomLinInput(r)
		}
		requireLinearizable(t, c)
	})
}

// TestLinearizability_Traversals adds the traversals to the histories: All,
// Select, SelectLimit's pages, SelectDelete and SelectReplace, each checked
// key by key (see linVisits). A traversal that visits a key twice, misses a
// key present throughout, answers a value the key never had in the call, or
// sweeps a key with a value read before a concurrent write is rejected.
func TestLinearizability_Traversals(t *testing.T) {
	forEachKind(t, func(t *testing.T, _ uniqueKind, newTable func() uniqueTable[int, int]) {
		c := uniqueCheck(newTable)
		c.random = withTraversals(linTraversals, randomLinInput)
		requireLinearizable(t, c)
	})
}

// requireLinearizable checks linHistories() histories and fails the test if
// porcupine rejects any.
func requireLinearizable(t *testing.T, c linCheck) {
	seed := testseed.Seed(t)
	r := rand.New(rand.NewPCG(seed, seed))
	n := linHistories()
	rejected, first, calls, overlapped := checkLinearizable(r, n, c)
	require.Zero(t, rejected, "%d of %d histories not linearizable (seed %d); the first:\n%s", rejected, n, seed, first)
	t.Logf("%d histories linearizable: %d calls, %d of them concurrent with another", n, calls, overlapped)
}

// staleLookup breaks a table: Lookup answers from a cache filled on the
// first lookup of each key and never invalidated. It works on every kind.
func staleLookup(tab linTable) linTable {
	var mu sync.Mutex
	cache := map[int]any{}
	apply := tab.apply
	tab.apply = func(in linInput) any {
		if in.op != fuzzLookup {
			return apply(in)
		}
		mu.Lock()
		defer mu.Unlock()
		if out, ok := cache[in.key]; ok {
			return out
		}
		cache[in.key] = apply(in)
		return cache[in.key]
	}
	return tab
}

// The checker must be able to fail: on a table whose Lookup returns stale
// values, the same recording and checking reject histories.
func TestLinearizability_RejectsStaleLookup(t *testing.T) {
	for _, c := range linKinds(t) {
		t.Run(c.name, func(t *testing.T) {
			seed := testseed.Seed(t)
			r := rand.New(rand.NewPCG(seed, seed))
			const n = 200
			check := c.check()
			newTable := check.newTable
			check.newTable = func() linTable { return staleLookup(newTable()) }
			rejected, first, _, _ := checkLinearizable(r, n, check)
			require.Positive(t, rejected, "porcupine accepted all %d histories of a table with stale lookups (seed %d)", n, seed)
			t.Logf("%d of %d histories of the stale table rejected; the first:\n%s", rejected, n, first)
		})
	}
}

// linKind is a kind the broken-table tests run on.
type linKind struct {
	name  string
	check func() linCheck // on tables with the default options
}

// linKinds lists every kind with its linCheck.
func linKinds(t *testing.T) []linKind {
	var ks []linKind
	for _, k := range uniqueKinds {
		ks = append(ks, linKind{k.name, func() linCheck {
			return uniqueCheck(func() uniqueTable[int, int] { return k.make(t) })
		}})
	}
	for _, k := range bagKinds {
		ks = append(ks, linKind{k.name, func() linCheck {
			return bagCheck(k.dup, func() bagTable { return k.make(t) })
		}})
	}
	return ks
}

// tornInsertMany breaks a table: InsertMany stores its entries one at a time
// and, after the first, closes halfway and waits until resume is closed. It
// works on every kind.
func tornInsertMany(tab linTable, halfway, resume chan struct{}) linTable {
	apply := tab.apply
	tab.apply = func(in linInput) any {
		if in.op != fuzzInsertMany {
			return apply(in)
		}
		var out any
		for i, e := range in.entries {
			out = apply(linInput{op: fuzzInsert, key: e.Key, val: e.Value}) // as InsertMany's
			if i == 0 {
				close(halfway)
				<-resume
			}
		}
		return out
	}
	return tab
}

// A batch whose first key a reader sees while its second is still missing
// is rejected.
func TestLinearizability_RejectsTornInsertMany(t *testing.T) {
	for _, k := range linKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			check := k.check()
			halfway, resume := make(chan struct{}), make(chan struct{})
			tab := tornInsertMany(check.newTable(), halfway, resume)
			rec := newLinRecorder(2)
			done := make(chan struct{})
			go func() {
				defer close(done)
				rec.do(0, tab, linInput{op: fuzzInsertMany, entries: entries(0, 1, 1, 1)})
			}()
			<-halfway
			rec.do(1, tab, linInput{op: fuzzLookup, key: 0})
			rec.do(1, tab, linInput{op: fuzzLookup, key: 1})
			close(resume)
			<-done
			history := rec.history()
			require.False(t, porcupine.CheckOperations(check.model, history),
				"porcupine accepted a torn batch:\n%s", describeHistory(history))

			// The same calls on the real table, in the same order, are accepted.
			real := newLinRecorder(2)
			good := check.newTable()
			real.do(0, good, linInput{op: fuzzInsertMany, entries: entries(0, 1, 1, 1)})
			real.do(1, good, linInput{op: fuzzLookup, key: 0})
			real.do(1, good, linInput{op: fuzzLookup, key: 1})
			require.True(t, porcupine.CheckOperations(check.model, real.history()))
		})
	}
}
